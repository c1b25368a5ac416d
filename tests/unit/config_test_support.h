// Test helpers for the configuration grammar (control/config_parse.h): the
// reference configuration of docs/configuration.md line by line, variants of
// it, and checks that a text parses, or fails at a line with a message.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "config_parse.h"

namespace ipshare {

// Failing comparisons of whole configs print them in the grammar.
inline void PrintTo(const Config& c, std::ostream* os) { *os << "\n" << format_config(c); }

namespace test {

// The reference configuration of docs/configuration.md, one line per entry
// (line N of the file is kReference[N - 1]).
inline const std::vector<std::string> kReference = {
    "port wan net_af_packet0",                          // 1
    "port lan net_af_packet1",                          // 2
    "port dmz net_af_packet2",                          // 3
    "lan address 192.168.1.1/24",                       // 4
    "wan network 203.0.113.0/24 gateway 203.0.113.1",   // 5
    "server address 203.0.113.10",                      // 6
    "napt ports 61000-65535",                           // 7
    "route 10.20.0.0/16 via 192.168.1.254",             // 8
    "route 203.0.113.128/25 dev wan",                   // 9
};

inline std::string join(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

inline std::string reference() { return join(kReference); }

// The reference with line `n` (1-based) replaced; "" keeps the numbering.
inline std::string ref_with(int n, const std::string& replacement) {
    auto lines = kReference;
    lines.at(size_t(n - 1)) = replacement;
    return join(lines);
}

// The reference plus one statement appended as line 10.
inline std::string ref_plus(const std::string& extra) { return reference() + extra + "\n"; }

inline uint32_t ip(const char* s) {
    const auto a = parse_ipv4(s);
    EXPECT_TRUE(a.has_value()) << s;
    return a.value_or(0);
}

inline Config must_parse(const std::string& text) {
    Config c;
    const auto e = parse_config(text, "test.conf", c);
    EXPECT_FALSE(e.has_value()) << (e ? e->str() : "");
    return c;
}

inline Config reference_config() { return must_parse(reference()); }

// parse_config must fail at `line` with a message containing `fragment`.
inline void expect_error(const std::string& text, int line, const std::string& fragment) {
    Config c;
    const auto e = parse_config(text, "test.conf", c);
    ASSERT_TRUE(e.has_value()) << "no error, expected: " << fragment;
    EXPECT_EQ(e->file, "test.conf");
    EXPECT_EQ(e->line, line) << e->str();
    EXPECT_NE(e->message.find(fragment), std::string::npos) << "got: " << e->str() << "\nwanted: " << fragment;
}

// Each statement, appended to the reference as line 10, fails there with a
// message containing its fragment.
struct AppendedError {
    std::string statement, fragment;
};
inline void expect_appended_errors(const std::vector<AppendedError>& cases) {
    for (const AppendedError& c : cases) {
        SCOPED_TRACE(c.statement);
        expect_error(ref_plus(c.statement), 10, c.fragment);
    }
}

// validate_config on a built config must fail at `line` with `fragment`.
inline void expect_invalid(const Config& c, int line, const std::string& fragment) {
    const auto e = validate_config(c);
    ASSERT_TRUE(e.has_value()) << "no error, expected: " << fragment;
    EXPECT_EQ(e->line, line) << e->str();
    EXPECT_NE(e->message.find(fragment), std::string::npos) << "got: " << e->str() << "\nwanted: " << fragment;
}

// apply_statement must succeed.
inline void apply_ok(Config& c, const std::string& statement, int line = 0) {
    const auto e = apply_statement(c, statement, line);
    EXPECT_FALSE(e.has_value()) << statement << ": " << e.value_or("");
}

// apply_statement must fail with exactly `message` and leave `c` unchanged.
inline void apply_fails(Config& c, const std::string& statement, const std::string& message) {
    const Config before = c;
    EXPECT_EQ(apply_statement(c, statement, 0), message) << statement;
    EXPECT_EQ(c, before) << statement;
}

}  // namespace test
}  // namespace ipshare
