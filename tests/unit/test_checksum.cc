// Unit tests for the Internet checksum and its incremental update
// (dataplane/checksum.h), against a full recomputation by an independent
// reference (packet_builder.h).
#include <gtest/gtest.h>

#include <cstring>
#include <random>

#include "checksum.h"
#include "packet_builder.h"

namespace ipshare {
namespace {

using test::Bytes;
using test::ref_checksum;
using test::ref_verify;

constexpr int kRounds = 100000;

// A random 20-byte IPv4 header with a correct (reference) checksum.
Ipv4Hdr random_header(std::mt19937& rng) {
    Ipv4Hdr h;
    auto* p = reinterpret_cast<uint8_t*>(&h);
    for (size_t i = 0; i < sizeof h; ++i) p[i] = static_cast<uint8_t>(rng());
    h.version_ihl = 0x45;
    h.checksum = be16{};
    h.checksum = be16::from_host(ref_checksum(p, sizeof h));
    return h;
}

// The checksum a full recomputation gives, host order.
uint16_t full(const Ipv4Hdr& h) {
    Ipv4Hdr c = h;
    c.checksum = be16{};
    return ref_checksum(reinterpret_cast<const uint8_t*>(&c), sizeof c);
}

bool verifies(const Ipv4Hdr& h) { return ref_verify(reinterpret_cast<const uint8_t*>(&h), sizeof h); }

uint16_t raw16(const void* p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return v;
}

// ---------------------------------------------------------------- full checksum

TEST(ChecksumFull, HeaderChecksumMatchesReference) {
    std::mt19937 rng(1);
    for (int i = 0; i < kRounds; ++i) {
        Ipv4Hdr h = random_header(rng);
        const uint16_t want = h.checksum.host();
        h.checksum = be16::from_host(static_cast<uint16_t>(rng()));  // ignored by the computation
        ASSERT_EQ(ipv4_header_checksum(&h).host(), want) << "round " << i;
    }
}

TEST(ChecksumFull, HeaderChecksumCoversOptions) {
    // 24-byte header: Record Route with room for nothing but its pointer.
    Bytes b = {0x46, 0x00, 0x00, 0x18, 0x12, 0x34, 0x40, 0x00, 0x40, 0x01, 0x00, 0x00,
               0xc0, 0xa8, 0x01, 0x0b, 0xcb, 0x00, 0x71, 0x0a, 0x07, 0x03, 0x04, 0x00};
    const uint16_t want = ref_checksum(b.data(), b.size());
    auto* ip = reinterpret_cast<Ipv4Hdr*>(b.data());
    EXPECT_EQ(ipv4_header_checksum(ip).host(), want);
    ip->checksum = be16::from_host(want);
    EXPECT_TRUE(ipv4_checksum_ok(ip));
    b[21] ^= 0x10;  // an option byte: the checksum must cover it
    EXPECT_FALSE(ipv4_checksum_ok(ip));
}

TEST(ChecksumFull, ChecksumOkAcceptsRightRejectsWrong) {
    std::mt19937 rng(2);
    for (int i = 0; i < 10000; ++i) {
        Ipv4Hdr h = random_header(rng);
        ASSERT_TRUE(ipv4_checksum_ok(&h));
        const int byte = static_cast<int>(rng() % sizeof h);
        const auto flip = static_cast<uint8_t>(1u << (rng() % 8));
        if (byte == 0) continue;  // version/IHL changes the length covered
        reinterpret_cast<uint8_t*>(&h)[byte] ^= flip;
        ASSERT_FALSE(ipv4_checksum_ok(&h)) << "byte " << byte;
    }
}

// ---------------------------------------------------------------- csum_partial

// The checksum of `len` bytes from `p` as csum_partial/csum_finish give it,
// read back as the wire value.
uint16_t partial_checksum(const uint8_t* p, size_t len, uint32_t start = 0) {
    return csum_finish(csum_partial(p, len, start)).host();
}

TEST(ChecksumPartial, EveryLengthAndAlignmentMatchesReference) {
    std::mt19937 rng(3);
    Bytes buf(300);
    for (int round = 0; round < 50; ++round) {
        for (auto& x : buf) x = static_cast<uint8_t>(rng());
        for (size_t off = 0; off < 8; ++off)
            for (size_t len = 0; len <= 257; ++len)
                ASSERT_EQ(partial_checksum(buf.data() + off, len), ref_checksum(buf.data() + off, len))
                    << "offset " << off << " length " << len;
    }
}

TEST(ChecksumPartial, OddLengthPadsWithZero) {
    const Bytes odd = {0x12, 0x34, 0x56};
    const Bytes even = {0x12, 0x34, 0x56, 0x00};
    EXPECT_EQ(partial_checksum(odd.data(), odd.size()), partial_checksum(even.data(), even.size()));
    EXPECT_EQ(partial_checksum(odd.data(), odd.size()), static_cast<uint16_t>(~(0x1234 + 0x5600)));
    const Bytes one = {0xab};
    EXPECT_EQ(partial_checksum(one.data(), 1), static_cast<uint16_t>(~0xab00));
}

TEST(ChecksumPartial, ChainsOverEvenSplits) {
    std::mt19937 rng(4);
    Bytes buf(1001);
    for (auto& x : buf) x = static_cast<uint8_t>(rng());
    for (size_t split = 0; split <= buf.size(); split += 2) {
        const uint32_t first = csum_partial(buf.data(), split);
        ASSERT_EQ(partial_checksum(buf.data() + split, buf.size() - split, first),
                  ref_checksum(buf.data(), buf.size()))
            << "split " << split;
    }
}

TEST(ChecksumPartial, CarriesOnLongRunsOfOnes) {
    // 64 KiB of 0xff: the 32-bit accumulators overflow many times.
    const Bytes ones(65536 + 7, 0xff);
    for (size_t len : {size_t{65536}, size_t{65537}, size_t{65543}})
        EXPECT_EQ(partial_checksum(ones.data(), len), ref_checksum(ones.data(), len)) << len;
    EXPECT_EQ(partial_checksum(ones.data(), 0), 0xffff);  // nothing: sum 0, checksum ~0
}

TEST(ChecksumPartial, FoldKeepsEndAroundCarry) {
    EXPECT_EQ(csum_fold(0xffffffffu), 0xffff);
    EXPECT_EQ(csum_fold(0x0001fffeu), 0xffff);
    EXPECT_EQ(csum_fold(0x0001ffffu), 0x0001);
    EXPECT_EQ(csum_fold(0x00010000u), 0x0001);
    EXPECT_EQ(csum_fold(0u), 0);
}

// ---------------------------------------------------------------- incremental

TEST(ChecksumIncremental, Replace16MatchesFullRecomputation) {
    std::mt19937 rng(5);
    for (int i = 0; i < kRounds; ++i) {
        Ipv4Hdr h = random_header(rng);
        // Any 16-bit word but the checksum itself (word 5).
        int word = static_cast<int>(rng() % 9);
        if (word >= 5) ++word;
        auto* w = reinterpret_cast<uint8_t*>(&h) + 2 * word;
        const uint16_t old_raw = raw16(w);
        const auto new_raw = static_cast<uint16_t>(rng());
        std::memcpy(w, &new_raw, 2);
        h.checksum = csum_replace16(h.checksum, old_raw, new_raw);
        ASSERT_EQ(h.checksum.host(), full(h)) << "round " << i << " word " << word;
    }
}

TEST(ChecksumIncremental, Replace32MatchesFullRecomputation) {
    std::mt19937 rng(6);
    for (int i = 0; i < kRounds; ++i) {
        Ipv4Hdr h = random_header(rng);
        be32& field = (rng() & 1) ? h.src : h.dst;
        const be32 old_v = field;
        const be32 new_v = be32::from_host(static_cast<uint32_t>(rng()));
        field = new_v;
        h.checksum = csum_replace32(h.checksum, old_v, new_v);
        ASSERT_EQ(h.checksum.host(), full(h)) << "round " << i;
    }
}

TEST(ChecksumIncremental, DecTtlMatchesFullRecomputation) {
    std::mt19937 rng(7);
    for (int i = 0; i < kRounds; ++i) {
        Ipv4Hdr h = random_header(rng);
        h.ttl = static_cast<uint8_t>(1 + rng() % 255);
        h.checksum = be16::from_host(full(h));
        const uint8_t ttl = h.ttl;
        const uint8_t proto = h.proto;
        ipv4_dec_ttl(&h);
        ASSERT_EQ(h.ttl, ttl - 1);
        ASSERT_EQ(h.proto, proto);
        ASSERT_EQ(h.checksum.host(), full(h)) << "round " << i << " ttl " << int{ttl};
    }
}

TEST(ChecksumIncremental, DecTtlBoundaries) {
    std::mt19937 rng(8);
    for (uint8_t ttl : {uint8_t{255}, uint8_t{2}, uint8_t{1}, uint8_t{128}, uint8_t{129}, uint8_t{64}}) {
        for (int i = 0; i < 1000; ++i) {
            Ipv4Hdr h = random_header(rng);
            h.ttl = ttl;
            h.checksum = be16::from_host(full(h));
            ipv4_dec_ttl(&h);
            ASSERT_EQ(h.ttl, ttl - 1);
            ASSERT_EQ(h.checksum.host(), full(h)) << "ttl " << int{ttl};
            ASSERT_TRUE(ipv4_checksum_ok(&h));
        }
    }
}

// A header whose correct checksum is `want` (host order): the id field is
// solved for it.
Ipv4Hdr header_with_checksum(std::mt19937& rng, uint16_t want) {
    for (;;) {
        Ipv4Hdr h = random_header(rng);
        h.id = be16{};
        h.checksum = be16{};
        // Sum without id; the id word must bring the one's-complement sum to ~want.
        const uint16_t s = test::ref_sum(reinterpret_cast<const uint8_t*>(&h), sizeof h);
        const auto target = static_cast<uint16_t>(~want);
        // s + id == target (one's complement): id = target - s.
        const uint32_t id = (uint32_t{target} + 0xffff - s) % 0xffff;
        h.id = be16::from_host(static_cast<uint16_t>(id));
        if (full(h) != want) continue;
        h.checksum = be16::from_host(want);
        return h;
    }
}

TEST(ChecksumIncremental, EdgeChecksumZero) {
    // Checksum 0x0000 (sum of the other words 0xffff): updates stay exact.
    std::mt19937 rng(9);
    for (int i = 0; i < 2000; ++i) {
        Ipv4Hdr h = header_with_checksum(rng, 0x0000);
        ASSERT_EQ(h.checksum.host(), 0x0000);
        ASSERT_TRUE(verifies(h));
        Ipv4Hdr a = h;
        ipv4_dec_ttl(&a);
        ASSERT_EQ(a.checksum.host(), full(a));
        Ipv4Hdr b = h;
        const be32 nv = be32::from_host(static_cast<uint32_t>(rng()));
        const be32 ov = b.dst;
        b.dst = nv;
        b.checksum = csum_replace32(b.checksum, ov, nv);
        ASSERT_EQ(b.checksum.host(), full(b));
    }
}

TEST(ChecksumIncremental, UpdateBackToZeroChecksum) {
    // An update whose correct result is 0x0000 gives 0x0000, not 0xffff.
    std::mt19937 rng(10);
    for (int i = 0; i < 2000; ++i) {
        Ipv4Hdr h = header_with_checksum(rng, 0x0000);
        // Change id from the value that made the checksum 0 to something else
        // and back: the second update must give 0x0000 again.
        const uint16_t id_raw = h.id.raw();
        const auto other = static_cast<uint16_t>(rng());
        h.id = be16::from_raw(other);
        h.checksum = csum_replace16(h.checksum, id_raw, other);
        ASSERT_EQ(h.checksum.host(), full(h));
        h.id = be16::from_raw(id_raw);
        h.checksum = csum_replace16(h.checksum, other, id_raw);
        ASSERT_EQ(h.checksum.host(), 0x0000);
        ASSERT_TRUE(verifies(h));
    }
}

TEST(ChecksumIncremental, ReceivedChecksumFfffStillVerifiesAfterUpdate) {
    // 0xffff is the other representation of a zero checksum (RFC 1624 s. 3):
    // a header carrying it verifies, and must still verify after updates.
    std::mt19937 rng(11);
    for (int i = 0; i < 2000; ++i) {
        Ipv4Hdr h = header_with_checksum(rng, 0x0000);
        h.checksum = be16::from_host(0xffff);
        ASSERT_TRUE(verifies(h));
        ASSERT_TRUE(ipv4_checksum_ok(&h));
        Ipv4Hdr a = h;
        a.ttl = static_cast<uint8_t>(a.ttl | 2);
        // Keep the sum at zero: re-solve id with the new TTL, then decrement.
        {
            Ipv4Hdr b = a;
            b.checksum = be16{};
            b.id = be16{};
            const uint16_t s = test::ref_sum(reinterpret_cast<const uint8_t*>(&b), sizeof b);
            a.id = be16::from_host(static_cast<uint16_t>((0xffffu + 0xffff - s) % 0xffff));
            if (full(a) != 0) continue;
        }
        ipv4_dec_ttl(&a);
        ASSERT_TRUE(verifies(a)) << "round " << i;
        Ipv4Hdr c = h;
        const uint16_t old_raw = c.id.raw();
        c.id = be16::from_raw(static_cast<uint16_t>(rng()));
        c.checksum = csum_replace16(c.checksum, old_raw, c.id.raw());
        ASSERT_TRUE(verifies(c)) << "round " << i;
    }
}

TEST(ChecksumIncremental, Replace16OfAllOnesToZero) {
    // m = 0xffff -> m' = 0x0000, the case where ~m + m' is zero.
    std::mt19937 rng(12);
    for (int i = 0; i < 2000; ++i) {
        Ipv4Hdr h = random_header(rng);
        h.id = be16::from_host(0xffff);
        h.checksum = be16::from_host(full(h));
        h.id = be16::from_host(0x0000);
        h.checksum = csum_replace16(h.checksum, 0xffff, 0x0000);
        ASSERT_EQ(h.checksum.host(), full(h));
        h.id = be16::from_host(0xffff);
        h.checksum = csum_replace16(h.checksum, 0x0000, 0xffff);
        ASSERT_EQ(h.checksum.host(), full(h));
    }
}

}  // namespace
}  // namespace ipshare
