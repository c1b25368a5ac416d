// Route lookup: longest-prefix match (rte_lpm) from destination to next hop.
//
// The table holds the connected networks (LAN subnet on lan, wan network on
// wan, wan-ip/32 on dmz), the operator's `route` statements, and a default
// (the wan gateway) used when nothing matches. Built by the control thread,
// never changed after: a new table replaces it (see tables.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "addresses.h"
#include "zone.h"
#include "zone_map.h"

struct rte_lpm;

namespace ipshare {

struct NextHop {
    uint32_t gateway = 0;  // 0: on-link, the destination itself is the next hop
    Zone zone = Zone::wan;
    bool operator==(const NextHop&) const = default;
};

struct RouteSpec {
    uint32_t net = 0;
    uint8_t len = 0;  // 1..32
    NextHop nh;
};

class RouteTable {
public:
    // `name` must be unique among live tables (rte_lpm names are global).
    static std::unique_ptr<RouteTable> build(const std::string& name, const std::vector<RouteSpec>& routes,
                                             NextHop default_route, const Addresses& addr, std::string* err);
    ~RouteTable();
    RouteTable(const RouteTable&) = delete;
    RouteTable& operator=(const RouteTable&) = delete;

    NextHop lookup(uint32_t dst) const;
    // lookup(a).zone, without the LPM when the table allows it (zone_map.h).
    Zone zone_of(uint32_t a) const { return zones_.usable() ? zones_.zone_of(a) : lookup(a).zone; }

    // The address to resolve with ARP for a packet to `dst` via `nh`.
    static uint32_t next_hop_address(NextHop nh, uint32_t dst) { return nh.gateway ? nh.gateway : dst; }

    // Whether `a` is a host directly attached to port `z` (not the router
    // itself, not a network or broadcast address): the only senders whose ARP
    // the router learns on that port.
    bool host_on_link(uint32_t a, Zone z) const;

    const Addresses& addresses() const { return addr_; }

private:
    RouteTable() = default;
    rte_lpm* lpm_ = nullptr;
    std::vector<NextHop> next_hops_;
    NextHop default_;
    ZoneMap zones_;
    Addresses addr_;
};

}  // namespace ipshare
