// Aligned text tables for the control CLI's `show` commands: a header row,
// then one row per item; columns separated by two spaces, numbers aligned on
// the right, text on the left, no trailing blanks.
#pragma once

#include <string>
#include <vector>

namespace ipshare {

class TextTable {
public:
    enum class Align { left, right };
    struct Column {
        std::string header;
        Align align = Align::left;
    };

    explicit TextTable(std::vector<Column> columns) : columns_(std::move(columns)) {}

    // One row; missing cells are blank, extra cells are ignored.
    void add(std::vector<std::string> cells);
    size_t rows() const { return rows_.size(); }

    // The header and the rows, each line ended by LF.
    std::string str() const;

private:
    std::vector<Column> columns_;
    std::vector<std::vector<std::string>> rows_;
};

}  // namespace ipshare
