// Unit tests for the token bucket (dataplane/ratelimit.h), on a fake clock.
#include <gtest/gtest.h>

#include <cstdint>

#include "ratelimit.h"

namespace ipshare {
namespace {

constexpr uint64_t kHz = 1'000'000;  // ticks per second of the fake clock
constexpr uint64_t kStart = 5'000'000'000ull;

// How many take() succeed at one instant.
int drain(TokenBucket& b, uint64_t now) {
    int n = 0;
    while (n < 1'000'000 && b.take(now)) ++n;
    return n;
}

TEST(TokenBucket, BurstThenRefusal) {
    TokenBucket b(100, 10, kHz);  // 100/s: one token every 10000 ticks
    EXPECT_EQ(drain(b, kStart), 10);
    EXPECT_FALSE(b.take(kStart));
    EXPECT_FALSE(b.take(kStart + 9'999));
}

TEST(TokenBucket, RefillsAtTheRate) {
    TokenBucket b(100, 10, kHz);
    ASSERT_EQ(drain(b, kStart), 10);
    EXPECT_TRUE(b.take(kStart + 10'000));  // one token earned
    EXPECT_FALSE(b.take(kStart + 10'000));
    EXPECT_FALSE(b.take(kStart + 19'999));
    EXPECT_TRUE(b.take(kStart + 20'000));
    // Three tokens' worth of time: three more.
    EXPECT_EQ(drain(b, kStart + 50'000), 3);
}

TEST(TokenBucket, FractionalTimeIsNotLost) {
    // Takes every 0.75 token intervals for 1.005 s: one token per full
    // interval, 100, because the time left over after each refill is kept
    // (restarting the clock at each take would give 67).
    TokenBucket b(100, 1, kHz);
    ASSERT_TRUE(b.take(kStart));
    int got = 0;
    for (uint64_t t = kStart + 7'500; t <= kStart + 1'005'000; t += 7'500) got += b.take(t) ? 1 : 0;
    EXPECT_EQ(got, 100);
}

TEST(TokenBucket, RefillCappedAtBurst) {
    TokenBucket b(100, 10, kHz);
    ASSERT_EQ(drain(b, kStart), 10);
    // An hour idle: still only `burst` tokens.
    EXPECT_EQ(drain(b, kStart + 3600 * kHz), 10);
    // And the clock after that refill runs from now, not from the past.
    EXPECT_FALSE(b.take(kStart + 3600 * kHz + 9'999));
    EXPECT_TRUE(b.take(kStart + 3600 * kHz + 10'000));
}

TEST(TokenBucket, FullBucketDoesNotBankIdleTime) {
    TokenBucket b(100, 2, kHz);
    EXPECT_TRUE(b.take(kStart));  // full until now: the clock starts here
    EXPECT_TRUE(b.take(kStart));
    EXPECT_FALSE(b.take(kStart));
    EXPECT_TRUE(b.take(kStart + 10'000));
}

TEST(TokenBucket, SustainedRateOverOneSecond) {
    TokenBucket b(1000, 100, kHz);
    int got = 0;
    for (uint64_t t = kStart; t < kStart + kHz; t += 100) got += b.take(t) ? 1 : 0;  // 10000 attempts
    // The burst, then 1000/s for (just under) one second.
    EXPECT_GE(got, 100 + 999);
    EXPECT_LE(got, 100 + 1000);
}

TEST(TokenBucket, RateZeroRefusesAlways) {
    TokenBucket b(0, 10, kHz);
    EXPECT_FALSE(b.take(0));
    EXPECT_FALSE(b.take(kStart));
    EXPECT_FALSE(b.take(kStart + 3600 * kHz));
}

TEST(TokenBucket, BurstZeroRefusesAlways) {
    TokenBucket b(100, 0, kHz);
    EXPECT_FALSE(b.take(kStart));
    EXPECT_FALSE(b.take(kStart + 3600 * kHz));
}

TEST(TokenBucket, DefaultConstructedRefuses) {
    TokenBucket b;
    EXPECT_FALSE(b.take(kStart));
}

}  // namespace
}  // namespace ipshare
