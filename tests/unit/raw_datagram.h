// Test helpers for the NAT header work (nat_rewrite.h): IPv4 datagrams
// (no Ethernet) built field by field, whose checksums are computed in full
// here (csum_partial over the pseudo-header and the segment,
// ipv4_header_checksum), never by the code under test; random ones; and the
// ICMP errors that quote them. The addresses are the reference's: a LAN
// client, wan-ip, a remote host and a router on its path.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "checksum.h"
#include "headers.h"
#include "nat_rewrite.h"

namespace ipshare::test::raw {

using Bytes = std::vector<uint8_t>;

constexpr uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d) { return a << 24 | b << 16 | c << 8 | d; }

inline constexpr uint32_t kClient = ip4(192, 168, 1, 11);
inline constexpr uint32_t kClient2 = ip4(192, 168, 1, 12);
inline constexpr uint32_t kWan = ip4(203, 0, 113, 10);
inline constexpr uint32_t kRemote = ip4(198, 51, 100, 20);
inline constexpr uint32_t kRemoteRouter = ip4(198, 51, 100, 1);
inline constexpr uint16_t kClientPort = 5000;
inline constexpr uint16_t kOutsidePort = 61234;

// ------------------------------------------------------------------ bytes

inline void put16(uint8_t* p, uint16_t v) {
    const be16 b = be16::from_host(v);
    std::memcpy(p, &b, 2);
}
inline void put32(uint8_t* p, uint32_t v) {
    const be32 b = be32::from_host(v);
    std::memcpy(p, &b, 4);
}
inline uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
inline uint32_t get32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }

inline Bytes random_bytes(std::mt19937& rng, size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    return b;
}

inline Bytes cat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

inline Bytes head(const Bytes& b, size_t n) { return Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n)); }

// ------------------------------------------------------------------ transport headers (checksum field zero)

inline Bytes tcp(uint16_t sport, uint16_t dport, uint8_t flags, const Bytes& payload = {}, unsigned opt_words = 0) {
    Bytes t(20 + 4 * opt_words, 0);
    put16(&t[0], sport);
    put16(&t[2], dport);
    put32(&t[4], 0x11223344);  // seq
    put32(&t[8], 0x55667788);  // ack
    t[12] = static_cast<uint8_t>((5 + opt_words) << 4);
    t[13] = flags;
    put16(&t[14], 64240);  // window
    put16(&t[18], 0);      // urgent
    for (unsigned i = 0; i < 4 * opt_words; ++i) t[20 + i] = kIpOptNop;  // TCP NOP is also 1
    return cat(t, payload);
}

inline Bytes udp(uint16_t sport, uint16_t dport, const Bytes& payload = {}) {
    Bytes u(8, 0);
    put16(&u[0], sport);
    put16(&u[2], dport);
    put16(&u[4], static_cast<uint16_t>(8 + payload.size()));
    return cat(u, payload);
}

inline Bytes icmp_echo(uint8_t type, uint16_t id, uint16_t seq, const Bytes& payload = {}) {
    Bytes i(8, 0);
    i[0] = type;
    put16(&i[4], id);
    put16(&i[6], seq);
    return cat(i, payload);
}

// An ICMP error (or any non-echo ICMP message) quoting `quote`.
inline Bytes icmp_msg(uint8_t type, uint8_t code, const Bytes& quote, uint32_t rest = 0) {
    Bytes i(8, 0);
    i[0] = type;
    i[1] = code;
    put32(&i[4], rest);
    return cat(i, quote);
}

inline Bytes gre(const Bytes& payload) {
    Bytes g(4, 0);
    put16(&g[2], 0x0800);  // GRE, protocol type IPv4
    return cat(g, payload);
}

// ------------------------------------------------------------------ checksums

inline uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, size_t l4_len) {
    uint8_t ph[12];
    put32(ph, src);
    put32(ph + 4, dst);
    ph[8] = 0;
    ph[9] = proto;
    put16(ph + 10, static_cast<uint16_t>(l4_len));
    return csum_partial(ph, sizeof ph);
}

inline int checksum_offset(uint8_t proto) {
    switch (proto) {
    case kIpProtoTcp: return 16;
    case kIpProtoUdp: return 6;
    case kIpProtoIcmp: return 2;
    default: return -1;
    }
}

// The full checksum of a whole transport segment (checksum field ignored).
inline uint16_t l4_checksum(uint8_t proto, uint32_t src, uint32_t dst, Bytes l4) {
    const int off = checksum_offset(proto);
    if (off < 0 || l4.size() < static_cast<size_t>(off) + 2) return 0;
    l4[off] = l4[off + 1] = 0;
    const uint32_t start = proto == kIpProtoIcmp ? 0 : pseudo_sum(src, dst, proto, l4.size());
    uint16_t c = csum_finish(csum_partial(l4.data(), l4.size(), start)).host();
    if (proto == kIpProtoUdp && c == 0) c = 0xffff;  // RFC 768
    return c;
}

struct Spec {
    uint8_t proto = kIpProtoUdp;
    uint32_t src = kClient, dst = kRemote;
    Bytes l4;
    uint16_t id = 0x4242;
    uint16_t frag = kIpFlagDF;  // flags and offset, host order
    uint8_t ttl = 64;
    uint8_t tos = 0;
    unsigned ip_opt_words = 0;
    bool l4_checksum = true;  // false: leave the transport checksum as it is (UDP: none)
};

