// NAT header work (nat_rewrite.h) on ICMP errors: icmp_error_inner_flow,
// the flow of the datagram an error quotes, and what it refuses (too short
// a quote, an error about an error, a non-initial fragment, not IPv4).
// Datagrams built field by field (raw_datagram.h).
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>

#include "checksum.h"
#include "headers.h"
#include "nat_rewrite.h"
#include "raw_datagram.h"

namespace ipshare {
namespace {

using namespace test::raw;

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

}  // namespace
}  // namespace ipshare
