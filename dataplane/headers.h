// Wire formats. Every struct is the exact on-wire layout (checked by
// static_assert) with byte-order-typed fields, so code reads
// `ip->ttl` and `ip->dst.host()` instead of shifting bytes by hand.
#pragma once

#include <cstddef>
#include <cstdint>

#include "byteorder.h"

namespace ipshare {

using MacAddr = uint8_t[6];

inline constexpr uint16_t kEtherTypeIpv4 = 0x0800;  // RFC 894
inline constexpr uint16_t kEtherTypeArp = 0x0806;   // RFC 826
inline constexpr uint16_t kEtherTypeVlan = 0x8100;  // IEEE 802.1Q
inline constexpr uint16_t kEtherTypeQinQ = 0x88a8;  // IEEE 802.1ad

struct EthHdr {
    uint8_t dst[6];
    uint8_t src[6];
    be16 type;
};
static_assert(sizeof(EthHdr) == 14);

// RFC 826 ARP for Ethernet/IPv4.
inline constexpr uint16_t kArpHwEther = 1;
inline constexpr uint16_t kArpOpRequest = 1;
inline constexpr uint16_t kArpOpReply = 2;

struct ArpHdr {
    be16 htype;
    be16 ptype;
    uint8_t hlen;
    uint8_t plen;
    be16 op;
    uint8_t sha[6];
    be32 spa;
    uint8_t tha[6];
    be32 tpa;
};
static_assert(sizeof(ArpHdr) == 28);

// RFC 791.
inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;
inline constexpr uint8_t kIpProtoGre = 47;
inline constexpr uint8_t kIpProtoEsp = 50;
inline constexpr uint8_t kIpProtoSctp = 132;

inline constexpr uint16_t kIpFlagMF = 0x2000;
inline constexpr uint16_t kIpFlagDF = 0x4000;
inline constexpr uint16_t kIpFragOffsetMask = 0x1fff;

// RFC 791 option types that ask the router to route by the sender's list.
inline constexpr uint8_t kIpOptEnd = 0;
inline constexpr uint8_t kIpOptNop = 1;
inline constexpr uint8_t kIpOptLsrr = 131;
inline constexpr uint8_t kIpOptSsrr = 137;

struct Ipv4Hdr {
    uint8_t version_ihl;
    uint8_t tos;
    be16 total_length;
    be16 id;
    be16 frag;  // flags (3 bits) and fragment offset (13 bits, 8-byte units)
    uint8_t ttl;
    uint8_t proto;
    be16 checksum;
    be32 src;
    be32 dst;

    unsigned version() const { return version_ihl >> 4; }
    unsigned header_len() const { return (version_ihl & 0x0f) * 4u; }
    uint16_t frag_offset() const { return frag.host() & kIpFragOffsetMask; }
    bool more_fragments() const { return frag.host() & kIpFlagMF; }
    bool is_fragment() const { return frag.host() & (kIpFlagMF | kIpFragOffsetMask); }
};
static_assert(sizeof(Ipv4Hdr) == 20);

struct TcpHdr {
    be16 sport;
    be16 dport;
    be32 seq;
    be32 ack;
    uint8_t data_off;  // high nibble: header length in 32-bit words
    uint8_t flags;
    be16 window;
    be16 checksum;
    be16 urgent;
};
static_assert(sizeof(TcpHdr) == 20);

inline constexpr uint8_t kTcpFin = 0x01;
inline constexpr uint8_t kTcpSyn = 0x02;
inline constexpr uint8_t kTcpRst = 0x04;
inline constexpr uint8_t kTcpPsh = 0x08;
inline constexpr uint8_t kTcpAck = 0x10;

struct UdpHdr {
    be16 sport;
    be16 dport;
    be16 length;
    be16 checksum;
};
static_assert(sizeof(UdpHdr) == 8);

// RFC 792.
inline constexpr uint8_t kIcmpEchoReply = 0;
inline constexpr uint8_t kIcmpDestUnreach = 3;
inline constexpr uint8_t kIcmpSourceQuench = 4;
inline constexpr uint8_t kIcmpRedirect = 5;
inline constexpr uint8_t kIcmpEchoRequest = 8;
inline constexpr uint8_t kIcmpTimeExceeded = 11;
inline constexpr uint8_t kIcmpParamProblem = 12;
inline constexpr uint8_t kIcmpTimestamp = 13;
inline constexpr uint8_t kIcmpTimestampReply = 14;

inline constexpr uint8_t kIcmpCodeTtlExceeded = 0;        // RFC 792 type 11 code 0
inline constexpr uint8_t kIcmpCodeFragNeeded = 4;         // RFC 792 type 3 code 4, with RFC 1191's MTU
inline constexpr uint8_t kIcmpCodeAdminProhibited = 13;   // RFC 1812 5.2.7.1

struct IcmpHdr {
    uint8_t type;
    uint8_t code;
    be16 checksum;
    be16 id;   // echo: identifier; errors: unused/MTU
    be16 seq;  // echo: sequence
};
static_assert(sizeof(IcmpHdr) == 8);

inline bool icmp_is_error(uint8_t type) {
    return type == kIcmpDestUnreach || type == kIcmpSourceQuench || type == kIcmpRedirect ||
           type == kIcmpTimeExceeded || type == kIcmpParamProblem;
}

}  // namespace ipshare
