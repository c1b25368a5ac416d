// The configuration grammar: one statement per line, `#` starts a comment.
// The same statements are accepted from the control CLI (issue: control plane).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config.h"

namespace ipshare {

struct ConfigError {
    std::string file;
    int line = 0;  // 0: not tied to one line (e.g. "no `port wan` statement")
    std::string message;

    // "FILE:LINE: message", or "FILE: message" when line is 0.
    std::string str() const;
};

// Applies one statement (comments and blank lines are accepted and ignored).
// Returns an error message (without the file/line prefix) or nothing; on error
// `cfg` is unchanged. With line > 0 (a file) a single-valued statement seen
// before is a `duplicate` error; with line 0 (the CLI) it replaces the value.
// `no STATEMENT` removes a forward, route or filter rule, or puts a setting
// back to its default; removing what is not there is an error.
std::optional<std::string> apply_statement(Config& cfg, std::string_view statement, int line);

// Cross-statement checks: required statements present, server inside the wan
// network, gateway inside the wan network and not wan-ip, lan and wan networks
// disjoint, route next hops on a connected network, no duplicate routes, the
// napt range sane; forwards aimed at a LAN host, overlapping neither each
// other (for a shared protocol) nor the napt range; filter rules sane.
// Device names are NOT checked here (that needs DPDK).
std::optional<ConfigError> validate_config(const Config& cfg);

// Parses a whole file's text; on success `out` holds the validated config.
std::optional<ConfigError> parse_config(std::string_view text, const std::string& filename, Config& out);

// Reads the file and parses it. Unreadable file -> error with line 0.
std::optional<ConfigError> load_config_file(const std::string& path, Config& out);

// The running configuration in the file's own grammar: parse_config(format_config(c)) == c.
std::string format_config(const Config& cfg);

// One statement in canonical form, without the newline, as format_config
// writes it (for `show forwards`, `show filters`).
std::string format_forward(const Forward& f);      // "forward tcp 8080 to 192.168.1.101 port 80"
std::string format_filter_rule(const FilterRule& r);  // "filter deny from wan to lan orig-port 8080"
std::string format_filter_policy(Zone from, Zone to, FilterAction action);  // "filter policy from wan to lan deny"

// Address helpers shared by the parser, the CLI and the logs (host order).
std::optional<uint32_t> parse_ipv4(std::string_view s);
std::string format_ipv4(uint32_t addr);
std::optional<Ipv4Prefix> parse_prefix(std::string_view s);  // "a.b.c.d/len"
std::string format_prefix(const Ipv4Prefix& p);

}  // namespace ipshare
