// Counters. Each worker owns its block and is the only writer; the control
// thread reads them (relaxed, never torn on 64-bit) and sums across workers.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "drop_reasons.h"
#include "filter.h"
#include "zone.h"

namespace ipshare {

// A single-writer counter: increments compile to a plain add (no lock prefix).
class Counter {
public:
    void add(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
    void sub(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed); }
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
    Counter nat_created, nat_expired, nat_out, nat_in;
    std::array<Counter, 4> nat_active;  // tcp, udp, icmp, other (this worker's sessions)
    std::array<Counter, FilterTable::kSlots> filter_packets, filter_bytes;  // filter.h slots

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
    uint64_t nat_created = 0, nat_expired = 0, nat_out = 0, nat_in = 0;
    std::array<uint64_t, 4> nat_active{};

    void add(const Counters& c) {
        for (int z = 0; z < kNumZones; ++z) {
            rx[z] += c.port[z].rx.get();
            tx[z] += c.port[z].tx.get();
            dropped[z] += c.port[z].dropped.get();
        }
        for (int d = 0; d < kNumDrops; ++d) drops[d] += c.drops[d].get();
        arp_replies_sent += c.arp_replies_sent.get();
        icmp_sent += c.icmp_sent.get();
        nat_created += c.nat_created.get();
        nat_expired += c.nat_expired.get();
        nat_out += c.nat_out.get();
        nat_in += c.nat_in.get();
        for (int p = 0; p < 4; ++p) nat_active[p] += c.nat_active[p].get();
    }
};

}  // namespace ipshare
