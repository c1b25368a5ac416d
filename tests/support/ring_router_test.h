// The GoogleTest fixture over a RingRouter (ring_router.h): a test builds a
// frame, receive()s it on a port, and reads what the router sent() on each.
// TearDown checks that every frame the router produced was read and that no
// mbuf leaked. A fixture calls start_router() from its SetUp, then loads its
// tables.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ring_router.h"

namespace ipshare::test {

class RingRouterTest : public ::testing::Test, public RingRouter {
protected:
    void start_router(const RingRouterParams& p) {
        std::string err;
        ASSERT_TRUE(start(p, &err)) << err;
    }

    void TearDown() override;

    // The frames arrive on port `z` in one burst and go through the router.
    void receive(Zone z, const std::vector<Bytes>& frames);
    void receive(Zone z, const Bytes& frame) { receive(z, std::vector<Bytes>{frame}); }
    void receive_mbufs(Zone z, const std::vector<rte_mbuf*>& in);

    // What the router transmitted on port `z`, in order (the mbufs are freed).
    std::vector<Bytes> sent(Zone z);
    // No port sent anything.
    void expect_nothing_sent();

    uint64_t drops(Drop d) const { return counters_.drops[static_cast<size_t>(d)].get(); }
    uint64_t total_drops() const;
};

// `e` is the ICMP "fragmentation needed" (RFC 1191) the router sent back to
// the sender of `big` (as the sender sent it): to `to_mac` and `big`'s
// source, from `from`, carrying next-hop MTU `mtu`, checksums valid, quoting
// `big`'s datagram unchanged (TTL not decremented, not translated) up to the
// 576-byte limit of an ICMP error.
void expect_fragmentation_needed(const Bytes& e, const Bytes& big, const Mac& to_mac, uint32_t from, uint16_t mtu);

}  // namespace ipshare::test
