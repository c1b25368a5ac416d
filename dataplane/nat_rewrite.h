// NAT header work, pure functions over bytes: which flow a datagram belongs
// to, and rewriting its addresses and ports with incremental checksums
// (RFC 1624). The session stores the checksum delta of its rewrite, computed
// once at creation, so the fast path adds one 16-bit word per checksum.
#pragma once

#include <cstdint>

#include "headers.h"
#include "tcp_state.h"

namespace ipshare {

// A flow as the NAT keys it. For ICMP queries the identifier stands in the
// port of the side that chose it (sport for requests, dport for replies).
struct Flow {
    uint32_t src = 0, dst = 0;
    uint16_t sport = 0, dport = 0;
    uint8_t proto = 0;
};

enum class FlowKind : uint8_t {
    ports,        // TCP, UDP: first fragment or whole datagram with its ports
    icmp_query,   // ICMP echo request / reply
    icmp_error,   // ICMP error: the flow is the embedded datagram's
    portless,     // GRE, ESP, SCTP, ...: address-only translation
    fragment,     // a non-initial fragment: no transport header
    truncated,    // transport header missing or cut short
    other_icmp,   // ICMP that is neither a query the NAT tracks nor an error
};

// The transport header offset is ip->header_len().
FlowKind flow_of(const Ipv4Hdr* ip, uint16_t ip_len, Flow* f);

// Whether the ICMP message's checksum is right (RFC 5508 REQ-3: an error
// with a bad checksum is dropped, not translated).
bool icmp_checksum_ok(const Ipv4Hdr* ip, uint16_t ip_len);

// For an ICMP error (flow_of said icmp_error): the embedded datagram's flow
// as it was sent (src -> dst). False if it cannot be used: truncated below
// IP + 8 bytes, a non-initial fragment, or itself an ICMP error (RFC 5508 REQ-3).
bool icmp_error_inner_flow(const Ipv4Hdr* ip, uint16_t ip_len, Flow* inner);

// The checksum delta of changing (ip, port) from old to new: the folded sum
// of ~old + new over the changed 16-bit words (RFC 1624 eqn. 3).
struct NatDelta {
    uint16_t ip;  // for the IPv4 header checksum (address only)
    uint16_t l4;  // TCP/UDP: address (pseudo-header) and port; ICMP: identifier only
};
NatDelta nat_delta(uint8_t proto, uint32_t old_ip, uint16_t old_port, uint32_t new_ip, uint16_t new_port);

// The delta that undoes `d`.
inline NatDelta nat_delta_inverse(NatDelta d) {
    return NatDelta{static_cast<uint16_t>(~d.ip), static_cast<uint16_t>(~d.l4)};
}

// Rewrites the source (Dir::out) or destination (Dir::in) address and port
// (ICMP: identifier) of a datagram whose flow_of was ports / icmp_query /
// portless / fragment. `d` must be the delta of exactly this change.
// UDP checksum 0 (none) stays 0; a computed 0 becomes 0xffff (RFC 768).
// Non-initial fragments get only the IP header changed.
void nat_rewrite(Ipv4Hdr* ip, uint16_t ip_len, Dir which, uint32_t new_ip, uint16_t new_port, NatDelta d);

// Translates an ICMP error: the outer address (destination when `outer` is
// Dir::in, source when Dir::out) becomes `outer_ip`; the embedded datagram's
// source (Dir::in: it was sent by us) or destination (Dir::out) becomes
// (inner_ip, inner_port), with the embedded IP checksum, the embedded
// transport checksum where quoted, and the ICMP checksum all correct
// (RFC 5508 REQ-3, REQ-4).
void nat_rewrite_icmp_error(Ipv4Hdr* ip, uint16_t ip_len, Dir outer, uint32_t outer_ip, uint32_t inner_ip,
                            uint16_t inner_port);

}  // namespace ipshare
