// A small JSON writer for the control CLI's `--json` output: objects, arrays,
// strings, integers, doubles, booleans. Pretty-printed with two-space indents
// (the layout of `jq .`), one document per call of str().
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace ipshare {

class JsonWriter {
public:
    JsonWriter& begin_object();
    JsonWriter& end_object();
    JsonWriter& begin_array();
    JsonWriter& end_array();
    // The key of the next value inside an object.
    JsonWriter& key(std::string_view k);

    JsonWriter& value(std::string_view s);
    JsonWriter& value(const char* s) { return value(std::string_view(s)); }
    JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
    template <typename T>
        requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
    JsonWriter& value(T v) {
        if constexpr (std::is_signed_v<T>)
            return signed_value(int64_t{v});
        else
            return unsigned_value(uint64_t{v});
    }
    // Written with up to `decimals` digits after the point; NaN and
    // infinities become null.
    JsonWriter& value(double v, int decimals = 2);
    JsonWriter& value(bool b);
    JsonWriter& null();

    // key(k).value(v)
    template <typename T>
    JsonWriter& field(std::string_view k, const T& v) {
        key(k);
        return value(v);
    }

    // The document, ended by LF.
    std::string str() const { return out_ + "\n"; }

private:
    void before_value();
    JsonWriter& signed_value(int64_t v);
    JsonWriter& unsigned_value(uint64_t v);
    void newline();
    JsonWriter& close(char bracket);

    struct Level {
        bool object = false;
        bool empty = true;
    };
    std::string out_;
    std::vector<Level> stack_;
    bool after_key_ = false;
};

// `s` as a JSON string literal, quotes included.
std::string json_quote(std::string_view s);

}  // namespace ipshare
