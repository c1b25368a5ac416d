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

std::vector<uint16_t> ForwardIds::assign(const std::vector<Forward>& forwards) {
    std::vector<Known> next;
    std::vector<uint16_t> out;
    for (const Forward& f : forwards) {
        uint16_t id = 0;
        for (const Known& k : known_)
            if (k.fwd == f) id = k.id;
        if (id == 0) {
            // A fresh id: one no live forward holds (and never 0).
            auto taken = [&](uint16_t c) {
                for (const Known& k : known_)
                    if (k.id == c) return true;
                for (const Known& k : next)
                    if (k.id == c) return true;
                return false;
            };
            do {
                id = next_++;
                if (next_ == 0) next_ = 1;
            } while (id == 0 || taken(id));
        }
        next.push_back(Known{f, id});
        out.push_back(id);
    }
    known_ = std::move(next);
    return out;
}

namespace {

FilterVerdict verdict_of(FilterAction a) {
    switch (a) {
    case FilterAction::allow: return FilterVerdict::allow;
    case FilterAction::deny: return FilterVerdict::deny;
    case FilterAction::reject: return FilterVerdict::reject;
    }
    return FilterVerdict::deny;
}

Subnet any_or(const std::optional<Ipv4Prefix>& p) { return p ? subnet_of(*p) : Subnet{0, 0}; }

bool build_filter(const Config& cfg, FilterTable& ft, std::string* err) {
    if (cfg.filters.size() > FilterTable::kMaxRules) {
        *err = "too many filter rules (" + std::to_string(cfg.filters.size()) + ", at most " +
               std::to_string(FilterTable::kMaxRules) + ")";
        return false;
    }
    for (size_t i = 0; i < cfg.filters.size(); ++i) {
        const FilterRule& r = cfg.filters[i];
        CompiledRule c;
        c.action = verdict_of(r.action);
        c.proto = r.proto ? static_cast<int16_t>(*r.proto) : int16_t{-1};
        c.src = any_or(r.src);
        c.dst = any_or(r.dst);
        c.orig_dst = any_or(r.orig_dst);
        if (r.port) c.port_lo = r.port->lo, c.port_hi = r.port->hi;
        if (r.orig_port) c.orig_port_lo = r.orig_port->lo, c.orig_port_hi = r.orig_port->hi;
        c.ports = r.port.has_value() || r.orig_port.has_value();
        c.slot = static_cast<uint16_t>(i);
        ft.add_rule(r.from, r.to, c);
    }
    for (Zone from : kAllZones)
        for (Zone to : kAllZones) ft.set_policy(from, to, verdict_of(cfg.policies[idx(from)][idx(to)]));
    return true;
}

}  // namespace

std::unique_ptr<Tables> build_tables(const Config& cfg, uint64_t generation, ForwardIds& ids, std::string* err) {
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
    t->nat.hairpin_source_lan = cfg.hairpin_source == HairpinSource::lan;
    const std::vector<uint16_t> fwd_ids = ids.assign(cfg.forwards);
    for (size_t i = 0; i < cfg.forwards.size(); ++i) {
        const Forward& f = cfg.forwards[i];
        ForwardEntry e;
        e.target = f.target;
        e.lo = f.ports.lo;
        e.hi = f.ports.hi;
        e.target_lo = f.target_port_for(f.ports.lo);
        e.id = fwd_ids[i];
        t->forwards.add(f.protos, e);
    }
    if (!build_filter(cfg, t->filter, err)) return nullptr;
    // "other" (GRE, ESP...) ages like UDP; half-open inbound TCP as RFC 6146's TCP_INCOMING_SYN.
    t->nat.timeouts = {cfg.timeouts.tcp_established, cfg.timeouts.tcp_transitory, cfg.timeouts.udp,
                       cfg.timeouts.icmp, cfg.timeouts.udp, kTcpIncomingSynSeconds};
    t->routes = RouteTable::build("routes" + std::to_string(generation), routes, NextHop{a.gateway, Zone::wan}, a,
                                  err);
    if (!t->routes) return nullptr;
    return t;
}

}  // namespace ipshare
