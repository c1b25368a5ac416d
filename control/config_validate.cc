// The checks of the configuration: of single values (while a statement is
// parsed, and again on a built config) and across statements (validate_config).
#include <string>
#include <utility>

#include "config_grammar.h"
#include "config_parse.h"

namespace ipshare {
namespace grammar {

// ---------------------------------------------------------------- single values

namespace {

uint32_t broadcast(const Ipv4Prefix& p) { return p.network() | ~p.mask(); }

Error check_subnet_len(std::string_view what, const Ipv4Prefix& p) {
    if (p.len >= kMinSubnetLen && p.len <= kMaxSubnetLen) return {};
    return std::string(what) + " prefix length must be " + std::to_string(kMinSubnetLen) + ".." +
           std::to_string(kMaxSubnetLen) + " in " + quoted(format_prefix(p));
}

bool valid_protos(uint8_t protos) { return protos != 0 && protos < kForwardProtoNames.size(); }

Error check_filter_prefix(std::string_view option, const std::optional<Ipv4Prefix>& p) {
    if (!p || p->addr == p->network()) return {};
    return "filter " + std::string(option) + " " + format_prefix(*p) + " has host bits set (network is " +
           format_prefix(network_of(*p)) + ")";
}

}  // namespace

Ipv4Prefix network_of(const Ipv4Prefix& p) { return Ipv4Prefix{p.network(), p.len}; }

std::string_view special_address(const Ipv4Prefix& net, uint32_t a) {
    if (a == net.network()) return "network address";
    if (a == broadcast(net)) return "broadcast address";
    return {};
}

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

std::string napt_ports_outside(const std::string& text) {
    return "napt port range " + text + " outside " + std::to_string(kNaptPortMin) + ".." +
           std::to_string(kNaptPortMax);
}

Error check_napt_ports(const PortRange& r) {
    const std::string text = quoted(std::to_string(r.lo) + "-" + std::to_string(r.hi));
    if (r.lo > r.hi) return "napt port range " + text + " is reversed (LO must not exceed HI)";
    if (r.lo < kNaptPortMin || r.hi > kNaptPortMax) return napt_ports_outside(text);
    if (r.size() < kNaptMinPorts)
        return "napt port range " + text + " has " + std::to_string(r.size()) + " ports (at least " +
               std::to_string(kNaptMinPorts) + " needed)";
    return {};
}

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

Error check_filter_zones(std::string_view what, Zone from, Zone to) {
    if (from != to) return {};
    return std::string(what) + " from " + kZoneNames[size_t(from)] + " to " + kZoneNames[size_t(to)] +
           ": from and to must be different zones";
}

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

// ---------------------------------------------------------------- across statements

namespace {

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

// The networks the router is on, by name: the lan subnet, then the wan network.
std::array<std::pair<const char*, Ipv4Prefix>, 2> connected_networks(const Config& cfg) {
    return {{
        {"lan subnet", network_of(*cfg.lan)},
        {"wan network", network_of(*cfg.wan_network)},
    }};
}

// The route's destination against the connected networks and the addresses.
Error check_route_destination(const Config& cfg, const Ipv4Prefix& dst) {
    const std::string what = "route " + format_prefix(dst);
    if (dst.addr != dst.network())
        return what + " has host bits set (network is " + format_prefix(network_of(dst)) + ")";
    if (dst.len == 0) return what + " is not allowed: the wan gateway is the default route";
    for (const auto& [name, net] : connected_networks(cfg)) {
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
    const auto connected = connected_networks(cfg);
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
            // A statement given at run time (the CLI) has no line to name.
            const std::string where = o.line ? " (line " + std::to_string(o.line) + ")" : "";
            return Issue{f.line, forward_name(f) + " overlaps " + forward_name(o) + where};
        }
    }
    return {};
}

MaybeIssue check_filters(const Config& cfg) {
    for (const FilterRule& r : cfg.filters)
        if (auto issue = at(r.line, check_filter_rule(r))) return issue;
    return {};
}

}  // namespace
}  // namespace grammar

std::optional<ConfigError> validate_config(const Config& cfg) {
    using namespace grammar;
    MaybeIssue issue = check_ports(cfg);
    if (!issue) issue = check_networks(cfg);
    if (!issue) issue = check_napt(cfg);
    if (!issue) issue = check_routes(cfg);
    if (!issue) issue = check_forwards(cfg);
    if (!issue) issue = check_filters(cfg);
    if (!issue) return {};
    return ConfigError{cfg.file, issue->line, std::move(issue->message)};
}

}  // namespace ipshare
