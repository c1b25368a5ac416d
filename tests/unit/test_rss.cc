// Predictable RSS (rss.h): the Toeplitz hash as a NIC computes it (checked
// against the RSS verification suite's vectors, published with Microsoft's
// default key and reproduced in the Intel 82599 datasheet, 7.1.2.8.3), and
// the NAT choosing, from its worker's slice of the port range, an outside
// port whose reply the NIC puts on that worker's queue. Runs in unit_dpdk.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "headers.h"
#include "nat.h"
#include "rss.h"

namespace ipshare {
namespace {

constexpr uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d) { return a << 24 | b << 16 | c << 8 | d; }

struct Vector {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t hash;
};
constexpr Vector kSuite[] = {
    {ip4(66, 9, 149, 187), ip4(161, 142, 100, 80), 2794, 1766, 0x51ccc178},
    {ip4(199, 92, 111, 2), ip4(65, 69, 140, 83), 14230, 4739, 0xc626b0ea},
    {ip4(24, 19, 198, 95), ip4(12, 22, 207, 184), 12898, 38024, 0x5c2b394a},
    {ip4(38, 27, 205, 30), ip4(209, 142, 163, 6), 48228, 2217, 0xafc7327f},
    {ip4(153, 39, 163, 191), ip4(202, 188, 127, 2), 44251, 1303, 0x10e828a2},
};

TEST(Rss, ToeplitzHashMatchesTheVerificationSuite) {
    const RssPredictor rss(kRssKey, rss_round_robin_reta(128, 4));
    for (const Vector& v : kSuite) EXPECT_EQ(rss.hash(v.src, v.dst, v.sport, v.dport), v.hash) << std::hex << v.hash;
}

TEST(Rss, QueueIsTheRedirectionTableEntryOfTheHashsLowBits) {
    const auto reta = rss_round_robin_reta(128, 3);
    ASSERT_EQ(reta.size(), 128u);
    EXPECT_EQ(reta[0], 0);
    EXPECT_EQ(reta[4], 1);
    EXPECT_EQ(reta[127], 1);
    const RssPredictor rss(kRssKey, reta);
    for (const Vector& v : kSuite) EXPECT_EQ(rss.queue_of(v.src, v.dst, v.sport, v.dport), reta[v.hash & 127]);
}

constexpr uint32_t kWan = ip4(203, 0, 113, 10);
constexpr unsigned kWorkers = 4;

std::unique_ptr<Nat> worker_nat(unsigned worker, const RssPredictor* rss) {
    static unsigned serial = 0;
    NatParams p;
    p.wan_ip = kWan;
    p.port_lo = 61000;
    p.port_hi = 65535;
    p.capacity = 4096;
    p.per_client = 4096;
    p.stride = kWorkers;
    p.offset = worker;
    p.seed = 99 + worker;
    p.reply_rss = rss;
    p.rx_queue = static_cast<uint16_t>(worker);
    std::string err;
    auto nat = Nat::create("rss" + std::to_string(serial++), p, &err);
    EXPECT_NE(nat, nullptr) << err;
    return nat;
}

// How many of `n` new TCP/UDP flows of worker `w` get an outside port whose
// reply the NIC puts on queue w; every port stays in w's slice.
unsigned replies_on_own_queue(Nat& nat, unsigned w, const RssPredictor& nic, unsigned n) {
    unsigned hits = 0;
    for (unsigned i = 0; i < n; ++i) {
        const uint8_t proto = i % 2 ? kIpProtoTcp : kIpProtoUdp;
        const Flow f{ip4(192, 168, 1, 10 + i % 50), ip4(198, 51, 100, 1 + i % 200), static_cast<uint16_t>(30000 + i),
                     static_cast<uint16_t>(1000 + 7 * i), proto};
        NatFail why = NatFail::none;
        const uint32_t id = nat.create_outbound(f, kWan, 0, &why);
        EXPECT_NE(id, kNone) << static_cast<int>(why);
        if (id == kNone) continue;
        const uint16_t port = nat.at(id).outside_port;
        EXPECT_EQ((port - 61000) % kWorkers, w) << "port " << port << " outside worker " << w << "'s slice";
        hits += nic.queue_of(f.dst, kWan, f.dport, port) == w;
    }
    return hits;
}

TEST(Rss, NewMappingsGetPortsWhoseRepliesReachTheirWorkersQueue) {
    const RssPredictor nic(kRssKey, rss_round_robin_reta(512, kWorkers));
    for (unsigned w = 0; w < kWorkers; ++w) {
        auto nat = worker_nat(w, &nic);
        ASSERT_TRUE(nat);
        EXPECT_EQ(replies_on_own_queue(*nat, w, nic, 400), 400u) << "worker " << w;
    }
}

TEST(Rss, WithoutPredictionAboutOneReplyInFourLandsOnItsOwner) {
    // The control: the property above is the allocator's doing, not chance.
    const RssPredictor nic(kRssKey, rss_round_robin_reta(512, kWorkers));
    auto nat = worker_nat(1, nullptr);
    ASSERT_TRUE(nat);
    const unsigned hits = replies_on_own_queue(*nat, 1, nic, 400);
    EXPECT_GT(hits, 40u);
    EXPECT_LT(hits, 200u);
}

TEST(Rss, PortPreservationComesFirst) {
    const RssPredictor nic(kRssKey, rss_round_robin_reta(512, kWorkers));
    auto nat = worker_nat(2, &nic);
    ASSERT_TRUE(nat);
    const uint16_t own = 61002;  // in worker 2's slice
    const Flow f{ip4(192, 168, 1, 10), ip4(198, 51, 100, 7), own, 443, kIpProtoTcp};
    NatFail why;
    const uint32_t id = nat->create_outbound(f, kWan, 0, &why);
    ASSERT_NE(id, kNone);
    EXPECT_EQ(nat->at(id).outside_port, own);
}

}  // namespace
}  // namespace ipshare
