#include "port_alloc.h"

namespace ipshare {

PortAllocator::PortAllocator(uint16_t lo, uint16_t hi, uint32_t rest_seconds, uint64_t seed, unsigned stride,
                             unsigned offset)
    : lo_(lo), hi_(hi), stride_(stride ? stride : 1), offset_(offset), rest_(rest_seconds),
      rng_(seed ? seed : 0x9e3779b97f4a7c15ull), slots_(unsigned(hi) - lo + 1, kFree) {
    const unsigned n = unsigned(hi) - lo + 1;
    capacity_ = n > offset_ ? (n - offset_ + stride_ - 1) / stride_ : 0;
}

uint64_t PortAllocator::next_random() {  // xorshift64*
    rng_ ^= rng_ >> 12;
    rng_ ^= rng_ << 25;
    rng_ ^= rng_ >> 27;
    return rng_ * 0x2545f4914f6cdd1dull;
}

void PortAllocator::release(uint16_t port, uint32_t now) {
    if (!owns(port)) return;
    uint32_t& s = slots_[port - lo_];
    if (s == kFree || (s & kResting)) return;
    s = kResting | ((now + rest_) & ~kResting);
    --in_use_;
}

uint32_t PortAllocator::owner(uint16_t port) const {
    if (!owns(port)) return kFree;
    const uint32_t s = slots_[port - lo_];
    return (s & kResting) ? kFree : s;
}

}  // namespace ipshare
