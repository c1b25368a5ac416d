// The whole walk of process_burst() over ring-backed ports (main in
// eal_main.cc; the Walk fixture in walk_fixture.h) for the ICMP the router
// originates: time exceeded (rate-limited, never about an ICMP error),
// fragmentation needed for a DF datagram over the egress MTU, and echo
// replies from lan-ip.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <tuple>

#include <rte_cycles.h>

#include "packet_builder.h"
#include "walk_fixture.h"
#include "worker.h"

namespace ipshare {
namespace {

using namespace test;

// ---------------------------------------------------------------- ICMP from the router

TEST_F(Walk, TtlOneFromTheInternetGetsTimeExceeded) {
    const Bytes in = udp_frame(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 1, 40);
    receive(Zone::wan, in);
    const auto wan = sent(Zone::wan);
    ASSERT_EQ(wan.size(), 1u);
    const Bytes& e = wan[0];
    EXPECT_EQ(mac_text(eth_of(e)->dst), mac_text(kGatewayMac));
    EXPECT_EQ(mac_text(eth_of(e)->src), mac_text(mac_of(Zone::wan)));
    EXPECT_EQ(eth_of(e)->type.host(), kEtherTypeIpv4);
    EXPECT_EQ(dotted(ip_of(e)->src.host()), "203.0.113.10");
    EXPECT_EQ(dotted(ip_of(e)->dst.host()), "198.51.100.20");
    EXPECT_EQ(ip_of(e)->proto, kIpProtoIcmp);
    EXPECT_EQ(ip_of(e)->ttl, 64);
    EXPECT_TRUE(ip_checksum_valid(e));
    EXPECT_EQ(icmp_of(e)->type, kIcmpTimeExceeded);
    EXPECT_EQ(icmp_of(e)->code, kIcmpCodeTtlExceeded);
    EXPECT_TRUE(icmp_checksum_valid(e));
    const Bytes orig = datagram_of(in);
    ASSERT_EQ(e.size(), 14 + 28 + orig.size());
    EXPECT_EQ(ip_of(e)->total_length.host(), 28 + orig.size());
    EXPECT_TRUE(std::equal(orig.begin(), orig.end(), e.begin() + 42)) << "quote differs";
    EXPECT_TRUE(sent(Zone::dmz).empty());
    EXPECT_TRUE(sent(Zone::lan).empty());
    EXPECT_EQ(drops(Drop::ttl_exceeded), 1u);
    EXPECT_EQ(counters_.icmp_sent.get(), 1u);
}

TEST_F(Walk, TtlOneFromTheLanGetsTimeExceededFromLanIp) {
    const Bytes in = udp_frame(mac_of(Zone::lan), kClient1Mac, kClient1, kWanIp, 1, 12);
    receive(Zone::lan, in);
    const auto lan = sent(Zone::lan);
    ASSERT_EQ(lan.size(), 1u);
    EXPECT_EQ(mac_text(eth_of(lan[0])->dst), mac_text(kClient1Mac));
    EXPECT_EQ(mac_text(eth_of(lan[0])->src), mac_text(mac_of(Zone::lan)));
    EXPECT_EQ(dotted(ip_of(lan[0])->src.host()), "192.168.1.1");
    EXPECT_EQ(dotted(ip_of(lan[0])->dst.host()), "192.168.1.11");
    EXPECT_EQ(icmp_of(lan[0])->type, kIcmpTimeExceeded);
    EXPECT_TRUE(ip_checksum_valid(lan[0]));
    EXPECT_TRUE(icmp_checksum_valid(lan[0]));
    EXPECT_TRUE(sent(Zone::dmz).empty());
}

TEST_F(Walk, TimeExceededIsRateLimited) {
    w_.icmp_errors = TokenBucket(1, 1, rte_get_tsc_hz());  // one, then one a second
    const Bytes a = udp_frame(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 1, 8);
    const Bytes b = udp_frame(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 1, 9);
    receive(Zone::wan, {a, b});
    EXPECT_EQ(sent(Zone::wan).size(), 1u);
    EXPECT_EQ(drops(Drop::ttl_exceeded), 1u);
    EXPECT_EQ(drops(Drop::ttl_exceeded_silent), 1u);
    EXPECT_EQ(counters_.icmp_sent.get(), 1u);
}

// Path MTU discovery (RFC 1191): a DF datagram larger than the MTU of the
// port it would leave by is answered with "fragmentation needed" carrying
// that MTU, quoting the datagram as its sender sent it (before NAT).
TEST_F(Walk, DfLargerThanTheOutgoingMtuGetsFragmentationNeeded) {
    w_.ports[idx(Zone::wan)].mtu = 1300;
    const auto df_udp = [&](Zone in, const Mac& src_mac, uint32_t src, size_t ip_len) {
        Bytes f = udp_frame(mac_of(in), src_mac, src, kInternetHost, 64, ip_len - 28);
        ip_of(f)->frag = be16::from_host(kIpFlagDF);
        refresh_ip_checksum(f);
        return f;
    };
    for (const auto& [in, mac, src, from] : {std::tuple{Zone::lan, kClient1Mac, kClient1, kLanIp},
                                             std::tuple{Zone::dmz, kServerMac, kWanIp, kLanIp}}) {
        const Bytes big = df_udp(in, mac, src, 1301);
        receive(in, big);
        EXPECT_TRUE(sent(Zone::wan).empty()) << "a DF datagram over the MTU left on wan";
        const auto back = sent(in);
        ASSERT_EQ(back.size(), 1u) << kZoneNames[idx(in)];
        // The quote: the datagram as sent, TTL not yet decremented, not translated.
        expect_fragmentation_needed(back[0], big, mac, from, 1300);
        // One byte less fits and leaves on wan.
        receive(in, df_udp(in, mac, src, 1300));
        const auto wan = sent(Zone::wan);
        ASSERT_EQ(wan.size(), 1u) << kZoneNames[idx(in)];
        EXPECT_EQ(ip_of(wan[0])->total_length.host(), 1300);
        EXPECT_EQ(dotted(ip_of(wan[0])->src.host()), dotted(kWanIp));
    }
    EXPECT_EQ(drops(Drop::mtu_exceeded), 2u);
    EXPECT_EQ(counters_.icmp_sent.get(), 2u);
}

TEST_F(Walk, NoTimeExceededAboutAnIcmpError) {
    const Bytes in = PacketBuilder()
                         .eth(mac_of(Zone::wan), kGatewayMac)
                         .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoIcmp, .ttl = 1})
                         .icmp(kIcmpDestUnreach, 3)
                         .payload(pattern(28))
                         .build();
    receive(Zone::wan, in);
    expect_nothing_sent();
    EXPECT_EQ(drops(Drop::ttl_exceeded_silent), 1u);
    EXPECT_EQ(counters_.icmp_sent.get(), 0u);
}

