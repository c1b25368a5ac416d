// A token bucket on the TSC, one per worker and per kind of packet the router
// generates, so that the router is never an amplifier (RFC 1812 4.3.2.8).
#pragma once

#include <cstdint>

namespace ipshare {

class TokenBucket {
public:
    TokenBucket() = default;
    // `rate` tokens per second, at most `burst` banked; `hz` ticks per second.
    TokenBucket(uint64_t rate, uint64_t burst, uint64_t hz)
        : ticks_per_token_(rate ? hz / rate : 0), burst_(burst), tokens_(burst) {}

    bool take(uint64_t now) {
        if (ticks_per_token_ == 0) return false;
        if (tokens_ < burst_) {
            const uint64_t earned = (now - last_) / ticks_per_token_;
            if (earned) {
                tokens_ = tokens_ + earned > burst_ ? burst_ : tokens_ + earned;
                last_ += earned * ticks_per_token_;
            }
        } else {
            last_ = now;
        }
        if (tokens_ == 0) return false;
        --tokens_;
        return true;
    }

private:
    uint64_t ticks_per_token_ = 0;
    uint64_t burst_ = 0;
    uint64_t tokens_ = 0;
    uint64_t last_ = 0;
};

}  // namespace ipshare
