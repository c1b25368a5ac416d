// The Walk fixture of the test_walk_*.cc files: a router on three
// ring-backed ports (ring_router_test.h) with the reference tables
// (reference_tables.h), and the check that a forwarded frame is its input
// routed and nothing more.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>

#include "packet_builder.h"
#include "reference_tables.h"
#include "ring_router_test.h"

namespace ipshare::test {

// A router on three ring-backed ports (ring_router.h) with the reference
// tables. Frames go in through the RX ring and rte_eth_rx_burst, come out
// through rte_eth_tx_burst into the TX ring, where the test reads them.
class Walk : public RingRouterTest {
protected:
    static constexpr unsigned kPoolSize = 4095;  // more than a TX ring holds

    void SetUp() override {
        RingRouterParams p;
        p.prefix = "unit";
        p.pool_size = kPoolSize;
        p.ring_size = 1024;
        ASSERT_NO_FATAL_FAILURE(start_router(p));
        ASSERT_EQ(initial_avail_, kPoolSize);
        tables_ = reference_tables();
        ASSERT_TRUE(tables_);
        published_.store(tables_.get());
    }
};

// The forwarded frame `out` is `in` routed: TTL one less, IP checksum right,
// Ethernet addresses from the neighbour table, everything else unchanged.
inline void expect_routed(const Bytes& in, const Bytes& out, const Mac& dst, const Mac& src) {
    ASSERT_EQ(out.size(), 14 + datagram_of(in).size());
    EXPECT_EQ(mac_text(eth_of(out)->dst), mac_text(dst));
    EXPECT_EQ(mac_text(eth_of(out)->src), mac_text(src));
    EXPECT_EQ(eth_of(out)->type.host(), kEtherTypeIpv4);
    EXPECT_EQ(ip_of(out)->ttl, ip_of(in)->ttl - 1);
    EXPECT_TRUE(ip_checksum_valid(out));
    Bytes expect = datagram_of(in);
    Bytes got = datagram_of(out);
    // Apart from TTL (byte 8) and checksum (10, 11), the datagram is the same.
    for (size_t i : {size_t{8}, size_t{10}, size_t{11}}) expect[i] = got[i] = 0;
    EXPECT_TRUE(expect == got) << "datagram changed beyond TTL and checksum";
}

}  // namespace ipshare::test
