// The control socket's commands (docs/cli.md): parses one request line,
// calls the running router through ControlApi and formats the answer as
// aligned text tables or, with `--json`, one JSON document.
//
// Configuration statements (docs/configuration.md) are commands too: one is
// applied to a copy of the running configuration, and the copy is handed to
// ControlApi::apply_config, which applies it whole or not at all.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "control_api.h"

namespace ipshare {

// Vocabulary for ipsharectl's tab completion.
inline constexpr auto kCommandWords = std::to_array<const char*>(
    {"show", "flush", "clear", "reload", "capture", "forward", "filter", "route", "no", "napt", "timeout",
     "hairpin", "port", "lan", "wan", "server", "help", "quit", "exit"});
inline constexpr auto kShowWords = std::to_array<const char*>(
    {"ports", "drops", "neighbours", "neighbors", "sessions", "forwards", "filter", "config", "workers", "memory"});
inline constexpr auto kCaptureWords = std::to_array<const char*>({"count", "seconds", "filter", "file"});

// Splits a request into words. Blanks (space, tab, CR) separate words; a
// double-quoted part keeps its blanks (`filter "tcp port 80"`), with \" and
// \\ standing for a quote and a backslash inside the quotes. Returns an error
// message for an unterminated quote or a control character.
std::optional<std::string> split_words(std::string_view line, std::vector<std::string>* out);

class Commands {
public:
    static constexpr size_t kDefaultLimit = 1000;  // `show sessions` rows
    static constexpr size_t kMaxLimit = 100000;

    explicit Commands(ControlApi& api) : api_(api) {}

    // Runs one request line (without its LF). Returns the reply, unframed:
    // the first line is "ok" or "error: MESSAGE", then the body; every line
    // ends with LF. Sets *close_after for `quit` and `exit`.
    std::string execute(std::string_view line, bool* close_after = nullptr);

private:
    ControlApi& api_;
};

}  // namespace ipshare
