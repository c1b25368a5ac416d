// Unit tests over real DPDK objects (main in eal_main.cc): the decision table
// of classify_ipv4 over the Tables that build_tables() makes from the
// reference configuration, the route and neighbour tables, and the whole walk
// of process_burst() over real mbufs from a real mempool, received from and
// sent to real ethdev ports backed by rte_rings.
#include <gtest/gtest.h>

#include <tuple>

#include <algorithm>
#include <atomic>
#include <iterator>
#include <cstring>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "arp.h"
#include "burst.h"
#include "classify.h"
#include "config_parse.h"
#include "frag.h"
#include "neighbour.h"
#include "packet_builder.h"
#include "ring_router_test.h"
#include "port.h"
#include "route.h"
#include "tables_build.h"
#include "worker.h"

namespace ipshare {

static void PrintTo(Drop d, std::ostream* os) {
    *os << (d == Drop::count ? "(none)" : kDropNames[static_cast<size_t>(d)]);
}
static void PrintTo(Zone z, std::ostream* os) { *os << kZoneNames[static_cast<size_t>(idx(z))]; }
static void PrintTo(Action a, std::ostream* os) {
    static constexpr const char* kNames[] = {"drop",   "consumed", "arp",        "local",   "forward",
                                             "nat_out", "nat_in",  "hairpin",    "dmz_to_lan", "checked",
                                             "reply",  "transmit", "handed_off"};
    static_assert(std::size(kNames) == static_cast<size_t>(Action::handed_off) + 1, "one name per Action");
    const auto i = static_cast<size_t>(a);
    *os << (i < std::size(kNames) ? kNames[i] : "?");
}

namespace {

using namespace test;

constexpr uint32_t kWanHost = ipv4(203, 0, 113, 77);
constexpr uint32_t kWanOnLinkRouted = ipv4(203, 0, 113, 200);  // `route 203.0.113.128/25 dev wan`
constexpr uint32_t kBehindLanRouter = ipv4(10, 20, 3, 4);      // `route 10.20.0.0/16 via 192.168.1.254`

// The reference configuration of DESIGN.md, fields set directly.
Config reference_config() {
    Config c;
    c.port_device = {"net_ring_wan", "net_ring_lan", "net_ring_dmz"};
    c.port_line = {1, 2, 3};
    c.lan = Ipv4Prefix{kLanIp, 24};
    c.lan_line = 4;
    c.wan_network = Ipv4Prefix{kWanNet, 24};
    c.wan_gateway = kGateway;
    c.wan_line = 5;
    c.server = kWanIp;
    c.server_line = 6;
    c.routes.push_back(Route{Ipv4Prefix{ipv4(10, 20, 0, 0), 16}, kLanRouter, std::nullopt, 7});
    c.routes.push_back(Route{Ipv4Prefix{ipv4(203, 0, 113, 128), 25}, 0, Zone::wan, 8});
    return c;
}

std::unique_ptr<Tables> tables_for(const Config& c) {
    const auto invalid = validate_config(c);
    EXPECT_FALSE(invalid.has_value()) << (invalid ? invalid->str() : "");
    ForwardIds ids;
    std::string err;
    auto t = build_tables(c, 1, ids, &err);
    EXPECT_TRUE(t) << err;
    return t;
}

std::unique_ptr<Tables> reference_tables() { return tables_for(reference_config()); }

// ====================================================================== classify

class Classify : public ::testing::Test {
protected:
    void SetUp() override {
        tables_ = reference_tables();
        ASSERT_TRUE(tables_);
    }

    // Replaces the tables with those of `c`.
    void use(const Config& c) {
        tables_.reset();  // the route table's name is reused
        tables_ = tables_for(c);
        ASSERT_TRUE(tables_);
    }

    // The verdict for a datagram src -> dst arriving on `in`.
    // ICMP: an echo request; any other protocol: 8 bytes of UDP-like ports.
    Verdict classify(Zone in, uint32_t src, uint32_t dst, uint8_t proto = kIpProtoUdp) const {
        PacketBuilder b;
        b.eth(kBroadcastMac, kGatewayMac).ipv4({.src = src, .dst = dst, .proto = proto});
        if (proto == kIpProtoIcmp)
            b.icmp(kIcmpEchoRequest, 0, 1, 1);
        else
            b.udp(1024, 80);
        const Bytes f = b.build();
        return classify_ipv4(in, *ip_of(f), *tables_);
    }

    void expect_drop(Zone in, uint32_t src, uint32_t dst, Drop why) const {
        const Verdict v = classify(in, src, dst);
        EXPECT_EQ(v.action, Action::drop) << dotted(src) << " -> " << dotted(dst) << " on " << kZoneNames[idx(in)];
        EXPECT_EQ(v.drop, why) << dotted(src) << " -> " << dotted(dst) << " on " << kZoneNames[idx(in)];
    }

    void expect_verdict(Zone in, uint32_t src, uint32_t dst, Action a, Zone out, uint32_t nexthop,
                        uint8_t proto = kIpProtoUdp) const {
        const Verdict v = classify(in, src, dst, proto);
        const std::string what = dotted(src) + " -> " + dotted(dst) + " on " + kZoneNames[idx(in)];
        EXPECT_EQ(v.action, a) << what << " (dropped: " << ::testing::PrintToString(v.drop) << ")";
        EXPECT_EQ(v.out, out) << what;
        EXPECT_EQ(dotted(v.nexthop), dotted(nexthop)) << what;
    }

    void expect_forward(Zone in, uint32_t src, uint32_t dst, Zone out, uint32_t nexthop) const {
        expect_verdict(in, src, dst, Action::forward, out, nexthop);
    }

    // ICMP to the router itself.
    void expect_local(Zone in, uint32_t src, uint32_t dst) const {
        const Verdict v = classify(in, src, dst, kIpProtoIcmp);
        EXPECT_EQ(v.action, Action::local) << dotted(src) << " -> " << dotted(dst);
    }

