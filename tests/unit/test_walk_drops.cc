// The whole walk of process_burst() over ring-backed ports (main in
// eal_main.cc; the Walk fixture in walk_fixture.h) for what it drops: a
// spoofed source, a frame for another MAC, a chained mbuf, and a mixed burst
// on wan where each drop is counted once and the rest goes through.
#include <gtest/gtest.h>

#include <rte_mbuf.h>
#include <rte_ring_elem.h>

#include "packet_builder.h"
#include "walk_fixture.h"
#include "worker.h"

namespace ipshare {
namespace {

using namespace test;

// ---------------------------------------------------------------- drops

TEST_F(Walk, SpoofedLanSourceLeavesNothing) {
    receive(Zone::lan, echo_request(mac_of(Zone::lan), kClient1Mac, ipv4(10, 99, 0, 1), kInternetHost));
    expect_nothing_sent();
    EXPECT_EQ(rte_ring_count(pending_), 0u);
    EXPECT_EQ(drops(Drop::spoofed_source), 1u);
    EXPECT_EQ(counters_.port[idx(Zone::lan)].dropped.get(), 1u);
    EXPECT_EQ(total_drops(), 1u);
}

TEST_F(Walk, FrameForAnotherMacIsDropped) {
    receive(Zone::wan, echo_request(kServerMac, kGatewayMac, kInternetHost, kWanIp));
    expect_nothing_sent();
    EXPECT_EQ(drops(Drop::l2_not_for_us), 1u);
}

TEST_F(Walk, ChainedFrameIsDroppedAndFreed) {
    const Bytes f = echo_request(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 64, 200);
    rte_mbuf* head = mbuf_of(Bytes(f.begin(), f.begin() + 100));
    rte_mbuf* tail = mbuf_of(Bytes(f.begin() + 100, f.end()));
    ASSERT_TRUE(head && tail);
    ASSERT_EQ(rte_pktmbuf_chain(head, tail), 0);
    receive_mbufs(Zone::wan, {head});
    expect_nothing_sent();
    EXPECT_EQ(drops(Drop::frame_chained), 1u);
}

TEST_F(Walk, MixedBurstOnWan) {
    const Bytes echo = echo_request(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 20);
    const Bytes who_has = arp_frame(kBroadcastMac, kArpOpRequest, kGatewayMac, kGateway, kZeroMac, kWanIp);
    const Bytes ttl1 = udp_frame(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 1);
    const Bytes other_mac = echo_request(kServerMac, kGatewayMac, kInternetHost, kWanIp);
    const Bytes spoofed = udp_frame(mac_of(Zone::wan), kGatewayMac, ipv4(10, 1, 2, 3), kWanIp);
    const Bytes not_ours = udp_frame(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanHost);
    Bytes bad_sum = udp_frame(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp);
    ip_of(bad_sum)->checksum = be16::from_host(static_cast<uint16_t>(ip_of(bad_sum)->checksum.host() + 1));
    const Bytes ipv6 = PacketBuilder().eth(mac_of(Zone::wan), kGatewayMac, 0x86dd).payload(pattern(40)).build();
    const Bytes echo2 = echo_request(mac_of(Zone::wan), kGatewayMac, kWanHost, kWanIp, 7);

    receive(Zone::wan, {echo, who_has, ttl1, other_mac, spoofed, not_ours, bad_sum, ipv6, echo2});

    const auto dmz = sent(Zone::dmz);
    ASSERT_EQ(dmz.size(), 2u);
    expect_routed(echo, dmz[0], kServerMac, mac_of(Zone::dmz));
    expect_routed(echo2, dmz[1], kServerMac, mac_of(Zone::dmz));
    const auto wan = sent(Zone::wan);
    ASSERT_EQ(wan.size(), 2u);
    EXPECT_EQ(eth_of(wan[0])->type.host(), kEtherTypeArp);
    EXPECT_EQ(arp_of(wan[0])->op.host(), kArpOpReply);
    EXPECT_EQ(icmp_of(wan[1])->type, kIcmpTimeExceeded);
    EXPECT_TRUE(sent(Zone::lan).empty());

    EXPECT_EQ(counters_.port[idx(Zone::wan)].rx.get(), 9u);
    EXPECT_EQ(drops(Drop::l2_not_for_us), 1u);
    EXPECT_EQ(drops(Drop::spoofed_source), 1u);
    EXPECT_EQ(drops(Drop::wan_not_for_us), 1u);
    EXPECT_EQ(drops(Drop::ip_bad_checksum), 1u);
    EXPECT_EQ(drops(Drop::ethertype_unsupported), 1u);
    EXPECT_EQ(drops(Drop::ttl_exceeded), 1u);
    EXPECT_EQ(total_drops(), 6u);
    EXPECT_EQ(counters_.port[idx(Zone::wan)].dropped.get(), 6u);
    EXPECT_EQ(counters_.port[idx(Zone::wan)].tx.get(), 2u);
    EXPECT_EQ(counters_.port[idx(Zone::dmz)].tx.get(), 2u);
    ArpLearnMsg msg{};
    while (rte_ring_dequeue_elem(learn_, &msg, sizeof msg) == 0) {
    }
}

}  // namespace
}  // namespace ipshare
