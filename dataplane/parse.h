// Frame validation: the first thing every received frame meets. Pure
// function over bytes; it decides whether the frame is ARP, a well-formed
// IPv4 datagram worth routing, or a drop with a named reason.
#pragma once

#include <cstdint>

#include "drop_reasons.h"
#include "headers.h"

namespace ipshare {

enum class FrameKind : uint8_t { drop, arp, ipv4 };

struct FrameInfo {
    FrameKind kind = FrameKind::drop;
    Drop reason = Drop::eth_truncated;  // valid when kind == drop
    uint16_t ip_len = 0;                // IPv4 total length (frame may carry padding beyond)
};

inline constexpr uint16_t kL3Offset = sizeof(EthHdr);

// Checks the Ethernet header, then ARP (RFC 826 fields for Ethernet/IPv4) or
// IPv4 (RFC 791/1812 5.2.2: version, IHL, total length, header checksum,
// options: source routing refused).
FrameInfo parse_frame(const uint8_t* frame, uint32_t len);

inline bool mac_is_multicast(const uint8_t* mac) { return mac[0] & 1; }

}  // namespace ipshare