    std::unique_ptr<Tables> tables_;
};

TEST_F(Classify, TablesCarryTheReferenceAddresses) {
    const Addresses& a = tables_->addr;
    EXPECT_EQ(dotted(a.lan_ip), "192.168.1.1");
    EXPECT_EQ(dotted(a.lan.net), "192.168.1.0");
    EXPECT_EQ(dotted(a.lan.mask), "255.255.255.0");
    EXPECT_EQ(dotted(a.wan_ip), "203.0.113.10");
    EXPECT_EQ(dotted(a.wan.net), "203.0.113.0");
    EXPECT_EQ(dotted(a.wan.mask), "255.255.255.0");
    EXPECT_EQ(dotted(a.gateway), "203.0.113.1");
}

// ---------------------------------------------------------------- ingress wan

TEST_F(Classify, WanToWanIpGoesToTheServer) {
    // The nat stage decides between a session and the server; without one it
    // is the server, on dmz, next hop wan-ip.
    for (uint32_t src : {kInternetHost, kGateway, kWanHost, ipv4(8, 8, 8, 8)})
        expect_verdict(Zone::wan, src, kWanIp, Action::nat_in, Zone::dmz, kWanIp);
}

TEST_F(Classify, WanToAnotherAddressIsNotForUs) {
    for (uint32_t dst : {kLanIp, kClient1, kGateway, kWanHost, kWanOnLinkRouted, kInternetHost, kBehindLanRouter})
        expect_drop(Zone::wan, kInternetHost, dst, Drop::wan_not_for_us);
}

TEST_F(Classify, WanSpoofedSources) {
    for (uint32_t src : {ipv4(192, 168, 1, 5), ipv4(10, 1, 2, 3), kWanIp, ipv4(10, 20, 1, 1), kLanIp,
                         ipv4(172, 16, 0, 1), ipv4(169, 254, 1, 1)})
        expect_drop(Zone::wan, src, kWanIp, Drop::spoofed_source);
}

TEST_F(Classify, WanHostSourceAccepted) {
    expect_verdict(Zone::wan, kWanHost, kWanIp, Action::nat_in, Zone::dmz, kWanIp);
    expect_verdict(Zone::wan, kWanOnLinkRouted, kWanIp, Action::nat_in, Zone::dmz, kWanIp);
}

TEST_F(Classify, WanNetworkAndBroadcastAddressesAreNoSource) {
    // RFC 1812 5.3.7 / RFC 1122 3.2.1.3: a directed broadcast (or the
    // network's own address) is never a valid source.
    expect_drop(Zone::wan, kWanBroadcast, kWanIp, Drop::spoofed_source);
    expect_drop(Zone::wan, kWanNet, kWanIp, Drop::spoofed_source);
}

// ---------------------------------------------------------------- martians (every port)

TEST_F(Classify, MartianSources) {
    const std::map<Zone, uint32_t> dst = {{Zone::wan, kWanIp}, {Zone::dmz, kInternetHost}, {Zone::lan, kWanIp}};
    for (const auto& [in, d] : dst)
        for (uint32_t src : {0u, ipv4(0, 1, 2, 3), ipv4(127, 0, 0, 1), ipv4(224, 0, 0, 5), ipv4(239, 1, 1, 1),
                             ipv4(240, 0, 0, 1), ipv4(255, 255, 255, 255)})
            expect_drop(in, src, d, Drop::martian_source);
}

TEST_F(Classify, MartianDestinations) {
    const std::map<Zone, uint32_t> src = {{Zone::wan, kInternetHost}, {Zone::dmz, kWanIp}, {Zone::lan, kClient1}};
    for (const auto& [in, s] : src)
        for (uint32_t dst : {0u, ipv4(0, 0, 0, 9), ipv4(127, 0, 0, 1), ipv4(224, 0, 0, 251), ipv4(239, 255, 255, 250),
                             ipv4(240, 0, 0, 1), ipv4(255, 255, 255, 255)})
            expect_drop(in, s, dst, Drop::martian_destination);
}

// ---------------------------------------------------------------- ingress dmz

// The server's traffic has no session: the filter stage sees every packet
// (`checked`), so the dmz->wan rules and policy row count what they pass.
TEST_F(Classify, DmzToTheInternetViaGateway) {
    expect_verdict(Zone::dmz, kWanIp, kInternetHost, Action::checked, Zone::wan, kGateway);
    expect_verdict(Zone::dmz, kWanIp, ipv4(8, 8, 8, 8), Action::checked, Zone::wan, kGateway);
}

TEST_F(Classify, DmzToWanHostsOnLink) {
    expect_verdict(Zone::dmz, kWanIp, kWanOnLinkRouted, Action::checked, Zone::wan, kWanOnLinkRouted);
    expect_verdict(Zone::dmz, kWanIp, kWanHost, Action::checked, Zone::wan, kWanHost);
    expect_verdict(Zone::dmz, kWanIp, kGateway, Action::checked, Zone::wan, kGateway);
}

TEST_F(Classify, DmzToTheLan) {
    // The default dmz->lan policy is deny, replies to LAN flows excepted: the
    // nat stage decides (dmz_to_lan); the route is already chosen.
    expect_verdict(Zone::dmz, kWanIp, kClient1, Action::dmz_to_lan, Zone::lan, kClient1);
    expect_verdict(Zone::dmz, kWanIp, kLanRouter, Action::dmz_to_lan, Zone::lan, kLanRouter);
    expect_verdict(Zone::dmz, kWanIp, kBehindLanRouter, Action::dmz_to_lan, Zone::lan, kLanRouter);
}

TEST_F(Classify, DmzToTheLanWhenAllowed) {
    Config c = reference_config();
    c.policies[idx(Zone::dmz)][idx(Zone::lan)] = FilterAction::allow;
    ASSERT_NO_FATAL_FAILURE(use(c));
    expect_verdict(Zone::dmz, kWanIp, kClient1, Action::checked, Zone::lan, kClient1);
    expect_verdict(Zone::dmz, kWanIp, kLanRouter, Action::checked, Zone::lan, kLanRouter);
    expect_verdict(Zone::dmz, kWanIp, kBehindLanRouter, Action::checked, Zone::lan, kLanRouter);
}

TEST_F(Classify, DmzToTheInternetUnderAPolicyIsChecked) {
    Config c = reference_config();
    c.policies[idx(Zone::dmz)][idx(Zone::wan)] = FilterAction::deny;
    ASSERT_NO_FATAL_FAILURE(use(c));
    expect_verdict(Zone::dmz, kWanIp, kInternetHost, Action::checked, Zone::wan, kGateway);
}

TEST_F(Classify, DmzToLanIpIsLocal) { expect_local(Zone::dmz, kWanIp, kLanIp); }

TEST_F(Classify, DmzFromAnotherSourceIsSpoofed) {
    for (uint32_t src : {kGateway, kWanHost, kClient1, kLanIp, kInternetHost, ipv4(203, 0, 113, 11)})
        expect_drop(Zone::dmz, src, kInternetHost, Drop::spoofed_source);
}

TEST_F(Classify, DmzToItselfIsRefused) { expect_drop(Zone::dmz, kWanIp, kWanIp, Drop::dmz_bad_destination); }

TEST_F(Classify, DmzToDirectedBroadcasts) {
    // RFC 1812 5.3.5.2 / RFC 2644: directed broadcasts are not forwarded.
    expect_drop(Zone::dmz, kWanIp, kLanBroadcast, Drop::martian_destination);
    expect_drop(Zone::dmz, kWanIp, kWanBroadcast, Drop::martian_destination);
    expect_drop(Zone::dmz, kWanIp, kWanNet, Drop::martian_destination);
}

// ---------------------------------------------------------------- ingress lan

TEST_F(Classify, LanToWanIpGoesToTheServer) {
    // A port forward or another client's mapping (hairpin) first, else the
    // server on dmz: the nat stage decides; the default is the server.
    for (uint8_t proto : {kIpProtoUdp, kIpProtoTcp, kIpProtoIcmp}) {
        expect_verdict(Zone::lan, kClient1, kWanIp, Action::hairpin, Zone::dmz, kWanIp, proto);
        expect_verdict(Zone::lan, kLanRouter, kWanIp, Action::hairpin, Zone::dmz, kWanIp, proto);
    }
}

TEST_F(Classify, LanToLanIpIsLocal) {
    expect_local(Zone::lan, kClient1, kLanIp);
    expect_local(Zone::lan, ipv4(10, 20, 1, 1), kLanIp);
}

TEST_F(Classify, LanTcpUdpToLanIpIsTheHairpinReply) {
    // Only `hairpin source lan` replies are TCP/UDP to lan-ip.
    expect_verdict(Zone::lan, kClient1, kLanIp, Action::hairpin, Zone::lan, 0, kIpProtoTcp);
    expect_verdict(Zone::lan, kClient1, kLanIp, Action::hairpin, Zone::lan, 0, kIpProtoUdp);
}

TEST_F(Classify, LanIcmpToLanIpIsLocalUnlessAnError) {
    // An ICMP error to lan-ip is a `hairpin source lan` target's error about
    // a hairpinned flow: the nat stage turns it around. Queries are the router's.
    const auto icmp = [&](uint8_t type, uint16_t frag) {
        Bytes f = PacketBuilder()
                      .eth(kBroadcastMac, kClient1Mac)
                      .ipv4({.src = kClient1, .dst = kLanIp, .proto = kIpProtoIcmp})
                      .icmp(type, 0)
                      .payload(pattern(28))
                      .build();
        ip_of(f)->frag = be16::from_host(frag);
        refresh_ip_checksum(f);
        return classify_ipv4(Zone::lan, *ip_of(f), *tables_).action;
    };
    EXPECT_EQ(icmp(kIcmpEchoRequest, 0), Action::local);
    EXPECT_EQ(icmp(kIcmpTimestamp, 0), Action::local);
    EXPECT_EQ(icmp(kIcmpDestUnreach, 0), Action::hairpin);
    EXPECT_EQ(icmp(kIcmpTimeExceeded, 0), Action::hairpin);
    EXPECT_EQ(icmp(kIcmpDestUnreach, 0x0003), Action::local) << "a later fragment has no ICMP header";
}

TEST_F(Classify, LanToTheInternetIsForTheNat) {
    // NAPT out wan toward the gateway; never a plain forward.
    expect_verdict(Zone::lan, kClient1, kInternetHost, Action::nat_out, Zone::wan, kGateway);
    expect_verdict(Zone::lan, kClient1, kWanOnLinkRouted, Action::nat_out, Zone::wan, kWanOnLinkRouted);
    expect_verdict(Zone::lan, kClient1, kGateway, Action::nat_out, Zone::wan, kGateway);
}

TEST_F(Classify, LanFromBehindTheLanRouter) {
    expect_verdict(Zone::lan, ipv4(10, 20, 1, 1), kWanIp, Action::hairpin, Zone::dmz, kWanIp);
    expect_verdict(Zone::lan, ipv4(10, 20, 1, 1), kInternetHost, Action::nat_out, Zone::wan, kGateway);
    expect_forward(Zone::lan, ipv4(10, 20, 1, 1), kClient1, Zone::lan, kClient1);
    expect_forward(Zone::lan, kClient1, kBehindLanRouter, Zone::lan, kLanRouter);
}

TEST_F(Classify, LanSpoofedSources) {
    for (uint32_t src : {ipv4(10, 99, 0, 1), kWanIp, kGateway, kInternetHost, kLanIp, kLanNet, kLanBroadcast,
                         ipv4(192, 168, 2, 1)})
        expect_drop(Zone::lan, src, kInternetHost, Drop::spoofed_source);
}

TEST_F(Classify, LanToLanBroadcast) {
    expect_drop(Zone::lan, kClient1, kLanBroadcast, Drop::martian_destination);
}

TEST_F(Classify, LanToWanBroadcast) {
    // The wan network's directed broadcast is not NAPT'd out to the gateway's link.
    expect_drop(Zone::lan, kClient1, kWanBroadcast, Drop::martian_destination);
}

TEST_F(Classify, ProtocolDoesNotChangeTheDecision) {
    for (uint8_t proto : {kIpProtoIcmp, kIpProtoTcp, kIpProtoGre, kIpProtoEsp, kIpProtoSctp}) {
        EXPECT_EQ(classify(Zone::dmz, kWanIp, kInternetHost, proto).action, Action::checked) << int{proto};
        EXPECT_EQ(classify(Zone::wan, kInternetHost, kWanIp, proto).action, Action::nat_in) << int{proto};
        EXPECT_EQ(classify(Zone::lan, ipv4(10, 99, 0, 1), kWanIp, proto).drop, Drop::spoofed_source) << int{proto};
    }
}

// ====================================================================== routes

TEST_F(Classify, RouteLookup) {
    const RouteTable& r = *tables_->routes;
    EXPECT_EQ(r.lookup(kClient1), (NextHop{0, Zone::lan}));
    EXPECT_EQ(r.lookup(kBehindLanRouter), (NextHop{kLanRouter, Zone::lan}));
    EXPECT_EQ(r.lookup(kWanIp), (NextHop{0, Zone::dmz}));
    EXPECT_EQ(r.lookup(kWanHost), (NextHop{0, Zone::wan}));
    EXPECT_EQ(r.lookup(kWanOnLinkRouted), (NextHop{0, Zone::wan}));
    EXPECT_EQ(r.lookup(kInternetHost), (NextHop{kGateway, Zone::wan}));
    EXPECT_EQ(RouteTable::next_hop_address(r.lookup(kInternetHost), kInternetHost), kGateway);
    EXPECT_EQ(RouteTable::next_hop_address(r.lookup(kClient1), kClient1), kClient1);
}

TEST_F(Classify, HostOnLinkPerZone) {
    const RouteTable& r = *tables_->routes;
    // The server: only on dmz.
    EXPECT_TRUE(r.host_on_link(kWanIp, Zone::dmz));
    EXPECT_FALSE(r.host_on_link(kWanIp, Zone::wan));
    EXPECT_FALSE(r.host_on_link(kWanIp, Zone::lan));
    // Wan hosts, the gateway included: only on wan.
    for (uint32_t a : {kGateway, kWanHost, kWanOnLinkRouted, ipv4(203, 0, 113, 254)}) {
        EXPECT_TRUE(r.host_on_link(a, Zone::wan)) << dotted(a);
        EXPECT_FALSE(r.host_on_link(a, Zone::dmz)) << dotted(a);
        EXPECT_FALSE(r.host_on_link(a, Zone::lan)) << dotted(a);
    }
    // LAN hosts: only on lan.
    for (uint32_t a : {kClient1, kLanRouter, ipv4(192, 168, 1, 2)}) {
        EXPECT_TRUE(r.host_on_link(a, Zone::lan)) << dotted(a);
        EXPECT_FALSE(r.host_on_link(a, Zone::wan)) << dotted(a);
        EXPECT_FALSE(r.host_on_link(a, Zone::dmz)) << dotted(a);
    }
}

TEST_F(Classify, HostOnLinkNeverOurOrSpecialAddresses) {
    const RouteTable& r = *tables_->routes;
    for (Zone z : kAllZones)
        for (uint32_t a : {kLanIp, kLanNet, kLanBroadcast, kWanNet, kWanBroadcast, 0u, kInternetHost,
                           kBehindLanRouter, ipv4(10, 99, 0, 1)})
            EXPECT_FALSE(r.host_on_link(a, z)) << dotted(a) << " on " << kZoneNames[idx(z)];
}

// ====================================================================== neighbours

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

// ====================================================================== the walk

constexpr unsigned kPoolSize = 4095;  // more than a TX ring holds

// A router on three ring-backed ports (ring_router.h) with the reference
// tables. Frames go in through the RX ring and rte_eth_rx_burst, come out
// through rte_eth_tx_burst into the TX ring, where the test reads them.
class Walk : public RingRouterTest {
protected:
    void SetUp() override {
        RingRouterParams p;
        p.prefix = "unit";
        p.pool_size = kPoolSize;
        p.ring_size = 1024;
        ASSERT_NO_FATAL_FAILURE(start_router(p));
        ASSERT_EQ(initial_avail_, kPoolSize);
        tables_ = reference_tables();
        ASSERT_TRUE(tables_);
        published_.store(tables_.get());
    }
};

// The forwarded frame `out` is `in` routed: TTL one less, IP checksum right,
// Ethernet addresses from the neighbour table, everything else unchanged.
void expect_routed(const Bytes& in, const Bytes& out, const Mac& dst, const Mac& src) {
    ASSERT_EQ(out.size(), 14 + datagram_of(in).size());
    EXPECT_EQ(mac_text(eth_of(out)->dst), mac_text(dst));
    EXPECT_EQ(mac_text(eth_of(out)->src), mac_text(src));
    EXPECT_EQ(eth_of(out)->type.host(), kEtherTypeIpv4);
    EXPECT_EQ(ip_of(out)->ttl, ip_of(in)->ttl - 1);
    EXPECT_TRUE(ip_checksum_valid(out));
    Bytes expect = datagram_of(in);
    Bytes got = datagram_of(out);
    // Apart from TTL (byte 8) and checksum (10, 11), the datagram is the same.
    for (size_t i : {size_t{8}, size_t{10}, size_t{11}}) expect[i] = got[i] = 0;
    EXPECT_TRUE(expect == got) << "datagram changed beyond TTL and checksum";
}

// ---------------------------------------------------------------- forwarding

TEST_F(Walk, EchoFromTheInternetReachesTheServer) {
    const Bytes in = echo_request(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 50, 56, 0x1234, 7);
    receive(Zone::wan, in);
    const auto dmz = sent(Zone::dmz);
    ASSERT_EQ(dmz.size(), 1u);
    expect_routed(in, dmz[0], kServerMac, mac_of(Zone::dmz));
    EXPECT_EQ(ip_of(dmz[0])->ttl, 49);
    EXPECT_EQ(dotted(ip_of(dmz[0])->src.host()), "198.51.100.20");
    EXPECT_EQ(dotted(ip_of(dmz[0])->dst.host()), "203.0.113.10");
    EXPECT_EQ(icmp_of(dmz[0])->type, kIcmpEchoRequest);
    EXPECT_TRUE(icmp_checksum_valid(dmz[0]));
    EXPECT_TRUE(sent(Zone::wan).empty());
    EXPECT_TRUE(sent(Zone::lan).empty());
    EXPECT_EQ(counters_.port[idx(Zone::wan)].rx.get(), 1u);
    EXPECT_EQ(counters_.port[idx(Zone::dmz)].tx.get(), 1u);
    EXPECT_EQ(total_drops(), 0u);
}

TEST_F(Walk, ServerToTheInternetLeavesOnWanUnchanged) {
    const Bytes in = PacketBuilder()
                         .eth(mac_of(Zone::dmz), kServerMac)
                         .ipv4({.src = kWanIp, .dst = kInternetHost, .proto = kIpProtoTcp, .ttl = 64})
                         .tcp(22, 50000, kTcpAck)
                         .payload(pattern(100))
                         .build();
    receive(Zone::dmz, in);
    const auto wan = sent(Zone::wan);
    ASSERT_EQ(wan.size(), 1u);
    expect_routed(in, wan[0], kGatewayMac, mac_of(Zone::wan));
    EXPECT_EQ(dotted(ip_of(wan[0])->src.host()), "203.0.113.10");  // no NAT for the server
    EXPECT_TRUE(sent(Zone::dmz).empty());
    EXPECT_TRUE(sent(Zone::lan).empty());
    EXPECT_EQ(total_drops(), 0u);
}

// The worker caches neighbour answers (neigh_cache.h): a next hop's new MAC
// is used from the next burst on, and a removed one is never used again.
TEST_F(Walk, ANeighboursNewMacIsUsedFromTheNextBurst) {
    const Bytes in = echo_request(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 50, 56, 0x1234, 7);
    receive(Zone::wan, in);
    auto dmz = sent(Zone::dmz);
    ASSERT_EQ(dmz.size(), 1u);
    EXPECT_EQ(mac_text(eth_of(dmz[0])->dst), mac_text(kServerMac));

    const Mac moved = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x0b};
    ASSERT_TRUE(neigh_->set(Zone::dmz, kWanIp, mac_to_word(moved.data())));
    receive(Zone::wan, std::vector<Bytes>{in, in});
    dmz = sent(Zone::dmz);
    ASSERT_EQ(dmz.size(), 2u);
    for (const Bytes& f : dmz) EXPECT_EQ(mac_text(eth_of(f)->dst), mac_text(moved)) << "the old MAC was used";

