// The NAT's key -> session index (pure: no DPDK; the caller provides the
// memory and the hash). Both keys of every session (nat.h) live here.
//
// Why not rte_hash: one worker owns its Nat, so the index needs no
// concurrency at all, and rte_hash's generality costs on every packet (a
// signature array, a separate key store, so two dependent cache misses per
// key, and 350+ instructions per add). Here a slot holds the whole key, the
// session id and the hash: a lookup is one cache line (two at worst), and a
// burst's lines are all requested before the first is read (lookup_bulk).
//
// Open addressing with linear probing over a power-of-two array of 32-byte
// slots, two per cache line, at most half full (slots >= 2 x keys), so the
// capacity is guaranteed: an insert never fails below max_keys. Removal
// shifts the following entries back (Knuth, TAOCP vol. 3, 6.4 Algorithm R),
// so there are no tombstones and lookups never slow down with churn.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace ipshare {

template <typename Key>
class SessionIndex {
    static_assert(sizeof(Key) == 16, "one slot: 16-byte key, id, hash, padding");

public:
    static constexpr uint32_t kNone = 0xffffffff;

    struct alignas(32) Slot {
        Key key;
        uint32_t id;    // kNone: empty
        uint32_t hash;
        uint64_t pad;
    };
    static_assert(sizeof(Slot) == 32);

    // Slots needed for `max_keys` keys: a power of two, at least twice as many.
    static size_t slots_for(size_t max_keys) {
        size_t n = 16;
        while (n < 2 * max_keys) n <<= 1;
        return n;
    }

    // `slots` (slots_for(max_keys) of them, 32-byte aligned) stay the caller's.
    SessionIndex(Slot* slots, size_t nslots) : slots_(slots), mask_(nslots - 1) {
        for (size_t i = 0; i < nslots; ++i) slots_[i].id = kNone;
    }
    SessionIndex(const SessionIndex&) = delete;
    SessionIndex& operator=(const SessionIndex&) = delete;

    void prefetch(uint32_t hash) const { __builtin_prefetch(&slots_[hash & mask_]); }

    uint32_t lookup(const Key& k, uint32_t hash) const {
        for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (s.id == kNone) return kNone;
            if (s.hash == hash && std::memcmp(&s.key, &k, sizeof(Key)) == 0) return s.id;
        }
    }

    // keys[i] with hashes[i]: bit i of the result set on a hit, ids[i] then.
    uint64_t lookup_bulk(const Key* const* keys, const uint32_t* hashes, unsigned n, uint32_t* ids) const {
        for (unsigned i = 0; i < n; ++i) prefetch(hashes[i]);
        uint64_t hits = 0;
        for (unsigned i = 0; i < n; ++i) {
            const uint32_t id = lookup(*keys[i], hashes[i]);
            if (id == kNone) continue;
            ids[i] = id;
            hits |= uint64_t{1} << i;
        }
        return hits;
    }

    // The key must be absent (the caller checked); false only when full.
    bool insert(const Key& k, uint32_t hash, uint32_t id) {
        if (count_ * 2 >= mask_ + 1) return false;
        size_t i = hash & mask_;
        while (slots_[i].id != kNone) i = (i + 1) & mask_;
        slots_[i].key = k;
        slots_[i].hash = hash;
        slots_[i].id = id;
        ++count_;
        return true;
    }

    bool remove(const Key& k, uint32_t hash) {
        size_t i = hash & mask_;
        for (;; i = (i + 1) & mask_) {
            const Slot& s = slots_[i];
            if (s.id == kNone) return false;
            if (s.hash == hash && std::memcmp(&s.key, &k, sizeof(Key)) == 0) break;
        }
        // Algorithm R: entries after the hole whose home is not cyclically in
        // (hole, them] move back into it, so every probe sequence stays unbroken.
        for (size_t j = i;;) {
            slots_[i].id = kNone;
            size_t home;
            do {
                j = (j + 1) & mask_;
                if (slots_[j].id == kNone) {
                    --count_;
                    return true;
                }
                home = slots_[j].hash & mask_;
            } while (i <= j ? (i < home && home <= j) : (i < home || home <= j));
            slots_[i] = slots_[j];
            i = j;
        }
    }

    size_t count() const { return count_; }
    size_t slots() const { return mask_ + 1; }

private:
    Slot* slots_;
    size_t mask_;
    size_t count_ = 0;
};

}  // namespace ipshare
