#include "text_table.h"

#include <algorithm>

namespace ipshare {

void TextTable::add(std::vector<std::string> cells) {
    cells.resize(columns_.size());
    rows_.push_back(std::move(cells));
}

std::string TextTable::str() const {
    std::vector<size_t> width(columns_.size());
    for (size_t c = 0; c < columns_.size(); ++c) {
        width[c] = columns_[c].header.size();
        for (const auto& row : rows_) width[c] = std::max(width[c], row[c].size());
    }
    std::string out;
    auto line = [&](const std::vector<std::string>& cells) {
        std::string l;
        for (size_t c = 0; c < columns_.size(); ++c) {
            if (c > 0) l += "  ";
            const size_t pad = width[c] - cells[c].size();
            if (columns_[c].align == Align::right) l.append(pad, ' ');
            l += cells[c];
            if (columns_[c].align == Align::left) l.append(pad, ' ');
        }
        while (!l.empty() && l.back() == ' ') l.pop_back();
        out += l;
        out += '\n';
    };
    std::vector<std::string> header;
    for (const auto& col : columns_) header.push_back(col.header);
    line(header);
    for (const auto& row : rows_) line(row);
    return out;
}

}  // namespace ipshare
