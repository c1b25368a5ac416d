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
constexpr uint32_t kPortMax = 65535;
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
    bool done() const { return pos_ >= words_.size(); }

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

    // The words not consumed yet, e.g. "tcp 8080" after "no forward".
    std::string remaining() const {
        std::string out;
        for (size_t i = pos_; i < words_.size(); ++i) {
            if (i > pos_) out += ' ';
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

std::string port_name(size_t z) { return std::string("port ") + kZoneNames[z]; }

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

Error find_timeout_kind(std::string_view kind, size_t& i) {
    i = 0;
    while (i < kTimeoutKinds.size() && kTimeoutKinds[i].name != kind) ++i;
    if (i < kTimeoutKinds.size()) return {};
    return "unknown timeout " + quoted(kind) + " (expected tcp-established, tcp-transitory, udp, icmp or port-rest)";
}

Error apply_timeout(Config& cfg, Words& w, int line) {
    std::string_view kind;
    std::string_view tok;
    uint32_t v = 0;
    size_t i = 0;
    if (auto e = w.take(kind)) return e;
    if (auto e = find_timeout_kind(kind, i)) return e;
    const std::string name = w.consumed();
    if (auto e = check_duplicate(name, cfg.timeout_line[i], line)) return e;
    if (auto e = w.take(tok)) return e;
    if (auto e = parse_number_token(name, tok, kTimeoutMin, kTimeoutMax, v)) return e;
    if (auto e = w.finish()) return e;
    cfg.timeouts.*kTimeoutKinds[i].field = v;
    cfg.timeout_line[i] = line;
    return {};
}

// `route PREFIX`: the part that names a route, also in `no route PREFIX`.
Error parse_route_prefix(Words& w, Route& route) {
    std::string_view prefix_tok;
    if (auto e = w.take(prefix_tok)) return e;
    return parse_prefix_token(prefix_tok, route.dst);
}

// `via ADDRESS` or `dev ZONE`, then the end of the statement.
Error parse_route_target(Words& w, Route& route) {
    std::string_view kind;
    std::string_view arg;
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
    return w.finish();
}

Error apply_route(Config& cfg, Words& w, int line) {
    Route route;
    route.line = line;
    if (auto e = parse_route_prefix(w, route)) return e;
    if (auto e = parse_route_target(w, route)) return e;
    cfg.routes.push_back(route);
    return {};
}

// ---------------------------------------------------------------- forward

// `P` or `LO-HI`: one port or a range of ports, 0..65535. `what` names the
// ports in messages, e.g. "forward target port".
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

// Indexed by Forward::protos.
constexpr std::array<std::string_view, 4> kForwardProtoNames = {"", "tcp", "udp", "tcp+udp"};

bool valid_protos(uint8_t protos) { return protos != 0 && protos < kForwardProtoNames.size(); }

// The values of one forward, alone: for parsed and built configs alike.
Error check_forward(const Forward& f) {
    if (!valid_protos(f.protos)) return "forward has no valid protocol (expected tcp, udp or tcp+udp)";
    if (f.ports.lo == 0) return "port 0 cannot be forwarded";
    if (f.ports.lo > f.ports.hi)
        return "forward port range " + quoted(std::to_string(f.ports.lo) + "-" + std::to_string(f.ports.hi)) +
               " is reversed (LO must not exceed HI)";
    if (f.target_port != 0 && uint32_t(f.target_port) + f.ports.size() - 1 > kPortMax)
        return "forward target port range " + std::to_string(f.target_port) + "-" +
               std::to_string(uint32_t(f.target_port) + f.ports.size() - 1) + " goes beyond 65535";
    return {};
}

// `tcp|udp|tcp+udp PORT[-PORT]`: the part that names a forward, also in
// `no forward tcp 8080`.
Error parse_forward_ports(Words& w, Forward& f) {
    std::string_view proto_tok;
    std::string_view ports_tok;
    if (auto e = w.take(proto_tok)) return e;
    size_t p = 1;
    while (p < kForwardProtoNames.size() && kForwardProtoNames[p] != proto_tok) ++p;
    if (p == kForwardProtoNames.size())
        return "unknown forward protocol " + quoted(proto_tok) + " (expected tcp, udp or tcp+udp)";
    f.protos = uint8_t(p);
    if (auto e = w.take(ports_tok)) return e;
    return parse_ports_token("forward port", ports_tok, f.ports);
}

// `to ADDRESS [port PORT[-PORT]]`, then the end of the statement.
Error parse_forward_target(Words& w, Forward& f) {
    std::string_view addr_tok;
    if (auto e = w.expect("to")) return e;
    if (auto e = w.take(addr_tok)) return e;
    if (auto e = parse_address_token(addr_tok, f.target)) return e;
    f.target_port = 0;
    if (!w.done()) {
        std::string_view tok;
        PortRange t;
        if (auto e = w.expect("port")) return e;
        if (auto e = w.take(tok)) return e;
        if (auto e = parse_ports_token("forward target port", tok, t)) return e;
        if (t.lo == 0) return "port 0 cannot be a forward target";
        // `port P` alone starts a range as long as the outside one.
        if (t.lo != t.hi && t.size() != f.ports.size())
            return "forward target port range " + quoted(tok) + " has " + std::to_string(t.size()) +
                   " ports, the outside range " + format_ports(f.ports) + " has " + std::to_string(f.ports.size());
        // The same ports as outside are stored as 0: one form for one meaning.
        f.target_port = t.lo == f.ports.lo ? 0 : t.lo;
    }
    if (auto e = w.finish()) return e;
    return check_forward(f);
}

Error apply_forward(Config& cfg, Words& w, int line) {
    Forward f;
    f.line = line;
    if (auto e = parse_forward_ports(w, f)) return e;
    if (auto e = parse_forward_target(w, f)) return e;
    cfg.forwards.push_back(f);
    return {};
}

// ---------------------------------------------------------------- hairpin

// Indexed by HairpinSource.
constexpr std::array<std::string_view, 2> kHairpinSourceNames = {"wan", "lan"};

Error apply_hairpin(Config& cfg, Words& w, int line) {
    std::string_view tok;
    if (auto e = w.expect("source")) return e;
    if (auto e = check_duplicate("hairpin source", cfg.hairpin_line, line)) return e;
    if (auto e = w.take(tok)) return e;
    size_t i = 0;
    while (i < kHairpinSourceNames.size() && kHairpinSourceNames[i] != tok) ++i;
    if (i == kHairpinSourceNames.size()) return "unknown hairpin source " + quoted(tok) + " (expected wan or lan)";
    if (auto e = w.finish()) return e;
    cfg.hairpin_source = HairpinSource(i);
    cfg.hairpin_line = line;
    return {};
}

// ---------------------------------------------------------------- filter

// Indexed by FilterAction.
constexpr std::array<std::string_view, 3> kFilterActionNames = {"allow", "deny", "reject"};

constexpr uint8_t kIpProtoIcmp = 1;
constexpr uint8_t kIpProtoTcp = 6;
constexpr uint8_t kIpProtoUdp = 17;

// `hint` lists what else the word may be, e.g. " or policy".
Error parse_filter_action(std::string_view tok, std::string_view hint, FilterAction& out) {
    for (size_t i = 0; i < kFilterActionNames.size(); ++i) {
        if (tok == kFilterActionNames[i]) {
            out = FilterAction(i);
            return {};
        }
    }
    if (hint.empty()) return "unknown filter action " + quoted(tok) + " (expected allow, deny or reject)";
    return "unknown filter action " + quoted(tok) + " (expected allow, deny, reject" + std::string(hint) + ")";
}

// `from ZONE to ZONE`.
Error parse_filter_zones(Words& w, Zone& from, Zone& to) {
    std::string_view tok;
    if (auto e = w.expect("from")) return e;
    if (auto e = w.take(tok)) return e;
    if (auto e = parse_zone(tok, from)) return e;
    if (auto e = w.expect("to")) return e;
    if (auto e = w.take(tok)) return e;
    return parse_zone(tok, to);
}

Error check_filter_zones(std::string_view what, Zone from, Zone to) {
    if (from != to) return {};
    return std::string(what) + " from " + kZoneNames[size_t(from)] + " to " + kZoneNames[size_t(to)] +
           ": from and to must be different zones";
}

Error parse_ip_proto(std::string_view tok, uint8_t& out) {
    if (tok == "icmp") out = kIpProtoIcmp;
    else if (tok == "tcp") out = kIpProtoTcp;
    else if (tok == "udp") out = kIpProtoUdp;
    else if (tok.empty() || tok[0] < '0' || tok[0] > '9')
        return "unknown protocol " + quoted(tok) + " (expected tcp, udp, icmp or a number 0..255)";
    else {
        uint32_t v = 0;
        if (auto e = parse_number_token("filter proto", tok, 0, 255, v)) return e;
        out = uint8_t(v);
    }
    return {};
}

std::string format_ip_proto(uint8_t p) {
    switch (p) {
        case kIpProtoIcmp: return "icmp";
        case kIpProtoTcp: return "tcp";
        case kIpProtoUdp: return "udp";
        default: return std::to_string(p);
    }
}

Error check_filter_prefix(std::string_view option, const std::optional<Ipv4Prefix>& p) {
    if (!p || p->addr == p->network()) return {};
    return "filter " + std::string(option) + " " + format_prefix(*p) + " has host bits set (network is " +
           format_prefix(network_of(*p)) + ")";
}

// The values of one rule, alone: for parsed and built configs alike.
Error check_filter_rule(const FilterRule& r) {
    if (auto e = check_filter_zones("filter", r.from, r.to)) return e;
    if (auto e = check_filter_prefix("src", r.src)) return e;
    if (auto e = check_filter_prefix("dst", r.dst)) return e;
    if (auto e = check_filter_prefix("orig-dst", r.orig_dst)) return e;
    const bool ports = r.proto == kIpProtoTcp || r.proto == kIpProtoUdp;
    if (r.port && !ports) return "filter port requires proto tcp or udp";
    if (r.orig_port && !ports) return "filter orig-port requires proto tcp or udp";
    for (const auto& [name, range] : {std::pair{"port", r.port}, std::pair{"orig-port", r.orig_port}}) {
        if (range && range->lo > range->hi)
            return "filter " + std::string(name) + " range " + quoted(format_ports(*range)) +
                   " is reversed (LO must not exceed HI)";
    }
    return {};
}

constexpr std::array<std::string_view, 6> kFilterOptions = {"proto", "src", "dst", "port", "orig-dst", "orig-port"};

// One `OPTION VALUE` pair of a rule; `seen` guards against repeats.
Error parse_filter_option(Words& w, FilterRule& r, std::array<bool, kFilterOptions.size()>& seen) {
    std::string_view option;
    std::string_view tok;
    if (auto e = w.take(option)) return e;
    size_t i = 0;
    while (i < kFilterOptions.size() && kFilterOptions[i] != option) ++i;
    if (i == kFilterOptions.size())
        return "unknown filter option " + quoted(option) + " (expected proto, src, dst, port, orig-dst or orig-port)";
    if (seen[i]) return "duplicate filter option " + quoted(option);
    seen[i] = true;
    if (auto e = w.take(tok)) return e;
    const std::string what = "filter " + std::string(option);
    Ipv4Prefix prefix;
    PortRange range;
    switch (i) {
        case 0: {
            uint8_t p = 0;
            if (auto e = parse_ip_proto(tok, p)) return e;
            r.proto = p;
            return {};
        }
        case 1:
        case 2:
        case 4: {
            if (auto e = parse_prefix_token(tok, prefix)) return e;
            (i == 1 ? r.src : i == 2 ? r.dst : r.orig_dst) = prefix;
            return {};
        }
        default: {
            if (auto e = parse_ports_token(what, tok, range)) return e;
            (i == 3 ? r.port : r.orig_port) = range;
            return {};
        }
    }
}

// `from ZONE to ZONE [OPTION VALUE]...` after the action, to the end.
Error parse_filter_rule(Words& w, FilterRule& r) {
    if (auto e = parse_filter_zones(w, r.from, r.to)) return e;
    std::array<bool, kFilterOptions.size()> seen{};
    while (!w.done())
        if (auto e = parse_filter_option(w, r, seen)) return e;
    return check_filter_rule(r);
}

std::string policy_name(Zone from, Zone to) {
    return std::string("filter policy from ") + kZoneNames[size_t(from)] + " to " + kZoneNames[size_t(to)];
}

Error apply_filter_policy(Config& cfg, Words& w, int line) {
    Zone from{};
    Zone to{};
    std::string_view tok;
    FilterAction action{};
    if (auto e = parse_filter_zones(w, from, to)) return e;
    if (auto e = check_filter_zones("filter policy", from, to)) return e;
    int& policy_line = cfg.policy_line[size_t(from)][size_t(to)];
    if (auto e = check_duplicate(policy_name(from, to), policy_line, line)) return e;
    if (auto e = w.take(tok)) return e;
    if (auto e = parse_filter_action(tok, "", action)) return e;
    if (auto e = w.finish()) return e;
    cfg.policies[size_t(from)][size_t(to)] = action;
    policy_line = line;
    return {};
}

Error apply_filter(Config& cfg, Words& w, int line) {
    std::string_view tok;
    FilterRule rule;
    rule.line = line;
    if (auto e = w.take(tok)) return e;
    if (tok == "policy") return apply_filter_policy(cfg, w, line);
    if (auto e = parse_filter_action(tok, " or policy", rule.action)) return e;
    if (auto e = parse_filter_rule(w, rule)) return e;
    cfg.filters.push_back(rule);
    return {};
}

// ---------------------------------------------------------------- no

std::string no_match(std::string_view kind, const std::string& args) {
    return "no " + std::string(kind) + " matches " + quoted(args);
}

// `no SETTING [VALUE]` for a single-valued setting: back to its default. With
// a value (`no timeout udp 300`, as `show config` writes it), the value must
// be the current one. `w` stands after the setting's name.
template <typename Reset>
Error remove_setting(Config& cfg, Words& w, const std::string& setting, Reset reset) {
    if (!w.done()) {
        const std::string value = w.remaining();
        Config probe = cfg;
        if (auto e = apply_statement(probe, setting + " " + value, 0)) return e;
        if (!(probe == cfg)) return no_match(setting, value);
    }
    reset(cfg);
    return {};
}

Error remove_napt(Config& cfg, Words& w) {
    std::string_view setting;
    if (auto e = w.take(setting)) return e;
    const Config d;
    const std::string name = "napt " + std::string(setting);
    if (setting == "ports")
        return remove_setting(cfg, w, name, [&](Config& c) {
            c.napt_ports = d.napt_ports;
            c.napt_ports_line = 0;
        });
    if (setting == "sessions")
        return remove_setting(cfg, w, name, [&](Config& c) {
            c.napt_sessions = d.napt_sessions;
            c.napt_sessions_line = 0;
        });
    if (setting == "ports-per-client")
        return remove_setting(cfg, w, name, [&](Config& c) {
            c.napt_ports_per_client = d.napt_ports_per_client;
            c.napt_ports_per_client_line = 0;
        });
    if (setting == "filtering")
        return remove_setting(cfg, w, name, [&](Config& c) {
            c.napt_filtering = d.napt_filtering;
            c.napt_filtering_line = 0;
        });
    return "unknown napt setting " + quoted(setting) + " (expected ports, sessions, ports-per-client or filtering)";
}

Error remove_timeout(Config& cfg, Words& w) {
    std::string_view kind;
    size_t i = 0;
    if (auto e = w.take(kind)) return e;
    if (auto e = find_timeout_kind(kind, i)) return e;
    return remove_setting(cfg, w, "timeout " + std::string(kind), [i](Config& c) {
        c.timeouts.*kTimeoutKinds[i].field = Timeouts{}.*kTimeoutKinds[i].field;
        c.timeout_line[i] = 0;
    });
}

Error remove_hairpin(Config& cfg, Words& w) {
    if (auto e = w.expect("source")) return e;
    return remove_setting(cfg, w, "hairpin source", [](Config& c) {
        c.hairpin_source = HairpinSource::wan;
        c.hairpin_line = 0;
    });
}

// `no forward tcp 8080` removes the forward of these protocols and outside
// ports; `no forward tcp 8080 to A [port P]` the forward equal to it.
Error remove_forward(Config& cfg, Words& w) {
    const std::string args = w.remaining();
    Forward f;
    if (auto e = parse_forward_ports(w, f)) return e;
    const bool whole = !w.done();
    if (whole)
        if (auto e = parse_forward_target(w, f)) return e;
    const auto it = std::find_if(cfg.forwards.begin(), cfg.forwards.end(), [&](const Forward& x) {
        return whole ? x == f : x.protos == f.protos && x.ports == f.ports;
    });
    if (it == cfg.forwards.end()) return no_match("forward", args);
    cfg.forwards.erase(it);
    return {};
}

// `no route PREFIX` removes the route to PREFIX; `no route PREFIX via A` (or
// `dev Z`) the route equal to it.
Error remove_route(Config& cfg, Words& w) {
    const std::string args = w.remaining();
    Route r;
    if (auto e = parse_route_prefix(w, r)) return e;
    const bool whole = !w.done();
    if (whole)
        if (auto e = parse_route_target(w, r)) return e;
    const auto it = std::find_if(cfg.routes.begin(), cfg.routes.end(),
                                 [&](const Route& x) { return whole ? x == r : x.dst == r.dst; });
    if (it == cfg.routes.end()) return no_match("route", args);
    cfg.routes.erase(it);
    return {};
}

// `no filter ACTION ...` removes the first rule equal to it (options in any
// order); `no filter policy from A to B [ACTION]` restores the default.
Error remove_filter(Config& cfg, Words& w) {
    const std::string args = w.remaining();
    std::string_view tok;
    FilterRule rule;
    if (auto e = w.take(tok)) return e;
    if (tok == "policy") {
        Zone from{};
        Zone to{};
        if (auto e = parse_filter_zones(w, from, to)) return e;
        if (auto e = check_filter_zones("filter policy", from, to)) return e;
        const size_t f = size_t(from);
        const size_t t = size_t(to);
        return remove_setting(cfg, w, policy_name(from, to), [f, t](Config& c) {
            c.policies[f][t] = kDefaultPolicies[f][t];
            c.policy_line[f][t] = 0;
        });
    }
    if (auto e = parse_filter_action(tok, " or policy", rule.action)) return e;
    if (auto e = parse_filter_rule(w, rule)) return e;
    const auto it = std::find(cfg.filters.begin(), cfg.filters.end(), rule);
    if (it == cfg.filters.end()) return no_match("filter", args);
    cfg.filters.erase(it);
    return {};
}

Error apply_no(Config& cfg, Words& w) {
    std::string_view kind;
    if (auto e = w.take(kind)) return e;
    std::string_view name;
    if (kind == "port") {
        std::string_view zone_tok;
        Zone zone{};
        if (auto e = w.take(zone_tok)) return e;
        if (auto e = parse_zone(zone_tok, zone)) return e;
        return quoted(port_name(size_t(zone))) + " cannot be removed, only changed";
    }
    if (kind == "lan") name = "lan address";
    if (kind == "wan") name = "wan network";
    if (kind == "server") name = "server address";
    if (!name.empty()) return quoted(name) + " cannot be removed, only changed";
    if (kind == "napt") return remove_napt(cfg, w);
    if (kind == "timeout") return remove_timeout(cfg, w);
    if (kind == "hairpin") return remove_hairpin(cfg, w);
    if (kind == "forward") return remove_forward(cfg, w);
    if (kind == "route") return remove_route(cfg, w);
    if (kind == "filter") return remove_filter(cfg, w);
    if (kind == "no") return "'no' cannot be removed";
    return "unknown statement " + quoted(kind);
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

// The forward's target against the LAN: a host of the LAN subnet.
Error check_forward_target(const Config& cfg, uint32_t target) {
    const std::string what = "forward target " + format_ipv4(target);
    const Ipv4Prefix lan = network_of(*cfg.lan);
    if (!lan.contains(target)) return what + " is outside the lan subnet " + format_prefix(lan);
    const std::string_view special = special_address(lan, target);
    if (!special.empty()) return what + " is the " + std::string(special) + " of the lan subnet " + format_prefix(lan);
    if (target == cfg.lan->addr) return what + " is lan-ip (the router itself)";
    return {};
}

std::string forward_name(const Forward& f) {
    return "forward " + std::string(kForwardProtoNames[f.protos]) + " " + format_ports(f.ports);
}

MaybeIssue check_forwards(const Config& cfg) {
    for (size_t i = 0; i < cfg.forwards.size(); ++i) {
        const Forward& f = cfg.forwards[i];
        if (auto issue = at(f.line, check_forward(f))) return issue;
        if (auto issue = at(f.line, check_forward_target(cfg, f.target))) return issue;
        if (f.ports.overlaps(cfg.napt_ports))
            return Issue{f.line, forward_name(f) + " overlaps the napt port range " + format_ports(cfg.napt_ports)};
        for (size_t j = 0; j < i; ++j) {
            const Forward& o = cfg.forwards[j];
            if ((o.protos & f.protos) == 0 || !o.ports.overlaps(f.ports)) continue;
            return Issue{f.line, forward_name(f) + " overlaps " + forward_name(o) + " (line " +
                                     std::to_string(o.line) + ")"};
        }
    }
    return {};
}

MaybeIssue check_filters(const Config& cfg) {
    for (const FilterRule& r : cfg.filters)
        if (auto issue = at(r.line, check_filter_rule(r))) return issue;
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

void format_policies(const Config& cfg, std::string& out) {
    for (const Zone from : kAllZones) {
        for (const Zone to : kAllZones) {
            if (from == to) continue;
            out += format_filter_policy(from, to, cfg.policies[size_t(from)][size_t(to)]) + "\n";
        }
    }
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
    if (keyword == "forward") return apply_forward(cfg, words, line);
    if (keyword == "hairpin") return apply_hairpin(cfg, words, line);
    if (keyword == "filter") return apply_filter(cfg, words, line);
    if (keyword == "no") return apply_no(cfg, words);
    return "unknown statement " + quoted(keyword);
}

std::optional<ConfigError> validate_config(const Config& cfg) {
    MaybeIssue issue = check_ports(cfg);
    if (!issue) issue = check_networks(cfg);
    if (!issue) issue = check_napt(cfg);
    if (!issue) issue = check_routes(cfg);
    if (!issue) issue = check_forwards(cfg);
    if (!issue) issue = check_filters(cfg);
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
    for (const Forward& f : cfg.forwards) out += format_forward(f) + "\n";
    out += "hairpin source " + std::string(kHairpinSourceNames[size_t(cfg.hairpin_source)]) + "\n";
    for (const FilterRule& r : cfg.filters) out += format_filter_rule(r) + "\n";
    format_policies(cfg, out);
    return out;
}

std::string format_forward(const Forward& f) {
    std::string out = forward_name(f) + " to " + format_ipv4(f.target);
    if (f.target_port != 0)
        out += " port " + format_ports(PortRange{f.target_port, uint16_t(f.target_port + (f.ports.hi - f.ports.lo))});
    return out;
}

std::string format_filter_rule(const FilterRule& r) {
    std::string out = "filter " + std::string(kFilterActionNames[size_t(r.action)]) + " from " +
                      kZoneNames[size_t(r.from)] + " to " + kZoneNames[size_t(r.to)];
    if (r.proto) out += " proto " + format_ip_proto(*r.proto);
    if (r.src) out += " src " + format_prefix(*r.src);
    if (r.dst) out += " dst " + format_prefix(*r.dst);
    if (r.port) out += " port " + format_ports(*r.port);
    if (r.orig_dst) out += " orig-dst " + format_prefix(*r.orig_dst);
    if (r.orig_port) out += " orig-port " + format_ports(*r.orig_port);
    return out;
}

std::string format_filter_policy(Zone from, Zone to, FilterAction action) {
    return policy_name(from, to) + " " + std::string(kFilterActionNames[size_t(action)]);
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