    ASSERT_TRUE(neigh_->remove(Zone::dmz, kWanIp));
    receive(Zone::wan, in);
    EXPECT_TRUE(sent(Zone::dmz).empty()) << "sent to a removed neighbour";
    EXPECT_EQ(rte_ring_count(pending_), 1u) << "not waiting for ARP";
    free_ring_mbufs(pending_);
    EXPECT_EQ(total_drops(), 0u);
}

TEST_F(Walk, EthernetPaddingIsNotForwarded) {
    const Bytes in = PacketBuilder()
                         .eth(mac_of(Zone::wan), kGatewayMac)
                         .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoIcmp, .ttl = 9})
                         .icmp(kIcmpEchoRequest, 0, 1, 1)
                         .pad_to(60)
                         .build();
    ASSERT_EQ(in.size(), 60u);
    receive(Zone::wan, in);
    const auto dmz = sent(Zone::dmz);
    ASSERT_EQ(dmz.size(), 1u);
    EXPECT_EQ(dmz[0].size(), 14u + 28u);
    expect_routed(in, dmz[0], kServerMac, mac_of(Zone::dmz));
}

TEST_F(Walk, FullBurstToTheServer) {
    std::vector<Bytes> in;
    for (uint16_t i = 0; i < kBurst; ++i)
        in.push_back(echo_request(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 64, i, 0x77, i));
    receive(Zone::wan, in);
    const auto dmz = sent(Zone::dmz);
    ASSERT_EQ(dmz.size(), kBurst);
    for (uint16_t i = 0; i < kBurst; ++i) {
        expect_routed(in[i], dmz[i], kServerMac, mac_of(Zone::dmz));
        EXPECT_EQ(icmp_of(dmz[i])->seq.host(), i);  // order kept
    }
    EXPECT_EQ(counters_.port[idx(Zone::dmz)].tx.get(), kBurst);
}

