// fuzz_config: parse_config on arbitrary text. Never crashes; an error names
// a line of the text; and a configuration that parses is written back by
// format_config into text that parses again to an equal configuration, and
// is written the same way a second time (docs/configuration.md: `show config`
// output is a valid file).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "config_parse.h"

using namespace ipshare;

namespace {

[[noreturn]] void fail(const char* what, std::string_view input, const std::string& detail) {
    std::fprintf(stderr, "\n==== fuzz_config: %s\n---- input (%zu bytes):\n%.*s\n---- %s\n", what, input.size(),
                 static_cast<int>(input.size()), input.data(), detail.c_str());
    std::abort();
}

int lines_in(std::string_view s) {
    int n = 1;
    for (char c : s) n += c == '\n';
    return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);

    // The address helpers on the raw bytes: a parse formats back to the same value.
    if (const auto a = parse_ipv4(text)) {
        if (parse_ipv4(format_ipv4(*a)) != a) fail("parse_ipv4(format_ipv4(a)) != a", text, format_ipv4(*a));
    }
    if (const auto p = parse_prefix(text)) {
        if (parse_prefix(format_prefix(*p)) != p) fail("parse_prefix(format_prefix(p)) != p", text, format_prefix(*p));
    }

    Config c;
    if (auto err = parse_config(text, "fuzz.conf", c)) {
        const std::string msg = err->str();
        if (err->line < 0 || err->line > lines_in(text)) fail("error names a line that does not exist", text, msg);
        if (err->message.empty()) fail("error without a message", text, msg);
        return 0;
    }

    const std::string once = format_config(c);
    Config again;
    if (auto err = parse_config(once, "formatted.conf", again))
        fail("format_config wrote a file that does not parse", text, once + "\n---- error: " + err->str());
    if (!(again == c)) fail("format_config then parse_config changed the configuration", text, once);
    const std::string twice = format_config(again);
    if (twice != once) fail("format_config is not stable", text, once + "\n---- then:\n" + twice);

    // The statements `show forwards` / `show filter` print parse back to the same rule.
    for (const Forward& f : c.forwards) {
        Config one = c;
        one.forwards.clear();
        if (auto err = apply_statement(one, format_forward(f), 0))
            fail("format_forward wrote a statement that does not apply", text, format_forward(f) + ": " + *err);
        if (one.forwards.size() != 1 || !(one.forwards[0] == f))
            fail("format_forward does not round-trip", text, format_forward(f));
    }
    for (const FilterRule& r : c.filters) {
        Config one = c;
        one.filters.clear();
        if (auto err = apply_statement(one, format_filter_rule(r), 0))
            fail("format_filter_rule wrote a statement that does not apply", text, format_filter_rule(r) + ": " + *err);
        if (one.filters.size() != 1 || !(one.filters[0] == r))
            fail("format_filter_rule does not round-trip", text, format_filter_rule(r));
    }
    return 0;
}
