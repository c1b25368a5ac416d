#include "checksum.h"

namespace ipshare {

uint32_t csum_partial(const void* data, size_t len, uint32_t sum) {
    const auto* p = static_cast<const uint8_t*>(data);
    uint64_t acc = sum;
    while (len >= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        acc += (w & 0xffffffffu) + (w >> 32);
        p += 8;
        len -= 8;
    }
    while (len >= 2) {
        uint16_t w;
        std::memcpy(&w, p, 2);
        acc += w;
        p += 2;
        len -= 2;
    }
    if (len) {
        uint8_t last[2] = {*p, 0};
        uint16_t w;
        std::memcpy(&w, last, 2);
        acc += w;
    }
    // Fold 64 -> 32 keeping the end-around carries.
    acc = (acc & 0xffffffffu) + (acc >> 32);
    acc = (acc & 0xffffffffu) + (acc >> 32);
    return static_cast<uint32_t>(acc);
}

}  // namespace ipshare
