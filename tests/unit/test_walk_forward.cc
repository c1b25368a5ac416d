// The whole walk of process_burst() over real mbufs from a real mempool,
// received from and sent to real ethdev ports backed by rte_rings (main in
// eal_main.cc; the Walk fixture in walk_fixture.h): datagrams forwarded with
// their TTL and Ethernet addresses rewritten and nothing else, the
// neighbour answers the worker caches, frames the control thread injects,
// and a full TX ring.
#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "arp.h"
#include "burst.h"
#include "packet_builder.h"
#include "walk_fixture.h"
#include "worker.h"

namespace ipshare {
namespace {

using namespace test;

// ---------------------------------------------------------------- forwarding

TEST_F(Walk, EchoFromTheInternetReachesTheServer) {
    const Bytes in = echo_request(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 50, 56, 0x1234, 7);
    receive(Zone::wan, in);
    const auto dmz = sent(Zone::dmz);
    ASSERT_EQ(dmz.size(), 1u);
    expect_routed(in, dmz[0], kServerMac, mac_of(Zone::dmz));
    EXPECT_EQ(ip_of(dmz[0])->ttl, 49);
    EXPECT_EQ(dotted(ip_of(dmz[0])->src.host()), "198.51.100.20");
    EXPECT_EQ(dotted(ip_of(dmz[0])->dst.host()), "203.0.113.10");
    EXPECT_EQ(icmp_of(dmz[0])->type, kIcmpEchoRequest);
    EXPECT_TRUE(icmp_checksum_valid(dmz[0]));
    EXPECT_TRUE(sent(Zone::wan).empty());
    EXPECT_TRUE(sent(Zone::lan).empty());
    EXPECT_EQ(counters_.port[idx(Zone::wan)].rx.get(), 1u);
    EXPECT_EQ(counters_.port[idx(Zone::dmz)].tx.get(), 1u);
    EXPECT_EQ(total_drops(), 0u);
}

TEST_F(Walk, ServerToTheInternetLeavesOnWanUnchanged) {
    const Bytes in = PacketBuilder()
                         .eth(mac_of(Zone::dmz), kServerMac)
                         .ipv4({.src = kWanIp, .dst = kInternetHost, .proto = kIpProtoTcp, .ttl = 64})
                         .tcp(22, 50000, kTcpAck)
                         .payload(pattern(100))
                         .build();
    receive(Zone::dmz, in);
    const auto wan = sent(Zone::wan);
    ASSERT_EQ(wan.size(), 1u);
    expect_routed(in, wan[0], kGatewayMac, mac_of(Zone::wan));
    EXPECT_EQ(dotted(ip_of(wan[0])->src.host()), "203.0.113.10");  // no NAT for the server
    EXPECT_TRUE(sent(Zone::dmz).empty());
    EXPECT_TRUE(sent(Zone::lan).empty());
    EXPECT_EQ(total_drops(), 0u);
}

// The worker caches neighbour answers (neigh_cache.h): a next hop's new MAC
// is used from the next burst on, and a removed one is never used again.
TEST_F(Walk, ANeighboursNewMacIsUsedFromTheNextBurst) {
    const Bytes in = echo_request(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 50, 56, 0x1234, 7);
    receive(Zone::wan, in);
    auto dmz = sent(Zone::dmz);
    ASSERT_EQ(dmz.size(), 1u);
    EXPECT_EQ(mac_text(eth_of(dmz[0])->dst), mac_text(kServerMac));

    const Mac moved = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x0b};
    ASSERT_TRUE(neigh_->set(Zone::dmz, kWanIp, mac_to_word(moved.data())));
    receive(Zone::wan, std::vector<Bytes>{in, in});
    dmz = sent(Zone::dmz);
    ASSERT_EQ(dmz.size(), 2u);
    for (const Bytes& f : dmz) EXPECT_EQ(mac_text(eth_of(f)->dst), mac_text(moved)) << "the old MAC was used";

