// A worker's cache of recent neighbour lookups: (port, next hop) -> MAC, so
// that a burst to the same few next hops costs a compare per packet instead
// of an rte_hash bulk lookup (pure: no DPDK).
//
// Correctness rests on the neighbour table's generation (neighbour.h): the
// control thread bumps it after every change that could make a cached
// answer wrong (a new MAC for an entry, a removal). The worker reads the
// generation once per burst, *before* any table lookup whose answer it
// caches, and calls sync(): if the generation moved, every entry is dropped.
// So an entry is never used in a burst that started after the change was
// published; the table itself gives no stronger guarantee (a lookup racing
// with a change may return either MAC).
//
// Direct-mapped, 256 entries of 16 bytes per port (12 KB, in L1/L2). The
// index is the port and the low bits of the address: a /24 of next hops on
// a port never collides, nor do next hops on different ports.
// Negative answers are never cached (they go to the control thread for ARP).
#pragma once

#include <array>
#include <cstdint>

#include "zone.h"

namespace ipshare {

class NeighCache {
public:
    static constexpr unsigned kPerPort = 256;
    static constexpr unsigned kSize = kPerPort * kNumZones;

    // Drops every entry when `generation` differs from the one the entries
    // were filled under. Call once per burst before using or filling it.
    void sync(uint64_t generation) {
        if (generation == generation_) return;
        entries_.fill(Entry{});
        generation_ = generation;
    }

    bool find(Zone z, uint32_t ip, uint64_t* mac) const {
        const Entry& e = entries_[slot(z, ip)];
        if (e.key != key(z, ip)) return false;
        *mac = e.mac;
        return true;
    }

    void put(Zone z, uint32_t ip, uint64_t mac) { entries_[slot(z, ip)] = Entry{key(z, ip), mac}; }

    uint64_t generation() const { return generation_; }

private:
    struct Entry {
        uint64_t key = 0;  // 0: empty (a real key has bit 63 set)
        uint64_t mac = 0;
    };
    static uint64_t key(Zone z, uint32_t ip) {
        return (uint64_t{1} << 63) | (uint64_t{static_cast<uint8_t>(z)} << 32) | ip;
    }
    static unsigned slot(Zone z, uint32_t ip) {
        return static_cast<unsigned>(idx(z)) * kPerPort + ((ip ^ (ip >> 8)) & (kPerPort - 1));
    }

    std::array<Entry, kSize> entries_{};
    uint64_t generation_ = 0;
};

}  // namespace ipshare
