// Which inbound datagrams to wan-ip need no session lookup (pure: no DPDK).
//
// An outside key (nat.h) of a session on wan-ip carries an outside port that
// is either a NAPT mapping's (always inside the `napt ports` range: the port
// allocators never leave it) or a forwarded port (a forward's session). A
// session is created from outside only for a forwarded port or, with
// endpoint-independent filtering, for a mapping's port (inside the range).
// So a TCP or UDP datagram to wan-ip whose destination port is outside the
// range and not forwarded can neither match a session nor create one: it is
// the server's, exactly as if the lookup had missed. ICMP (echo replies,
// errors quoting a flow), portless protocols and fragments are never
// short-cut: their keys do not carry the destination port; nor is a first
// fragment (`more_fragments`), whose verdict the fragment table must record.
#pragma once

#include <cstdint>

#include "forwards.h"
#include "nat_rewrite.h"

namespace ipshare {

inline bool inbound_goes_to_server(FlowKind kind, bool more_fragments, const Flow& f, uint32_t wan_ip,
                                   uint16_t port_lo, uint16_t port_hi, const ForwardTable& forwards) {
    if (kind != FlowKind::ports || more_fragments || f.dst != wan_ip) return false;
    if (f.dport >= port_lo && f.dport <= port_hi) return false;
    return forwards.lookup(f.proto, f.dport) == nullptr;
}

}  // namespace ipshare
