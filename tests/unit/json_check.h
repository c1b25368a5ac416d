// Test helper: JsonCheck tells whether the `--json` reply of a control command
// is one JSON document, independently of the writer under test
// (control/json.h). No gtest: fuzz harnesses can use it too.
#pragma once

#include <cctype>
#include <cstddef>
#include <string>

namespace ipshare::test {

// Recursive descent over RFC 8259; true when `s` is exactly one JSON value
// (blanks around it allowed).
class JsonCheck {
public:
    static bool valid(const std::string& s) {
        JsonCheck c(s);
        c.ws();
        if (!c.value(0)) return false;
        c.ws();
        return c.i_ == s.size();
    }

private:
    explicit JsonCheck(const std::string& s) : s_(s) {}
    bool eat(char c) {
        if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
        return false;
    }
    void ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
    }
    bool literal(const char* w) {
        const std::string lit = w;
        if (s_.compare(i_, lit.size(), lit) != 0) return false;
        i_ += lit.size();
        return true;
    }
    bool string() {
        if (!eat('"')) return false;
        while (i_ < s_.size()) {
            const auto c = static_cast<unsigned char>(s_[i_++]);
            if (c == '"') return true;
            if (c < 0x20) return false;
            if (c == '\\') {
                if (i_ >= s_.size()) return false;
                const char e = s_[i_++];
                if (e == 'u') {
                    for (int k = 0; k < 4; ++k)
                        if (i_ >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[i_++]))) return false;
                } else if (std::string("\"\\/bfnrt").find(e) == std::string::npos) {
                    return false;
                }
            }
        }
        return false;
    }
    bool digits() {
        const size_t start = i_;
        while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
        return i_ > start;
    }
    bool number() {
        eat('-');
        if (eat('0')) {
        } else if (!digits()) {
            return false;
        }
        if (eat('.') && !digits()) return false;
        if (eat('e') || eat('E')) {
            if (!eat('+')) eat('-');
            if (!digits()) return false;
        }
        return true;
    }
    bool value(int depth) {
        if (depth > 64 || i_ >= s_.size()) return false;
        const char c = s_[i_];
        if (c == '{') {
            ++i_;
            ws();
            if (eat('}')) return true;
            do {
                ws();
                if (!string()) return false;
                ws();
                if (!eat(':')) return false;
                ws();
                if (!value(depth + 1)) return false;
                ws();
            } while (eat(','));
            return eat('}');
        }
        if (c == '[') {
            ++i_;
            ws();
            if (eat(']')) return true;
            do {
                ws();
                if (!value(depth + 1)) return false;
                ws();
            } while (eat(','));
            return eat(']');
        }
        if (c == '"') return string();
        if (c == 't') return literal("true");
        if (c == 'f') return literal("false");
        if (c == 'n') return literal("null");
        return number();
    }

    const std::string& s_;
    size_t i_ = 0;
};

}  // namespace ipshare::test
