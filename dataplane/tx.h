// Buffered transmit: frames collect per port and leave in bursts; whatever
// the NIC does not take is freed and counted (tx_full).
#pragma once

#include <array>
#include <cstdint>

#include "capture_tap.h"
#include "counters.h"
#include "zone.h"

#include <rte_mbuf.h>

struct rte_mempool;

namespace ipshare {

inline constexpr uint16_t kTxBuffer = 64;
inline constexpr uint32_t kEthHeaderLen = 14;

struct TxQueue {
    uint16_t port_id = 0;
    uint16_t queue_id = 0;
    uint16_t n = 0;
    rte_mbuf* m[kTxBuffer];
};

struct TxQueues {
    std::array<TxQueue, kNumZones> q{};
    CaptureRings* capture = nullptr;
    // Egress fragmentation (RFC 791) of datagrams larger than the port's MTU:
    // af_packet hands over datagrams the kernel reassembled.
    std::array<uint16_t, kNumZones> mtu{1500, 1500, 1500};
    rte_mempool* direct_pool = nullptr;
    rte_mempool* indirect_pool = nullptr;

    // Splits a too-large datagram into fragments and queues them (tx.cc).
    void push_fragmented(Zone z, rte_mbuf* m, Counters& c);

    void flush(Zone z, Counters& c);
    void flush_all(Counters& c) {
        for (Zone z : kAllZones)
            if (q[idx(z)].n) flush(z, c);
    }
    void push(Zone z, rte_mbuf* m, Counters& c) {
        if (rte_pktmbuf_pkt_len(m) > mtu[idx(z)] + kEthHeaderLen) return push_fragmented(z, m, c);
        TxQueue& t = q[idx(z)];
        t.m[t.n++] = m;
        if (t.n == kTxBuffer) flush(z, c);
    }
};

}  // namespace ipshare
