// Which port a route lookup would choose for an address, answered without
// the LPM when the route table allows it (pure: no DPDK). Classify checks
// every source against the routes (anti-spoofing: a source must route back
// out the port it came in on); in the usual table (the connected networks,
// wan-ip/32 on dmz, routes and the default via wan) that answer is "the
// non-wan network that contains it, else wan", a compare or two.
//
// Exact, not a heuristic: built only when the default goes out wan, there
// are at most kMax routes out other ports, and no route of another port is
// nested inside one of them (nor two of them overlap with different ports).
// Then the longest match for an address is a non-wan route containing it if
// there is one (any wan route containing it is wider), else a wan route or
// the default. Otherwise `usable()` is false and callers use the LPM.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "addresses.h"
#include "zone.h"

namespace ipshare {

class ZoneMap {
public:
    static constexpr unsigned kMax = 4;

    struct Route {
        uint32_t net;
        uint8_t len;  // 0..32
        Zone zone;
    };

    static ZoneMap build(const std::vector<Route>& routes, Zone default_zone) {
        ZoneMap m;
        if (default_zone != Zone::wan) return m;
        for (const Route& r : routes) {
            if (r.zone == Zone::wan) continue;
            if (m.n_ == kMax) return ZoneMap{};
            m.nets_[m.n_++] = Entry{subnet(r.net, r.len), r.len, r.zone};
        }
        for (unsigned i = 0; i < m.n_; ++i)
            for (const Route& r : routes) {
                const Subnet s = subnet(r.net, r.len);
                const bool inside = r.len > m.nets_[i].len && m.nets_[i].net.contains(s.net);
                const bool overlap = r.zone != Zone::wan && (m.nets_[i].net.contains(s.net) || s.contains(m.nets_[i].net.net));
                if (r.zone != m.nets_[i].zone && (inside || overlap)) return ZoneMap{};
            }
        m.usable_ = true;
        return m;
    }

    bool usable() const { return usable_; }

    // Only when usable().
    Zone zone_of(uint32_t a) const {
        for (unsigned i = 0; i < n_; ++i)
            if (nets_[i].net.contains(a)) return nets_[i].zone;
        return Zone::wan;
    }

private:
    struct Entry {
        Subnet net;
        uint8_t len;
        Zone zone;
    };
    static Subnet subnet(uint32_t net, uint8_t len) {
        const uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
        return Subnet{net & mask, mask};
    }

    std::array<Entry, kMax> nets_{};
    unsigned n_ = 0;
    bool usable_ = false;
};

}  // namespace ipshare
