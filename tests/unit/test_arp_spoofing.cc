// ARP through the whole walk (process_burst) of the Malformed fixture
// (malformed_fixture.h; main in eal_main.cc): spoofed claims teach the
// neighbour table nothing, in the worker and again in the control thread's
// neighbour manager, and the replies the router sends are rate-limited.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <rte_cycles.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "malformed_fixture.h"
#include "neighbour_manager.h"
#include "packet_builder.h"
#include "worker.h"

namespace ipshare {
namespace {

using namespace test;
using namespace test::malformed;

// What the arp stage offers the control thread to learn, one frame at a time.
std::vector<ArpLearnMsg> learnt(rte_ring* ring) {
    std::vector<ArpLearnMsg> out;
    ArpLearnMsg msg;
    while (rte_ring_dequeue_elem(ring, &msg, sizeof msg) == 0) out.push_back(msg);
    return out;
}

TEST_F(Malformed, ArpSpoofingTeachesNothing) {
    const Mac evil = {0x02, 0xee, 0xee, 0xee, 0xee, 0x01};
    const Zone wan = Zone::wan, lan = Zone::lan, dmz = Zone::dmz;
    struct Spoof {
        std::string what;
        Zone in;
        Bytes frame;
    };
    auto reply = [&](Zone z, uint32_t spa, uint32_t tpa) {
        return arp_frame(port_mac(z), kArpOpReply, evil, spa, port_mac(z), tpa);
    };
    auto gratuitous = [&](uint32_t spa) { return arp_frame(kBroadcastMac, kArpOpRequest, evil, spa, kZeroMac, spa); };
    auto request = [&](uint32_t spa, uint32_t tpa) {
        return arp_frame(kBroadcastMac, kArpOpRequest, evil, spa, kZeroMac, tpa);
    };
    const std::vector<Spoof> spoofs = {
        {"reply claiming lan-ip, on lan", lan, reply(lan, kLanIp, kLanIp)},
        {"gratuitous ARP for lan-ip, on lan", lan, gratuitous(kLanIp)},
        {"reply claiming the gateway, on lan", lan, reply(lan, kGateway, kLanIp)},
        {"gratuitous ARP for the gateway, on lan", lan, gratuitous(kGateway)},
        {"reply claiming wan-ip, on lan", lan, reply(lan, kWanIp, kLanIp)},
        {"request from wan-ip for lan-ip, on lan", lan, request(kWanIp, kLanIp)},
        {"reply from outside the LAN subnet, on lan", lan, reply(lan, ipv4(10, 99, 0, 1), kLanIp)},
        {"reply claiming wan-ip, on wan", wan, reply(wan, kWanIp, kWanIp)},
        {"gratuitous ARP for wan-ip, on wan", wan, gratuitous(kWanIp)},
        {"reply claiming lan-ip, on wan", wan, reply(wan, kLanIp, kWanIp)},
        {"request for wan-ip from a LAN address, on wan", wan, request(kClient1, kWanIp)},
        {"reply from the internet, on wan", wan, reply(wan, kInternetHost, kWanIp)},
        {"reply from the wan broadcast address, on wan", wan, reply(wan, kWanBroadcast, kWanIp)},
        {"reply claiming the gateway, on dmz", dmz, reply(dmz, kGateway, kGateway)},
        {"gratuitous ARP for the gateway, on dmz", dmz, gratuitous(kGateway)},
        {"reply claiming lan-ip, on dmz", dmz, reply(dmz, kLanIp, kGateway)},
        {"request from a wan host for the gateway, on dmz", dmz, request(kWanHostAddr, kGateway)},
    };
    for (const Spoof& sp : spoofs) {
        SCOPED_TRACE(sp.what);
        next_row();
        const uint64_t ignored = counters_.drops[static_cast<int>(Drop::arp_ignored)].get();
        ASSERT_NO_FATAL_FAILURE(receive(sp.in, sp.frame));
        EXPECT_TRUE(learnt(learn_).empty()) << "offered to the neighbour table";
        EXPECT_EQ(counters_.drops[static_cast<int>(Drop::arp_ignored)].get(), ignored + 1);
        for (Zone z : kAllZones) EXPECT_TRUE(sent(z).empty()) << "a frame left on " << kZoneNames[idx(z)];
    }

    // The same path learns a real neighbour (the test can fail): the gateway
    // answering the router, with a new MAC, and a new LAN client.
    next_row();
    ASSERT_NO_FATAL_FAILURE(receive(wan, arp_frame(port_mac(wan), kArpOpReply, evil, kGateway, port_mac(wan), kWanIp)));
    std::vector<ArpLearnMsg> got = learnt(learn_);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(dotted(got[0].ip), dotted(kGateway));
    EXPECT_EQ(got[0].zone, idx(wan));
    EXPECT_EQ(got[0].create, 1);
    EXPECT_EQ(mac_text(got[0].mac), mac_text(evil));
    ASSERT_NO_FATAL_FAILURE(receive(lan, arp_frame(kBroadcastMac, kArpOpRequest, evil, ipv4(192, 168, 1, 50),
                                                   kZeroMac, kLanIp)));
    got = learnt(learn_);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(dotted(got[0].ip), "192.168.1.50");
    EXPECT_EQ(got[0].zone, idx(lan));
    discard_output();
}

// The single writer of the neighbour table checks every learn message again:
// a forged one (as if a worker had been fooled) changes nothing.
TEST_F(Malformed, NeighbourManagerRefusesForgedLearns) {
    NeighbourManager::Deps d{neigh_.get(), pool_, learn_, pending_, {inject_}, ports_, &counters_, rte_get_tsc_hz()};
    NeighbourManager mgr(d);
    mgr.set_addresses(tables_->addr);
    const Mac evil = {0x02, 0xee, 0xee, 0xee, 0xee, 0x02};
    struct Forged {
        Zone z;
        uint32_t ip;
        Mac mac;
    };
    const std::vector<Forged> forged = {
        {Zone::lan, kLanIp, evil},         {Zone::lan, kGateway, evil},    {Zone::lan, kWanIp, evil},
        {Zone::wan, kWanIp, evil},         {Zone::wan, kLanIp, evil},      {Zone::dmz, kGateway, evil},
        {Zone::dmz, kLanIp, evil},         {Zone::dmz, kWanHostAddr, evil}, {Zone::wan, kGateway, kZeroMac},
        {Zone::wan, kGateway, kBroadcastMac}, {Zone::lan, kClient1, kMulticastMac}, {Zone::wan, 0, evil},
        {Zone::lan, ipv4(224, 0, 0, 1), evil},
    };
    for (const Forged& f : forged) {
        ArpLearnMsg msg{f.ip, static_cast<uint8_t>(idx(f.z)), 1, {}, {}};
        std::memcpy(msg.mac, f.mac.data(), 6);
        ASSERT_EQ(rte_ring_enqueue_elem(learn_, &msg, sizeof msg), 0);
    }
    ArpLearnMsg bad_zone{kClient2, 7, 1, {}, {}};
    std::memcpy(bad_zone.mac, evil.data(), 6);
    ASSERT_EQ(rte_ring_enqueue_elem(learn_, &bad_zone, sizeof bad_zone), 0);
    // And one real neighbour, so that the test can fail.
    ArpLearnMsg good{ipv4(192, 168, 1, 51), static_cast<uint8_t>(idx(Zone::lan)), 1, {}, {}};
    std::memcpy(good.mac, evil.data(), 6);
    ASSERT_EQ(rte_ring_enqueue_elem(learn_, &good, sizeof good), 0);

    mgr.poll(rte_rdtsc());

    uint64_t mac = 0;
    for (const Forged& f : forged) {
        SCOPED_TRACE(std::string(kZoneNames[idx(f.z)]) + " " + dotted(f.ip) + " " + mac_text(f.mac));
        if (neigh_->lookup(f.z, f.ip, &mac)) {
            // Only the entries the fixture made exist, unchanged.
            const bool preset = (f.z == Zone::wan && f.ip == kGateway) || (f.z == Zone::lan && f.ip == kClient1);
            EXPECT_TRUE(preset) << "learnt";
            EXPECT_NE(mac, mac_to_word(f.mac.data())) << "overwritten";
        }
    }
    EXPECT_TRUE(neigh_->lookup(Zone::wan, kGateway, &mac));
    EXPECT_EQ(mac, mac_to_word(kGatewayMac.data()));
    EXPECT_TRUE(neigh_->lookup(Zone::lan, kClient1, &mac));
    EXPECT_EQ(mac, mac_to_word(kClient1Mac.data()));
    for (Zone z : kAllZones) EXPECT_FALSE(neigh_->lookup(z, kClient2, &mac) && mac == mac_to_word(evil.data()));
    ASSERT_TRUE(neigh_->lookup(Zone::lan, ipv4(192, 168, 1, 51), &mac)) << "a real neighbour was not learnt";
    EXPECT_EQ(mac, mac_to_word(evil.data()));
    EXPECT_EQ(rte_ring_count(inject_), 0u) << "frames sent";
}

// Every ARP reply the router generates takes a token; when the bucket is
// empty the request is dropped and counted (ratelimited), so an ARP flood
// never becomes a reply flood.
TEST_F(Malformed, ArpRepliesAreRateLimited) {
    // Three tokens, and the next one an hour away: no refill during the test.
    w_.arp_replies = TokenBucket(1, 3, rte_get_tsc_hz() * 3600);
    const std::vector<std::pair<Zone, Bytes>> asks = {
        {Zone::wan, arp_request(kGatewayMac, kGateway, kWanIp)},
        {Zone::lan, arp_request(kClient1Mac, kClient1, kLanIp)},
        {Zone::dmz, arp_request(kServerMac, kWanIp, kGateway)},
        {Zone::wan, arp_request(kGatewayMac, 0, kWanIp)},
        {Zone::lan, arp_request(kClient1Mac, 0, kLanIp)},
        {Zone::dmz, arp_request(kServerMac, kWanIp, kInternetHost)},
    };
    next_row();
    const uint64_t replies = counters_.arp_replies_sent.get();
    const uint64_t limited = counters_.drops[static_cast<int>(Drop::ratelimited)].get();
    size_t out = 0;
    for (const auto& [z, f] : asks) {
        ASSERT_NO_FATAL_FAILURE(receive(z, f));
        for (Zone o : kAllZones) out += sent(o).size();
    }
    EXPECT_EQ(out, 3u);
    EXPECT_EQ(counters_.arp_replies_sent.get() - replies, 3u);
    EXPECT_EQ(counters_.drops[static_cast<int>(Drop::ratelimited)].get() - limited, 3u);
    discard_output();
}

}  // namespace
}  // namespace ipshare
