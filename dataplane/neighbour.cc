#include "neighbour.h"

#include "hash_table.h"

namespace ipshare {
namespace {

constexpr uint64_t kValid = uint64_t{1} << 48;
constexpr uint64_t kMacMask = kValid - 1;

void* encode(uint64_t mac) { return reinterpret_cast<void*>(static_cast<uintptr_t>((mac & kMacMask) | kValid)); }
uint64_t decode(void* data) { return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(data)) & kMacMask; }

}  // namespace

std::unique_ptr<NeighbourTable> NeighbourTable::create(const std::string& name, uint32_t capacity,
                                                       rte_rcu_qsbr* qsbr, std::string* err) {
    std::unique_ptr<NeighbourTable> t(new NeighbourTable());
    t->hash_ = make_hash(name, capacity, sizeof(NeighKey), RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF, err);
    if (!t->hash_) return nullptr;
    rte_hash_rcu_config rcu{};
    rcu.v = qsbr;
    rcu.mode = RTE_HASH_QSBR_MODE_DQ;
    if (rte_hash_rcu_qsbr_add(t->hash_, &rcu) != 0) {
        *err = "cannot attach RCU to the neighbour table";
        return nullptr;
    }
    return t;
}

NeighbourTable::~NeighbourTable() { rte_hash_free(hash_); }

uint64_t NeighbourTable::lookup_bulk(const void** keys, unsigned n, uint64_t* macs) const {
    void* data[kMaxBulk];
    uint64_t hits = 0;
    rte_hash_lookup_bulk_data(hash_, keys, n, &hits, data);
    for (unsigned i = 0; i < n; ++i)
        if (hits & (uint64_t{1} << i)) macs[i] = decode(data[i]);
    return hits;
}

bool NeighbourTable::lookup(Zone z, uint32_t ip, uint64_t* mac) const {
    const NeighKey k{ip, static_cast<uint32_t>(z)};
    void* data;
    if (rte_hash_lookup_data(hash_, &k, &data) < 0) return false;
    *mac = decode(data);
    return true;
}

bool NeighbourTable::set(Zone z, uint32_t ip, uint64_t mac) {
    const NeighKey k{ip, static_cast<uint32_t>(z)};
    void* old = nullptr;
    const bool fresh = rte_hash_lookup_data(hash_, &k, &old) < 0;
    if (!fresh && decode(old) == (mac & kMacMask)) return true;  // unchanged: caches stay valid
    if (rte_hash_add_key_data(hash_, &k, encode(mac)) != 0) return false;
    if (fresh)
        ++count_;
    else
        generation_.fetch_add(1, std::memory_order_release);  // after the new MAC is stored
    return true;
}

bool NeighbourTable::remove(Zone z, uint32_t ip) {
    const NeighKey k{ip, static_cast<uint32_t>(z)};
    if (rte_hash_del_key(hash_, &k) < 0) return false;
    generation_.fetch_add(1, std::memory_order_release);
    --count_;  // rte_hash_count would still count it until RCU reclaims the slot
    return true;
}

void NeighbourTable::for_each(const std::function<void(Zone, uint32_t, uint64_t)>& fn) const {
    const void* key;
    void* data;
    uint32_t it = 0;
    while (rte_hash_iterate(hash_, &key, &data, &it) >= 0) {
        const auto* k = static_cast<const NeighKey*>(key);
        fn(static_cast<Zone>(k->zone), k->ip, decode(data));
    }
}

uint32_t NeighbourTable::count() const { return count_; }

}  // namespace ipshare