// ---------------------------------------------------------------- ARP

TEST_F(Walk, WhoHasWanIpOnWanIsAnswered) {
    const Bytes in = arp_frame(kBroadcastMac, kArpOpRequest, kGatewayMac, kGateway, kZeroMac, kWanIp);
    receive(Zone::wan, in);
    const auto wan = sent(Zone::wan);
    ASSERT_EQ(wan.size(), 1u);
    const Bytes& r = wan[0];
    EXPECT_EQ(mac_text(eth_of(r)->dst), mac_text(kGatewayMac));
    EXPECT_EQ(mac_text(eth_of(r)->src), mac_text(mac_of(Zone::wan)));
    EXPECT_EQ(eth_of(r)->type.host(), kEtherTypeArp);
    EXPECT_EQ(arp_of(r)->op.host(), kArpOpReply);
    EXPECT_EQ(mac_text(arp_of(r)->sha), mac_text(mac_of(Zone::wan)));
    EXPECT_EQ(dotted(arp_of(r)->spa.host()), "203.0.113.10");
    EXPECT_EQ(mac_text(arp_of(r)->tha), mac_text(kGatewayMac));
    EXPECT_EQ(dotted(arp_of(r)->tpa.host()), "203.0.113.1");
    EXPECT_TRUE(sent(Zone::dmz).empty());
    EXPECT_TRUE(sent(Zone::lan).empty());
    EXPECT_EQ(counters_.arp_replies_sent.get(), 1u);

    // A request the router answered teaches it the sender: one message to
    // the control thread, "create".
    ArpLearnMsg msg{};
    ASSERT_EQ(rte_ring_dequeue_elem(learn_, &msg, sizeof msg), 0);
    EXPECT_EQ(dotted(msg.ip), "203.0.113.1");
    EXPECT_EQ(msg.zone, idx(Zone::wan));
    EXPECT_EQ(msg.create, 1);
    EXPECT_EQ(mac_text(msg.mac), mac_text(kGatewayMac));
    EXPECT_NE(rte_ring_dequeue_elem(learn_, &msg, sizeof msg), 0);
}

