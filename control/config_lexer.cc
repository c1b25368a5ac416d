// The lexical layer of the configuration grammar (config_lexer.h), and the
// public address helpers of config_parse.h built on it.
#include "config_lexer.h"

#include <algorithm>

#include "config_parse.h"

namespace ipshare {
namespace grammar {

std::string quoted(std::string_view s) {
    std::string out = "'";
    out += s;
    out += '\'';
    return out;
}

// ---------------------------------------------------------------- numbers

Num parse_decimal(std::string_view s, uint64_t& out) {
    constexpr uint64_t kSaturate = uint64_t{1} << 40;
    if (s.empty()) return Num::bad;
    uint64_t v = 0;
    for (const char c : s) {
        if (c < '0' || c > '9') return Num::bad;
        v = std::min(kSaturate, v * 10 + uint64_t(c - '0'));
    }
    if (s.size() > 1 && s[0] == '0') return Num::leading_zero;
    out = v;
    return Num::ok;
}

namespace {

std::string range_text(uint64_t lo, uint64_t hi) {
    std::string out = "(";
    out += std::to_string(lo);
    out += "..";
    out += std::to_string(hi);
    out += ")";
    return out;
}

}  // namespace

Error parse_number_token(std::string_view what, std::string_view tok, uint32_t lo, uint32_t hi, uint32_t& out) {
    uint64_t v = 0;
    switch (parse_decimal(tok, v)) {
        case Num::bad: return "bad number " + quoted(tok);
        case Num::leading_zero: return "bad number " + quoted(tok) + " (leading zeros are not allowed)";
        case Num::ok: break;
    }
    if (v < lo || v > hi)
        return std::string(what) + " " + quoted(tok) + " out of range " + range_text(lo, hi);
    out = uint32_t(v);
    return {};
}

Error check_range(std::string_view what, uint32_t v, uint32_t lo, uint32_t hi) {
    if (v >= lo && v <= hi) return {};
    return std::string(what) + " " + std::to_string(v) + " out of range " + range_text(lo, hi);
}

// ---------------------------------------------------------------- addresses and ports

Error parse_prefix_token(std::string_view tok, Ipv4Prefix& out) {
    const size_t slash = tok.find('/');
    if (slash == std::string_view::npos)
        return "missing prefix length in " + quoted(tok) + " (expected A.B.C.D/LEN)";
    const auto addr = parse_ipv4(tok.substr(0, slash));
    if (!addr) return "bad address in " + quoted(tok);
    uint64_t len = 0;
    if (parse_decimal(tok.substr(slash + 1), len) != Num::ok || len > 32)
        return "bad prefix length in " + quoted(tok);
    out = Ipv4Prefix{*addr, uint8_t(len)};
    return {};
}

Error parse_address_token(std::string_view tok, uint32_t& out) {
    const auto addr = parse_ipv4(tok);
    if (!addr) return "bad address " + quoted(tok);
    out = *addr;
    return {};
}

Error parse_ports_token(std::string_view what, std::string_view tok, PortRange& out) {
    const size_t dash = tok.find('-');
    const std::string_view lo_tok = tok.substr(0, dash);
    const std::string_view hi_tok = dash == std::string_view::npos ? lo_tok : tok.substr(dash + 1);
    uint64_t lo = 0;
    uint64_t hi = 0;
    if (parse_decimal(lo_tok, lo) != Num::ok || parse_decimal(hi_tok, hi) != Num::ok)
        return "bad port " + quoted(tok) + " (expected PORT or LO-HI)";
    if (lo > kPortMax || hi > kPortMax) return std::string(what) + " " + quoted(tok) + " is beyond 65535";
    if (lo > hi) return std::string(what) + " range " + quoted(tok) + " is reversed (LO must not exceed HI)";
    out = PortRange{uint16_t(lo), uint16_t(hi)};
    return {};
}

std::string format_ports(const PortRange& r) {
    if (r.lo == r.hi) return std::to_string(r.lo);
    return std::to_string(r.lo) + "-" + std::to_string(r.hi);
}

Error parse_zone(std::string_view tok, Zone& out) {
    const size_t z = index_of(kZoneNames, tok);
    if (z == kZoneNames.size()) return "unknown zone " + quoted(tok) + " (expected wan, lan or dmz)";
    out = Zone(z);
    return {};
}

// ---------------------------------------------------------------- words

namespace {

constexpr bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }
constexpr bool is_control(char c) { return (c >= 0 && c < 0x20 && !is_space(c)) || c == 0x7f; }

// words[from, to) with one blank between.
std::string join(const std::vector<std::string_view>& words, size_t from, size_t to) {
    std::string out;
    for (size_t i = from; i < to; ++i) {
        if (i > from) out += ' ';
        out += words[i];
    }
    return out;
}

}  // namespace

Words::Words(std::string_view text) {
    if (const size_t hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);
    size_t i = 0;
    while (i < text.size()) {
        if (is_space(text[i])) {
            ++i;
            continue;
        }
        const size_t start = i;
        while (i < text.size() && !is_space(text[i])) ++i;
        words_.push_back(text.substr(start, i - start));
    }
}

Error Words::check_characters() const {
    for (const std::string_view w : words_)
        for (const char c : w)
            if (is_control(c)) return "invalid control character in statement";
    return {};
}

std::string Words::consumed() const { return join(words_, 0, pos_); }

std::string Words::remaining() const { return join(words_, pos_, words_.size()); }

Error Words::take(std::string_view& out) {
    if (pos_ >= words_.size()) return "missing argument after " + quoted(consumed());
    out = words_[pos_++];
    return {};
}

Error Words::expect(std::string_view keyword) {
    const std::string before = consumed();
    std::string_view w;
    if (auto e = take(w)) return e;
    if (w != keyword) return "expected " + quoted(keyword) + " after " + quoted(before) + ", got " + quoted(w);
    return {};
}

Error Words::finish() const {
    if (pos_ < words_.size()) return "unexpected " + quoted(words_[pos_]) + " after statement";
    return {};
}

}  // namespace grammar

// ---------------------------------------------------------------- public address helpers

std::optional<uint32_t> parse_ipv4(std::string_view s) {
    uint32_t addr = 0;
    size_t i = 0;
    for (int part = 0; part < 4; ++part) {
        if (part > 0) {
            if (i >= s.size() || s[i] != '.') return {};
            ++i;
        }
        const size_t start = i;
        while (i < s.size() && i - start < 4 && s[i] >= '0' && s[i] <= '9') ++i;
        uint64_t v = 0;
        if (grammar::parse_decimal(s.substr(start, i - start), v) != grammar::Num::ok || v > 255) return {};
        addr = addr << 8 | uint32_t(v);
    }
    if (i != s.size()) return {};
    return addr;
}

std::string format_ipv4(uint32_t addr) {
    return std::to_string(addr >> 24) + "." + std::to_string(addr >> 16 & 0xff) + "." +
           std::to_string(addr >> 8 & 0xff) + "." + std::to_string(addr & 0xff);
}

std::optional<Ipv4Prefix> parse_prefix(std::string_view s) {
    Ipv4Prefix p;
    if (grammar::parse_prefix_token(s, p)) return {};
    return p;
}

std::string format_prefix(const Ipv4Prefix& p) { return format_ipv4(p.addr) + "/" + std::to_string(p.len); }

}  // namespace ipshare
