// The canonical form of the configuration: format_config writes the running
// configuration in the file's own grammar, one statement per line, and the
// names of statements that messages and `show` commands use.
#include <string>

#include "config_grammar.h"
#include "config_parse.h"

namespace ipshare {
namespace grammar {

std::string port_name(size_t zone) { return std::string("port ") + kZoneNames[zone]; }

std::string forward_name(const Forward& f) {
    return "forward " + std::string(kForwardProtoNames[f.protos]) + " " + format_ports(f.ports);
}

std::string policy_name(Zone from, Zone to) {
    return std::string("filter policy from ") + kZoneNames[size_t(from)] + " to " + kZoneNames[size_t(to)];
}

std::string format_ip_proto(uint8_t p) {
    switch (p) {
        case kIpProtoIcmp: return "icmp";
        case kIpProtoTcp: return "tcp";
        case kIpProtoUdp: return "udp";
        default: return std::to_string(p);
    }
}

namespace {

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
}  // namespace grammar

std::string format_config(const Config& cfg) {
    using namespace grammar;
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
    using namespace grammar;
    std::string out = forward_name(f) + " to " + format_ipv4(f.target);
    if (f.target_port != 0)
        out += " port " + format_ports(PortRange{f.target_port, uint16_t(f.target_port + (f.ports.hi - f.ports.lo))});
    return out;
}

std::string format_filter_rule(const FilterRule& r) {
    using namespace grammar;
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
    return grammar::policy_name(from, to) + " " + std::string(grammar::kFilterActionNames[size_t(action)]);
}

}  // namespace ipshare