TEST_F(Walk, WhoHasAnotherAddressOnWanIsNotAnswered) {
    const Bytes in = arp_frame(kBroadcastMac, kArpOpRequest, kGatewayMac, kGateway, kZeroMac, kWanHost);
    receive(Zone::wan, in);
    expect_nothing_sent();
    EXPECT_EQ(counters_.arp_replies_sent.get(), 0u);
    // The gateway's entry is known and unchanged: nothing to tell the control thread.
    EXPECT_EQ(rte_ring_count(learn_), 0u);
}

TEST_F(Walk, ServerAskingForTheGatewayIsAnsweredOnDmz) {
    const Bytes in = arp_frame(kBroadcastMac, kArpOpRequest, kServerMac, kWanIp, kZeroMac, kGateway);
    receive(Zone::dmz, in);
    const auto dmz = sent(Zone::dmz);
    ASSERT_EQ(dmz.size(), 1u);
    EXPECT_EQ(mac_text(eth_of(dmz[0])->dst), mac_text(kServerMac));
    EXPECT_EQ(mac_text(arp_of(dmz[0])->sha), mac_text(mac_of(Zone::dmz)));
    EXPECT_EQ(dotted(arp_of(dmz[0])->spa.host()), "203.0.113.1");
    EXPECT_EQ(dotted(arp_of(dmz[0])->tpa.host()), "203.0.113.10");
    EXPECT_TRUE(sent(Zone::wan).empty());
}

// ---------------------------------------------------------------- ICMP from the router

