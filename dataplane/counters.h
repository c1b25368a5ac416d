// Counters. Each worker owns its block and is the only writer; the control
// thread reads them (relaxed, never torn on 64-bit) and sums across workers.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "drop_reasons.h"
#include "zone.h"

namespace ipshare {

// A single-writer counter: increments compile to a plain add (no lock prefix).
class Counter {
public:
    void add(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
    uint64_t get() const { return v_.load(std::memory_order_relaxed); }
    void reset() { v_.store(0, std::memory_order_relaxed); }

private:
    std::atomic<uint64_t> v_{0};
};

struct PortCounters {
    Counter rx, tx, dropped;
};

struct alignas(64) Counters {
    std::array<PortCounters, kNumZones> port;
    std::array<Counter, kNumDrops> drops;
    Counter arp_replies_sent;
    Counter icmp_sent;
    Counter busy_polls, idle_polls;

    void drop(Zone in, Drop why, uint64_t n = 1) {
        drops[static_cast<int>(why)].add(n);
        port[idx(in)].dropped.add(n);
    }
};

// Plain snapshot for printing: sums of several blocks.
struct CounterTotals {
    std::array<uint64_t, kNumZones> rx{}, tx{}, dropped{};
    std::array<uint64_t, kNumDrops> drops{};
    uint64_t arp_replies_sent = 0, icmp_sent = 0;

    void add(const Counters& c) {
        for (int z = 0; z < kNumZones; ++z) {
            rx[z] += c.port[z].rx.get();
            tx[z] += c.port[z].tx.get();
            dropped[z] += c.port[z].dropped.get();
        }
        for (int d = 0; d < kNumDrops; ++d) drops[d] += c.drops[d].get();
        arp_replies_sent += c.arp_replies_sent.get();
        icmp_sent += c.icmp_sent.get();
    }
};

}  // namespace ipshare
