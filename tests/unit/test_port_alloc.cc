// PortAllocator: port preservation, random allocation, no double allocation
// (RFC 4787 REQ-3), rest after release (RFC 6888 REQ-8), worker slices.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <set>
#include <vector>

#include "port_alloc.h"

namespace ipshare {
namespace {

constexpr uint16_t kLo = 61000, kHi = 65535;
constexpr unsigned kRange = kHi - kLo + 1;  // 4536
constexpr uint32_t kRest = 120;
constexpr uint64_t kSeed = 42;

TEST(PortAlloc, Capacity) {
    EXPECT_EQ(PortAllocator(kLo, kHi, kRest, kSeed).capacity(), kRange);
    EXPECT_EQ(PortAllocator(61000, 61000, kRest, kSeed).capacity(), 1u);
    EXPECT_EQ(PortAllocator(61000, 61009, kRest, kSeed).capacity(), 10u);
    // Slices: 4536 = 4 * 1134; 4536 = 5 * 907 + 1, so worker 0 of 5 has one more.
    for (unsigned k = 0; k < 4; ++k) EXPECT_EQ(PortAllocator(kLo, kHi, kRest, kSeed, 4, k).capacity(), 1134u) << k;
    EXPECT_EQ(PortAllocator(kLo, kHi, kRest, kSeed, 5, 0).capacity(), 908u);
    unsigned total = 0;
    for (unsigned k = 0; k < 5; ++k) {
        const unsigned c = PortAllocator(kLo, kHi, kRest, kSeed, 5, k).capacity();
        if (k > 0) {
            EXPECT_EQ(c, 907u) << k;
        }
        total += c;
    }
    EXPECT_EQ(total, kRange);
    // 10 ports over 3 workers: 4, 3, 3.
    EXPECT_EQ(PortAllocator(61000, 61009, kRest, kSeed, 3, 0).capacity(), 4u);
    EXPECT_EQ(PortAllocator(61000, 61009, kRest, kSeed, 3, 1).capacity(), 3u);
    EXPECT_EQ(PortAllocator(61000, 61009, kRest, kSeed, 3, 2).capacity(), 3u);
}

TEST(PortAlloc, PreservesAFreePortInRange) {
    PortAllocator a(kLo, kHi, kRest, kSeed);
    EXPECT_EQ(a.allocate(61234, 7, 0), 61234);
    EXPECT_EQ(a.owner(61234), 7u);
    EXPECT_EQ(a.in_use(), 1u);
    EXPECT_EQ(a.allocate(kLo, 8, 0), kLo);
    EXPECT_EQ(a.allocate(kHi, 9, 0), kHi);
    EXPECT_EQ(a.owner(kLo), 8u);
    EXPECT_EQ(a.owner(kHi), 9u);
    EXPECT_EQ(a.in_use(), 3u);
}

TEST(PortAlloc, PreferredPortTakenGivesAnotherPort) {
    PortAllocator a(kLo, kHi, kRest, kSeed);
    ASSERT_EQ(a.allocate(61234, 1, 0), 61234);
    const uint16_t p = a.allocate(61234, 2, 0);
    EXPECT_NE(p, 0);
    EXPECT_NE(p, 61234);
    EXPECT_GE(p, kLo);
    EXPECT_LE(p, kHi);
    EXPECT_EQ(a.owner(61234), 1u);
    EXPECT_EQ(a.owner(p), 2u);
}

TEST(PortAlloc, OutOfRangePreferredGivesRandomSpreadPorts) {
    PortAllocator a(kLo, kHi, kRest, kSeed);
    std::vector<uint16_t> got;
    std::set<uint16_t> distinct;
    for (uint32_t i = 0; i < 1000; ++i) {
        const uint16_t p = a.allocate(static_cast<uint16_t>(5000 + (i % 3)), i, 0);
        ASSERT_GE(p, kLo) << i;
        ASSERT_LE(p, kHi) << i;
        got.push_back(p);
        distinct.insert(p);
        EXPECT_EQ(a.owner(p), i);
    }
    EXPECT_EQ(distinct.size(), 1000u);
    EXPECT_EQ(a.in_use(), 1000u);
    // Not sequential: few successive allocations are neighbours.
    unsigned neighbours = 0;
    for (size_t i = 1; i < got.size(); ++i)
        if (got[i] == got[i - 1] + 1) ++neighbours;
    EXPECT_LT(neighbours, 100u);
    // Spread over the whole range: every eighth of it gets a share (expected 125 each).
    std::array<unsigned, 8> bins{};
    for (uint16_t p : got) ++bins[(p - kLo) * 8 / kRange];
    for (unsigned b = 0; b < 8; ++b) {
        EXPECT_GT(bins[b], 60u) << "bin " << b;
        EXPECT_LT(bins[b], 200u) << "bin " << b;
    }
}

// allocate_preferring (predictable RSS): among free candidates, one the
// predicate accepts; any free port when none of the candidates it tried does.
TEST(PortAlloc, PreferringTakesAnAcceptedPortElseAnyFreeOne) {
    PortAllocator a(1000, 1999, 120, 7, /*stride=*/2, /*offset=*/1);
    for (int i = 0; i < 30; ++i) {  // 100 ports of the slice end in 3
        const uint16_t p = a.allocate_preferring(1, 100 + i, 0, [](uint16_t port) { return port % 10 == 3; });
        EXPECT_EQ(p % 10, 3) << p;
        EXPECT_EQ((p - 1000) % 2, 1) << p;
    }
    std::vector<uint16_t> seen;
    const uint16_t p = a.allocate_preferring(1, 500, 0, [&](uint16_t port) {
        seen.push_back(port);
        return false;
    });
    EXPECT_NE(p, 0) << "no accepted candidate: any free port";
    EXPECT_EQ(seen.size(), PortAllocator::kAcceptTries) << "the search is bounded";
    EXPECT_EQ(a.in_use(), 31u);
    // A preserved port wins over the predicate.
    EXPECT_EQ(a.allocate_preferring(1999, 501, 0, [](uint16_t) { return false; }), 1999);
}

TEST(PortAlloc, PortZeroAndBelowRangeAreNotPreserved) {
    PortAllocator a(61000, 61009, kRest, kSeed);
    const uint16_t p = a.allocate(0, 1, 0);
    EXPECT_GE(p, 61000);
    EXPECT_LE(p, 61009);
    const uint16_t q = a.allocate(60999, 2, 0);
    EXPECT_GE(q, 61000);
    EXPECT_LE(q, 61009);
    EXPECT_NE(p, q);
}

TEST(PortAlloc, NoPortGivenTwiceWhileInUse) {
    PortAllocator a(61000, 61099, kRest, kSeed);
    std::set<uint16_t> seen;
    for (uint32_t i = 0; i < 100; ++i) {
        // ask for the same port every time: only the first gets it
        const uint16_t p = a.allocate(61050, i, 0);
        ASSERT_NE(p, 0) << i;
        EXPECT_TRUE(seen.insert(p).second) << "port " << p << " given twice";
    }
    EXPECT_TRUE(seen.count(61050));
    EXPECT_EQ(a.owner(61050), 0u);
    EXPECT_EQ(seen.size(), 100u);
    EXPECT_EQ(*seen.begin(), 61000);
    EXPECT_EQ(*seen.rbegin(), 61099);
}

TEST(PortAlloc, ExhaustionThenRest) {
    PortAllocator a(61000, 61003, kRest, kSeed);
    for (uint32_t i = 0; i < 4; ++i) ASSERT_NE(a.allocate(0, i, 10), 0) << i;
    EXPECT_EQ(a.in_use(), 4u);
    EXPECT_EQ(a.allocate(0, 99, 10), 0);
    EXPECT_EQ(a.allocate(61002, 99, 10), 0);

    const uint32_t t = 1000;
    const uint32_t was = a.owner(61002);
    ASSERT_NE(was, PortAllocator::kFree);
    a.release(61002, t);
    EXPECT_EQ(a.in_use(), 3u);
    EXPECT_EQ(a.owner(61002), PortAllocator::kFree);  // resting: no owner
    EXPECT_EQ(a.allocate(0, 99, t), 0);
    EXPECT_EQ(a.allocate(61002, 99, t + 1), 0);
    EXPECT_EQ(a.allocate(0, 99, t + kRest - 1), 0);
    EXPECT_EQ(a.allocate(61002, 99, t + kRest - 1), 0);
    EXPECT_EQ(a.in_use(), 3u);
    EXPECT_EQ(a.allocate(0, 99, t + kRest), 61002);
    EXPECT_EQ(a.owner(61002), 99u);
    EXPECT_EQ(a.in_use(), 4u);
    EXPECT_EQ(a.allocate(0, 100, t + kRest), 0);
}

TEST(PortAlloc, RestingPortIsNotPreserved) {
    PortAllocator a(kLo, kHi, kRest, kSeed);
    ASSERT_EQ(a.allocate(61234, 1, 0), 61234);
    a.release(61234, 50);
    const uint16_t p = a.allocate(61234, 2, 50 + kRest - 1);
    EXPECT_NE(p, 0);
    EXPECT_NE(p, 61234);
    EXPECT_EQ(a.owner(61234), PortAllocator::kFree);
    EXPECT_EQ(a.allocate(61234, 3, 50 + kRest), 61234);
    EXPECT_EQ(a.owner(61234), 3u);
}

TEST(PortAlloc, RandomAllocationSkipsRestingPorts) {
    PortAllocator a(61000, 61015, kRest, kSeed);
    std::vector<uint16_t> ports;
    for (uint32_t i = 0; i < 16; ++i) ports.push_back(a.allocate(0, i, 0));
    for (int i = 0; i < 8; ++i) a.release(ports[i], 100);  // half rests
    // the other half is still held: nothing free until the rest ends
    for (uint32_t t = 100; t < 100 + kRest; t += 17) EXPECT_EQ(a.allocate(0, 50, t), 0) << t;
    std::set<uint16_t> again;
    for (int i = 0; i < 8; ++i) again.insert(a.allocate(0, 60 + i, 100 + kRest));
    EXPECT_EQ(again, std::set<uint16_t>(ports.begin(), ports.begin() + 8));
}

TEST(PortAlloc, ReleaseOfFreeRestingOrForeignPortIsHarmless) {
    PortAllocator a(61000, 61003, kRest, kSeed, 2, 0);  // owns 61000, 61002
    ASSERT_EQ(a.allocate(61000, 5, 0), 61000);
    a.release(61002, 0);  // free: no change
    EXPECT_EQ(a.in_use(), 1u);
    a.release(61001, 0);  // another worker's port
    a.release(7, 0);      // outside the range
    EXPECT_EQ(a.in_use(), 1u);
    a.release(61000, 10);
    EXPECT_EQ(a.in_use(), 0u);
    a.release(61000, 20);  // already resting: not counted twice, rest not extended
    EXPECT_EQ(a.in_use(), 0u);
    EXPECT_EQ(a.allocate(61000, 6, 10 + kRest), 61000);
}

TEST(PortAlloc, Owner) {
    PortAllocator a(61000, 61099, kRest, kSeed);
    EXPECT_EQ(a.owner(61010), PortAllocator::kFree);
    EXPECT_EQ(a.owner(60999), PortAllocator::kFree);
    EXPECT_EQ(a.owner(61100), PortAllocator::kFree);
    EXPECT_EQ(a.owner(0), PortAllocator::kFree);
    ASSERT_EQ(a.allocate(61010, 0, 0), 61010);  // mapping id 0 is a real owner
    ASSERT_EQ(a.allocate(61011, 12345, 0), 61011);
    EXPECT_EQ(a.owner(61010), 0u);
    EXPECT_EQ(a.owner(61011), 12345u);
    a.release(61011, 0);
    EXPECT_EQ(a.owner(61011), PortAllocator::kFree);
    EXPECT_EQ(a.owner(61010), 0u);
}

TEST(PortAlloc, OwnsIsTheWorkersSlice) {
    PortAllocator a(61000, 61099, kRest, kSeed, 4, 3);
    EXPECT_TRUE(a.owns(61003));
    EXPECT_TRUE(a.owns(61099));
    EXPECT_FALSE(a.owns(61000));
    EXPECT_FALSE(a.owns(61004));
    EXPECT_FALSE(a.owns(60999));
    EXPECT_FALSE(a.owns(61103));
}

TEST(PortAlloc, StrideOffsetSlices) {
    constexpr unsigned kWorkers = 3;
    std::set<uint16_t> all;
    for (unsigned k = 0; k < kWorkers; ++k) {
        PortAllocator a(kLo, kHi, kRest, kSeed + k, kWorkers, k);
        const unsigned cap = a.capacity();
        EXPECT_EQ(cap, kRange / kWorkers);
        std::set<uint16_t> mine;
        for (uint32_t i = 0; i < cap; ++i) {
            // preferred ports of every slice, and outside the range
            const uint16_t pref = static_cast<uint16_t>(i % 5 == 4 ? 1024 : kLo + (i * 7) % kRange);
            const bool preservable = a.owns(pref) && !mine.count(pref);
            const uint16_t p = a.allocate(pref, i, 0);
            ASSERT_NE(p, 0) << "worker " << k << " allocation " << i;
            EXPECT_EQ((p - kLo) % kWorkers, k) << "worker " << k << " got " << p;
            EXPECT_TRUE(a.owns(p));
            EXPECT_TRUE(mine.insert(p).second) << p;
            if (preservable) {
                EXPECT_EQ(p, pref) << "worker " << k;
            }
        }
        EXPECT_EQ(a.in_use(), cap);
        EXPECT_EQ(a.allocate(0, 1, 0), 0);
        EXPECT_EQ(a.allocate(static_cast<uint16_t>(kLo + k), 1, 0), 0);
        all.insert(mine.begin(), mine.end());
        // a port of another slice has no owner here even though it is in range
        EXPECT_EQ(a.owner(static_cast<uint16_t>(kLo + (k + 1) % kWorkers)), PortAllocator::kFree);
    }
    EXPECT_EQ(all.size(), kRange);  // the slices cover the range exactly
}

TEST(PortAlloc, SlicePreservesOnlyItsOwnPorts) {
    PortAllocator a(61000, 61099, kRest, kSeed, 2, 1);  // odd ports
    EXPECT_EQ(a.allocate(61001, 1, 0), 61001);
    const uint16_t p = a.allocate(61002, 2, 0);  // even: not ours, so random among ours
    EXPECT_NE(p, 0);
    EXPECT_EQ((p - 61000) % 2, 1);
}

TEST(PortAlloc, SameSeedSameSequence) {
    PortAllocator a(kLo, kHi, kRest, 7), b(kLo, kHi, kRest, 7), c(kLo, kHi, kRest, 8);
    std::vector<uint16_t> va, vb, vc;
    for (uint32_t i = 0; i < 20; ++i) {
        va.push_back(a.allocate(0, i, 0));
        vb.push_back(b.allocate(0, i, 0));
        vc.push_back(c.allocate(0, i, 0));
    }
    EXPECT_EQ(va, vb);
    EXPECT_NE(va, vc);
}

// `napt ports-per-client` is the router's limit for one client: with
// several workers each admits its share, so the client never holds more in
// all; never 0, never more than a worker's slice of the range.
TEST(PortAlloc, ClientCapIsSharedByTheWorkers) {
    EXPECT_EQ(client_cap_per_worker(4096, 4536, 1), 4096u);
    EXPECT_EQ(client_cap_per_worker(200, 4536, 2), 100u);
    EXPECT_EQ(client_cap_per_worker(64, 4536, 3), 21u) << "3 x 21 <= 64";
    for (unsigned w = 1; w <= 8; ++w)
        for (uint32_t cap : {1u, 7u, 64u, 1000u, 4096u}) {
            const uint32_t share = client_cap_per_worker(cap, 4536, w);
            EXPECT_GE(share, 1u);
            if (cap >= w) {
                EXPECT_LE(share * w, cap) << cap << " over " << w << " workers";
            }
        }
    EXPECT_EQ(client_cap_per_worker(4536, 4536, 4), 1134u) << "a quarter of the range each";
    EXPECT_EQ(client_cap_per_worker(100, 10, 2), 5u) << "no more than the worker's slice";
    EXPECT_EQ(client_cap_per_worker(1, 4536, 4), 1u);
}

}  // namespace
}  // namespace ipshare