TEST_F(Walk, TtlOneFromTheInternetGetsTimeExceeded) {
    const Bytes in = udp_frame(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 1, 40);
    receive(Zone::wan, in);
    const auto wan = sent(Zone::wan);
    ASSERT_EQ(wan.size(), 1u);
    const Bytes& e = wan[0];
    EXPECT_EQ(mac_text(eth_of(e)->dst), mac_text(kGatewayMac));
    EXPECT_EQ(mac_text(eth_of(e)->src), mac_text(mac_of(Zone::wan)));
    EXPECT_EQ(eth_of(e)->type.host(), kEtherTypeIpv4);
    EXPECT_EQ(dotted(ip_of(e)->src.host()), "203.0.113.10");
    EXPECT_EQ(dotted(ip_of(e)->dst.host()), "198.51.100.20");
    EXPECT_EQ(ip_of(e)->proto, kIpProtoIcmp);
    EXPECT_EQ(ip_of(e)->ttl, 64);
    EXPECT_TRUE(ip_checksum_valid(e));
    EXPECT_EQ(icmp_of(e)->type, kIcmpTimeExceeded);
    EXPECT_EQ(icmp_of(e)->code, kIcmpCodeTtlExceeded);
    EXPECT_TRUE(icmp_checksum_valid(e));
    const Bytes orig = datagram_of(in);
    ASSERT_EQ(e.size(), 14 + 28 + orig.size());
    EXPECT_EQ(ip_of(e)->total_length.host(), 28 + orig.size());
    EXPECT_TRUE(std::equal(orig.begin(), orig.end(), e.begin() + 42)) << "quote differs";
    EXPECT_TRUE(sent(Zone::dmz).empty());
    EXPECT_TRUE(sent(Zone::lan).empty());
    EXPECT_EQ(drops(Drop::ttl_exceeded), 1u);
    EXPECT_EQ(counters_.icmp_sent.get(), 1u);
}

TEST_F(Walk, TtlOneFromTheLanGetsTimeExceededFromLanIp) {
    const Bytes in = udp_frame(mac_of(Zone::lan), kClient1Mac, kClient1, kWanIp, 1, 12);
    receive(Zone::lan, in);
    const auto lan = sent(Zone::lan);
    ASSERT_EQ(lan.size(), 1u);
    EXPECT_EQ(mac_text(eth_of(lan[0])->dst), mac_text(kClient1Mac));
    EXPECT_EQ(mac_text(eth_of(lan[0])->src), mac_text(mac_of(Zone::lan)));
    EXPECT_EQ(dotted(ip_of(lan[0])->src.host()), "192.168.1.1");
    EXPECT_EQ(dotted(ip_of(lan[0])->dst.host()), "192.168.1.11");
    EXPECT_EQ(icmp_of(lan[0])->type, kIcmpTimeExceeded);
    EXPECT_TRUE(ip_checksum_valid(lan[0]));
    EXPECT_TRUE(icmp_checksum_valid(lan[0]));
    EXPECT_TRUE(sent(Zone::dmz).empty());
}

TEST_F(Walk, TimeExceededIsRateLimited) {
    w_.icmp_errors = TokenBucket(1, 1, rte_get_tsc_hz());  // one, then one a second
    const Bytes a = udp_frame(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 1, 8);
    const Bytes b = udp_frame(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 1, 9);
    receive(Zone::wan, {a, b});
    EXPECT_EQ(sent(Zone::wan).size(), 1u);
    EXPECT_EQ(drops(Drop::ttl_exceeded), 1u);
    EXPECT_EQ(drops(Drop::ttl_exceeded_silent), 1u);
    EXPECT_EQ(counters_.icmp_sent.get(), 1u);
}

// Path MTU discovery (RFC 1191): a DF datagram larger than the MTU of the
// port it would leave by is answered with "fragmentation needed" carrying
// that MTU, quoting the datagram as its sender sent it (before NAT).
TEST_F(Walk, DfLargerThanTheOutgoingMtuGetsFragmentationNeeded) {
    w_.ports[idx(Zone::wan)].mtu = 1300;
    const auto df_udp = [&](Zone in, const Mac& src_mac, uint32_t src, size_t ip_len) {
        Bytes f = udp_frame(mac_of(in), src_mac, src, kInternetHost, 64, ip_len - 28);
        ip_of(f)->frag = be16::from_host(kIpFlagDF);
        refresh_ip_checksum(f);
        return f;
    };
    for (const auto& [in, mac, src, from] : {std::tuple{Zone::lan, kClient1Mac, kClient1, kLanIp},
                                             std::tuple{Zone::dmz, kServerMac, kWanIp, kLanIp}}) {
        const Bytes big = df_udp(in, mac, src, 1301);
        receive(in, big);
        EXPECT_TRUE(sent(Zone::wan).empty()) << "a DF datagram over the MTU left on wan";
        const auto back = sent(in);
        ASSERT_EQ(back.size(), 1u) << kZoneNames[idx(in)];
        const Bytes& e = back[0];
        EXPECT_EQ(mac_text(eth_of(e)->dst), mac_text(mac));
        EXPECT_EQ(dotted(ip_of(e)->src.host()), dotted(from));
        EXPECT_EQ(dotted(ip_of(e)->dst.host()), dotted(src));
        EXPECT_TRUE(ip_checksum_valid(e));
        EXPECT_EQ(icmp_of(e)->type, kIcmpDestUnreach);
        EXPECT_EQ(icmp_of(e)->code, kIcmpCodeFragNeeded);
        EXPECT_EQ(icmp_of(e)->id.host(), 0) << "unused";
        EXPECT_EQ(icmp_of(e)->seq.host(), 1300) << "next-hop MTU";
        EXPECT_TRUE(icmp_checksum_valid(e));
        // The quote: the datagram as sent, TTL not yet decremented, not translated.
        const Bytes orig = datagram_of(big);
        const size_t quoted = ip_of(e)->total_length.host() - 28;
        EXPECT_EQ(quoted, std::min<size_t>(orig.size(), 576 - 28));
        EXPECT_TRUE(std::equal(orig.begin(), orig.begin() + static_cast<std::ptrdiff_t>(quoted), e.begin() + 42));
        // One byte less fits and leaves on wan.
        receive(in, df_udp(in, mac, src, 1300));
        const auto wan = sent(Zone::wan);
        ASSERT_EQ(wan.size(), 1u) << kZoneNames[idx(in)];
        EXPECT_EQ(ip_of(wan[0])->total_length.host(), 1300);
        EXPECT_EQ(dotted(ip_of(wan[0])->src.host()), dotted(kWanIp));
    }
    EXPECT_EQ(drops(Drop::mtu_exceeded), 2u);
    EXPECT_EQ(counters_.icmp_sent.get(), 2u);
}

TEST_F(Walk, NoTimeExceededAboutAnIcmpError) {
    const Bytes in = PacketBuilder()
                         .eth(mac_of(Zone::wan), kGatewayMac)
                         .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoIcmp, .ttl = 1})
                         .icmp(kIcmpDestUnreach, 3)
                         .payload(pattern(28))
                         .build();
    receive(Zone::wan, in);
    expect_nothing_sent();
    EXPECT_EQ(drops(Drop::ttl_exceeded_silent), 1u);
    EXPECT_EQ(counters_.icmp_sent.get(), 0u);
}