// An IPv4 datagram with correct checksums.
inline Bytes build(const Spec& s) {
    const size_t hl = 20 + 4 * s.ip_opt_words;
    Bytes b(hl, 0);
    b[0] = static_cast<uint8_t>(0x40 | hl / 4);
    b[1] = s.tos;
    put16(&b[2], static_cast<uint16_t>(hl + s.l4.size()));
    put16(&b[4], s.id);
    put16(&b[6], s.frag);
    b[8] = s.ttl;
    b[9] = s.proto;
    put32(&b[12], s.src);
    put32(&b[16], s.dst);
    for (size_t i = 20; i < hl; ++i) b[i] = kIpOptNop;
    Bytes l4 = s.l4;
    if (s.l4_checksum && checksum_offset(s.proto) >= 0)
        put16(&l4[checksum_offset(s.proto)], l4_checksum(s.proto, s.src, s.dst, l4));
    b = cat(b, l4);
    auto* ip = reinterpret_cast<Ipv4Hdr*>(b.data());
    ip->checksum = ipv4_header_checksum(ip);
    return b;
}

inline Ipv4Hdr* iph(Bytes& b) { return reinterpret_cast<Ipv4Hdr*>(b.data()); }
inline const Ipv4Hdr* iph(const Bytes& b) { return reinterpret_cast<const Ipv4Hdr*>(b.data()); }
inline uint16_t len16(const Bytes& b) { return static_cast<uint16_t>(b.size()); }
inline uint8_t* l4p(Bytes& b) { return b.data() + iph(b)->header_len(); }
inline const uint8_t* l4p(const Bytes& b) { return b.data() + iph(b)->header_len(); }

// The transport checksum stored in a datagram, and the one a full
// recomputation over it gives.
inline uint16_t stored_l4_checksum(const Bytes& b) { return get16(l4p(b) + checksum_offset(iph(b)->proto)); }
inline uint16_t full_l4_checksum(const Bytes& b) {
    const Ipv4Hdr* ip = iph(b);
    return l4_checksum(ip->proto, ip->src.host(), ip->dst.host(), Bytes(l4p(b), b.data() + b.size()));
}

inline FlowKind kind_of(const Bytes& b, Flow* f) { return flow_of(iph(b), len16(b), f); }

// ------------------------------------------------------------------ random datagrams

// A random datagram from `src`:`sport` to `dst`:`dport` (ICMP: echo of type
// `icmp_type` with id `port` of the side that chose it).
struct Random {
    std::mt19937 rng;
    explicit Random(uint32_t seed) : rng(seed) {}
    uint32_t u(uint32_t lo, uint32_t hi) { return std::uniform_int_distribution<uint32_t>(lo, hi)(rng); }

    Spec spec(uint8_t proto, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) {
        Spec s;
        s.proto = proto;
        s.src = src;
        s.dst = dst;
        s.id = static_cast<uint16_t>(u(0, 65535));
        s.ttl = static_cast<uint8_t>(u(1, 255));
        s.tos = static_cast<uint8_t>(u(0, 255));
        s.frag = u(0, 1) ? kIpFlagDF : 0;
        s.ip_opt_words = u(0, 3) == 0 ? u(1, 10) : 0;
        const Bytes payload = random_bytes(rng, u(0, 3) == 0 ? u(0, 3) : u(0, 1400));
        switch (proto) {
        case kIpProtoTcp:
            s.l4 = tcp(sport, dport, static_cast<uint8_t>(u(0, 63)), payload, u(0, 10));
            put32(&s.l4[4], u(0, 0xffffffff));
            put32(&s.l4[8], u(0, 0xffffffff));
            put16(&s.l4[14], static_cast<uint16_t>(u(0, 65535)));
            break;
        case kIpProtoUdp:
            s.l4 = udp(sport, dport, payload);
            s.l4_checksum = u(0, 4) != 0;  // some without checksum
            break;
        case kIpProtoIcmp:
            s.l4 = sport ? icmp_echo(kIcmpEchoRequest, sport, static_cast<uint16_t>(u(0, 65535)), payload)
                         : icmp_echo(kIcmpEchoReply, dport, static_cast<uint16_t>(u(0, 65535)), payload);
            break;
        default:
            s.l4 = gre(payload);
            break;
        }
        return s;
    }
    uint8_t proto() {
        static constexpr uint8_t p[] = {kIpProtoTcp, kIpProtoUdp, kIpProtoIcmp, kIpProtoGre};
        return p[u(0, 3)];
    }
    uint32_t lan_host() { return ip4(192, 168, 1, u(2, 254)); }
    uint32_t internet_host() { return ip4(u(1, 223), u(0, 255), u(0, 255), u(1, 254)); }
    uint16_t port() { return static_cast<uint16_t>(u(1, 65535)); }
};

// Sets the port (TCP/UDP: sport or dport; ICMP: the identifier) in a spec.
inline void set_port(Spec& s, Dir which, uint16_t port) {
    if (s.proto == kIpProtoIcmp)
        put16(&s.l4[4], port);
    else if (s.proto == kIpProtoTcp || s.proto == kIpProtoUdp)
        put16(&s.l4[which == Dir::out ? 0 : 2], port);
}

// ------------------------------------------------------------------ ICMP errors

// What the NAT sent: client 192.168.1.11:5000 translated to 203.0.113.10:61234.
inline Bytes sent_udp(uint32_t src, uint16_t sport, const Bytes& payload = Bytes(20, 0xab)) {
    return build({.proto = kIpProtoUdp, .src = src, .dst = kRemote, .l4 = udp(sport, 53, payload), .id = 0x0101, .ttl = 63});
}

inline Bytes icmp_error_to(uint32_t from, uint32_t to, const Bytes& quote, uint8_t type = kIcmpDestUnreach,
                           uint8_t code = 3 /* port unreachable */, uint32_t rest = 0) {
    return build({.proto = kIpProtoIcmp, .src = from, .dst = to, .l4 = icmp_msg(type, code, quote, rest), .id = 0x7777,
                  .ttl = 50});
}

}  // namespace ipshare::test::raw
