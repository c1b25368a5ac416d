// NAT header work (nat_rewrite.h), reading a datagram: flow_of (which flow
// it is, or why it has none: ICMP error, fragment, truncated) and
// icmp_checksum_ok, over datagrams built field by field (raw_datagram.h).
#include <gtest/gtest.h>

#include <cstdint>

#include "headers.h"
#include "nat_rewrite.h"
#include "raw_datagram.h"

namespace ipshare {
namespace {

using namespace test::raw;

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

}  // namespace
}  // namespace ipshare
