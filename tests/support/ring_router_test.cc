#include "ring_router_test.h"

#include <algorithm>

#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

namespace ipshare::test {

void RingRouterTest::TearDown() {
    // Every frame a test produced was read by the test.
    for (Zone z : kAllZones) {
        if (tx_[idx(z)]) {
            EXPECT_EQ(rte_ring_count(tx_[idx(z)]), 0u) << "unread frames on " << kZoneNames[idx(z)];
        }
    }
    if (pending_) {
        EXPECT_EQ(rte_ring_count(pending_), 0u) << "unread frames waiting for ARP (a neighbour was missing?)";
    }
    free_queued_mbufs();
    if (pool_) {
        EXPECT_EQ(rte_mempool_avail_count(pool_), initial_avail_) << "mbufs leaked";
    }
    stop();
}

void RingRouterTest::receive(Zone z, const std::vector<Bytes>& frames) {
    std::vector<rte_mbuf*> in;
    for (const Bytes& f : frames) {
        rte_mbuf* m = mbuf_of(f);
        ASSERT_NE(m, nullptr) << "no mbuf for a frame of " << f.size() << " bytes";
        in.push_back(m);
    }
    receive_mbufs(z, in);
}

void RingRouterTest::receive_mbufs(Zone z, const std::vector<rte_mbuf*>& in) {
    std::string err;
    ASSERT_TRUE(run_burst(z, in.data(), static_cast<unsigned>(in.size()), &err)) << err;
}

std::vector<Bytes> RingRouterTest::sent(Zone z) {
    std::vector<Bytes> out;
    void* objs[64];
    unsigned n;
    while ((n = rte_ring_dequeue_burst(tx_[idx(z)], objs, 64, nullptr)) > 0) {
        for (unsigned i = 0; i < n; ++i) {
            auto* m = static_cast<rte_mbuf*>(objs[i]);
            EXPECT_EQ(m->nb_segs, 1);
            EXPECT_EQ(rte_pktmbuf_pkt_len(m), rte_pktmbuf_data_len(m));
            const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
            out.emplace_back(p, p + rte_pktmbuf_data_len(m));
            rte_pktmbuf_free(m);
        }
    }
    return out;
}

void RingRouterTest::expect_nothing_sent() {
    for (Zone z : kAllZones) EXPECT_TRUE(sent(z).empty()) << "frame sent on " << kZoneNames[idx(z)];
}

uint64_t RingRouterTest::total_drops() const {
    uint64_t n = 0;
    for (const auto& c : counters_.drops) n += c.get();
    return n;
}

void expect_fragmentation_needed(const Bytes& e, const Bytes& big, const Mac& to_mac, uint32_t from, uint16_t mtu) {
    ASSERT_GE(e.size(), 42u + 20u) << "too short for an ICMP error with a quote";
    EXPECT_EQ(mac_text(eth_of(e)->dst), mac_text(to_mac));
    EXPECT_EQ(dotted(ip_of(e)->src.host()), dotted(from));
    EXPECT_EQ(dotted(ip_of(e)->dst.host()), dotted(ip_of(big)->src.host()));
    EXPECT_TRUE(ip_checksum_valid(e));
    EXPECT_EQ(icmp_of(e)->type, kIcmpDestUnreach);
    EXPECT_EQ(icmp_of(e)->code, kIcmpCodeFragNeeded);
    EXPECT_EQ(icmp_of(e)->id.host(), 0) << "unused";
    EXPECT_EQ(icmp_of(e)->seq.host(), mtu) << "next-hop MTU";
    EXPECT_TRUE(icmp_checksum_valid(e));
    const Bytes orig = datagram_of(big);
    const size_t quoted = ip_of(e)->total_length.host() - 28;
    ASSERT_EQ(quoted, std::min<size_t>(orig.size(), 576 - 28));
    ASSERT_LE(42 + quoted, e.size());
    EXPECT_TRUE(std::equal(orig.begin(), orig.begin() + static_cast<std::ptrdiff_t>(quoted), e.begin() + 42))
        << "the quote is not the datagram as its sender sent it";
}

}  // namespace ipshare::test
