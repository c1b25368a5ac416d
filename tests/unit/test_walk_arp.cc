// The whole walk of process_burst() over ring-backed ports (main in
// eal_main.cc; the Walk fixture in walk_fixture.h) for ARP: the who-has
// requests the router answers and what it tells the control thread to
// learn, and datagrams whose next hop is not resolved yet, which wait in the
// pending ring.
#include <gtest/gtest.h>

#include <cstdint>

#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "burst.h"
#include "packet_builder.h"
#include "walk_fixture.h"
#include "worker.h"

namespace ipshare {
namespace {

using namespace test;

// ---------------------------------------------------------------- ARP

TEST_F(Walk, WhoHasWanIpOnWanIsAnswered) {
    const Bytes in = arp_frame(kBroadcastMac, kArpOpRequest, kGatewayMac, kGateway, kZeroMac, kWanIp);
    receive(Zone::wan, in);
    const auto wan = sent(Zone::wan);
    ASSERT_EQ(wan.size(), 1u);
    const Bytes& r = wan[0];
    EXPECT_EQ(mac_text(eth_of(r)->dst), mac_text(kGatewayMac));
    EXPECT_EQ(mac_text(eth_of(r)->src), mac_text(mac_of(Zone::wan)));
    EXPECT_EQ(eth_of(r)->type.host(), kEtherTypeArp);
    EXPECT_EQ(arp_of(r)->op.host(), kArpOpReply);
    EXPECT_EQ(mac_text(arp_of(r)->sha), mac_text(mac_of(Zone::wan)));
    EXPECT_EQ(dotted(arp_of(r)->spa.host()), "203.0.113.10");
    EXPECT_EQ(mac_text(arp_of(r)->tha), mac_text(kGatewayMac));
    EXPECT_EQ(dotted(arp_of(r)->tpa.host()), "203.0.113.1");
    EXPECT_TRUE(sent(Zone::dmz).empty());
    EXPECT_TRUE(sent(Zone::lan).empty());
    EXPECT_EQ(counters_.arp_replies_sent.get(), 1u);

    // A request the router answered teaches it the sender: one message to
    // the control thread, "create".
    ArpLearnMsg msg{};
    ASSERT_EQ(rte_ring_dequeue_elem(learn_, &msg, sizeof msg), 0);
    EXPECT_EQ(dotted(msg.ip), "203.0.113.1");
    EXPECT_EQ(msg.zone, idx(Zone::wan));
    EXPECT_EQ(msg.create, 1);
    EXPECT_EQ(mac_text(msg.mac), mac_text(kGatewayMac));
    EXPECT_NE(rte_ring_dequeue_elem(learn_, &msg, sizeof msg), 0);
}

TEST_F(Walk, WhoHasAnotherAddressOnWanIsNotAnswered) {
    const Bytes in = arp_frame(kBroadcastMac, kArpOpRequest, kGatewayMac, kGateway, kZeroMac, kWanHost);
    receive(Zone::wan, in);
    expect_nothing_sent();
    EXPECT_EQ(counters_.arp_replies_sent.get(), 0u);
    // The gateway's entry is known and unchanged: nothing to tell the control thread.
    EXPECT_EQ(rte_ring_count(learn_), 0u);
}

TEST_F(Walk, ServerAskingForTheGatewayIsAnsweredOnDmz) {
    const Bytes in = arp_frame(kBroadcastMac, kArpOpRequest, kServerMac, kWanIp, kZeroMac, kGateway);
    receive(Zone::dmz, in);
    const auto dmz = sent(Zone::dmz);
    ASSERT_EQ(dmz.size(), 1u);
    EXPECT_EQ(mac_text(eth_of(dmz[0])->dst), mac_text(kServerMac));
    EXPECT_EQ(mac_text(arp_of(dmz[0])->sha), mac_text(mac_of(Zone::dmz)));
    EXPECT_EQ(dotted(arp_of(dmz[0])->spa.host()), "203.0.113.1");
    EXPECT_EQ(dotted(arp_of(dmz[0])->tpa.host()), "203.0.113.10");
    EXPECT_TRUE(sent(Zone::wan).empty());
}

// ---------------------------------------------------------------- waiting for ARP

TEST_F(Walk, UnresolvedNextHopGoesToThePendingRing) {
    // The server to a wan host no one has resolved (on-link by `route ... dev
    // wan`), and a LAN client to a network behind the LAN router.
    const Bytes to_wan_host = udp_frame(mac_of(Zone::dmz), kServerMac, kWanIp, kWanOnLinkRouted, 30);
    receive(Zone::dmz, to_wan_host);
    const Bytes via_router = udp_frame(mac_of(Zone::lan), kClient1Mac, kClient1, kBehindLanRouter, 20);
    receive(Zone::lan, via_router);
    expect_nothing_sent();
    ASSERT_EQ(rte_ring_count(pending_), 2u);

    struct Want {
        const Bytes* frame;
        uint32_t nexthop;
        Zone out;
    };
    for (const Want& want : {Want{&to_wan_host, kWanOnLinkRouted, Zone::wan}, Want{&via_router, kLanRouter, Zone::lan}}) {
        void* obj = nullptr;
        ASSERT_EQ(rte_ring_dequeue(pending_, &obj), 0);
        auto* m = static_cast<rte_mbuf*>(obj);
        const auto* meta = static_cast<const MbufMeta*>(rte_mbuf_to_priv(m));
        EXPECT_EQ(dotted(meta->nexthop), dotted(want.nexthop));
        EXPECT_EQ(meta->zone, idx(want.out));
        // Already routed: TTL down, checksum right, nothing else changed.
        const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
        const Bytes got(p, p + rte_pktmbuf_data_len(m));
        EXPECT_EQ(ip_of(got)->ttl, ip_of(*want.frame)->ttl - 1);
        EXPECT_TRUE(ip_checksum_valid(got));
        EXPECT_EQ(dotted(ip_of(got)->src.host()), dotted(ip_of(*want.frame)->src.host()));
        EXPECT_EQ(dotted(ip_of(got)->dst.host()), dotted(ip_of(*want.frame)->dst.host()));
        rte_pktmbuf_free(m);
    }
    EXPECT_EQ(total_drops(), 0u);
}

TEST_F(Walk, PendingRingFullIsCounted) {
    // Fill the pending ring but one slot, then send two.
    for (unsigned i = 0; i + 1 < rte_ring_get_capacity(pending_); ++i) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool_);
        ASSERT_NE(m, nullptr);
        ASSERT_EQ(rte_ring_enqueue(pending_, m), 0);
    }
    const Bytes a = udp_frame(mac_of(Zone::dmz), kServerMac, kWanIp, kWanOnLinkRouted, 30);
    receive(Zone::dmz, {a, a});
    expect_nothing_sent();
    EXPECT_EQ(drops(Drop::neigh_queue_full), 1u);
    free_ring_mbufs(pending_);
}

}  // namespace
}  // namespace ipshare
