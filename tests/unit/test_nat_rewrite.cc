// NAT header work (nat_rewrite.h): flow_of, nat_delta / nat_rewrite,
// icmp_error_inner_flow and nat_rewrite_icmp_error, checked against packets
// built field by field here, whose checksums are computed in full
// (csum_partial over the pseudo-header and the segment, ipv4_header_checksum).
//
// The main check of every rewrite: the translated datagram must be byte for
// byte the datagram that building it from scratch with the new addresses and
// ports gives, which compares every checksum with a full recomputation and
// every other byte with the original.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "checksum.h"
#include "headers.h"
#include "nat_rewrite.h"

namespace ipshare {
namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d) { return a << 24 | b << 16 | c << 8 | d; }

constexpr uint32_t kClient = ip4(192, 168, 1, 11);
constexpr uint32_t kClient2 = ip4(192, 168, 1, 12);
constexpr uint32_t kWan = ip4(203, 0, 113, 10);
constexpr uint32_t kRemote = ip4(198, 51, 100, 20);
constexpr uint32_t kRemoteRouter = ip4(198, 51, 100, 1);
constexpr uint16_t kClientPort = 5000;
constexpr uint16_t kOutsidePort = 61234;

// ------------------------------------------------------------------ bytes

void put16(uint8_t* p, uint16_t v) {
    const be16 b = be16::from_host(v);
    std::memcpy(p, &b, 2);
}
void put32(uint8_t* p, uint32_t v) {
    const be32 b = be32::from_host(v);
    std::memcpy(p, &b, 4);
}
uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t get32(const uint8_t* p) { return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3]; }

Bytes random_bytes(std::mt19937& rng, size_t n) {
    Bytes b(n);
    for (auto& x : b) x = static_cast<uint8_t>(rng());
    return b;
}

Bytes cat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

Bytes head(const Bytes& b, size_t n) { return Bytes(b.begin(), b.begin() + static_cast<std::ptrdiff_t>(n)); }

// ------------------------------------------------------------------ transport headers (checksum field zero)

