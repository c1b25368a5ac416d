// The unit of work: a burst of packets received on one port, with the
// verdict each stage leaves for the next. Lives on the worker's stack.
#pragma once

#include <cstdint>

#include "drop_reasons.h"
#include "zone.h"

struct rte_mbuf;

namespace ipshare {

inline constexpr uint16_t kBurst = 32;

enum class Action : uint8_t {
    drop,        // free, count `drop` against the ingress port
    consumed,    // free, nothing to count (an ARP reply learnt)
    arp,         // for the arp stage
    local,       // for the router itself (local stage)
    forward,     // routed: out `out` toward `nexthop` (route, neighbour stages)
    nat_out,     // LAN -> internet: NAPT (nat stage), then out wan toward `nexthop`
    nat_in,      // internet -> wan-ip: a session's, or else the server's (nat stage)
    hairpin,     // LAN -> wan-ip (or lan-ip): a forward or mapping (hairpin), else the server (nat stage)
    dmz_to_lan,  // server -> LAN under a dmz->lan policy: replies pass, new flows are filtered (nat stage)
    checked,     // routed, once the firewall allows it (filter stage; pairs without sessions)
    reply,       // complete frame, back out the ingress port
    transmit,    // complete frame, out `out`
    handed_off,  // ownership passed to the control thread (waits for ARP)
};

struct PktState {
    Action action;
    Zone out;
    Drop drop;
    uint32_t nexthop;  // host order; for forward
};

inline constexpr uint32_t bit(Action a) { return 1u << static_cast<unsigned>(a); }

// Actions of datagrams the router passes on (TTL applies).
inline constexpr uint32_t kRoutedActions = bit(Action::forward) | bit(Action::nat_out) | bit(Action::nat_in) |
                                           bit(Action::hairpin) | bit(Action::dmz_to_lan) | bit(Action::checked);
inline constexpr uint32_t kNatActions =
    bit(Action::nat_out) | bit(Action::nat_in) | bit(Action::hairpin) | bit(Action::dmz_to_lan);

struct Burst {
    Zone in;
    uint16_t n;
    uint32_t actions;  // bit(Action) of every action some packet has: stages skip what is absent
    bool owned = false;  // handed over by another worker: this worker owns every packet's NAT flow
    rte_mbuf* m[kBurst];
    PktState st[kBurst];

    void set_drop(uint16_t i, Drop why) {
        st[i].action = Action::drop;
        st[i].drop = why;
        actions |= bit(Action::drop);
    }
    void set(uint16_t i, Action a) {
        st[i].action = a;
        actions |= bit(a);
    }
    bool has(Action a) const { return actions & bit(a); }
};

// Kept in each mbuf's private area (the pool is created with room for it)
// while the packet waits for the control thread.
struct MbufMeta {
    uint32_t nexthop;
    uint8_t zone;     // out
    uint8_t in_zone;  // where it came in (for counting)
    uint8_t action;   // handoff: the entry action for the owner's nat stage
    uint8_t pad;
};
static_assert(sizeof(MbufMeta) == 8);

}  // namespace ipshare
