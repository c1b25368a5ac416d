// Unit tests over real DPDK objects (main in eal_main.cc): the neighbour
// table (rte_hash under RCU, as the daemon makes it), keyed by port and
// address: set, lookup one and in bulk, remove, the generation the workers'
// caches check, for_each.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include "neighbour.h"
#include "packet_builder.h"

namespace ipshare {
namespace {

using namespace test;

// An RCU variable for one reader, as the daemon makes it (rte_zmalloc'd).
struct Qsbr {
    rte_rcu_qsbr* v = nullptr;
    Qsbr() {
        const size_t sz = rte_rcu_qsbr_get_memsize(1);
        v = static_cast<rte_rcu_qsbr*>(rte_zmalloc("unit_qsbr", sz, RTE_CACHE_LINE_SIZE));
        if (v && rte_rcu_qsbr_init(v, 1) != 0) {
            rte_free(v);
            v = nullptr;
        }
    }
    ~Qsbr() { rte_free(v); }
    Qsbr(const Qsbr&) = delete;
    Qsbr& operator=(const Qsbr&) = delete;
};

class Neighbours : public ::testing::Test {
protected:
    void SetUp() override {
        ASSERT_NE(qsbr_.v, nullptr);
        std::string err;
        table_ = NeighbourTable::create("unit_neigh", 1024, qsbr_.v, &err);
        ASSERT_TRUE(table_) << err;
    }
    Qsbr qsbr_;
    std::unique_ptr<NeighbourTable> table_;
};

uint64_t word(const Mac& m) { return mac_to_word(m.data()); }

TEST_F(Neighbours, MacWordRoundTrip) {
    const Mac m = {0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54};
    EXPECT_EQ(word(m), 0xfedcba987654ull);
    Mac back{};
    word_to_mac(word(m), back.data());
    EXPECT_EQ(mac_text(back), "fe:dc:ba:98:76:54");
}

TEST_F(Neighbours, SetThenLookup) {
    EXPECT_EQ(table_->count(), 0u);
    ASSERT_TRUE(table_->set(Zone::wan, kGateway, word(kGatewayMac)));
    uint64_t mac = 0;
    ASSERT_TRUE(table_->lookup(Zone::wan, kGateway, &mac));
    EXPECT_EQ(mac, word(kGatewayMac));
    EXPECT_EQ(table_->count(), 1u);
}

TEST_F(Neighbours, KeyedByPortAndAddress) {
    ASSERT_TRUE(table_->set(Zone::dmz, kWanIp, word(kServerMac)));
    uint64_t mac = 0;
    EXPECT_FALSE(table_->lookup(Zone::wan, kWanIp, &mac));
    EXPECT_FALSE(table_->lookup(Zone::lan, kWanIp, &mac));
    EXPECT_FALSE(table_->lookup(Zone::dmz, kWanIp + 1, &mac));
    // The same address on another port is another entry.
    ASSERT_TRUE(table_->set(Zone::wan, kWanIp, word(kGatewayMac)));
    ASSERT_TRUE(table_->lookup(Zone::dmz, kWanIp, &mac));
    EXPECT_EQ(mac, word(kServerMac));
    ASSERT_TRUE(table_->lookup(Zone::wan, kWanIp, &mac));
    EXPECT_EQ(mac, word(kGatewayMac));
    EXPECT_EQ(table_->count(), 2u);
}

TEST_F(Neighbours, SetAgainUpdates) {
    ASSERT_TRUE(table_->set(Zone::lan, kClient1, word(kClient1Mac)));
    ASSERT_TRUE(table_->set(Zone::lan, kClient1, word(kServerMac)));
    uint64_t mac = 0;
    ASSERT_TRUE(table_->lookup(Zone::lan, kClient1, &mac));
    EXPECT_EQ(mac, word(kServerMac));
    EXPECT_EQ(table_->count(), 1u);
}

TEST_F(Neighbours, ExtremeMacValues) {
    const Mac zero = kZeroMac;
    const Mac high = {0xff, 0xff, 0xff, 0xff, 0xff, 0xfe};
    ASSERT_TRUE(table_->set(Zone::lan, kClient1, word(zero)));
    ASSERT_TRUE(table_->set(Zone::lan, kLanRouter, word(high)));
    uint64_t mac = 1;
    ASSERT_TRUE(table_->lookup(Zone::lan, kClient1, &mac));  // a zero MAC is still an entry
    EXPECT_EQ(mac, 0u);
    ASSERT_TRUE(table_->lookup(Zone::lan, kLanRouter, &mac));
    EXPECT_EQ(mac, word(high));
}

TEST_F(Neighbours, LookupBulk) {
    ASSERT_TRUE(table_->set(Zone::wan, kGateway, word(kGatewayMac)));
    ASSERT_TRUE(table_->set(Zone::dmz, kWanIp, word(kServerMac)));
    ASSERT_TRUE(table_->set(Zone::lan, kClient1, word(kClient1Mac)));
    const NeighKey keys[] = {
        {kGateway, static_cast<uint32_t>(Zone::wan)},   // hit
        {kGateway, static_cast<uint32_t>(Zone::dmz)},   // miss: other port
        {kWanIp, static_cast<uint32_t>(Zone::dmz)},     // hit
        {kLanRouter, static_cast<uint32_t>(Zone::lan)}, // miss
        {kClient1, static_cast<uint32_t>(Zone::lan)},   // hit
    };
    const void* ptrs[5];
    for (int i = 0; i < 5; ++i) ptrs[i] = &keys[i];
    uint64_t macs[5] = {};
    const uint64_t hits = table_->lookup_bulk(ptrs, 5, macs);
    EXPECT_EQ(hits, 0b10101u);
    EXPECT_EQ(macs[0], word(kGatewayMac));
    EXPECT_EQ(macs[2], word(kServerMac));
    EXPECT_EQ(macs[4], word(kClient1Mac));
}

TEST_F(Neighbours, LookupBulkOfAFullBurst) {
    std::vector<NeighKey> keys;
    for (uint32_t i = 0; i < 64; ++i) {
        keys.push_back({kLanNet + 2 + i, static_cast<uint32_t>(Zone::lan)});
        if (i % 3 == 0) {
            ASSERT_TRUE(table_->set(Zone::lan, kLanNet + 2 + i, 0x020000000000ull + i));
        }
    }
    std::vector<const void*> ptrs;
    for (const auto& k : keys) ptrs.push_back(&k);
    std::vector<uint64_t> macs(64, 0);
    const uint64_t hits = table_->lookup_bulk(ptrs.data(), 64, macs.data());
    for (uint32_t i = 0; i < 64; ++i) {
        EXPECT_EQ(bool(hits & (uint64_t{1} << i)), i % 3 == 0) << i;
        if (i % 3 == 0) {
            EXPECT_EQ(macs[i], 0x020000000000ull + i) << i;
        }
    }
}

TEST_F(Neighbours, Remove) {
    ASSERT_TRUE(table_->set(Zone::wan, kGateway, word(kGatewayMac)));
    ASSERT_TRUE(table_->set(Zone::dmz, kWanIp, word(kServerMac)));
    EXPECT_TRUE(table_->remove(Zone::wan, kGateway));
    uint64_t mac = 0;
    EXPECT_FALSE(table_->lookup(Zone::wan, kGateway, &mac));
    EXPECT_TRUE(table_->lookup(Zone::dmz, kWanIp, &mac));
    EXPECT_FALSE(table_->remove(Zone::wan, kGateway));  // already gone
    EXPECT_FALSE(table_->remove(Zone::lan, kClient1));  // never there
    unsigned visited = 0;
    table_->for_each([&](Zone, uint32_t, uint64_t) { ++visited; });
    EXPECT_EQ(visited, 1u);
    EXPECT_EQ(table_->count(), 1u) << "count() disagrees with for_each() after remove()";
    // And it can come back.
    ASSERT_TRUE(table_->set(Zone::wan, kGateway, word(kClient1Mac)));
    ASSERT_TRUE(table_->lookup(Zone::wan, kGateway, &mac));
    EXPECT_EQ(mac, word(kClient1Mac));
}

// The generation the workers' caches (neigh_cache.h) check: it moves when an
// answer they may hold changes, and only then.
TEST_F(Neighbours, GenerationMovesOnANewMacOrARemoval) {
    const uint64_t g0 = table_->generation();
    ASSERT_TRUE(table_->set(Zone::wan, kGateway, word(kGatewayMac)));
    EXPECT_EQ(table_->generation(), g0) << "a new entry changes no cached answer";
    ASSERT_TRUE(table_->set(Zone::wan, kGateway, word(kGatewayMac)));
    EXPECT_EQ(table_->generation(), g0) << "a refresh with the same MAC changes nothing";
    ASSERT_TRUE(table_->set(Zone::wan, kGateway, word(kServerMac)));
    const uint64_t g1 = table_->generation();
    EXPECT_NE(g1, g0) << "a new MAC";
    uint64_t mac = 0;
    ASSERT_TRUE(table_->lookup(Zone::wan, kGateway, &mac));
    EXPECT_EQ(mac, word(kServerMac));
    ASSERT_TRUE(table_->remove(Zone::wan, kGateway));
    EXPECT_NE(table_->generation(), g1) << "a removal";
}

TEST_F(Neighbours, ForEachVisitsEveryEntry) {
    ASSERT_TRUE(table_->set(Zone::wan, kGateway, word(kGatewayMac)));
    ASSERT_TRUE(table_->set(Zone::dmz, kWanIp, word(kServerMac)));
    std::map<std::pair<int, uint32_t>, uint64_t> seen;
    table_->for_each([&](Zone z, uint32_t ip, uint64_t mac) { seen[{idx(z), ip}] = mac; });
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ((seen[{idx(Zone::wan), kGateway}]), word(kGatewayMac));
    EXPECT_EQ((seen[{idx(Zone::dmz), kWanIp}]), word(kServerMac));
}

}  // namespace
}  // namespace ipshare
