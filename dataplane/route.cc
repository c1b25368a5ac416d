#include "route.h"

#include <rte_errno.h>
#include <rte_lpm.h>

namespace ipshare {

std::unique_ptr<RouteTable> RouteTable::build(const std::string& name, const std::vector<RouteSpec>& routes,
                                              NextHop default_route, const Addresses& addr, std::string* err) {
    std::unique_ptr<RouteTable> t(new RouteTable());
    t->default_ = default_route;
    t->addr_ = addr;
    rte_lpm_config cfg{};
    cfg.max_rules = static_cast<uint32_t>(routes.size() + 16);
    cfg.number_tbl8s = 256;
    t->lpm_ = rte_lpm_create(name.c_str(), SOCKET_ID_ANY, &cfg);
    if (!t->lpm_) {
        *err = "cannot create route table: " + std::string(rte_strerror(rte_errno));
        return nullptr;
    }
    std::vector<ZoneMap::Route> zr;
    for (const RouteSpec& r : routes) zr.push_back(ZoneMap::Route{r.net, r.len, r.nh.zone});
    t->zones_ = ZoneMap::build(zr, default_route.zone);
    for (const RouteSpec& r : routes) {
        const auto index = static_cast<uint32_t>(t->next_hops_.size());
        t->next_hops_.push_back(r.nh);
        if (rte_lpm_add(t->lpm_, r.net, r.len, index) != 0) {
            *err = "cannot add route to the route table";
            return nullptr;
        }
    }
    return t;
}

RouteTable::~RouteTable() { rte_lpm_free(lpm_); }

NextHop RouteTable::lookup(uint32_t dst) const {
    uint32_t index;
    if (rte_lpm_lookup(lpm_, dst, &index) == 0) return next_hops_[index];
    return default_;
}

bool RouteTable::host_on_link(uint32_t a, Zone z) const {
    const NextHop nh = lookup(a);
    if (nh.zone != z || nh.gateway != 0) return false;
    return a != addr_.lan_ip && a != addr_.lan.net && a != addr_.lan.broadcast() && a != addr_.wan.net &&
           a != addr_.wan.broadcast() && a != 0;
}

}  // namespace ipshare
