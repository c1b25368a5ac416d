// The fast path's pure shortcuts, each against the slow answer it replaces:
// the neighbour cache (neigh_cache.h) and its invalidation, the route zone
// map (zone_map.h) against a longest-prefix match, the inbound short cut
// (inbound_shortcut.h), and the option-less IPv4 header checksum.
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "checksum.h"
#include "forwards.h"
#include "inbound_shortcut.h"
#include "neigh_cache.h"
#include "packet_builder.h"
#include "zone_map.h"

namespace ipshare {
namespace {

using test::ipv4;

// ---------------------------------------------------------------- NeighCache

TEST(NeighCache, EmptyFindsNothing) {
    NeighCache c;
    uint64_t mac = 0;
    EXPECT_FALSE(c.find(Zone::wan, ipv4(203, 0, 113, 1), &mac));
    EXPECT_FALSE(c.find(Zone::wan, 0, &mac));  // address 0 is not an empty slot's key
}

TEST(NeighCache, PutThenFind) {
    NeighCache c;
    c.put(Zone::lan, ipv4(192, 168, 1, 11), 0x02005e00010bull);
    uint64_t mac = 0;
    ASSERT_TRUE(c.find(Zone::lan, ipv4(192, 168, 1, 11), &mac));
    EXPECT_EQ(mac, 0x02005e00010bull);
}

TEST(NeighCache, KeyedByPortAndAddress) {
    NeighCache c;
    c.put(Zone::lan, ipv4(192, 168, 1, 11), 1);
    uint64_t mac = 0;
    EXPECT_FALSE(c.find(Zone::dmz, ipv4(192, 168, 1, 11), &mac));
    EXPECT_FALSE(c.find(Zone::lan, ipv4(192, 168, 2, 8), &mac));  // the same slot, another address
    c.put(Zone::lan, ipv4(192, 168, 2, 8), 2);                    // evicts the first
    EXPECT_FALSE(c.find(Zone::lan, ipv4(192, 168, 1, 11), &mac));
    ASSERT_TRUE(c.find(Zone::lan, ipv4(192, 168, 2, 8), &mac));
    EXPECT_EQ(mac, 2u);
}

TEST(NeighCache, AWholeSlash24FitsWithoutEvictions) {
    NeighCache c;
    for (uint32_t h = 0; h < 256; ++h) c.put(Zone::lan, ipv4(192, 168, 1, 0) + h, 1000 + h);
    for (uint32_t h = 0; h < 256; ++h) {
        uint64_t mac = 0;
        ASSERT_TRUE(c.find(Zone::lan, ipv4(192, 168, 1, 0) + h, &mac)) << h;
        EXPECT_EQ(mac, 1000 + h);
    }
}

TEST(NeighCache, NextHopsOnDifferentPortsNeverEvictEachOther) {
    NeighCache c;
    for (uint32_t h = 0; h < 256; ++h) c.put(Zone::lan, ipv4(192, 168, 1, 0) + h, 1000 + h);
    c.put(Zone::wan, ipv4(203, 0, 113, 1), 1);
    c.put(Zone::dmz, ipv4(203, 0, 113, 10), 2);
    uint64_t mac = 0;
    for (uint32_t h = 0; h < 256; ++h) ASSERT_TRUE(c.find(Zone::lan, ipv4(192, 168, 1, 0) + h, &mac)) << h;
    EXPECT_TRUE(c.find(Zone::wan, ipv4(203, 0, 113, 1), &mac));
    EXPECT_TRUE(c.find(Zone::dmz, ipv4(203, 0, 113, 10), &mac));
}

TEST(NeighCache, SameGenerationKeepsEntries) {
    NeighCache c;
    c.sync(7);
    c.put(Zone::wan, ipv4(203, 0, 113, 1), 5);
    c.sync(7);
    uint64_t mac = 0;
    EXPECT_TRUE(c.find(Zone::wan, ipv4(203, 0, 113, 1), &mac));
}

// The neighbour table changed (a new MAC, a removal): nothing cached before
// may be used after.
TEST(NeighCache, NewGenerationDropsEveryEntry) {
    NeighCache c;
    c.sync(1);
    for (uint32_t h = 0; h < 256; ++h) c.put(Zone::lan, ipv4(192, 168, 1, 0) + h, h + 1);
    c.put(Zone::wan, ipv4(203, 0, 113, 1), 9);
    c.sync(2);
    EXPECT_EQ(c.generation(), 2u);
    uint64_t mac = 0;
    for (uint32_t h = 0; h < 256; ++h) EXPECT_FALSE(c.find(Zone::lan, ipv4(192, 168, 1, 0) + h, &mac)) << h;
    EXPECT_FALSE(c.find(Zone::wan, ipv4(203, 0, 113, 1), &mac));
    c.put(Zone::wan, ipv4(203, 0, 113, 1), 10);  // refilled under the new generation
    ASSERT_TRUE(c.find(Zone::wan, ipv4(203, 0, 113, 1), &mac));
    EXPECT_EQ(mac, 10u);
}

// ---------------------------------------------------------------- ZoneMap

struct Lpm {  // the reference: longest prefix, else the default
    std::vector<ZoneMap::Route> routes;
    Zone dflt;
    Zone zone_of(uint32_t a) const {
        int best = -1;
        Zone z = dflt;
        for (const auto& r : routes) {
            const uint32_t mask = r.len == 0 ? 0 : ~uint32_t{0} << (32 - r.len);
            if ((a & mask) == (r.net & mask) && r.len > best) best = r.len, z = r.zone;
        }
        return z;
    }
};

// Addresses around every route's edges, and random ones.
std::vector<uint32_t> probes(const std::vector<ZoneMap::Route>& routes) {
    std::vector<uint32_t> a;
    std::mt19937 rng(5);
    for (int i = 0; i < 20000; ++i) a.push_back(rng());
    for (const auto& r : routes) {
        const uint32_t mask = r.len == 0 ? 0 : ~uint32_t{0} << (32 - r.len);
        const uint32_t net = r.net & mask, bc = net | ~mask;
        for (uint32_t x : {net - 1, net, net + 1, bc - 1, bc, bc + 1}) a.push_back(x);
        for (int i = 0; i < 200; ++i) a.push_back(net | (rng() & ~mask));
    }
    return a;
}

void expect_same_as_lpm(const std::vector<ZoneMap::Route>& routes) {
    const ZoneMap m = ZoneMap::build(routes, Zone::wan);
    ASSERT_TRUE(m.usable());
    const Lpm ref{routes, Zone::wan};
    for (uint32_t a : probes(routes)) ASSERT_EQ(m.zone_of(a), ref.zone_of(a)) << test::dotted(a);
}

// The reference configuration's table (tables_build.cc): lan subnet, wan
// network, wan-ip/32 on dmz, a LAN router's network, an on-link wan route.
const std::vector<ZoneMap::Route> kReference = {
    {ipv4(192, 168, 1, 0), 24, Zone::lan},   {ipv4(203, 0, 113, 0), 24, Zone::wan},
    {ipv4(203, 0, 113, 10), 32, Zone::dmz},  {ipv4(10, 20, 0, 0), 16, Zone::lan},
    {ipv4(203, 0, 113, 128), 25, Zone::wan},
};

TEST(ZoneMap, ReferenceTableMatchesTheLpm) { expect_same_as_lpm(kReference); }

TEST(ZoneMap, WanRoutesAroundOtherZonesMatchTheLpm) {
    auto r = kReference;
    r.push_back({ipv4(192, 168, 0, 0), 16, Zone::wan});  // wider than the lan subnet: the lan still wins inside
    r.push_back({ipv4(10, 0, 0, 0), 8, Zone::wan});
    expect_same_as_lpm(r);
}

TEST(ZoneMap, RefusedWhenAWanRouteIsInsideAnotherZonesNetwork) {
    auto r = kReference;
    r.push_back({ipv4(192, 168, 1, 128), 25, Zone::wan});
    EXPECT_FALSE(ZoneMap::build(r, Zone::wan).usable());
}

TEST(ZoneMap, RefusedWhenTwoOtherZonesOverlap) {
    auto r = kReference;
    r.push_back({ipv4(10, 20, 5, 0), 24, Zone::dmz});
    EXPECT_FALSE(ZoneMap::build(r, Zone::wan).usable());
}

TEST(ZoneMap, RefusedWithTooManyOtherZoneRoutesOrADefaultElsewhere) {
    auto r = kReference;
    for (uint32_t i = 0; i < ZoneMap::kMax; ++i) r.push_back({ipv4(10, 30, i, 0), 24, Zone::lan});
    EXPECT_FALSE(ZoneMap::build(r, Zone::wan).usable());
    EXPECT_FALSE(ZoneMap::build(kReference, Zone::lan).usable());
}

// ---------------------------------------------------------------- inbound short cut

constexpr uint32_t kWanIp = ipv4(203, 0, 113, 10);
constexpr uint16_t kLo = 61000, kHi = 65535;

ForwardTable forwards_8080() {
    ForwardTable t;
    ForwardEntry e;
    e.target = ipv4(192, 168, 1, 12);
    e.lo = e.hi = 8080;
    e.target_lo = 80;
    e.id = 1;
    t.add(1, e);  // TCP
    return t;
}

Flow to_wan_ip(uint8_t proto, uint16_t dport) { return Flow{ipv4(198, 51, 100, 20), kWanIp, 40000, dport, proto}; }

TEST(InboundShortcut, PortOutsideTheRangeNotForwardedGoesToTheServer) {
    const ForwardTable f = forwards_8080();
    for (uint16_t port : {uint16_t{1}, uint16_t{80}, uint16_t{8081}, uint16_t{kLo - 1}}) {
        EXPECT_TRUE(inbound_goes_to_server(FlowKind::ports, false, to_wan_ip(kIpProtoTcp, port), kWanIp, kLo, kHi, f))
            << port;
        EXPECT_TRUE(inbound_goes_to_server(FlowKind::ports, false, to_wan_ip(kIpProtoUdp, port), kWanIp, kLo, kHi, f))
            << port;
    }
}

TEST(InboundShortcut, PortsInTheRangeAreLookedUp) {
    const ForwardTable f = forwards_8080();
    for (uint16_t port : {kLo, uint16_t{62000}, kHi})
        EXPECT_FALSE(inbound_goes_to_server(FlowKind::ports, false, to_wan_ip(kIpProtoUdp, port), kWanIp, kLo, kHi, f))
            << port;
}

TEST(InboundShortcut, ForwardedPortsAreLookedUpForTheirProtocolOnly) {
    const ForwardTable f = forwards_8080();
    EXPECT_FALSE(inbound_goes_to_server(FlowKind::ports, false, to_wan_ip(kIpProtoTcp, 8080), kWanIp, kLo, kHi, f));
    EXPECT_TRUE(inbound_goes_to_server(FlowKind::ports, false, to_wan_ip(kIpProtoUdp, 8080), kWanIp, kLo, kHi, f));
}

TEST(InboundShortcut, IcmpPortlessFragmentsAndFirstFragmentsAreLookedUp) {
    const ForwardTable f = forwards_8080();
    const Flow icmp{ipv4(198, 51, 100, 20), kWanIp, 0, 7, kIpProtoIcmp};
    EXPECT_FALSE(inbound_goes_to_server(FlowKind::icmp_query, false, icmp, kWanIp, kLo, kHi, f));
    EXPECT_FALSE(inbound_goes_to_server(FlowKind::icmp_error, false, icmp, kWanIp, kLo, kHi, f));
    EXPECT_FALSE(inbound_goes_to_server(FlowKind::portless, false, to_wan_ip(47, 0), kWanIp, kLo, kHi, f));
    EXPECT_FALSE(inbound_goes_to_server(FlowKind::fragment, false, to_wan_ip(kIpProtoUdp, 0), kWanIp, kLo, kHi, f));
    EXPECT_FALSE(inbound_goes_to_server(FlowKind::ports, true, to_wan_ip(kIpProtoUdp, 53), kWanIp, kLo, kHi, f));
}

TEST(InboundShortcut, OnlyForWanIp) {
    Flow to_lan_ip = to_wan_ip(kIpProtoUdp, 53);
    to_lan_ip.dst = ipv4(192, 168, 1, 1);
    EXPECT_FALSE(inbound_goes_to_server(FlowKind::ports, false, to_lan_ip, kWanIp, kLo, kHi, forwards_8080()));
}

// ---------------------------------------------------------------- IPv4 header checksum, IHL 5

TEST(Ipv4Checksum20, SameAsTheGenericSumOnRandomHeaders) {
    std::mt19937 rng(11);
    for (int i = 0; i < 100000; ++i) {
        uint8_t h[20];
        for (auto& b : h) b = static_cast<uint8_t>(rng());
        if (i % 7 == 0) std::fill(std::begin(h), std::end(h), i % 2 ? 0xff : 0x00);  // the edges of the sum
        ASSERT_EQ(csum_ipv4_20(h), csum_fold(csum_partial(h, sizeof h))) << i;
    }
}

}  // namespace
}  // namespace ipshare