    ASSERT_TRUE(neigh_->remove(Zone::dmz, kWanIp));
    receive(Zone::wan, in);
    EXPECT_TRUE(sent(Zone::dmz).empty()) << "sent to a removed neighbour";
    EXPECT_EQ(rte_ring_count(pending_), 1u) << "not waiting for ARP";
    free_ring_mbufs(pending_);
    EXPECT_EQ(total_drops(), 0u);
}

TEST_F(Walk, EthernetPaddingIsNotForwarded) {
    const Bytes in = PacketBuilder()
                         .eth(mac_of(Zone::wan), kGatewayMac)
                         .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoIcmp, .ttl = 9})
                         .icmp(kIcmpEchoRequest, 0, 1, 1)
                         .pad_to(60)
                         .build();
    ASSERT_EQ(in.size(), 60u);
    receive(Zone::wan, in);
    const auto dmz = sent(Zone::dmz);
    ASSERT_EQ(dmz.size(), 1u);
    EXPECT_EQ(dmz[0].size(), 14u + 28u);
    expect_routed(in, dmz[0], kServerMac, mac_of(Zone::dmz));
}

TEST_F(Walk, FullBurstToTheServer) {
    std::vector<Bytes> in;
    for (uint16_t i = 0; i < kBurst; ++i)
        in.push_back(echo_request(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 64, i, 0x77, i));
    receive(Zone::wan, in);
    const auto dmz = sent(Zone::dmz);
    ASSERT_EQ(dmz.size(), kBurst);
    for (uint16_t i = 0; i < kBurst; ++i) {
        expect_routed(in[i], dmz[i], kServerMac, mac_of(Zone::dmz));
        EXPECT_EQ(icmp_of(dmz[i])->seq.host(), i);  // order kept
    }
    EXPECT_EQ(counters_.port[idx(Zone::dmz)].tx.get(), kBurst);
}

// ---------------------------------------------------------------- transmit

TEST_F(Walk, InjectedFramesLeaveOnTheirPort) {
    // What the control thread sends (an ARP request, a released frame) goes
    // out the port named in MbufMeta.
    Bytes req(kArpFrameLen);
    ASSERT_EQ(arp_build_request(req.data(), mac_of(Zone::lan).data(), kLanIp, kClient1), kArpFrameLen);
    rte_mbuf* m = mbuf_of(req);
    ASSERT_NE(m, nullptr);
    static_cast<MbufMeta*>(rte_mbuf_to_priv(m))->zone = static_cast<uint8_t>(Zone::lan);
    ASSERT_EQ(rte_ring_enqueue(inject_, m), 0);
    drain_inject(w_);
    w_.tx.flush_all(counters_);
    const auto lan = sent(Zone::lan);
    ASSERT_EQ(lan.size(), 1u);
    EXPECT_TRUE(lan[0] == req);
    EXPECT_TRUE(sent(Zone::wan).empty());
    EXPECT_TRUE(sent(Zone::dmz).empty());
    EXPECT_EQ(counters_.port[idx(Zone::lan)].tx.get(), 1u);
}

TEST_F(Walk, TransmitRingFullIsCountedAndFreed) {
    // Leave one free slot in the dmz TX ring, then forward two datagrams.
    for (unsigned i = 0; i + 1 < rte_ring_get_capacity(tx_[idx(Zone::dmz)]); ++i) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool_);
        ASSERT_NE(m, nullptr);
        ASSERT_EQ(rte_ring_enqueue(tx_[idx(Zone::dmz)], m), 0);
    }
    const Bytes a = echo_request(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 64, 8, 1, 1);
    const Bytes b = echo_request(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 64, 8, 1, 2);
    receive(Zone::wan, {a, b});
    const auto dmz = sent(Zone::dmz);
    ASSERT_EQ(dmz.size(), rte_ring_get_capacity(tx_[idx(Zone::dmz)]));
    EXPECT_EQ(icmp_of(dmz.back())->seq.host(), 1);  // the first got the last slot
    EXPECT_EQ(drops(Drop::tx_full), 1u);
    EXPECT_EQ(counters_.port[idx(Zone::dmz)].tx.get(), 1u);
    EXPECT_EQ(counters_.port[idx(Zone::dmz)].dropped.get(), 1u);
}

}  // namespace
}  // namespace ipshare
