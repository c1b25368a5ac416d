// ICMP the router itself originates: echo replies for lan-ip and errors
// (time exceeded) about datagrams it cannot forward. Both are built in the
// received buffer, without allocation: a reply reuses the request, an error
// is written into the headroom in front of the offending datagram, which it
// quotes (RFC 1812 4.3.2.3).
#pragma once

#include <cstdint>

#include "headers.h"

namespace ipshare {

// Bytes an error adds in front of the offending IPv4 header: IPv4 + ICMP.
// The new Ethernet header goes in front of those.
inline constexpr uint16_t kIcmpErrorPrepend = sizeof(Ipv4Hdr) + sizeof(IcmpHdr);

// RFC 1812 4.3.2.3: the error datagram stays within 576 bytes.
inline constexpr uint16_t kIcmpErrorMaxIpLen = 576;

// TTL of datagrams the router originates (RFC 1700 default).
inline constexpr uint8_t kDefaultTtl = 64;

// Whether the echo request at `ip` (ip_len bytes of IPv4 datagram) is one the
// router can answer: ICMP, not a fragment, type 8 code 0, checksum right.
enum class EchoCheck : uint8_t { ok, not_echo, bad_checksum };
EchoCheck icmp_check_echo_request(const Ipv4Hdr* ip, uint16_t ip_len);

// Turns the echo request in place into the reply (RFC 792): addresses
// swapped, type 0, TTL 64, both checksums updated. Ethernet is the caller's.
void icmp_echo_to_reply(Ipv4Hdr* ip);

// RFC 1812 4.3.2.7: no error about an ICMP error, a non-initial fragment, or a
// datagram whose source is not a unicast host.
bool icmp_error_allowed(const Ipv4Hdr* ip, uint16_t ip_len);

struct FrameSpan {
    uint8_t* data;
    uint16_t len;
};

// Builds the error in front of the datagram at frame+14 (the old Ethernet
// header is read, then overwritten). Requires kIcmpErrorPrepend bytes of
// writable headroom before `frame`. The new frame goes back to the previous
// hop: Ethernet destination = the old source, source = `mac`.
// `next_hop_mtu` goes into the second half of the word after the checksum
// (RFC 1191 section 4: "fragmentation needed and DF set" carries the MTU of
// the next hop); 0 for every other error.
FrameSpan icmp_build_error(uint8_t* frame, uint16_t ip_len, uint8_t type, uint8_t code, uint32_t src,
                           const uint8_t mac[6], uint16_t next_hop_mtu = 0);

}  // namespace ipshare
