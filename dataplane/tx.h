// Buffered transmit: frames collect per port and leave in bursts; whatever
// the NIC does not take is freed and counted (tx_full).
#pragma once

#include <array>
#include <cstdint>

#include "counters.h"
#include "zone.h"

struct rte_mbuf;

namespace ipshare {

inline constexpr uint16_t kTxBuffer = 64;

struct TxQueue {
    uint16_t port_id = 0;
    uint16_t queue_id = 0;
    uint16_t n = 0;
    rte_mbuf* m[kTxBuffer];
};

struct TxQueues {
    std::array<TxQueue, kNumZones> q{};

    void flush(Zone z, Counters& c);
    void flush_all(Counters& c) {
        for (Zone z : kAllZones)
            if (q[idx(z)].n) flush(z, c);
    }
    void push(Zone z, rte_mbuf* m, Counters& c) {
        TxQueue& t = q[idx(z)];
        t.m[t.n++] = m;
        if (t.n == kTxBuffer) flush(z, c);
    }
};

}  // namespace ipshare