TEST_F(Walk, EchoToLanIpIsAnsweredOnLan) {
    const Bytes in = echo_request(mac_of(Zone::lan), kClient1Mac, kClient1, kLanIp, 64, 56, 0xabcd, 3);
    receive(Zone::lan, in);
    const auto lan = sent(Zone::lan);
    ASSERT_EQ(lan.size(), 1u);
    const Bytes& r = lan[0];
    EXPECT_EQ(mac_text(eth_of(r)->dst), mac_text(kClient1Mac));
    EXPECT_EQ(mac_text(eth_of(r)->src), mac_text(mac_of(Zone::lan)));
    EXPECT_EQ(dotted(ip_of(r)->src.host()), "192.168.1.1");
    EXPECT_EQ(dotted(ip_of(r)->dst.host()), "192.168.1.11");
    EXPECT_EQ(ip_of(r)->ttl, 64);
    EXPECT_TRUE(ip_checksum_valid(r));
    EXPECT_EQ(icmp_of(r)->type, kIcmpEchoReply);
    EXPECT_EQ(icmp_of(r)->code, 0);
    EXPECT_EQ(icmp_of(r)->id.host(), 0xabcd);
    EXPECT_EQ(icmp_of(r)->seq.host(), 3);
    EXPECT_TRUE(icmp_checksum_valid(r));
    ASSERT_EQ(r.size(), in.size());
    EXPECT_TRUE(std::equal(in.begin() + 42, in.end(), r.begin() + 42)) << "echo data changed";
    EXPECT_TRUE(sent(Zone::wan).empty());
    EXPECT_TRUE(sent(Zone::dmz).empty());
    EXPECT_EQ(counters_.icmp_sent.get(), 1u);
    EXPECT_EQ(total_drops(), 0u);
}

TEST_F(Walk, EchoToLanIpFromTheServerIsAnsweredOnDmz) {
    const Bytes in = echo_request(mac_of(Zone::dmz), kServerMac, kWanIp, kLanIp, 64, 8);
    receive(Zone::dmz, in);
    const auto dmz = sent(Zone::dmz);
    ASSERT_EQ(dmz.size(), 1u);
    EXPECT_EQ(mac_text(eth_of(dmz[0])->dst), mac_text(kServerMac));
    EXPECT_EQ(dotted(ip_of(dmz[0])->dst.host()), "203.0.113.10");
    EXPECT_EQ(icmp_of(dmz[0])->type, kIcmpEchoReply);
}

TEST_F(Walk, EchoWithBadChecksumToLanIpIsDropped) {
    Bytes in = echo_request(mac_of(Zone::lan), kClient1Mac, kClient1, kLanIp);
    in.back() ^= 1;
    receive(Zone::lan, in);
    expect_nothing_sent();
    EXPECT_EQ(drops(Drop::icmp_bad_checksum), 1u);
}

TEST_F(Walk, UdpToLanIpIsDropped) {
    receive(Zone::lan, udp_frame(mac_of(Zone::lan), kClient1Mac, kClient1, kLanIp));
    expect_nothing_sent();
    EXPECT_EQ(drops(Drop::to_router_unhandled), 1u);
}

// ---------------------------------------------------------------- waiting for ARP

TEST_F(Walk, UnresolvedNextHopGoesToThePendingRing) {
    // The server to a wan host no one has resolved (on-link by `route ... dev
    // wan`), and a LAN client to a network behind the LAN router.
    const Bytes to_wan_host = udp_frame(mac_of(Zone::dmz), kServerMac, kWanIp, kWanOnLinkRouted, 30);
    receive(Zone::dmz, to_wan_host);
    const Bytes via_router = udp_frame(mac_of(Zone::lan), kClient1Mac, kClient1, kBehindLanRouter, 20);
    receive(Zone::lan, via_router);
    expect_nothing_sent();
    ASSERT_EQ(rte_ring_count(pending_), 2u);

    struct Want {
        const Bytes* frame;
        uint32_t nexthop;
        Zone out;
    };
    for (const Want& want : {Want{&to_wan_host, kWanOnLinkRouted, Zone::wan}, Want{&via_router, kLanRouter, Zone::lan}}) {
        void* obj = nullptr;
        ASSERT_EQ(rte_ring_dequeue(pending_, &obj), 0);
        auto* m = static_cast<rte_mbuf*>(obj);
        const auto* meta = static_cast<const MbufMeta*>(rte_mbuf_to_priv(m));
        EXPECT_EQ(dotted(meta->nexthop), dotted(want.nexthop));
        EXPECT_EQ(meta->zone, idx(want.out));
        // Already routed: TTL down, checksum right, nothing else changed.
        const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
        const Bytes got(p, p + rte_pktmbuf_data_len(m));
        EXPECT_EQ(ip_of(got)->ttl, ip_of(*want.frame)->ttl - 1);
        EXPECT_TRUE(ip_checksum_valid(got));
        EXPECT_EQ(dotted(ip_of(got)->src.host()), dotted(ip_of(*want.frame)->src.host()));
        EXPECT_EQ(dotted(ip_of(got)->dst.host()), dotted(ip_of(*want.frame)->dst.host()));
        rte_pktmbuf_free(m);
    }
    EXPECT_EQ(total_drops(), 0u);
}

TEST_F(Walk, PendingRingFullIsCounted) {
    // Fill the pending ring but one slot, then send two.
    for (unsigned i = 0; i + 1 < rte_ring_get_capacity(pending_); ++i) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool_);
        ASSERT_NE(m, nullptr);
        ASSERT_EQ(rte_ring_enqueue(pending_, m), 0);
    }
    const Bytes a = udp_frame(mac_of(Zone::dmz), kServerMac, kWanIp, kWanOnLinkRouted, 30);
    receive(Zone::dmz, {a, a});
    expect_nothing_sent();
    EXPECT_EQ(drops(Drop::neigh_queue_full), 1u);
    free_ring_mbufs(pending_);
}

// ---------------------------------------------------------------- transmit

