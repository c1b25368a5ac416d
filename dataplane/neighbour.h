// The neighbour table: (port, IPv4 address) -> Ethernet address.
//
// One rte_hash with lock-free concurrent readers (RW_CONCURRENCY_LF): the
// workers look up in bulk, the control thread is the only writer. The MAC is
// stored directly in the 64-bit data word (48 bits + a valid bit), so an
// update is one atomic store and a reader never sees half an address. Deleted
// keys are reclaimed through the same RCU (rte_rcu_qsbr) the workers report to.
//
// A generation counter, bumped after every change of an existing answer (a
// new MAC, a removal), lets workers cache answers (neigh_cache.h): adding a
// new entry does not bump it, since no cache holds a negative answer.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "zone.h"

struct rte_hash;
struct rte_rcu_qsbr;

namespace ipshare {

struct NeighKey {
    uint32_t ip;    // host order
    uint32_t zone;  // Zone as an integer; 8-byte key, no padding
};
static_assert(sizeof(NeighKey) == 8);

inline uint64_t mac_to_word(const uint8_t mac[6]) {
    uint64_t w = 0;
    for (int i = 0; i < 6; ++i) w = (w << 8) | mac[i];
    return w;
}

inline void word_to_mac(uint64_t w, uint8_t mac[6]) {
    for (int i = 5; i >= 0; --i) {
        mac[i] = static_cast<uint8_t>(w);
        w >>= 8;
    }
}

class NeighbourTable {
public:
    static constexpr unsigned kMaxBulk = 64;  // RTE_HASH_LOOKUP_BULK_MAX

    static std::unique_ptr<NeighbourTable> create(const std::string& name, uint32_t capacity, rte_rcu_qsbr* qsbr,
                                                  std::string* err);
    ~NeighbourTable();
    NeighbourTable(const NeighbourTable&) = delete;
    NeighbourTable& operator=(const NeighbourTable&) = delete;

    // Worker side. `keys` point at NeighKey; on a hit bit i of the returned
    // mask is set and macs[i] holds the address (as mac_to_word).
    uint64_t lookup_bulk(const void** keys, unsigned n, uint64_t* macs) const;
    bool lookup(Zone z, uint32_t ip, uint64_t* mac) const;
    // Read before the lookups whose answers are cached (acquire): a change
    // published before this read is visible to them.
    uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

    // Control side, single writer.
    bool set(Zone z, uint32_t ip, uint64_t mac);
    bool remove(Zone z, uint32_t ip);
    void for_each(const std::function<void(Zone, uint32_t, uint64_t)>& fn) const;
    uint32_t count() const;

private:
    NeighbourTable() = default;
    rte_hash* hash_ = nullptr;
    uint32_t count_ = 0;  // live entries (the writer's own count)
    alignas(64) std::atomic<uint64_t> generation_{0};  // own cache line: read by every worker, written rarely
};

}  // namespace ipshare
