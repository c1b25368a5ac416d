// The statements of the configuration grammar (docs/configuration.md): one
// handler per statement, dispatched by apply_statement. Each handler checks
// what one statement can check alone; validate_config checks the rest.
#include <string>
#include <vector>

#include "config_grammar.h"
#include "config_parse.h"

namespace ipshare {
namespace grammar {
namespace {

// Within a file (line > 0) a single-valued statement may appear once; with
// line 0 (the CLI) a statement replaces the current value.
Error check_duplicate(std::string_view name, int first_line, int line) {
    if (line <= 0 || first_line <= 0) return {};
    return "duplicate " + quoted(name) + " (first at line " + std::to_string(first_line) + ")";
}

// The rest of the single-valued statement `name`: one word that `parse`
// reads into a T, then the end. Only then are the value and its line stored.
template <typename T, typename V, typename Parse>
Error set_single(Words& w, std::string_view name, int line, V& value, int& value_line, Parse parse) {
    std::string_view tok;
    T v{};
    if (auto e = check_duplicate(name, value_line, line)) return e;
    if (auto e = w.take(tok)) return e;
    if (auto e = parse(tok, v)) return e;
    if (auto e = w.finish()) return e;
    value = v;
    value_line = line;
    return {};
}

// A number in lo..hi, named by the words before it (`napt sessions`, `timeout udp`).
Error set_number(Words& w, int line, uint32_t lo, uint32_t hi, uint32_t& value, int& value_line) {
    const std::string name = w.consumed();
    return set_single<uint32_t>(w, name, line, value, value_line, [&](std::string_view tok, uint32_t& v) {
        return parse_number_token(name, tok, lo, hi, v);
    });
}

// ---------------------------------------------------------------- port, lan, wan, server

Error apply_port(Config& cfg, Words& w, int line) {
    std::string_view zone_tok;
    Zone zone{};
    if (auto e = w.take(zone_tok)) return e;
    if (auto e = parse_zone(zone_tok, zone)) return e;
    const size_t z = size_t(zone);
    return set_single<std::string>(w, w.consumed(), line, cfg.port_device[z], cfg.port_line[z],
                                   [](std::string_view device, std::string& out) {
                                       out = std::string(device);
                                       return Error{};
                                   });
}

Error apply_lan(Config& cfg, Words& w, int line) {
    if (auto e = w.expect("address")) return e;
    return set_single<Ipv4Prefix>(w, "lan address", line, cfg.lan, cfg.lan_line,
                                  [](std::string_view tok, Ipv4Prefix& lan) {
                                      if (auto e = parse_prefix_token(tok, lan)) return e;
                                      return check_lan(lan);
                                  });
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
    if (auto e = w.expect("address")) return e;
    return set_single<uint32_t>(w, "server address", line, cfg.server, cfg.server_line, parse_address_token);
}

// ---------------------------------------------------------------- napt, timeout

// `LO-HI` of `napt ports`: both needed, inside 1024..65535.
Error parse_port_range_token(std::string_view tok, PortRange& out) {
    const size_t dash = tok.find('-');
    uint64_t lo = 0;
    uint64_t hi = 0;
    if (dash == std::string_view::npos || parse_decimal(tok.substr(0, dash), lo) != Num::ok ||
        parse_decimal(tok.substr(dash + 1), hi) != Num::ok)
        return "bad port range " + quoted(tok) + " (expected LO-HI)";
    if (lo > kNaptPortMax || hi > kNaptPortMax) return napt_ports_outside(quoted(tok));
    out = PortRange{uint16_t(lo), uint16_t(hi)};
    return check_napt_ports(out);
}

Error parse_filtering(std::string_view tok, Filtering& out) {
    const size_t i = index_of(kFilteringNames, tok);
    if (i == kFilteringNames.size())
        return "unknown filtering " + quoted(tok) + " (expected endpoint-independent or address-and-port-dependent)";
    out = Filtering(i);
    return {};
}

Error apply_napt(Config& cfg, Words& w, int line) {
    std::string_view setting;
    if (auto e = w.take(setting)) return e;
    if (setting == "ports")
        return set_single<PortRange>(w, "napt ports", line, cfg.napt_ports, cfg.napt_ports_line,
                                     parse_port_range_token);
    if (setting == "sessions")
        return set_number(w, line, kSessionsMin, kSessionsMax, cfg.napt_sessions, cfg.napt_sessions_line);
    if (setting == "ports-per-client")
        return set_number(w, line, kPortsPerClientMin, kPortsPerClientMax, cfg.napt_ports_per_client,
                          cfg.napt_ports_per_client_line);
    if (setting == "filtering")
        return set_single<Filtering>(w, "napt filtering", line, cfg.napt_filtering, cfg.napt_filtering_line,
                                     parse_filtering);
    return unknown_napt_setting(setting);
}

Error apply_timeout(Config& cfg, Words& w, int line) {
    std::string_view kind;
    size_t i = 0;
    if (auto e = w.take(kind)) return e;
    if (auto e = find_timeout_kind(kind, i)) return e;
    return set_number(w, line, kTimeoutMin, kTimeoutMax, cfg.timeouts.*kTimeoutKinds[i].field, cfg.timeout_line[i]);
}

// ---------------------------------------------------------------- route, forward, hairpin

// A statement that adds to a list (`route`, `forward`): the part that names
// the item, then the rest; the item keeps its line.
template <typename T>
Error append_item(std::vector<T>& items, Words& w, int line, Error (*parse_name)(Words&, T&),
                  Error (*parse_rest)(Words&, T&)) {
    T item;
    item.line = line;
    if (auto e = parse_name(w, item)) return e;
    if (auto e = parse_rest(w, item)) return e;
    items.push_back(item);
    return {};
}

Error apply_route(Config& cfg, Words& w, int line) {
    return append_item(cfg.routes, w, line, parse_route_prefix, parse_route_target);
}

Error apply_forward(Config& cfg, Words& w, int line) {
    return append_item(cfg.forwards, w, line, parse_forward_ports, parse_forward_target);
}

Error parse_hairpin_source(std::string_view tok, HairpinSource& out) {
    const size_t i = index_of(kHairpinSourceNames, tok);
    if (i == kHairpinSourceNames.size()) return "unknown hairpin source " + quoted(tok) + " (expected wan or lan)";
    out = HairpinSource(i);
    return {};
}

Error apply_hairpin(Config& cfg, Words& w, int line) {
    if (auto e = w.expect("source")) return e;
    return set_single<HairpinSource>(w, "hairpin source", line, cfg.hairpin_source, cfg.hairpin_line,
                                     parse_hairpin_source);
}

// ---------------------------------------------------------------- filter

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

constexpr std::array<std::string_view, 6> kFilterOptions = {"proto", "src", "dst", "port", "orig-dst", "orig-port"};

// One `OPTION VALUE` pair of a rule; `seen` guards against repeats.
Error parse_filter_option(Words& w, FilterRule& r, std::array<bool, kFilterOptions.size()>& seen) {
    std::string_view option;
    std::string_view tok;
    if (auto e = w.take(option)) return e;
    const size_t i = index_of(kFilterOptions, option);
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

Error apply_filter_policy(Config& cfg, Words& w, int line) {
    Zone from{};
    Zone to{};
    if (auto e = parse_policy_zones(w, from, to)) return e;
    const size_t f = size_t(from);
    const size_t t = size_t(to);
    return set_single<FilterAction>(w, policy_name(from, to), line, cfg.policies[f][t], cfg.policy_line[f][t],
                                    [](std::string_view tok, FilterAction& action) {
                                        return parse_filter_action(tok, "", action);
                                    });
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

}  // namespace

// ---------------------------------------------------------------- parts shared with `no`

Error unknown_napt_setting(std::string_view setting) {
    return "unknown napt setting " + quoted(setting) + " (expected ports, sessions, ports-per-client or filtering)";
}

Error find_timeout_kind(std::string_view kind, size_t& i) {
    i = 0;
    while (i < kTimeoutKinds.size() && kTimeoutKinds[i].name != kind) ++i;
    if (i < kTimeoutKinds.size()) return {};
    return "unknown timeout " + quoted(kind) + " (expected tcp-established, tcp-transitory, udp, icmp or port-rest)";
}

Error parse_route_prefix(Words& w, Route& route) {
    std::string_view prefix_tok;
    if (auto e = w.take(prefix_tok)) return e;
    return parse_prefix_token(prefix_tok, route.dst);
}

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

Error parse_forward_ports(Words& w, Forward& f) {
    std::string_view proto_tok;
    std::string_view ports_tok;
    if (auto e = w.take(proto_tok)) return e;
    const size_t p = index_of(kForwardProtoNames, proto_tok, 1);
    if (p == kForwardProtoNames.size())
        return "unknown forward protocol " + quoted(proto_tok) + " (expected tcp, udp or tcp+udp)";
    f.protos = uint8_t(p);
    if (auto e = w.take(ports_tok)) return e;
    return parse_ports_token("forward port", ports_tok, f.ports);
}

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

Error parse_filter_action(std::string_view tok, std::string_view hint, FilterAction& out) {
    const size_t i = index_of(kFilterActionNames, tok);
    if (i < kFilterActionNames.size()) {
        out = FilterAction(i);
        return {};
    }
    if (hint.empty()) return "unknown filter action " + quoted(tok) + " (expected allow, deny or reject)";
    return "unknown filter action " + quoted(tok) + " (expected allow, deny, reject" + std::string(hint) + ")";
}

Error parse_policy_zones(Words& w, Zone& from, Zone& to) {
    if (auto e = parse_filter_zones(w, from, to)) return e;
    return check_filter_zones("filter policy", from, to);
}

Error parse_filter_rule(Words& w, FilterRule& r) {
    if (auto e = parse_filter_zones(w, r.from, r.to)) return e;
    std::array<bool, kFilterOptions.size()> seen{};
    while (!w.done())
        if (auto e = parse_filter_option(w, r, seen)) return e;
    return check_filter_rule(r);
}

}  // namespace grammar

std::optional<std::string> apply_statement(Config& cfg, std::string_view statement, int line) {
    using namespace grammar;
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

}  // namespace ipshare
