// The control socket's framing, shared by the daemon's server (ctl_server.cc)
// and the CLI (ipsharectl.cc). docs/cli.md describes it for other clients.
//
//   request:  one line of text, ended by LF (a CR before the LF is ignored),
//             at most kMaxRequestLine bytes without the LF.
//   reply:    any number of lines, each ended by LF, then a line holding a
//             single "." (the terminator). The first line is "ok" or
//             "error: MESSAGE". A reply line that starts with "." is sent
//             with one more "." in front (SMTP's dot-stuffing); the reader
//             removes it.
//
// Requests on one connection are answered in order. Header-only: no state.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ipshare::ctl {

inline constexpr const char* kDefaultSocket = "/run/ipshare/ipshare.sock";
inline constexpr size_t kMaxRequestLine = 4096;  // bytes, without the LF
inline constexpr int kReplyTimeoutSeconds = 10;  // ipsharectl's wait for one reply

// Frames an unframed reply ("ok\nbody..." or "error: ...\n"): dot-stuffs each
// line and appends the terminator. A missing final LF is supplied.
inline std::string frame_reply(std::string_view reply) {
    std::string out;
    out.reserve(reply.size() + reply.size() / 32 + 4);
    size_t pos = 0;
    while (pos < reply.size()) {
        size_t nl = reply.find('\n', pos);
        if (nl == std::string_view::npos) nl = reply.size();
        if (reply[pos] == '.') out += '.';
        out.append(reply.substr(pos, nl - pos));
        out += '\n';
        pos = nl + 1;
    }
    out += ".\n";
    return out;
}

// Collects the lines of one framed reply from bytes as they arrive.
class ReplyReader {
public:
    // Consumes bytes up to and including the terminator; returns how many
    // bytes it used (bytes after the terminator belong to the next reply).
    size_t feed(std::string_view bytes) {
        size_t used = 0;
        while (used < bytes.size() && !done_) {
            const size_t nl = bytes.find('\n', used);
            if (nl == std::string_view::npos) {
                partial_.append(bytes.substr(used));
                return bytes.size();
            }
            partial_.append(bytes.substr(used, nl - used));
            used = nl + 1;
            if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
            if (partial_ == ".") {
                done_ = true;
            } else {
                lines_.push_back(partial_[0] == '.' ? partial_.substr(1) : partial_);
            }
            partial_.clear();
        }
        return used;
    }

    bool done() const { return done_; }
    // The reply's lines, unstuffed, without the terminator.
    const std::vector<std::string>& lines() const { return lines_; }
    bool ok() const { return !lines_.empty() && lines_[0] == "ok"; }
    void reset() { *this = ReplyReader(); }

private:
    std::vector<std::string> lines_;
    std::string partial_;
    bool done_ = false;
};

// A word of a request as the command parser reads it back: words with
// blanks, quotes or backslashes (a BPF filter) go in double quotes, with \"
// and \\ escaped inside.
inline std::string quote_word(std::string_view w) {
    bool plain = !w.empty();
    for (const char c : w)
        if (c == ' ' || c == '\t' || c == '"' || c == '\\' || c == '\'') plain = false;
    if (plain) return std::string(w);
    std::string out = "\"";
    for (const char c : w) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
    return out;
}

// The request line for a command given as separate words (argv).
inline std::string join_words(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) {
        if (!out.empty()) out += ' ';
        out += quote_word(w);
    }
    return out;
}

}  // namespace ipshare::ctl
