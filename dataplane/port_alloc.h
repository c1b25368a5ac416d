// The NAPT port allocator for one protocol (TCP ports, UDP ports or ICMP
// query ids) over the reserved range `napt ports LO-HI`.
//
//  - Port preservation: a client's own port is kept when it is inside the
//    range and free (RFC 4787 section 4.2.1, "port preservation").
//  - Otherwise a random free port: random start, then the next free one
//    (RFC 6056 section 3.3.1, "simple port randomization").
//  - A port is never given to two live mappings (RFC 4787 REQ-3), and a
//    released port rests before reuse (RFC 6888 REQ-8; 120 s reference).
//  - `stride`/`offset`: with several workers each owns the ports whose
//    (port - LO) % stride == offset, so the owner of a port is arithmetic.
// Each port's slot holds the mapping that uses it, which makes the reverse
// lookup (outside port -> mapping) an array index.
#pragma once

#include <cstdint>
#include <vector>

namespace ipshare {

// One worker's share of `napt ports-per-client` (`cap`): a client's
// endpoints are spread over the workers (each owns the endpoints that hash
// to it, and its own slice of the range), so each worker admits cap /
// workers mappings of one client, at least 1, and no more than its slice
// holds. A client never holds more than the cap in all (when cap >= workers);
// it may be refused a little before the cap when its endpoints hash
// unevenly. As `napt sessions`, the limit is the whole router's.
inline uint32_t client_cap_per_worker(uint32_t cap, uint32_t range_size, unsigned workers) {
    if (workers == 0) workers = 1;
    const uint32_t slice = (range_size + workers - 1) / workers;
    uint32_t share = cap / workers;
    if (share == 0) share = 1;
    return share < slice ? share : slice;
}

class PortAllocator {
public:
    static constexpr uint32_t kFree = 0xffffffff;

    PortAllocator(uint16_t lo, uint16_t hi, uint32_t rest_seconds, uint64_t seed, unsigned stride = 1,
                  unsigned offset = 0);

    // A port for `owner` (a mapping id, < kResting), or 0 when none is free.
    uint16_t allocate(uint16_t preferred, uint32_t owner, uint32_t now) {
        return allocate_preferring(preferred, owner, now, [](uint16_t) { return true; });
    }
    // The same, but among the random candidates the first `accept(port)`
    // likes (predictable RSS, rss.h: a port whose reply lands on this
    // worker's queue), looking at most kAcceptTries of them; then any free
    // port. Port preservation still comes first.
    template <typename Accept>
    uint16_t allocate_preferring(uint16_t preferred, uint32_t owner, uint32_t now, Accept&& accept) {
        if (capacity_ == 0 || in_use_ >= capacity_) return 0;
        if (owns(preferred) && available(slots_[preferred - lo_], now)) return take(preferred - lo_, owner);
        const unsigned start = static_cast<unsigned>(next_random() % capacity_);
        unsigned first_free = capacity_, tried = 0;
        for (unsigned i = 0; i < capacity_; ++i) {
            const unsigned slot = ((start + i) % capacity_) * stride_ + offset_;
            if (!available(slots_[slot], now)) continue;
            if (first_free == capacity_) first_free = slot;
            if (tried++ < kAcceptTries && accept(static_cast<uint16_t>(lo_ + slot))) return take(slot, owner);
            if (tried >= kAcceptTries) break;
        }
        return first_free == capacity_ ? 0 : take(first_free, owner);
    }
    static constexpr unsigned kAcceptTries = 64;
    // The port rests until now + rest_seconds.
    void release(uint16_t port, uint32_t now);

    // The mapping that holds `port`, or kFree (also when resting or not ours).
    uint32_t owner(uint16_t port) const;
    bool owns(uint16_t port) const { return port >= lo_ && port <= hi_ && (port - lo_) % stride_ == offset_; }
    unsigned in_use() const { return in_use_; }
    unsigned capacity() const { return capacity_; }

private:
    static constexpr uint32_t kResting = 0x80000000;  // slot: kResting | rest-until seconds
    bool available(uint32_t slot, uint32_t now) const {
        return slot == kFree || ((slot & kResting) && (slot & ~kResting) <= now);
    }
    uint64_t next_random();
    uint16_t take(unsigned slot, uint32_t owner) {
        slots_[slot] = owner;
        ++in_use_;
        return static_cast<uint16_t>(lo_ + slot);
    }

    uint16_t lo_, hi_;
    unsigned stride_, offset_, capacity_;
    uint32_t rest_;
    uint64_t rng_;
    unsigned in_use_ = 0;
    std::vector<uint32_t> slots_;  // one per port of the range
};

}  // namespace ipshare