Bytes tcp(uint16_t sport, uint16_t dport, uint8_t flags, const Bytes& payload = {}, unsigned opt_words = 0) {
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

Bytes udp(uint16_t sport, uint16_t dport, const Bytes& payload = {}) {
    Bytes u(8, 0);
    put16(&u[0], sport);
    put16(&u[2], dport);
    put16(&u[4], static_cast<uint16_t>(8 + payload.size()));
    return cat(u, payload);
}

Bytes icmp_echo(uint8_t type, uint16_t id, uint16_t seq, const Bytes& payload = {}) {
    Bytes i(8, 0);
    i[0] = type;
    put16(&i[4], id);
    put16(&i[6], seq);
    return cat(i, payload);
}

// An ICMP error (or any non-echo ICMP message) quoting `quote`.
Bytes icmp_msg(uint8_t type, uint8_t code, const Bytes& quote, uint32_t rest = 0) {
    Bytes i(8, 0);
    i[0] = type;
    i[1] = code;
    put32(&i[4], rest);
    return cat(i, quote);
}

Bytes gre(const Bytes& payload) {
    Bytes g(4, 0);
    put16(&g[2], 0x0800);  // GRE, protocol type IPv4
    return cat(g, payload);
}

// ------------------------------------------------------------------ checksums

uint32_t pseudo_sum(uint32_t src, uint32_t dst, uint8_t proto, size_t l4_len) {
    uint8_t ph[12];
    put32(ph, src);
    put32(ph + 4, dst);
    ph[8] = 0;
    ph[9] = proto;
    put16(ph + 10, static_cast<uint16_t>(l4_len));
    return csum_partial(ph, sizeof ph);
}

int checksum_offset(uint8_t proto) {
    switch (proto) {
    case kIpProtoTcp: return 16;
    case kIpProtoUdp: return 6;
    case kIpProtoIcmp: return 2;
    default: return -1;
    }
}

// The full checksum of a whole transport segment (checksum field ignored).
uint16_t l4_checksum(uint8_t proto, uint32_t src, uint32_t dst, Bytes l4) {
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
Bytes build(const Spec& s) {
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

Ipv4Hdr* iph(Bytes& b) { return reinterpret_cast<Ipv4Hdr*>(b.data()); }
const Ipv4Hdr* iph(const Bytes& b) { return reinterpret_cast<const Ipv4Hdr*>(b.data()); }
uint16_t len16(const Bytes& b) { return static_cast<uint16_t>(b.size()); }
uint8_t* l4p(Bytes& b) { return b.data() + iph(b)->header_len(); }
const uint8_t* l4p(const Bytes& b) { return b.data() + iph(b)->header_len(); }

// The transport checksum stored in a datagram, and the one a full
// recomputation over it gives.
uint16_t stored_l4_checksum(const Bytes& b) { return get16(l4p(b) + checksum_offset(iph(b)->proto)); }
uint16_t full_l4_checksum(const Bytes& b) {
    const Ipv4Hdr* ip = iph(b);
    return l4_checksum(ip->proto, ip->src.host(), ip->dst.host(), Bytes(l4p(b), b.data() + b.size()));
}

FlowKind kind_of(const Bytes& b, Flow* f) { return flow_of(iph(b), len16(b), f); }

// ------------------------------------------------------------------ flow_of

TEST(FlowOf, Tcp) {
    const Bytes b = build({.proto = kIpProtoTcp, .l4 = tcp(kClientPort, 443, kTcpSyn)});
    Flow f;
    ASSERT_EQ(kind_of(b, &f), FlowKind::ports);
    EXPECT_EQ(f.src, kClient);
    EXPECT_EQ(f.dst, kRemote);
    EXPECT_EQ(f.sport, kClientPort);
    EXPECT_EQ(f.dport, 443);
    EXPECT_EQ(f.proto, kIpProtoTcp);
}

TEST(FlowOf, TcpWithIpAndTcpOptions) {
    const Bytes b = build({.proto = kIpProtoTcp, .l4 = tcp(40000, 22, kTcpAck, {1, 2, 3}, 3), .ip_opt_words = 2});
    Flow f;
    ASSERT_EQ(kind_of(b, &f), FlowKind::ports);
    EXPECT_EQ(f.sport, 40000);
    EXPECT_EQ(f.dport, 22);
}

TEST(FlowOf, Udp) {
    const Bytes b = build({.proto = kIpProtoUdp, .src = kRemote, .dst = kWan, .l4 = udp(53, kOutsidePort, {9, 9})});
    Flow f;
    ASSERT_EQ(kind_of(b, &f), FlowKind::ports);
    EXPECT_EQ(f.src, kRemote);
    EXPECT_EQ(f.dst, kWan);
    EXPECT_EQ(f.sport, 53);
    EXPECT_EQ(f.dport, kOutsidePort);
    EXPECT_EQ(f.proto, kIpProtoUdp);
}

TEST(FlowOf, IcmpEchoRequestPutsTheIdInSport) {
    const Bytes b = build({.proto = kIpProtoIcmp, .l4 = icmp_echo(kIcmpEchoRequest, 0x1234, 7, {1, 2, 3, 4})});
    Flow f{1, 2, 3, 4, 5};
    ASSERT_EQ(kind_of(b, &f), FlowKind::icmp_query);
    EXPECT_EQ(f.src, kClient);
    EXPECT_EQ(f.dst, kRemote);
    EXPECT_EQ(f.sport, 0x1234);
    EXPECT_EQ(f.dport, 0);
    EXPECT_EQ(f.proto, kIpProtoIcmp);
}

TEST(FlowOf, IcmpEchoReplyPutsTheIdInDport) {
    const Bytes b =
        build({.proto = kIpProtoIcmp, .src = kRemote, .dst = kWan, .l4 = icmp_echo(kIcmpEchoReply, kOutsidePort, 7)});
    Flow f{1, 2, 3, 4, 5};
    ASSERT_EQ(kind_of(b, &f), FlowKind::icmp_query);
    EXPECT_EQ(f.sport, 0);
    EXPECT_EQ(f.dport, kOutsidePort);
}

TEST(FlowOf, IcmpErrors) {
    const Bytes quote = build({.proto = kIpProtoUdp, .src = kWan, .dst = kRemote, .l4 = udp(kOutsidePort, 53)});
    for (uint8_t type : {kIcmpDestUnreach, kIcmpSourceQuench, kIcmpRedirect, kIcmpTimeExceeded, kIcmpParamProblem}) {
        const Bytes b = build({.proto = kIpProtoIcmp, .src = kRemote, .dst = kWan, .l4 = icmp_msg(type, 0, quote)});
        Flow f;
        EXPECT_EQ(kind_of(b, &f), FlowKind::icmp_error) << int(type);
        EXPECT_EQ(f.src, kRemote);
        EXPECT_EQ(f.dst, kWan);
        EXPECT_EQ(f.proto, kIpProtoIcmp);
    }
}

TEST(FlowOf, OtherIcmp) {
    for (uint8_t type : {kIcmpTimestamp, kIcmpTimestampReply, uint8_t{9} /* router advert */, uint8_t{17}}) {
        const Bytes b = build({.proto = kIpProtoIcmp, .l4 = icmp_msg(type, 0, Bytes(12, 0))});
        Flow f;
        EXPECT_EQ(kind_of(b, &f), FlowKind::other_icmp) << int(type);
    }
}

TEST(FlowOf, Portless) {
    for (uint8_t proto : {kIpProtoGre, kIpProtoEsp, kIpProtoSctp}) {
        const Bytes b = build({.proto = proto, .l4 = gre({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12})});
        Flow f{1, 2, 3, 4, 5};
        ASSERT_EQ(kind_of(b, &f), FlowKind::portless) << int(proto);
        EXPECT_EQ(f.src, kClient);
        EXPECT_EQ(f.dst, kRemote);
        EXPECT_EQ(f.sport, 0);
        EXPECT_EQ(f.dport, 0);
        EXPECT_EQ(f.proto, proto);
    }
}

TEST(FlowOf, NonInitialFragment) {
    for (uint8_t proto : {kIpProtoTcp, kIpProtoUdp, kIpProtoIcmp}) {
        // the bytes after the header look like a transport header, but are not one
        const Bytes b = build({.proto = proto,
                               .l4 = tcp(1111, 2222, kTcpSyn, Bytes(40, 7)),
                               .frag = static_cast<uint16_t>(kIpFlagMF | 185),
                               .l4_checksum = false});
        Flow f{1, 2, 3, 4, 5};
        EXPECT_EQ(kind_of(b, &f), FlowKind::fragment) << int(proto);
        EXPECT_EQ(f.src, kClient);
        EXPECT_EQ(f.dst, kRemote);
        EXPECT_EQ(f.proto, proto);
        EXPECT_EQ(f.sport, 0);
        EXPECT_EQ(f.dport, 0);
    }
    // the last fragment (no MF) too
    const Bytes last = build({.proto = kIpProtoUdp, .l4 = Bytes(16, 1), .frag = 3, .l4_checksum = false});
    Flow f;
    EXPECT_EQ(kind_of(last, &f), FlowKind::fragment);
}

TEST(FlowOf, FirstFragmentHasPorts) {
    const Bytes b = build({.proto = kIpProtoUdp, .l4 = udp(kClientPort, 4500, Bytes(64, 3)), .frag = kIpFlagMF});
    Flow f;
    ASSERT_EQ(kind_of(b, &f), FlowKind::ports);
    EXPECT_EQ(f.sport, kClientPort);
    EXPECT_EQ(f.dport, 4500);
}

TEST(FlowOf, Truncated) {
    Flow f;
    // TCP shorter than its 20-byte header
    const Bytes t19 = build({.proto = kIpProtoTcp, .l4 = head(tcp(kClientPort, 80, kTcpSyn), 19), .l4_checksum = false});
    EXPECT_EQ(kind_of(t19, &f), FlowKind::truncated);
    // data offset past the end: says 60 bytes, has 20 + 10
    Bytes t = tcp(kClientPort, 80, kTcpSyn, Bytes(10, 0));
    t[12] = 15 << 4;
    EXPECT_EQ(kind_of(build({.proto = kIpProtoTcp, .l4 = t, .l4_checksum = false}), &f), FlowKind::truncated);
    // data offset below 5 words
    t[12] = 4 << 4;
    EXPECT_EQ(kind_of(build({.proto = kIpProtoTcp, .l4 = t, .l4_checksum = false}), &f), FlowKind::truncated);
    // data offset exactly to the end is fine
    t[12] = 7 << 4;
    const Bytes exact = build({.proto = kIpProtoTcp, .l4 = head(t, 28), .l4_checksum = false});
    EXPECT_EQ(kind_of(exact, &f), FlowKind::ports);
    // UDP shorter than 8, ICMP shorter than 8
    EXPECT_EQ(kind_of(build({.proto = kIpProtoUdp, .l4 = head(udp(1, 2), 7), .l4_checksum = false}), &f),
              FlowKind::truncated);
    EXPECT_EQ(kind_of(build({.proto = kIpProtoIcmp, .l4 = head(icmp_echo(8, 1, 1), 7), .l4_checksum = false}), &f),
              FlowKind::truncated);
    // ip_len shorter than the buffer: the length given counts, not the buffer
    const Bytes whole = build({.proto = kIpProtoUdp, .l4 = udp(1, 2)});
    EXPECT_EQ(flow_of(iph(whole), 27, &f), FlowKind::truncated);
    EXPECT_EQ(flow_of(iph(whole), 28, &f), FlowKind::ports);
}

TEST(IcmpChecksumOk, RightAndWrong) {
    const Bytes quote = head(build({.src = kWan, .l4 = udp(kOutsidePort, 53, Bytes(11, 4))}), 28);
    Bytes err = build({.proto = kIpProtoIcmp, .src = kRemote, .dst = kWan, .l4 = icmp_msg(kIcmpDestUnreach, 3, quote)});
    EXPECT_TRUE(icmp_checksum_ok(iph(err), len16(err)));
    Bytes odd = build({.proto = kIpProtoIcmp, .l4 = icmp_echo(kIcmpEchoRequest, 1, 2, Bytes(7, 9))});  // odd length
    EXPECT_TRUE(icmp_checksum_ok(iph(odd), len16(odd)));
    for (size_t i = 20; i < err.size(); ++i) {
        Bytes bad = err;
        bad[i] ^= 0x01;
        EXPECT_FALSE(icmp_checksum_ok(iph(bad), len16(bad))) << "byte " << i;
    }
}

// ------------------------------------------------------------------ nat_delta

TEST(NatDelta, IcmpDeltaIgnoresAddresses) {
    const NatDelta a = nat_delta(kIpProtoIcmp, kClient, 0x1234, kWan, kOutsidePort);
    const NatDelta b = nat_delta(kIpProtoIcmp, kClient2, 0x1234, kRemote, kOutsidePort);
    EXPECT_EQ(a.l4, b.l4);  // no pseudo-header in ICMP
    EXPECT_NE(a.ip, b.ip);
}

TEST(NatDelta, PortlessHasNoTransportDelta) {
    const NatDelta d = nat_delta(kIpProtoGre, kClient, 0, kWan, 0);
    EXPECT_EQ(d.l4, 0);
    EXPECT_EQ(d.ip, nat_delta(kIpProtoTcp, kClient, 1, kWan, 2).ip);
}

// ------------------------------------------------------------------ nat_rewrite

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
void set_port(Spec& s, Dir which, uint16_t port) {
    if (s.proto == kIpProtoIcmp)
        put16(&s.l4[4], port);
    else if (s.proto == kIpProtoTcp || s.proto == kIpProtoUdp)
        put16(&s.l4[which == Dir::out ? 0 : 2], port);
}

constexpr int kRandomRounds = 3000;

TEST(NatRewrite, OutboundMatchesFullRecomputation) {
    Random r(20240601);
    for (int i = 0; i < kRandomRounds; ++i) {
        const uint8_t proto = r.proto();
        const bool icmp = proto == kIpProtoIcmp;
        const bool portless = proto == kIpProtoGre;
        const uint16_t sport = portless ? 0 : r.port();
        const uint16_t dport = icmp || portless ? 0 : r.port();
        Spec s = r.spec(proto, r.lan_host(), r.internet_host(), sport, dport);
        const uint16_t new_port = portless ? 0 : kOutsidePort;
        Bytes pkt = build(s);
        const Bytes orig = pkt;

        const NatDelta d = nat_delta(proto, s.src, sport, kWan, new_port);
        nat_rewrite(iph(pkt), len16(pkt), Dir::out, kWan, new_port, d);

        Spec t = s;
        t.src = kWan;
        set_port(t, Dir::out, new_port);
        if (proto == kIpProtoUdp && !s.l4_checksum) {
            ASSERT_EQ(stored_l4_checksum(orig), 0);
        }
        const Bytes want = build(t);
        ASSERT_EQ(pkt, want) << "round " << i << " proto " << int(proto) << " len " << pkt.size();
        // a few named fields, for the reader
        EXPECT_EQ(iph(pkt)->src.host(), kWan);
        EXPECT_EQ(iph(pkt)->dst.host(), s.dst);
        EXPECT_EQ(iph(pkt)->id.host(), s.id);
        EXPECT_EQ(iph(pkt)->checksum.host(), ipv4_header_checksum(iph(pkt)).host());
        if (!portless) {
            EXPECT_EQ(get16(l4p(pkt) + (icmp ? 4 : 0)), new_port);
            if (proto == kIpProtoUdp && !s.l4_checksum) {
                EXPECT_EQ(stored_l4_checksum(pkt), 0);
            } else {
                EXPECT_EQ(stored_l4_checksum(pkt), full_l4_checksum(pkt)) << "round " << i;
            }
        }
    }
}

TEST(NatRewrite, InboundMatchesFullRecomputation) {
    Random r(77);
    for (int i = 0; i < kRandomRounds; ++i) {
        const uint8_t proto = r.proto();
        const bool icmp = proto == kIpProtoIcmp;
        const bool portless = proto == kIpProtoGre;
        const uint32_t client = r.lan_host();
        const uint16_t cport = portless ? 0 : r.port();
        const uint16_t outside = portless ? 0 : static_cast<uint16_t>(r.u(61000, 65535));
        const uint16_t rport = icmp || portless ? 0 : r.port();
        Spec s = r.spec(proto, r.internet_host(), kWan, rport, outside);  // ICMP: an echo reply to `outside`
        Bytes pkt = build(s);

        // as the nat stage does: the inverse of the session's outbound delta
        const NatDelta d = nat_delta_inverse(nat_delta(proto, client, cport, kWan, outside));
        nat_rewrite(iph(pkt), len16(pkt), Dir::in, client, cport, d);

        Spec t = s;
        t.dst = client;
        set_port(t, Dir::in, cport);
        ASSERT_EQ(pkt, build(t)) << "round " << i << " proto " << int(proto);
        EXPECT_EQ(iph(pkt)->dst.host(), client);
        EXPECT_EQ(iph(pkt)->src.host(), s.src);
        EXPECT_EQ(iph(pkt)->id.host(), s.id);

        // the delta of the inbound change computed directly gives the same bytes
        Bytes again = build(s);
        nat_rewrite(iph(again), len16(again), Dir::in, client, cport, nat_delta(proto, kWan, outside, client, cport));
        ASSERT_EQ(again, pkt) << "round " << i;
    }
}

TEST(NatRewrite, ReferenceUdpOut) {
    const Bytes payload = {0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 3, 'w', 'w', 'w', 0, 0, 1, 0, 1};
    Bytes pkt = build({.proto = kIpProtoUdp, .src = kClient, .dst = kRemote, .l4 = udp(kClientPort, 53, payload)});
    nat_rewrite(iph(pkt), len16(pkt), Dir::out, kWan, kOutsidePort,
                nat_delta(kIpProtoUdp, kClient, kClientPort, kWan, kOutsidePort));
    EXPECT_EQ(iph(pkt)->src.host(), kWan);
    EXPECT_EQ(get16(l4p(pkt)), kOutsidePort);
    EXPECT_EQ(get16(l4p(pkt) + 2), 53);
    EXPECT_EQ(iph(pkt)->checksum.host(), ipv4_header_checksum(iph(pkt)).host());
    EXPECT_EQ(stored_l4_checksum(pkt), full_l4_checksum(pkt));
    EXPECT_EQ(pkt, build({.proto = kIpProtoUdp, .src = kWan, .dst = kRemote, .l4 = udp(kOutsidePort, 53, payload)}));
}

TEST(NatRewrite, ReferenceTcpIn) {
    Bytes pkt =
        build({.proto = kIpProtoTcp, .src = kRemote, .dst = kWan, .l4 = tcp(80, kOutsidePort, kTcpSyn | kTcpAck)});
    nat_rewrite(iph(pkt), len16(pkt), Dir::in, kClient, kClientPort,
                nat_delta_inverse(nat_delta(kIpProtoTcp, kClient, kClientPort, kWan, kOutsidePort)));
    EXPECT_EQ(iph(pkt)->dst.host(), kClient);
    EXPECT_EQ(iph(pkt)->src.host(), kRemote);
    EXPECT_EQ(get16(l4p(pkt)), 80);
    EXPECT_EQ(get16(l4p(pkt) + 2), kClientPort);
    EXPECT_EQ(iph(pkt)->checksum.host(), ipv4_header_checksum(iph(pkt)).host());
    EXPECT_EQ(stored_l4_checksum(pkt), full_l4_checksum(pkt));
}

TEST(NatRewrite, IcmpEchoIdentifier) {
    Bytes req = build({.proto = kIpProtoIcmp, .l4 = icmp_echo(kIcmpEchoRequest, 0x1234, 1, Bytes(56, 0x61))});
    nat_rewrite(iph(req), len16(req), Dir::out, kWan, kOutsidePort,
                nat_delta(kIpProtoIcmp, kClient, 0x1234, kWan, kOutsidePort));
    EXPECT_EQ(iph(req)->src.host(), kWan);
    EXPECT_EQ(get16(l4p(req) + 4), kOutsidePort);
    EXPECT_EQ(get16(l4p(req) + 6), 1);  // sequence untouched
    EXPECT_EQ(stored_l4_checksum(req), full_l4_checksum(req));
    EXPECT_EQ(iph(req)->checksum.host(), ipv4_header_checksum(iph(req)).host());

    Bytes rep = build({.proto = kIpProtoIcmp,
                       .src = kRemote,
                       .dst = kWan,
                       .l4 = icmp_echo(kIcmpEchoReply, kOutsidePort, 1, Bytes(56, 0x61))});
    nat_rewrite(iph(rep), len16(rep), Dir::in, kClient, 0x1234,
                nat_delta_inverse(nat_delta(kIpProtoIcmp, kClient, 0x1234, kWan, kOutsidePort)));
    EXPECT_EQ(iph(rep)->dst.host(), kClient);
    EXPECT_EQ(get16(l4p(rep) + 4), 0x1234);
    EXPECT_EQ(stored_l4_checksum(rep), full_l4_checksum(rep));
    EXPECT_EQ(iph(rep)->checksum.host(), ipv4_header_checksum(iph(rep)).host());
}

TEST(NatRewrite, UdpWithoutChecksumStaysWithout) {
    for (Dir d : {Dir::out, Dir::in}) {
        Bytes pkt = d == Dir::out ? build({.l4 = udp(kClientPort, 53, {1, 2, 3}), .l4_checksum = false})
                                  : build({.src = kRemote, .dst = kWan, .l4 = udp(53, kOutsidePort, {1, 2, 3}),
                                           .l4_checksum = false});
        ASSERT_EQ(stored_l4_checksum(pkt), 0);
        const NatDelta delta = nat_delta(kIpProtoUdp, kClient, kClientPort, kWan, kOutsidePort);
        if (d == Dir::out)
            nat_rewrite(iph(pkt), len16(pkt), d, kWan, kOutsidePort, delta);
        else
            nat_rewrite(iph(pkt), len16(pkt), d, kClient, kClientPort, nat_delta_inverse(delta));
        EXPECT_EQ(stored_l4_checksum(pkt), 0);
        EXPECT_EQ(get16(l4p(pkt) + (d == Dir::out ? 0 : 2)), d == Dir::out ? kOutsidePort : kClientPort);
        EXPECT_EQ(iph(pkt)->checksum.host(), ipv4_header_checksum(iph(pkt)).host());
    }
}

// A UDP datagram whose translated checksum computes to 0 must carry 0xffff.
TEST(NatRewrite, UdpComputedZeroBecomesFfff) {
    // Choose two payload bytes so that the translated datagram's words sum to 0xffff.
    Bytes payload = {0xde, 0xad, 0, 0};
    Bytes after = udp(kOutsidePort, 53, payload);
    const uint16_t sum = csum_fold(csum_partial(after.data(), after.size(), pseudo_sum(kWan, kRemote, kIpProtoUdp, after.size())));
    const uint16_t fill = static_cast<uint16_t>(0xffff - sum);
    std::memcpy(&payload[2], &fill, 2);  // a raw word: the sum is byte-order independent
    after = udp(kOutsidePort, 53, payload);
    ASSERT_EQ(csum_fold(csum_partial(after.data(), after.size(), pseudo_sum(kWan, kRemote, kIpProtoUdp, after.size()))),
              0xffff);

    Bytes pkt = build({.l4 = udp(kClientPort, 53, payload)});
    const Bytes orig = pkt;
    ASSERT_NE(stored_l4_checksum(pkt), 0);
    const NatDelta d = nat_delta(kIpProtoUdp, kClient, kClientPort, kWan, kOutsidePort);
    nat_rewrite(iph(pkt), len16(pkt), Dir::out, kWan, kOutsidePort, d);
    EXPECT_EQ(stored_l4_checksum(pkt), 0xffff);
    // and back: the inverse restores the original exactly
    nat_rewrite(iph(pkt), len16(pkt), Dir::out, kClient, kClientPort, nat_delta_inverse(d));
    EXPECT_EQ(pkt, orig);
}

TEST(NatRewrite, NonInitialFragmentOnlyIpHeader) {
    for (uint8_t proto : {kIpProtoTcp, kIpProtoUdp, kIpProtoIcmp}) {
        for (Dir dir : {Dir::out, Dir::in}) {
            std::mt19937 rng(proto);
            Spec s{.proto = proto,
                   .src = dir == Dir::out ? kClient : kRemote,
                   .dst = dir == Dir::out ? kRemote : kWan,
                   .l4 = random_bytes(rng, 480),
                   .frag = static_cast<uint16_t>(kIpFlagMF | 60),
                   .l4_checksum = false};
            Bytes pkt = build(s);
            const NatDelta d = nat_delta(proto, kClient, kClientPort, kWan, kOutsidePort);
            if (dir == Dir::out)
                nat_rewrite(iph(pkt), len16(pkt), dir, kWan, kOutsidePort, d);
            else
                nat_rewrite(iph(pkt), len16(pkt), dir, kClient, kClientPort, nat_delta_inverse(d));
            (dir == Dir::out ? s.src : s.dst) = dir == Dir::out ? kWan : kClient;
            EXPECT_EQ(pkt, build(s)) << int(proto) << (dir == Dir::out ? " out" : " in");
            EXPECT_EQ(iph(pkt)->frag_offset(), 60);
        }
    }
}

// The first fragment carries the ports but only part of the data the
// checksum covers: the incremental update must still give the checksum of
// the whole translated datagram.
TEST(NatRewrite, FirstFragmentChecksumCoversTheWholeDatagram) {
    std::mt19937 rng(5);
    const Bytes payload = random_bytes(rng, 3000);
    for (uint8_t proto : {kIpProtoUdp, kIpProtoTcp}) {
        const Bytes l4 = proto == kIpProtoUdp ? udp(kClientPort, 4500, payload) : tcp(kClientPort, 80, kTcpAck, payload);
        const Bytes l4_after = proto == kIpProtoUdp ? udp(kOutsidePort, 4500, payload) : tcp(kOutsidePort, 80, kTcpAck, payload);
        const Bytes whole = build({.proto = proto, .l4 = l4, .frag = 0});
        const Bytes whole_after = build({.proto = proto, .src = kWan, .l4 = l4_after, .frag = 0});

        auto first_fragment = [](const Bytes& w) {
            Bytes f = head(w, 20 + 1480);
            put16(&f[2], static_cast<uint16_t>(f.size()));
            put16(&f[6], kIpFlagMF);
            iph(f)->checksum = ipv4_header_checksum(iph(f));
            return f;
        };
        Bytes pkt = first_fragment(whole);
        Flow f;
        ASSERT_EQ(kind_of(pkt, &f), FlowKind::ports);
        nat_rewrite(iph(pkt), len16(pkt), Dir::out, kWan, kOutsidePort,
                    nat_delta(proto, kClient, kClientPort, kWan, kOutsidePort));
        EXPECT_EQ(pkt, first_fragment(whole_after)) << int(proto);
    }
}

TEST(NatRewrite, PortlessOnlyIpHeader) {
    std::mt19937 rng(47);
    const Bytes payload = random_bytes(rng, 100);
    Bytes pkt = build({.proto = kIpProtoGre, .l4 = gre(payload)});
    nat_rewrite(iph(pkt), len16(pkt), Dir::out, kWan, 0, nat_delta(kIpProtoGre, kClient, 0, kWan, 0));
    EXPECT_EQ(pkt, build({.proto = kIpProtoGre, .src = kWan, .l4 = gre(payload)}));

    Bytes in = build({.proto = kIpProtoGre, .src = kRemote, .dst = kWan, .l4 = gre(payload)});
    nat_rewrite(iph(in), len16(in), Dir::in, kClient, 0, nat_delta_inverse(nat_delta(kIpProtoGre, kClient, 0, kWan, 0)));
    EXPECT_EQ(in, build({.proto = kIpProtoGre, .src = kRemote, .dst = kClient, .l4 = gre(payload)}));
}

TEST(NatRewrite, InverseDeltaUndoesTheRewriteExactly) {
    Random r(4242);
    for (int i = 0; i < kRandomRounds; ++i) {
        const uint8_t proto = r.proto();
        const bool portless = proto == kIpProtoGre;
        const uint16_t sport = portless ? 0 : r.port();
        const uint16_t dport = proto == kIpProtoIcmp || portless ? 0 : r.port();
        const Spec s = r.spec(proto, r.lan_host(), r.internet_host(), sport, dport);
        Bytes pkt = build(s);
        const Bytes orig = pkt;
        const uint16_t outside = portless ? 0 : static_cast<uint16_t>(r.u(61000, 65535));
        const NatDelta d = nat_delta(proto, s.src, sport, kWan, outside);
        nat_rewrite(iph(pkt), len16(pkt), Dir::out, kWan, outside, d);
        nat_rewrite(iph(pkt), len16(pkt), Dir::out, s.src, sport, nat_delta_inverse(d));
        ASSERT_EQ(pkt, orig) << "round " << i << " proto " << int(proto);
    }
}

// ------------------------------------------------------------------ ICMP errors: the embedded flow

// What the NAT sent: client 192.168.1.11:5000 translated to 203.0.113.10:61234.
Bytes sent_udp(uint32_t src, uint16_t sport, const Bytes& payload = Bytes(20, 0xab)) {
    return build({.proto = kIpProtoUdp, .src = src, .dst = kRemote, .l4 = udp(sport, 53, payload), .id = 0x0101, .ttl = 63});
}

Bytes icmp_error_to(uint32_t from, uint32_t to, const Bytes& quote, uint8_t type = kIcmpDestUnreach,
                    uint8_t code = 3 /* port unreachable */, uint32_t rest = 0) {
    return build({.proto = kIpProtoIcmp, .src = from, .dst = to, .l4 = icmp_msg(type, code, quote, rest), .id = 0x7777,
                  .ttl = 50});
}

TEST(IcmpErrorInnerFlow, PortUnreachableAboutOurUdp) {
    const Bytes err = icmp_error_to(kRemote, kWan, head(sent_udp(kWan, kOutsidePort), 28));
    Flow f;
    ASSERT_EQ(kind_of(err, &f), FlowKind::icmp_error);
    Flow in;
    ASSERT_TRUE(icmp_error_inner_flow(iph(err), len16(err), &in));
    EXPECT_EQ(in.src, kWan);
    EXPECT_EQ(in.dst, kRemote);
    EXPECT_EQ(in.sport, kOutsidePort);
    EXPECT_EQ(in.dport, 53);
    EXPECT_EQ(in.proto, kIpProtoUdp);
    // a full quote reads the same
    const Bytes full = icmp_error_to(kRemote, kWan, sent_udp(kWan, kOutsidePort));
    Flow in2;
    ASSERT_TRUE(icmp_error_inner_flow(iph(full), len16(full), &in2));
    EXPECT_EQ(in2.sport, kOutsidePort);
    EXPECT_EQ(in2.dport, 53);
}

TEST(IcmpErrorInnerFlow, Tcp) {
    const Bytes q = build({.proto = kIpProtoTcp, .src = kWan, .dst = kRemote, .l4 = tcp(kOutsidePort, 443, kTcpSyn)});
    const Bytes err = icmp_error_to(kRemoteRouter, kWan, head(q, 28), kIcmpTimeExceeded, 0);
    Flow in;
    ASSERT_TRUE(icmp_error_inner_flow(iph(err), len16(err), &in));
    EXPECT_EQ(in.proto, kIpProtoTcp);
    EXPECT_EQ(in.sport, kOutsidePort);
    EXPECT_EQ(in.dport, 443);
}

TEST(IcmpErrorInnerFlow, EchoRequestAndReply) {
    const Bytes req = build({.proto = kIpProtoIcmp, .src = kWan, .dst = kRemote, .l4 = icmp_echo(kIcmpEchoRequest, kOutsidePort, 9)});
    Bytes err = icmp_error_to(kRemoteRouter, kWan, req, kIcmpTimeExceeded, 0);
    Flow in;
    ASSERT_TRUE(icmp_error_inner_flow(iph(err), len16(err), &in));
    EXPECT_EQ(in.proto, kIpProtoIcmp);
    EXPECT_EQ(in.src, kWan);
    EXPECT_EQ(in.dst, kRemote);
    EXPECT_EQ(in.sport, kOutsidePort);
    EXPECT_EQ(in.dport, 0);

    const Bytes rep = build({.proto = kIpProtoIcmp, .src = kRemote, .dst = kClient, .l4 = icmp_echo(kIcmpEchoReply, 0x1234, 9)});
    err = icmp_error_to(kClient, kRemote, rep);
    ASSERT_TRUE(icmp_error_inner_flow(iph(err), len16(err), &in));
    EXPECT_EQ(in.sport, 0);
    EXPECT_EQ(in.dport, 0x1234);
}

TEST(IcmpErrorInnerFlow, PortlessInner) {
    const Bytes q = build({.proto = kIpProtoGre, .src = kWan, .dst = kRemote, .l4 = gre(Bytes(20, 1))});
    const Bytes err = icmp_error_to(kRemote, kWan, head(q, 28), kIcmpDestUnreach, 2);
    Flow in{1, 2, 3, 4, 5};
    ASSERT_TRUE(icmp_error_inner_flow(iph(err), len16(err), &in));
    EXPECT_EQ(in.proto, kIpProtoGre);
    EXPECT_EQ(in.src, kWan);
    EXPECT_EQ(in.dst, kRemote);
    EXPECT_EQ(in.sport, 0);
    EXPECT_EQ(in.dport, 0);
}

TEST(IcmpErrorInnerFlow, InnerWithIpOptions) {
    const Bytes q = build({.proto = kIpProtoUdp, .src = kWan, .dst = kRemote, .l4 = udp(kOutsidePort, 53), .ip_opt_words = 2});
    const Bytes ok = icmp_error_to(kRemote, kWan, head(q, 28 + 8));
    Flow in;
    ASSERT_TRUE(icmp_error_inner_flow(iph(ok), len16(ok), &in));
    EXPECT_EQ(in.sport, kOutsidePort);
    EXPECT_EQ(in.dport, 53);
    const Bytes short_quote = icmp_error_to(kRemote, kWan, head(q, 28 + 7));
    EXPECT_FALSE(icmp_error_inner_flow(iph(short_quote), len16(short_quote), &in));
}

TEST(IcmpErrorInnerFlow, Refusals) {
    Flow in;
    const Bytes q = sent_udp(kWan, kOutsidePort);
    // fewer than IP + 8 bytes quoted
    for (size_t n : {0, 19, 20, 27}) {
        const Bytes err = icmp_error_to(kRemote, kWan, head(q, n));
        EXPECT_FALSE(icmp_error_inner_flow(iph(err), len16(err), &in)) << n << " bytes quoted";
    }
    // exactly IP + 8 is enough
    const Bytes enough = icmp_error_to(kRemote, kWan, head(q, 28));
    EXPECT_TRUE(icmp_error_inner_flow(iph(enough), len16(enough), &in));
    // the length given counts, not the buffer
    EXPECT_FALSE(icmp_error_inner_flow(iph(enough), static_cast<uint16_t>(enough.size() - 1), &in));
    // an error about an error (RFC 5508 REQ-3: no translation of errors about errors)
    const Bytes inner_err = icmp_error_to(kWan, kRemote, head(q, 28));
    const Bytes err2 = icmp_error_to(kRemote, kWan, head(inner_err, 28), kIcmpDestUnreach, 1);
    EXPECT_FALSE(icmp_error_inner_flow(iph(err2), len16(err2), &in));
    for (uint8_t type : {kIcmpTimeExceeded, kIcmpParamProblem, kIcmpRedirect}) {
        Bytes e = inner_err;
        l4p(e)[0] = type;
        const Bytes err3 = icmp_error_to(kRemote, kWan, head(e, 28), kIcmpDestUnreach, 1);
        EXPECT_FALSE(icmp_error_inner_flow(iph(err3), len16(err3), &in)) << int(type);
    }
    // a non-initial fragment quoted
    Bytes frag = q;
    put16(&frag[6], static_cast<uint16_t>(kIpFlagMF | 10));
    iph(frag)->checksum = ipv4_header_checksum(iph(frag));
    const Bytes err4 = icmp_error_to(kRemote, kWan, head(frag, 28));
    EXPECT_FALSE(icmp_error_inner_flow(iph(err4), len16(err4), &in));
    // not IPv4 inside
    Bytes v6 = q;
    v6[0] = 0x65;
    const Bytes err5 = icmp_error_to(kRemote, kWan, head(v6, 28));
    EXPECT_FALSE(icmp_error_inner_flow(iph(err5), len16(err5), &in));
}

// ------------------------------------------------------------------ ICMP errors: translation

// Buffer slack after the datagram, to see that nothing writes past it.
constexpr size_t kGuard = 64;
constexpr uint8_t kGuardByte = 0xa5;

Bytes with_guard(const Bytes& b) { return cat(b, Bytes(kGuard, kGuardByte)); }
bool guard_intact(const Bytes& b, size_t len) {
    for (size_t i = len; i < b.size(); ++i)
        if (b[i] != kGuardByte) return false;
    return b.size() == len + kGuard;
}

// The checks every translated error gets, beyond the byte comparison:
// outer IP checksum, ICMP checksum and embedded IP checksum all recomputed.
void expect_error_checksums(const Bytes& pkt, size_t len) {
    const Bytes b = head(pkt, len);
    EXPECT_EQ(iph(b)->checksum.host(), ipv4_header_checksum(iph(b)).host()) << "outer IP checksum";
    EXPECT_EQ(stored_l4_checksum(b), full_l4_checksum(b)) << "ICMP checksum";
    const auto* inner = reinterpret_cast<const Ipv4Hdr*>(l4p(b) + 8);
    EXPECT_EQ(inner->checksum.host(), ipv4_header_checksum(inner).host()) << "embedded IP checksum";
}

// Dir::in: an error from the internet about a datagram the NAT sent for the
// client. `client_dgram` is what the client sent, `sent` what left wan.
void check_error_in(const Bytes& client_dgram, const Bytes& sent, size_t quote_len, uint32_t from, uint8_t type,
                    uint8_t code, uint16_t client_port, const char* what) {
    SCOPED_TRACE(what);
    const Bytes err = icmp_error_to(from, kWan, head(sent, quote_len), type, code, 0x00000578);
    Bytes pkt = with_guard(err);
    Flow outer;
    ASSERT_EQ(flow_of(iph(pkt), len16(err), &outer), FlowKind::icmp_error);
    Flow inner;
    ASSERT_TRUE(icmp_error_inner_flow(iph(pkt), len16(err), &inner));

    nat_rewrite_icmp_error(iph(pkt), len16(err), Dir::in, kClient, kClient, client_port);

    EXPECT_TRUE(guard_intact(pkt, err.size())) << "wrote past the datagram";
    const Bytes got = head(pkt, err.size());
    const Bytes want = icmp_error_to(from, kClient, head(client_dgram, quote_len), type, code, 0x00000578);
    EXPECT_EQ(got, want);
    EXPECT_EQ(iph(got)->dst.host(), kClient);
    EXPECT_EQ(iph(got)->src.host(), from);
    const auto* in = reinterpret_cast<const Ipv4Hdr*>(l4p(got) + 8);
    EXPECT_EQ(in->src.host(), kClient);
    EXPECT_EQ(in->dst.host(), kRemote);
    expect_error_checksums(pkt, err.size());
}

TEST(IcmpErrorRewrite, InboundUdpFullyQuoted) {
    const Bytes payload = {0xbe, 0xef, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1};
    const Bytes client = sent_udp(kClient, kClientPort, payload);
    const Bytes sent = sent_udp(kWan, kOutsidePort, payload);
    check_error_in(client, sent, sent.size(), kRemote, kIcmpDestUnreach, 3, kClientPort, "udp full");

    // and, named: the inner UDP checksum recomputed over the quoted datagram
    Bytes pkt = icmp_error_to(kRemote, kWan, sent);
    nat_rewrite_icmp_error(iph(pkt), len16(pkt), Dir::in, kClient, kClient, kClientPort);
    const Bytes inner(l4p(pkt) + 8, pkt.data() + pkt.size());
    EXPECT_EQ(get16(l4p(inner)), kClientPort);
    EXPECT_EQ(get16(l4p(inner) + 2), 53);
    EXPECT_EQ(stored_l4_checksum(inner), full_l4_checksum(inner));
    EXPECT_EQ(iph(inner)->id.host(), 0x0101);
    EXPECT_EQ(iph(inner)->ttl, 63);
}

TEST(IcmpErrorRewrite, InboundUdpPartlyQuoted) {
    std::mt19937 rng(9);
    const Bytes payload = random_bytes(rng, 1200);
    const Bytes client = sent_udp(kClient, kClientPort, payload);
    const Bytes sent = sent_udp(kWan, kOutsidePort, payload);
    for (size_t q : {28, 29, 48, 548})
        check_error_in(client, sent, q, kRemote, kIcmpDestUnreach, 3, kClientPort,
                       ("udp quote " + std::to_string(q)).c_str());
}

TEST(IcmpErrorRewrite, InboundUdpWithoutChecksum) {
    const Bytes client =
        build({.src = kClient, .l4 = udp(kClientPort, 53, Bytes(10, 1)), .id = 0x0101, .ttl = 63, .l4_checksum = false});
    const Bytes sent =
        build({.src = kWan, .l4 = udp(kOutsidePort, 53, Bytes(10, 1)), .id = 0x0101, .ttl = 63, .l4_checksum = false});
    check_error_in(client, sent, sent.size(), kRemote, kIcmpDestUnreach, 3, kClientPort, "udp no checksum");
    check_error_in(client, sent, 28, kRemote, kIcmpDestUnreach, 3, kClientPort, "udp no checksum, 8 bytes");
}

TEST(IcmpErrorRewrite, InboundTcp) {
    std::mt19937 rng(6);
    const Bytes payload = random_bytes(rng, 300);
    auto seg = [&](uint32_t src, uint16_t sport) {
        return build({.proto = kIpProtoTcp, .src = src, .l4 = tcp(sport, 443, kTcpAck | kTcpPsh, payload, 3), .id = 0x0202});
    };
    const Bytes client = seg(kClient, kClientPort), sent = seg(kWan, kOutsidePort);
    // 8 bytes of TCP: ports and sequence number only, no checksum present
    check_error_in(client, sent, 28, kRemote, kIcmpDestUnreach, 4 /* frag needed */, kClientPort, "tcp 8 bytes");
    check_error_in(client, sent, 36, kRemoteRouter, kIcmpTimeExceeded, 0, kClientPort, "tcp 16 bytes");
    // the checksum is quoted from 18 bytes on
    check_error_in(client, sent, 38, kRemote, kIcmpDestUnreach, 4, kClientPort, "tcp 18 bytes");
    check_error_in(client, sent, 40, kRemote, kIcmpDestUnreach, 4, kClientPort, "tcp header");
    check_error_in(client, sent, 52, kRemote, kIcmpDestUnreach, 4, kClientPort, "tcp header with options");
    check_error_in(client, sent, sent.size(), kRemote, kIcmpParamProblem, 0, kClientPort, "tcp full");

    // named: with the full header quoted, the TCP checksum is that of the
    // datagram the client sent (not all of it is quoted)
    Bytes pkt = icmp_error_to(kRemote, kWan, head(sent, 60));
    nat_rewrite_icmp_error(iph(pkt), len16(pkt), Dir::in, kClient, kClient, kClientPort);
    const uint8_t* itcp = l4p(pkt) + 8 + 20;
    EXPECT_EQ(get16(itcp), kClientPort);
    EXPECT_EQ(get16(itcp + 2), 443);
    EXPECT_EQ(get32(itcp + 4), 0x11223344u);
    EXPECT_EQ(get16(itcp + 16), stored_l4_checksum(client));
    EXPECT_EQ(stored_l4_checksum(client), full_l4_checksum(client));
}

TEST(IcmpErrorRewrite, InboundIcmpEcho) {
    const Bytes data(24, 0x42);
    const uint16_t client_id = 0x1234;
    const Bytes client = build({.proto = kIpProtoIcmp, .src = kClient, .l4 = icmp_echo(kIcmpEchoRequest, client_id, 3, data), .id = 9});
    const Bytes sent = build({.proto = kIpProtoIcmp, .src = kWan, .l4 = icmp_echo(kIcmpEchoRequest, kOutsidePort, 3, data), .id = 9});
    check_error_in(client, sent, sent.size(), kRemoteRouter, kIcmpTimeExceeded, 0, client_id, "echo full");
    check_error_in(client, sent, 28, kRemote, kIcmpDestUnreach, 1, client_id, "echo 8 bytes");

    Bytes pkt = icmp_error_to(kRemoteRouter, kWan, sent, kIcmpTimeExceeded, 0);
    nat_rewrite_icmp_error(iph(pkt), len16(pkt), Dir::in, kClient, kClient, client_id);
    const Bytes inner(l4p(pkt) + 8, pkt.data() + pkt.size());
    EXPECT_EQ(get16(l4p(inner) + 4), client_id);
    EXPECT_EQ(get16(l4p(inner) + 6), 3);
    EXPECT_EQ(stored_l4_checksum(inner), full_l4_checksum(inner)) << "embedded ICMP checksum";
}

TEST(IcmpErrorRewrite, InboundWithOuterIpOptions) {
    const Bytes client = sent_udp(kClient, kClientPort), sent = sent_udp(kWan, kOutsidePort);
    Spec e{.proto = kIpProtoIcmp, .src = kRemote, .dst = kWan, .l4 = icmp_msg(kIcmpDestUnreach, 3, head(sent, 28)),
           .ip_opt_words = 3};
    Bytes pkt = build(e);
    nat_rewrite_icmp_error(iph(pkt), len16(pkt), Dir::in, kClient, kClient, kClientPort);
    e.dst = kClient;
    e.l4 = icmp_msg(kIcmpDestUnreach, 3, head(client, 28));
    EXPECT_EQ(pkt, build(e));
}

// Dir::out: a LAN client's error about a datagram it received from the
// internet through the NAT; the remote must see it about what it sent.
void check_error_out(const Bytes& remote_sent, const Bytes& delivered, size_t quote_len, const char* what) {
    SCOPED_TRACE(what);
    const Bytes err = build({.proto = kIpProtoIcmp, .src = kClient, .dst = kRemote,
                             .l4 = icmp_msg(kIcmpDestUnreach, 3, head(delivered, quote_len)), .id = 0x3333});
    Bytes pkt = with_guard(err);
    Flow inner;
    ASSERT_TRUE(icmp_error_inner_flow(iph(pkt), len16(err), &inner));
    EXPECT_EQ(inner.dst, kClient);

    nat_rewrite_icmp_error(iph(pkt), len16(err), Dir::out, kWan, kWan, kOutsidePort);

    EXPECT_TRUE(guard_intact(pkt, err.size()));
    const Bytes got = head(pkt, err.size());
    const Bytes want = build({.proto = kIpProtoIcmp, .src = kWan, .dst = kRemote,
                              .l4 = icmp_msg(kIcmpDestUnreach, 3, head(remote_sent, quote_len)), .id = 0x3333});
    EXPECT_EQ(got, want);
    EXPECT_EQ(iph(got)->src.host(), kWan);
    EXPECT_EQ(iph(got)->dst.host(), kRemote);
    const uint8_t* in = l4p(got) + 8;
    EXPECT_EQ(get32(in + 12), kRemote);  // embedded source untouched
    EXPECT_EQ(get32(in + 16), kWan);     // embedded destination: back to wan-ip
    EXPECT_EQ(get16(in + 20 + 2), kOutsidePort);
    expect_error_checksums(pkt, err.size());
}

TEST(IcmpErrorRewrite, OutboundAboutInboundUdp) {
    const Bytes payload(33, 0x5a);
    const Bytes remote_sent = build({.src = kRemote, .dst = kWan, .l4 = udp(53, kOutsidePort, payload), .id = 0x4444});
    const Bytes delivered = build({.src = kRemote, .dst = kClient, .l4 = udp(53, kClientPort, payload), .id = 0x4444});
    check_error_out(remote_sent, delivered, delivered.size(), "udp full");
    check_error_out(remote_sent, delivered, 28, "udp 8 bytes");
    Bytes pkt = build({.proto = kIpProtoIcmp, .src = kClient, .dst = kRemote,
                       .l4 = icmp_msg(kIcmpDestUnreach, 3, delivered)});
    nat_rewrite_icmp_error(iph(pkt), len16(pkt), Dir::out, kWan, kWan, kOutsidePort);
    const Bytes inner(l4p(pkt) + 8, pkt.data() + pkt.size());
    EXPECT_EQ(get16(l4p(inner)), 53);
    EXPECT_EQ(get16(l4p(inner) + 2), kOutsidePort);
    EXPECT_EQ(stored_l4_checksum(inner), full_l4_checksum(inner));
}

TEST(IcmpErrorRewrite, OutboundAboutInboundTcp) {
    const Bytes remote_sent =
        build({.proto = kIpProtoTcp, .src = kRemote, .dst = kWan, .l4 = tcp(443, kOutsidePort, kTcpAck, Bytes(100, 1))});
    const Bytes delivered =
        build({.proto = kIpProtoTcp, .src = kRemote, .dst = kClient, .l4 = tcp(443, kClientPort, kTcpAck, Bytes(100, 1))});
    check_error_out(remote_sent, delivered, 28, "tcp 8 bytes");
    check_error_out(remote_sent, delivered, 40, "tcp header");
    check_error_out(remote_sent, delivered, delivered.size(), "tcp full");
}

TEST(IcmpErrorRewrite, RandomInbound) {
    Random r(31337);
    for (int i = 0; i < 500; ++i) {
        const uint8_t proto = r.u(0, 2) == 0 ? kIpProtoTcp : (r.u(0, 1) ? kIpProtoUdp : kIpProtoIcmp);
        const uint32_t client = r.lan_host();
        const uint32_t remote = r.internet_host();
        const uint16_t cport = r.port();
        const uint16_t outside = static_cast<uint16_t>(r.u(61000, 65535));
        const uint16_t rport = proto == kIpProtoIcmp ? 0 : r.port();
        Spec c = r.spec(proto, client, remote, cport, rport);
        c.frag = 0;
        Spec s = c;
        s.src = kWan;
        set_port(s, Dir::out, outside);
        const Bytes client_dgram = build(c), sent = build(s);
        const size_t hl = iph(sent)->header_len();
        // quotes: 8 bytes, the whole transport header, all of it, or anything between
        size_t q;
        switch (r.u(0, 3)) {
        case 0: q = hl + 8; break;
        case 1: q = hl + (proto == kIpProtoTcp ? (l4p(sent)[12] >> 4) * 4u : 8u); break;
        case 2: q = sent.size(); break;
        default: q = r.u(static_cast<uint32_t>(hl + 8), static_cast<uint32_t>(sent.size())); break;
        }
        if (proto == kIpProtoTcp && q == hl + 17) q = hl + 18;  // half a checksum quoted: nothing sensible to expect
        q = std::min(q, sent.size());
        const Bytes err = icmp_error_to(remote, kWan, head(sent, q));
        Bytes pkt = with_guard(err);
        Flow inner;
        ASSERT_TRUE(icmp_error_inner_flow(iph(pkt), len16(err), &inner)) << i;
        ASSERT_EQ(inner.src, kWan);
        nat_rewrite_icmp_error(iph(pkt), len16(err), Dir::in, client, client, cport);
        ASSERT_TRUE(guard_intact(pkt, err.size())) << "round " << i;
        ASSERT_EQ(head(pkt, err.size()), icmp_error_to(remote, client, head(client_dgram, q)))
            << "round " << i << " proto " << int(proto) << " quote " << q;
    }
}

}  // namespace
}  // namespace ipshare