TEST_F(Walk, EchoToLanIpIsAnsweredOnLan) {
    const Bytes in = echo_request(mac_of(Zone::lan), kClient1Mac, kClient1, kLanIp, 64, 56, 0xabcd, 3);
    receive(Zone::lan, in);
    const auto lan = sent(Zone::lan);
    ASSERT_EQ(lan.size(), 1u);
    const Bytes& r = lan[0];
    EXPECT_EQ(mac_text(eth_of(r)->dst), mac_text(kClient1Mac));
    EXPECT_EQ(mac_text(eth_of(r)->src), mac_text(mac_of(Zone::lan)));
    EXPECT_EQ(dotted(ip_of(r)->src.host()), "192.168.1.1");
    EXPECT_EQ(dotted(ip_of(r)->dst.host()), "192.168.1.11");
    EXPECT_EQ(ip_of(r)->ttl, 64);
    EXPECT_TRUE(ip_checksum_valid(r));
    EXPECT_EQ(icmp_of(r)->type, kIcmpEchoReply);
    EXPECT_EQ(icmp_of(r)->code, 0);
    EXPECT_EQ(icmp_of(r)->id.host(), 0xabcd);
    EXPECT_EQ(icmp_of(r)->seq.host(), 3);
    EXPECT_TRUE(icmp_checksum_valid(r));
    ASSERT_EQ(r.size(), in.size());
    EXPECT_TRUE(std::equal(in.begin() + 42, in.end(), r.begin() + 42)) << "echo data changed";
    EXPECT_TRUE(sent(Zone::wan).empty());
    EXPECT_TRUE(sent(Zone::dmz).empty());
    EXPECT_EQ(counters_.icmp_sent.get(), 1u);
    EXPECT_EQ(total_drops(), 0u);
}

TEST_F(Walk, EchoToLanIpFromTheServerIsAnsweredOnDmz) {
    const Bytes in = echo_request(mac_of(Zone::dmz), kServerMac, kWanIp, kLanIp, 64, 8);
    receive(Zone::dmz, in);
    const auto dmz = sent(Zone::dmz);
    ASSERT_EQ(dmz.size(), 1u);
    EXPECT_EQ(mac_text(eth_of(dmz[0])->dst), mac_text(kServerMac));
    EXPECT_EQ(dotted(ip_of(dmz[0])->dst.host()), "203.0.113.10");
    EXPECT_EQ(icmp_of(dmz[0])->type, kIcmpEchoReply);
}

TEST_F(Walk, EchoWithBadChecksumToLanIpIsDropped) {
    Bytes in = echo_request(mac_of(Zone::lan), kClient1Mac, kClient1, kLanIp);
    in.back() ^= 1;
    receive(Zone::lan, in);
    expect_nothing_sent();
    EXPECT_EQ(drops(Drop::icmp_bad_checksum), 1u);
}

TEST_F(Walk, UdpToLanIpIsDropped) {
    receive(Zone::lan, udp_frame(mac_of(Zone::lan), kClient1Mac, kClient1, kLanIp));
    expect_nothing_sent();
    EXPECT_EQ(drops(Drop::to_router_unhandled), 1u);
}

}  // namespace
}  // namespace ipshare