TEST_F(Walk, InjectedFramesLeaveOnTheirPort) {
    // What the control thread sends (an ARP request, a released frame) goes
    // out the port named in MbufMeta.
    Bytes req(kArpFrameLen);
    ASSERT_EQ(arp_build_request(req.data(), mac_of(Zone::lan).data(), kLanIp, kClient1), kArpFrameLen);
    rte_mbuf* m = mbuf_of(req);
    ASSERT_NE(m, nullptr);
    static_cast<MbufMeta*>(rte_mbuf_to_priv(m))->zone = static_cast<uint8_t>(Zone::lan);
    ASSERT_EQ(rte_ring_enqueue(inject_, m), 0);
    drain_inject(w_);
    w_.tx.flush_all(counters_);
    const auto lan = sent(Zone::lan);
    ASSERT_EQ(lan.size(), 1u);
    EXPECT_TRUE(lan[0] == req);
    EXPECT_TRUE(sent(Zone::wan).empty());
    EXPECT_TRUE(sent(Zone::dmz).empty());
    EXPECT_EQ(counters_.port[idx(Zone::lan)].tx.get(), 1u);
}

TEST_F(Walk, TransmitRingFullIsCountedAndFreed) {
    // Leave one free slot in the dmz TX ring, then forward two datagrams.
    for (unsigned i = 0; i + 1 < rte_ring_get_capacity(tx_[idx(Zone::dmz)]); ++i) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool_);
        ASSERT_NE(m, nullptr);
        ASSERT_EQ(rte_ring_enqueue(tx_[idx(Zone::dmz)], m), 0);
    }
    const Bytes a = echo_request(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 64, 8, 1, 1);
    const Bytes b = echo_request(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 64, 8, 1, 2);
    receive(Zone::wan, {a, b});
    const auto dmz = sent(Zone::dmz);
    ASSERT_EQ(dmz.size(), rte_ring_get_capacity(tx_[idx(Zone::dmz)]));
    EXPECT_EQ(icmp_of(dmz.back())->seq.host(), 1);  // the first got the last slot
    EXPECT_EQ(drops(Drop::tx_full), 1u);
    EXPECT_EQ(counters_.port[idx(Zone::dmz)].tx.get(), 1u);
    EXPECT_EQ(counters_.port[idx(Zone::dmz)].dropped.get(), 1u);
}

// ---------------------------------------------------------------- drops

TEST_F(Walk, SpoofedLanSourceLeavesNothing) {
    receive(Zone::lan, echo_request(mac_of(Zone::lan), kClient1Mac, ipv4(10, 99, 0, 1), kInternetHost));
    expect_nothing_sent();
    EXPECT_EQ(rte_ring_count(pending_), 0u);
    EXPECT_EQ(drops(Drop::spoofed_source), 1u);
    EXPECT_EQ(counters_.port[idx(Zone::lan)].dropped.get(), 1u);
    EXPECT_EQ(total_drops(), 1u);
}

TEST_F(Walk, FrameForAnotherMacIsDropped) {
    receive(Zone::wan, echo_request(kServerMac, kGatewayMac, kInternetHost, kWanIp));
    expect_nothing_sent();
    EXPECT_EQ(drops(Drop::l2_not_for_us), 1u);
}

TEST_F(Walk, ChainedFrameIsDroppedAndFreed) {
    const Bytes f = echo_request(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 64, 200);
    rte_mbuf* head = mbuf_of(Bytes(f.begin(), f.begin() + 100));
    rte_mbuf* tail = mbuf_of(Bytes(f.begin() + 100, f.end()));
    ASSERT_TRUE(head && tail);
    ASSERT_EQ(rte_pktmbuf_chain(head, tail), 0);
    receive_mbufs(Zone::wan, {head});
    expect_nothing_sent();
    EXPECT_EQ(drops(Drop::frame_chained), 1u);
}

TEST_F(Walk, MixedBurstOnWan) {
    const Bytes echo = echo_request(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 20);
    const Bytes who_has = arp_frame(kBroadcastMac, kArpOpRequest, kGatewayMac, kGateway, kZeroMac, kWanIp);
    const Bytes ttl1 = udp_frame(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp, 1);
    const Bytes other_mac = echo_request(kServerMac, kGatewayMac, kInternetHost, kWanIp);
    const Bytes spoofed = udp_frame(mac_of(Zone::wan), kGatewayMac, ipv4(10, 1, 2, 3), kWanIp);
    const Bytes not_ours = udp_frame(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanHost);
    Bytes bad_sum = udp_frame(mac_of(Zone::wan), kGatewayMac, kInternetHost, kWanIp);
    ip_of(bad_sum)->checksum = be16::from_host(static_cast<uint16_t>(ip_of(bad_sum)->checksum.host() + 1));
    const Bytes ipv6 = PacketBuilder().eth(mac_of(Zone::wan), kGatewayMac, 0x86dd).payload(pattern(40)).build();
    const Bytes echo2 = echo_request(mac_of(Zone::wan), kGatewayMac, kWanHost, kWanIp, 7);

    receive(Zone::wan, {echo, who_has, ttl1, other_mac, spoofed, not_ours, bad_sum, ipv6, echo2});

    const auto dmz = sent(Zone::dmz);
    ASSERT_EQ(dmz.size(), 2u);
    expect_routed(echo, dmz[0], kServerMac, mac_of(Zone::dmz));
    expect_routed(echo2, dmz[1], kServerMac, mac_of(Zone::dmz));
    const auto wan = sent(Zone::wan);
    ASSERT_EQ(wan.size(), 2u);
    EXPECT_EQ(eth_of(wan[0])->type.host(), kEtherTypeArp);
    EXPECT_EQ(arp_of(wan[0])->op.host(), kArpOpReply);
    EXPECT_EQ(icmp_of(wan[1])->type, kIcmpTimeExceeded);
    EXPECT_TRUE(sent(Zone::lan).empty());

    EXPECT_EQ(counters_.port[idx(Zone::wan)].rx.get(), 9u);
    EXPECT_EQ(drops(Drop::l2_not_for_us), 1u);
    EXPECT_EQ(drops(Drop::spoofed_source), 1u);
    EXPECT_EQ(drops(Drop::wan_not_for_us), 1u);
    EXPECT_EQ(drops(Drop::ip_bad_checksum), 1u);
    EXPECT_EQ(drops(Drop::ethertype_unsupported), 1u);
    EXPECT_EQ(drops(Drop::ttl_exceeded), 1u);
    EXPECT_EQ(total_drops(), 6u);
    EXPECT_EQ(counters_.port[idx(Zone::wan)].dropped.get(), 6u);
    EXPECT_EQ(counters_.port[idx(Zone::wan)].tx.get(), 2u);
    EXPECT_EQ(counters_.port[idx(Zone::dmz)].tx.get(), 2u);
    ArpLearnMsg msg{};
    while (rte_ring_dequeue_elem(learn_, &msg, sizeof msg) == 0) {
    }
}

}  // namespace
}  // namespace ipshare
