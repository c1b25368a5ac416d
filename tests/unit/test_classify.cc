// Unit tests over real DPDK objects (main in eal_main.cc): the decision table
// of classify_ipv4 over the Tables that build_tables() makes from the
// reference configuration, and the route table (rte_lpm) in those Tables.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "classify.h"
#include "config.h"
#include "packet_builder.h"
#include "reference_tables.h"
#include "route.h"

namespace ipshare {
namespace {

using namespace test;

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
    Config c = ring_reference_config();
    c.policies[idx(Zone::dmz)][idx(Zone::lan)] = FilterAction::allow;
    ASSERT_NO_FATAL_FAILURE(use(c));
    expect_verdict(Zone::dmz, kWanIp, kClient1, Action::checked, Zone::lan, kClient1);
    expect_verdict(Zone::dmz, kWanIp, kLanRouter, Action::checked, Zone::lan, kLanRouter);
    expect_verdict(Zone::dmz, kWanIp, kBehindLanRouter, Action::checked, Zone::lan, kLanRouter);
}

TEST_F(Classify, DmzToTheInternetUnderAPolicyIsChecked) {
    Config c = ring_reference_config();
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

}  // namespace
}  // namespace ipshare
