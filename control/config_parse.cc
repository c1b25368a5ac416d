// The configuration grammar (docs/configuration.md): tokenizer, one handler per
// statement, cross-statement validation and the canonical formatter.
#include "config_parse.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ipshare {
namespace {

using Error = std::optional<std::string>;

// Limits of the grammar; docs/configuration.md lists the same numbers.
constexpr unsigned kMinSubnetLen = 8;
constexpr unsigned kMaxSubnetLen = 30;
constexpr uint32_t kNaptPortMin = 1024;
constexpr uint32_t kNaptPortMax = 65535;
constexpr uint32_t kNaptMinPorts = 64;
constexpr uint32_t kSessionsMin = 16;
constexpr uint32_t kSessionsMax = 67108864;
constexpr uint32_t kPortsPerClientMin = 1;
constexpr uint32_t kPortsPerClientMax = 65535;
constexpr uint32_t kTimeoutMin = 1;
constexpr uint32_t kTimeoutMax = 604800;

struct TimeoutKind {
    std::string_view name;
    uint32_t Timeouts::*field;
};
constexpr std::array<TimeoutKind, kNumTimeouts> kTimeoutKinds = {{
    {"tcp-established", &Timeouts::tcp_established},
    {"tcp-transitory", &Timeouts::tcp_transitory},
    {"udp", &Timeouts::udp},
    {"icmp", &Timeouts::icmp},
    {"port-rest", &Timeouts::port_rest},
}};

// Indexed by Filtering.
constexpr std::array<std::string_view, 2> kFilteringNames = {"address-and-port-dependent",
                                                             "endpoint-independent"};

std::string quoted(std::string_view s) {
    std::string out = "'";
    out += s;
    out += '\'';
    return out;
}

// ---------------------------------------------------------------- numbers

enum class Num { ok, bad, leading_zero };

// Decimal digits only, no sign, no leading zero (except "0" itself). Values
// beyond kSaturate are clamped there, so every range check rejects them.
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

std::string range_text(uint64_t lo, uint64_t hi) {
    return "(" + std::to_string(lo) + ".." + std::to_string(hi) + ")";
}

// `what` names the setting, e.g. "napt sessions".
Error parse_number_token(std::string_view what, std::string_view tok, uint32_t lo, uint32_t hi,
                         uint32_t& out) {
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

// ---------------------------------------------------------------- addresses

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

uint32_t broadcast(const Ipv4Prefix& p) { return p.network() | ~p.mask(); }
Ipv4Prefix network_of(const Ipv4Prefix& p) { return Ipv4Prefix{p.network(), p.len}; }

// "network address" / "broadcast address" when `a` is one of them, else "".
std::string_view special_address(const Ipv4Prefix& net, uint32_t a) {
    if (a == net.network()) return "network address";
    if (a == broadcast(net)) return "broadcast address";
    return {};
}

Error check_subnet_len(std::string_view what, const Ipv4Prefix& p) {
    if (p.len >= kMinSubnetLen && p.len <= kMaxSubnetLen) return {};
    return std::string(what) + " prefix length must be " + std::to_string(kMinSubnetLen) + ".." +
           std::to_string(kMaxSubnetLen) + " in " + quoted(format_prefix(p));
}

// `lan address`: lan-ip and its subnet.
Error check_lan(const Ipv4Prefix& lan) {
    if (auto e = check_subnet_len("lan address", lan)) return e;
    const std::string_view special = special_address(lan, lan.addr);
    if (!special.empty())
        return "lan address " + quoted(format_prefix(lan)) + " is the " + std::string(special) +
               " of its subnet";
    return {};
}

Error check_wan_network(const Ipv4Prefix& wan) {
    if (auto e = check_subnet_len("wan network", wan)) return e;
    if (wan.addr != wan.network())
        return "host bits set in wan network " + quoted(format_prefix(wan)) + " (network is " +
               format_prefix(network_of(wan)) + ")";
    return {};
}

Error check_gateway(const Ipv4Prefix& wan, uint32_t gw) {
    const std::string where = " the wan network " + format_prefix(network_of(wan));
    if (!wan.contains(gw)) return "gateway " + quoted(format_ipv4(gw)) + " is outside" + where;
    const std::string_view special = special_address(wan, gw);
    if (!special.empty())
        return "gateway " + quoted(format_ipv4(gw)) + " is the " + std::string(special) + " of" + where;
    return {};
}

Error check_napt_ports(const PortRange& r) {
    const std::string text = quoted(std::to_string(r.lo) + "-" + std::to_string(r.hi));
    if (r.lo > r.hi) return "napt port range " + text + " is reversed (LO must not exceed HI)";
    if (r.lo < kNaptPortMin || r.hi > kNaptPortMax)
        return "napt port range " + text + " outside " + std::to_string(kNaptPortMin) + ".." +
               std::to_string(kNaptPortMax);
    if (r.size() < kNaptMinPorts)
        return "napt port range " + text + " has " + std::to_string(r.size()) + " ports (at least " +
               std::to_string(kNaptMinPorts) + " needed)";
    return {};
}

Error parse_port_range_token(std::string_view tok, PortRange& out) {
    const size_t dash = tok.find('-');
    uint64_t lo = 0;
    uint64_t hi = 0;
    if (dash == std::string_view::npos || parse_decimal(tok.substr(0, dash), lo) != Num::ok ||
        parse_decimal(tok.substr(dash + 1), hi) != Num::ok)
        return "bad port range " + quoted(tok) + " (expected LO-HI)";
    if (lo > kNaptPortMax || hi > kNaptPortMax)
        return "napt port range " + quoted(tok) + " outside " + std::to_string(kNaptPortMin) + ".." +
               std::to_string(kNaptPortMax);
    out = PortRange{uint16_t(lo), uint16_t(hi)};
    return check_napt_ports(out);
}

// ---------------------------------------------------------------- words

constexpr bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }
constexpr bool is_control(char c) { return (c >= 0 && c < 0x20 && !is_space(c)) || c == 0x7f; }

// The words of one statement, consumed left to right by the handlers.
class Words {
public:
    explicit Words(std::string_view text) {
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

    bool empty() const { return words_.empty(); }

    Error check_characters() const {
        for (const std::string_view w : words_)
            for (const char c : w)
                if (is_control(c)) return "invalid control character in statement";
        return {};
    }

    // The words consumed so far, e.g. "port wan".
    std::string consumed() const {
        std::string out;
        for (size_t i = 0; i < pos_; ++i) {
            if (i > 0) out += ' ';
            out += words_[i];
        }
        return out;
    }

    Error take(std::string_view& out) {
        if (pos_ >= words_.size()) return "missing argument after " + quoted(consumed());
        out = words_[pos_++];
        return {};
    }

    Error expect(std::string_view keyword) {
        const std::string before = consumed();
        std::string_view w;
        if (auto e = take(w)) return e;
        if (w != keyword) return "expected " + quoted(keyword) + " after " + quoted(before) + ", got " + quoted(w);
        return {};
    }

    Error finish() const {
        if (pos_ < words_.size()) return "unexpected " + quoted(words_[pos_]) + " after statement";
        return {};
    }

private:
    std::vector<std::string_view> words_;
    size_t pos_ = 0;
};

// Within a file (line > 0) a single-valued statement may appear once; with
// line 0 (the CLI) a statement replaces the current value.
Error check_duplicate(std::string_view name, int first_line, int line) {
    if (line <= 0 || first_line <= 0) return {};
    return "duplicate " + quoted(name) + " (first at line " + std::to_string(first_line) + ")";
}

Error parse_zone(std::string_view tok, Zone& out) {
    for (int z = 0; z < kNumZones; ++z) {
        if (tok == kZoneNames[size_t(z)]) {
            out = Zone(z);
            return {};
        }
    }
    return "unknown zone " + quoted(tok) + " (expected wan, lan or dmz)";
}

// ---------------------------------------------------------------- statements

Error apply_port(Config& cfg, Words& w, int line) {
    std::string_view zone_tok;
    std::string_view device;
    Zone zone{};
    if (auto e = w.take(zone_tok)) return e;
    if (auto e = parse_zone(zone_tok, zone)) return e;
    const size_t z = size_t(zone);
    if (auto e = check_duplicate(w.consumed(), cfg.port_line[z], line)) return e;
    if (auto e = w.take(device)) return e;
    if (auto e = w.finish()) return e;
    cfg.port_device[z] = std::string(device);
    cfg.port_line[z] = line;
    return {};
}

Error apply_lan(Config& cfg, Words& w, int line) {
    std::string_view tok;
    Ipv4Prefix lan;
    if (auto e = w.expect("address")) return e;
    if (auto e = check_duplicate("lan address", cfg.lan_line, line)) return e;
    if (auto e = w.take(tok)) return e;
    if (auto e = parse_prefix_token(tok, lan)) return e;
    if (auto e = check_lan(lan)) return e;
    if (auto e = w.finish()) return e;
    cfg.lan = lan;
    cfg.lan_line = line;
    return {};
}

Error apply_wan(Config& cfg, Words& w, int line) {
    std::string_view net_tok;
    std::string_view gw_tok;
    Ipv4Prefix wan;
    uint32_t gw = 0;
    if (auto e = w.expect("network")) return e;
    if (auto e = check_duplicate("wan network", cfg.wan_line, line)) return e;
    if (auto e = w.take(net_tok)) return e;
    if (auto e = parse_prefix_token(net_tok, wan)) return e;
    if (auto e = check_wan_network(wan)) return e;
    if (auto e = w.expect("gateway")) return e;
    if (auto e = w.take(gw_tok)) return e;
    if (auto e = parse_address_token(gw_tok, gw)) return e;
    if (auto e = check_gateway(wan, gw)) return e;
    if (auto e = w.finish()) return e;
    cfg.wan_network = wan;
    cfg.wan_gateway = gw;
    cfg.wan_line = line;
    return {};
}

Error apply_server(Config& cfg, Words& w, int line) {
    std::string_view tok;
    uint32_t addr = 0;
    if (auto e = w.expect("address")) return e;
    if (auto e = check_duplicate("server address", cfg.server_line, line)) return e;
    if (auto e = w.take(tok)) return e;
    if (auto e = parse_address_token(tok, addr)) return e;
    if (auto e = w.finish()) return e;
    cfg.server = addr;
    cfg.server_line = line;
    return {};
}

Error apply_napt_ports(Config& cfg, Words& w, int line) {
    std::string_view tok;
    PortRange range;
    if (auto e = check_duplicate("napt ports", cfg.napt_ports_line, line)) return e;
    if (auto e = w.take(tok)) return e;
    if (auto e = parse_port_range_token(tok, range)) return e;
    if (auto e = w.finish()) return e;
    cfg.napt_ports = range;
    cfg.napt_ports_line = line;
    return {};
}

// `napt sessions N` and `napt ports-per-client N`.
Error apply_napt_number(Words& w, int line, uint32_t lo, uint32_t hi, uint32_t& value, int& value_line) {
    const std::string name = w.consumed();
    std::string_view tok;
    uint32_t v = 0;
    if (auto e = check_duplicate(name, value_line, line)) return e;
    if (auto e = w.take(tok)) return e;
    if (auto e = parse_number_token(name, tok, lo, hi, v)) return e;
    if (auto e = w.finish()) return e;
    value = v;
    value_line = line;
    return {};
}

Error apply_napt_filtering(Config& cfg, Words& w, int line) {
    std::string_view tok;
    if (auto e = check_duplicate("napt filtering", cfg.napt_filtering_line, line)) return e;
    if (auto e = w.take(tok)) return e;
    size_t i = 0;
    while (i < kFilteringNames.size() && kFilteringNames[i] != tok) ++i;
    if (i == kFilteringNames.size())
        return "unknown filtering " + quoted(tok) + " (expected endpoint-independent or address-and-port-dependent)";
    if (auto e = w.finish()) return e;
    cfg.napt_filtering = Filtering(i);
    cfg.napt_filtering_line = line;
    return {};
}

Error apply_napt(Config& cfg, Words& w, int line) {
    std::string_view setting;
    if (auto e = w.take(setting)) return e;
    if (setting == "ports") return apply_napt_ports(cfg, w, line);
    if (setting == "sessions")
        return apply_napt_number(w, line, kSessionsMin, kSessionsMax, cfg.napt_sessions, cfg.napt_sessions_line);
    if (setting == "ports-per-client")
        return apply_napt_number(w, line, kPortsPerClientMin, kPortsPerClientMax, cfg.napt_ports_per_client,
                                 cfg.napt_ports_per_client_line);
    if (setting == "filtering") return apply_napt_filtering(cfg, w, line);
    return "unknown napt setting " + quoted(setting) + " (expected ports, sessions, ports-per-client or filtering)";
}

Error apply_timeout(Config& cfg, Words& w, int line) {
    std::string_view kind;
    std::string_view tok;
    uint32_t v = 0;
    if (auto e = w.take(kind)) return e;
    size_t i = 0;
    while (i < kTimeoutKinds.size() && kTimeoutKinds[i].name != kind) ++i;
    if (i == kTimeoutKinds.size())
        return "unknown timeout " + quoted(kind) + " (expected tcp-established, tcp-transitory, udp, icmp or port-rest)";
    const std::string name = w.consumed();
    if (auto e = check_duplicate(name, cfg.timeout_line[i], line)) return e;
    if (auto e = w.take(tok)) return e;
    if (auto e = parse_number_token(name, tok, kTimeoutMin, kTimeoutMax, v)) return e;
    if (auto e = w.finish()) return e;
    cfg.timeouts.*kTimeoutKinds[i].field = v;
    cfg.timeout_line[i] = line;
    return {};
}

Error apply_route(Config& cfg, Words& w, int line) {
    std::string_view prefix_tok;
    std::string_view kind;
    std::string_view arg;
    Route route;
    route.line = line;
    if (auto e = w.take(prefix_tok)) return e;
    if (auto e = parse_prefix_token(prefix_tok, route.dst)) return e;
    const std::string before = w.consumed();
    if (auto e = w.take(kind)) return e;
    if (kind != "via" && kind != "dev")
        return "expected 'via' or 'dev' after " + quoted(before) + ", got " + quoted(kind);
    if (auto e = w.take(arg)) return e;
    if (kind == "via") {
        if (auto e = parse_address_token(arg, route.via)) return e;
    } else {
        Zone zone{};
        if (auto e = parse_zone(arg, zone)) return e;
        route.dev = zone;
    }
    if (auto e = w.finish()) return e;
    cfg.routes.push_back(route);
    return {};
}

// ---------------------------------------------------------------- validation

struct Issue {
    int line = 0;
    std::string message;
};
using MaybeIssue = std::optional<Issue>;

MaybeIssue at(int line, Error e) {
    if (!e) return {};
    return Issue{line, std::move(*e)};
}

std::string port_name(size_t z) { return std::string("port ") + kZoneNames[z]; }

MaybeIssue check_ports(const Config& cfg) {
    for (size_t z = 0; z < size_t(kNumZones); ++z)
        if (cfg.port_device[z].empty()) return Issue{0, "missing " + quoted(port_name(z)) + " statement"};
    for (size_t j = 1; j < size_t(kNumZones); ++j) {
        for (size_t i = 0; i < j; ++i) {
            if (cfg.port_device[i] != cfg.port_device[j]) continue;
            return Issue{cfg.port_line[j], "device " + quoted(cfg.port_device[j]) + " named for both " +
                                               quoted(port_name(i)) + " (line " + std::to_string(cfg.port_line[i]) +
                                               ") and " + quoted(port_name(j))};
        }
    }
    return {};
}

MaybeIssue check_server(const Config& cfg) {
    const Ipv4Prefix& wan = *cfg.wan_network;
    const uint32_t server = *cfg.server;
    const std::string what = "server address " + format_ipv4(server);
    const std::string where = " the wan network " + format_prefix(network_of(wan));
    if (!wan.contains(server)) return Issue{cfg.server_line, what + " is outside" + where};
    if (server == cfg.wan_gateway) return Issue{cfg.server_line, what + " is the wan gateway"};
    const std::string_view special = special_address(wan, server);
    if (!special.empty()) return Issue{cfg.server_line, what + " is the " + std::string(special) + " of" + where};
    return {};
}

MaybeIssue check_networks(const Config& cfg) {
    if (!cfg.lan) return Issue{0, "missing 'lan address' statement"};
    if (!cfg.wan_network) return Issue{0, "missing 'wan network' statement"};
    if (!cfg.server) return Issue{0, "missing 'server address' statement"};
    if (auto i = at(cfg.lan_line, check_lan(*cfg.lan))) return i;
    if (auto i = at(cfg.wan_line, check_wan_network(*cfg.wan_network))) return i;
    if (auto i = at(cfg.wan_line, check_gateway(*cfg.wan_network, cfg.wan_gateway))) return i;
    if (auto i = check_server(cfg)) return i;
    if (cfg.lan->overlaps(*cfg.wan_network))
        return Issue{cfg.lan_line, "lan subnet " + format_prefix(network_of(*cfg.lan)) +
                                       " overlaps the wan network " + format_prefix(*cfg.wan_network)};
    return {};
}

MaybeIssue check_napt(const Config& cfg) {
    if (auto i = at(cfg.napt_ports_line, check_napt_ports(cfg.napt_ports))) return i;
    if (auto i = at(cfg.napt_sessions_line,
                    check_range("napt sessions", cfg.napt_sessions, kSessionsMin, kSessionsMax)))
        return i;
    const int ppc_line = cfg.napt_ports_per_client_line;
    if (auto i = at(ppc_line, check_range("napt ports-per-client", cfg.napt_ports_per_client, kPortsPerClientMin,
                                          kPortsPerClientMax)))
        return i;
    // The default cap is clamped to a smaller range by the NAT; only a cap the
    // operator wrote is held against the range.
    if (ppc_line != 0 && cfg.napt_ports_per_client > cfg.napt_ports.size()) {
        const PortRange& r = cfg.napt_ports;
        return Issue{ppc_line,
                     "napt ports-per-client " + std::to_string(cfg.napt_ports_per_client) +
                         " is larger than the napt port range " + std::to_string(r.lo) + "-" +
                         std::to_string(r.hi) + " (" + std::to_string(r.size()) + " ports)"};
    }
    for (size_t k = 0; k < kTimeoutKinds.size(); ++k) {
        const std::string name = "timeout " + std::string(kTimeoutKinds[k].name);
        if (auto i = at(cfg.timeout_line[k],
                        check_range(name, cfg.timeouts.*kTimeoutKinds[k].field, kTimeoutMin, kTimeoutMax)))
            return i;
    }
    return {};
}

// The route's destination against the connected networks and the addresses.
Error check_route_destination(const Config& cfg, const Ipv4Prefix& dst) {
    const std::string what = "route " + format_prefix(dst);
    if (dst.addr != dst.network())
        return what + " has host bits set (network is " + format_prefix(network_of(dst)) + ")";
    if (dst.len == 0) return what + " is not allowed: the wan gateway is the default route";
    const std::array<std::pair<const char*, Ipv4Prefix>, 2> connected = {{
        {"lan subnet", network_of(*cfg.lan)},
        {"wan network", network_of(*cfg.wan_network)},
    }};
    for (const auto& [name, net] : connected) {
        if (dst == net) return what + " is the " + name;
        if (dst.len < net.len && dst.contains(net.addr))
            return what + " contains the " + name + " " + format_prefix(net);
    }
    if (dst.contains(*cfg.server)) return what + " contains the server address " + format_ipv4(*cfg.server);
    if (dst.contains(cfg.lan->addr)) return what + " contains lan-ip " + format_ipv4(cfg.lan->addr);
    return {};
}

Error check_next_hop(const Config& cfg, uint32_t via) {
    const std::string what = "next hop " + format_ipv4(via);
    if (via == cfg.lan->addr) return what + " is lan-ip (the router itself)";
    if (via == *cfg.server) return what + " is the server address";
    const std::array<std::pair<const char*, Ipv4Prefix>, 2> connected = {{
        {"lan subnet", network_of(*cfg.lan)},
        {"wan network", network_of(*cfg.wan_network)},
    }};
    for (const auto& [name, net] : connected) {
        if (!net.contains(via)) continue;
        const std::string_view special = special_address(net, via);
        if (special.empty()) return {};
        return what + " is the " + std::string(special) + " of the " + name + " " + format_prefix(net);
    }
    return what + " is not on a connected network (lan subnet " + format_prefix(connected[0].second) +
           " or wan network " + format_prefix(connected[1].second) + ")";
}

MaybeIssue check_routes(const Config& cfg) {
    for (size_t i = 0; i < cfg.routes.size(); ++i) {
        const Route& r = cfg.routes[i];
        if (r.dev && r.via != 0)
            return Issue{r.line, "route " + format_prefix(r.dst) + " has both a next hop and a device"};
        if (auto issue = at(r.line, check_route_destination(cfg, r.dst))) return issue;
        for (size_t j = 0; j < i; ++j) {
            if (cfg.routes[j].dst == r.dst)
                return Issue{r.line, "duplicate route " + format_prefix(r.dst) + " (first at line " +
                                         std::to_string(cfg.routes[j].line) + ")"};
        }
        if (!r.dev)
            if (auto issue = at(r.line, check_next_hop(cfg, r.via))) return issue;
    }
    return {};
}

// ---------------------------------------------------------------- formatting

void format_napt(const Config& cfg, std::string& out) {
    out += "napt ports " + std::to_string(cfg.napt_ports.lo) + "-" + std::to_string(cfg.napt_ports.hi) + "\n";
    out += "napt sessions " + std::to_string(cfg.napt_sessions) + "\n";
    if (cfg.napt_ports_per_client != Config{}.napt_ports_per_client)
        out += "napt ports-per-client " + std::to_string(cfg.napt_ports_per_client) + "\n";
    out += "napt filtering " + std::string(kFilteringNames[size_t(cfg.napt_filtering)]) + "\n";
}

void format_route(const Route& r, std::string& out) {
    out += "route " + format_prefix(r.dst);
    if (r.dev)
        out += std::string(" dev ") + kZoneNames[size_t(*r.dev)];
    else
        out += " via " + format_ipv4(r.via);
    out += "\n";
}

}  // namespace

std::string ConfigError::str() const {
    std::string out = file;
    if (line > 0) out += (file.empty() ? "line " : ":") + std::to_string(line);
    if (!out.empty()) out += ": ";
    return out + message;
}

std::optional<std::string> apply_statement(Config& cfg, std::string_view statement, int line) {
    Words words(statement);
    if (words.empty()) return {};
    if (auto e = words.check_characters()) return e;
    std::string_view keyword;
    words.take(keyword);
    if (keyword == "port") return apply_port(cfg, words, line);
    if (keyword == "lan") return apply_lan(cfg, words, line);
    if (keyword == "wan") return apply_wan(cfg, words, line);
    if (keyword == "server") return apply_server(cfg, words, line);
    if (keyword == "napt") return apply_napt(cfg, words, line);
    if (keyword == "timeout") return apply_timeout(cfg, words, line);
    if (keyword == "route") return apply_route(cfg, words, line);
    return "unknown statement " + quoted(keyword);
}

std::optional<ConfigError> validate_config(const Config& cfg) {
    MaybeIssue issue = check_ports(cfg);
    if (!issue) issue = check_networks(cfg);
    if (!issue) issue = check_napt(cfg);
    if (!issue) issue = check_routes(cfg);
    if (!issue) return {};
    return ConfigError{cfg.file, issue->line, std::move(issue->message)};
}

std::optional<ConfigError> parse_config(std::string_view text, const std::string& filename, Config& out) {
    Config cfg;
    cfg.file = filename;
    int line = 0;
    while (!text.empty()) {
        const size_t nl = text.find('\n');
        const std::string_view statement = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        ++line;
        if (auto e = apply_statement(cfg, statement, line)) return ConfigError{filename, line, std::move(*e)};
    }
    if (auto e = validate_config(cfg)) return e;
    out = std::move(cfg);
    return {};
}

std::optional<ConfigError> load_config_file(const std::string& path, Config& out) {
    struct Closer {
        void operator()(std::FILE* f) const { std::fclose(f); }
    };
    const std::unique_ptr<std::FILE, Closer> f(std::fopen(path.c_str(), "rb"));
    if (!f) return ConfigError{path, 0, std::string("cannot open file: ") + std::strerror(errno)};
    std::string text;
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, f.get())) > 0) text.append(buf, n);
    if (std::ferror(f.get())) return ConfigError{path, 0, std::string("cannot read file: ") + std::strerror(errno)};
    return parse_config(text, path, out);
}

std::string format_config(const Config& cfg) {
    std::string out;
    for (size_t z = 0; z < size_t(kNumZones); ++z)
        if (!cfg.port_device[z].empty()) out += port_name(z) + " " + cfg.port_device[z] + "\n";
    if (cfg.lan) out += "lan address " + format_prefix(*cfg.lan) + "\n";
    if (cfg.wan_network)
        out += "wan network " + format_prefix(*cfg.wan_network) + " gateway " + format_ipv4(cfg.wan_gateway) + "\n";
    if (cfg.server) out += "server address " + format_ipv4(*cfg.server) + "\n";
    format_napt(cfg, out);
    for (const TimeoutKind& k : kTimeoutKinds)
        out += "timeout " + std::string(k.name) + " " + std::to_string(cfg.timeouts.*k.field) + "\n";
    for (const Route& r : cfg.routes) format_route(r, out);
    return out;
}

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
        if (parse_decimal(s.substr(start, i - start), v) != Num::ok || v > 255) return {};
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
    if (parse_prefix_token(s, p)) return {};
    return p;
}

std::string format_prefix(const Ipv4Prefix& p) { return format_ipv4(p.addr) + "/" + std::to_string(p.len); }

}  // namespace ipshare
