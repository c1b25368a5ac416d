// NAT header work (nat_rewrite.h): nat_delta and nat_rewrite, checked
// against datagrams built field by field (raw_datagram.h), whose checksums
// are computed in full.
//
// The main check of every rewrite: the translated datagram must be byte for
// byte the datagram that building it from scratch with the new addresses and
// ports gives, which compares every checksum with a full recomputation and
// every other byte with the original.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <random>

#include "checksum.h"
#include "headers.h"
#include "nat_rewrite.h"
#include "raw_datagram.h"

namespace ipshare {
namespace {

using namespace test::raw;

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

}  // namespace
}  // namespace ipshare
