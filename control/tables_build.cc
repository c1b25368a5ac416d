#include "tables_build.h"

namespace ipshare {
namespace {

Subnet subnet_of(const Ipv4Prefix& p) { return Subnet{p.network(), p.mask()}; }

}  // namespace

Addresses addresses_of(const Config& cfg) {
    Addresses a;
    a.lan_ip = cfg.lan->addr;
    a.lan = subnet_of(*cfg.lan);
    a.wan_ip = *cfg.server;
    a.wan = subnet_of(*cfg.wan_network);
    a.gateway = cfg.wan_gateway;
    return a;
}

std::unique_ptr<Tables> build_tables(const Config& cfg, uint64_t generation, std::string* err) {
    auto t = std::make_unique<Tables>();
    t->generation = generation;
    t->addr = addresses_of(cfg);
    const Addresses& a = t->addr;

    std::vector<RouteSpec> routes;
    routes.push_back({a.lan.net, cfg.lan->len, NextHop{0, Zone::lan}});
    routes.push_back({a.wan.net, cfg.wan_network->len, NextHop{0, Zone::wan}});
    routes.push_back({a.wan_ip, 32, NextHop{0, Zone::dmz}});
    for (const Route& r : cfg.routes) {
        NextHop nh;
        if (r.dev) {
            nh = NextHop{0, *r.dev};
        } else {
            nh = NextHop{r.via, a.lan.contains(r.via) ? Zone::lan : Zone::wan};
        }
        routes.push_back({r.dst.network(), r.dst.len, nh});
    }
    t->nat.endpoint_independent_filtering = cfg.napt_filtering == Filtering::endpoint_independent;
    t->nat.timeouts = {cfg.timeouts.tcp_established, cfg.timeouts.tcp_transitory, cfg.timeouts.udp,
                       cfg.timeouts.icmp, cfg.timeouts.udp};  // "other" (GRE, ESP...) ages like UDP
    t->routes = RouteTable::build("routes" + std::to_string(generation), routes, NextHop{a.gateway, Zone::wan}, a,
                                  err);
    if (!t->routes) return nullptr;
    return t;
}

}  // namespace ipshare
