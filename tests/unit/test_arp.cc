// Unit tests for ARP as ipshare speaks it (dataplane/arp.h): which requests
// each port answers, what it learns, and the frames it writes.
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>

#include "arp.h"
#include "packet_builder.h"
#include "parse.h"

namespace ipshare {

static void PrintTo(ArpLearn l, std::ostream* os) {
    *os << (l == ArpLearn::no ? "no" : l == ArpLearn::update ? "update" : "create");
}

namespace {

using namespace test;

const Addresses kAddr = reference_addresses();

constexpr uint32_t kWanHost = ipv4(203, 0, 113, 77);
constexpr uint32_t kClient2 = ipv4(192, 168, 1, 12);

// ---------------------------------------------------------------- arp_answers

TEST(ArpAnswers, WanAnswersOnlyWanIp) {
    EXPECT_TRUE(arp_answers(Zone::wan, kAddr, kGateway, kWanIp));
    EXPECT_TRUE(arp_answers(Zone::wan, kAddr, kWanHost, kWanIp));
    EXPECT_FALSE(arp_answers(Zone::wan, kAddr, kWanHost, kGateway));
    EXPECT_FALSE(arp_answers(Zone::wan, kAddr, kGateway, kLanIp));
    EXPECT_FALSE(arp_answers(Zone::wan, kAddr, kGateway, ipv4(203, 0, 113, 11)));
    EXPECT_FALSE(arp_answers(Zone::wan, kAddr, kGateway, ipv4(203, 0, 113, 200)));
    EXPECT_FALSE(arp_answers(Zone::wan, kAddr, kGateway, kInternetHost));
    EXPECT_FALSE(arp_answers(Zone::wan, kAddr, kGateway, 0));
}

// Who-has wan-ip on wan is answered only to a host of the wan network
// (DESIGN.md: neighbours of the wan port are the wan subnet's) or to a
// duplicate-address probe (RFC 5227: sender 0.0.0.0, answered so the prober
// sees that wan-ip is taken).
TEST(ArpAnswers, WanAnswersHostsOfTheWanNetworkAndProbes) {
    for (uint32_t spa : {kGateway, kWanHost, ipv4(203, 0, 113, 2), ipv4(203, 0, 113, 254), uint32_t{0}})
        EXPECT_TRUE(arp_answers(Zone::wan, kAddr, spa, kWanIp)) << dotted(spa);
}

TEST(ArpAnswers, WanAnswersNoSenderOutsideTheWanNetwork) {
    // The LAN's addresses never get an answer on wan (a LAN address on the
    // wan wire, or a spoofer from outside), nor do the wan network's own
    // network and broadcast addresses, the internet, or special-purpose space.
    for (uint32_t spa : {kClient1, kLanIp, kLanRouter, kLanNet, kLanBroadcast, kWanNet, kWanBroadcast, kInternetHost,
                         ipv4(203, 0, 114, 1), ipv4(203, 0, 112, 255), ipv4(10, 20, 1, 1), ipv4(127, 0, 0, 1),
                         ipv4(224, 0, 0, 1), ipv4(255, 255, 255, 255), ipv4(169, 254, 1, 1)})
        EXPECT_FALSE(arp_answers(Zone::wan, kAddr, spa, kWanIp)) << dotted(spa);
}

TEST(ArpAnswers, LanAnswersOnlyLanIp) {
    EXPECT_TRUE(arp_answers(Zone::lan, kAddr, kClient1, kLanIp));
    EXPECT_TRUE(arp_answers(Zone::lan, kAddr, kLanRouter, kLanIp));
    EXPECT_FALSE(arp_answers(Zone::lan, kAddr, kClient1, kWanIp));
    EXPECT_FALSE(arp_answers(Zone::lan, kAddr, kClient1, kClient2));
    EXPECT_FALSE(arp_answers(Zone::lan, kAddr, kClient1, kGateway));
    EXPECT_FALSE(arp_answers(Zone::lan, kAddr, kClient1, kLanRouter));
    EXPECT_FALSE(arp_answers(Zone::lan, kAddr, kClient1, 0));
}

TEST(ArpAnswers, LanAnswersHostsOfTheLanSubnetAndProbes) {
    for (uint32_t spa : {kClient1, kClient2, kLanRouter, ipv4(192, 168, 1, 2), uint32_t{0}})
        EXPECT_TRUE(arp_answers(Zone::lan, kAddr, spa, kLanIp)) << dotted(spa);
}

TEST(ArpAnswers, LanAnswersNoSenderOutsideTheLanSubnet) {
    for (uint32_t spa : {kWanIp, kGateway, kWanHost, kInternetHost, kLanNet, kLanBroadcast, ipv4(10, 20, 1, 1),
                         ipv4(192, 168, 2, 11), ipv4(127, 0, 0, 1), ipv4(224, 0, 0, 251), ipv4(255, 255, 255, 255)})
        EXPECT_FALSE(arp_answers(Zone::lan, kAddr, spa, kLanIp)) << dotted(spa);
}

TEST(ArpAnswers, DmzAnswersTheServerForEverythingButWanIp) {
    for (uint32_t tpa : {kGateway, kWanHost, ipv4(203, 0, 113, 200), kInternetHost, kLanIp, kClient1, kLanRouter,
                         ipv4(10, 20, 1, 1)})
        EXPECT_TRUE(arp_answers(Zone::dmz, kAddr, kWanIp, tpa)) << dotted(tpa);
    EXPECT_FALSE(arp_answers(Zone::dmz, kAddr, kWanIp, kWanIp));
    EXPECT_FALSE(arp_answers(Zone::dmz, kAddr, kWanIp, 0));
}

TEST(ArpAnswers, DmzAnswersNoTargetThatIsNotAHost) {
    // No host holds these: answering would claim them for the dmz MAC.
    for (uint32_t tpa : {kWanNet, kWanBroadcast, kLanNet, kLanBroadcast, ipv4(0, 1, 2, 3), ipv4(127, 0, 0, 1),
                         ipv4(224, 0, 0, 1), ipv4(239, 255, 255, 250), ipv4(240, 0, 0, 1), ipv4(255, 255, 255, 255)})
        EXPECT_FALSE(arp_answers(Zone::dmz, kAddr, kWanIp, tpa)) << dotted(tpa);
}

TEST(ArpAnswers, DmzAnswersNoOtherSender) {
    for (uint32_t spa : {kGateway, kWanHost, kClient1, kLanIp, kInternetHost, uint32_t{0}})
        EXPECT_FALSE(arp_answers(Zone::dmz, kAddr, spa, kGateway)) << dotted(spa);
}

TEST(ArpAnswers, GratuitousNeverAnswered) {
    EXPECT_FALSE(arp_answers(Zone::wan, kAddr, kWanIp, kWanIp));
    EXPECT_FALSE(arp_answers(Zone::wan, kAddr, kGateway, kGateway));
    EXPECT_FALSE(arp_answers(Zone::lan, kAddr, kLanIp, kLanIp));
    EXPECT_FALSE(arp_answers(Zone::lan, kAddr, kClient1, kClient1));
    EXPECT_FALSE(arp_answers(Zone::dmz, kAddr, kWanIp, kWanIp));
}

TEST(ArpAnswers, SomeoneElseClaimingOurAddressIsNotAnswered) {
    // A request whose sender is the address asked for by another party: no.
    EXPECT_FALSE(arp_answers(Zone::wan, kAddr, kWanIp, kWanIp));
    EXPECT_FALSE(arp_answers(Zone::lan, kAddr, kLanIp, kLanIp));
}

TEST(ArpSenderAddress, PerZone) {
    EXPECT_EQ(arp_sender_address(Zone::wan, kAddr), kWanIp);
    EXPECT_EQ(arp_sender_address(Zone::lan, kAddr), kLanIp);
    EXPECT_EQ(arp_sender_address(Zone::dmz, kAddr), kGateway);
}

// ---------------------------------------------------------------- arp_learn

ArpHdr arp_hdr(uint16_t op, uint32_t spa, uint32_t tpa, const Mac& sha = kGatewayMac) {
    const Bytes f = arp_frame(kBroadcastMac, op, sha, spa, kZeroMac, tpa);
    return *arp_of(f);
}

TEST(ArpLearnTest, ReplyToOurSenderAddressCreates) {
    EXPECT_EQ(arp_learn(Zone::wan, kAddr, arp_hdr(kArpOpReply, kGateway, kWanIp), true, false), ArpLearn::create);
    EXPECT_EQ(arp_learn(Zone::lan, kAddr, arp_hdr(kArpOpReply, kClient1, kLanIp), true, false), ArpLearn::create);
    EXPECT_EQ(arp_learn(Zone::dmz, kAddr, arp_hdr(kArpOpReply, kWanIp, kGateway, kServerMac), true, false),
              ArpLearn::create);
}

TEST(ArpLearnTest, ReplyToAnotherAddressUpdates) {
    EXPECT_EQ(arp_learn(Zone::wan, kAddr, arp_hdr(kArpOpReply, kGateway, kWanHost), true, false), ArpLearn::update);
    EXPECT_EQ(arp_learn(Zone::lan, kAddr, arp_hdr(kArpOpReply, kClient1, kClient2), true, false), ArpLearn::update);
    // On dmz the router speaks as the gateway, not as wan-ip or lan-ip.
    EXPECT_EQ(arp_learn(Zone::dmz, kAddr, arp_hdr(kArpOpReply, kWanIp, kLanIp, kServerMac), true, false),
              ArpLearn::update);
}

TEST(ArpLearnTest, RequestWeAnsweredCreates) {
    EXPECT_EQ(arp_learn(Zone::wan, kAddr, arp_hdr(kArpOpRequest, kGateway, kWanIp), true, true), ArpLearn::create);
    EXPECT_EQ(arp_learn(Zone::dmz, kAddr, arp_hdr(kArpOpRequest, kWanIp, kGateway, kServerMac), true, true),
              ArpLearn::create);
}

TEST(ArpLearnTest, RequestNotAnsweredUpdates) {
    EXPECT_EQ(arp_learn(Zone::wan, kAddr, arp_hdr(kArpOpRequest, kGateway, kWanHost), true, false),
              ArpLearn::update);
    EXPECT_EQ(arp_learn(Zone::lan, kAddr, arp_hdr(kArpOpRequest, kClient1, kClient2), true, false),
              ArpLearn::update);
}

TEST(ArpLearnTest, GratuitousUpdates) {
    EXPECT_EQ(arp_learn(Zone::wan, kAddr, arp_hdr(kArpOpRequest, kGateway, kGateway), true, false),
              ArpLearn::update);
    EXPECT_EQ(arp_learn(Zone::lan, kAddr, arp_hdr(kArpOpReply, kClient1, kClient1), true, false), ArpLearn::update);
}

TEST(ArpLearnTest, OffLinkSenderNeverLearnt) {
    for (uint16_t op : {kArpOpRequest, kArpOpReply})
        for (bool answered : {false, true}) {
            EXPECT_EQ(arp_learn(Zone::wan, kAddr, arp_hdr(op, kInternetHost, kWanIp), false, answered), ArpLearn::no);
            EXPECT_EQ(arp_learn(Zone::lan, kAddr, arp_hdr(op, ipv4(10, 99, 0, 1), kLanIp), false, answered),
                      ArpLearn::no);
        }
}

TEST(ArpLearnTest, ProbeWithSenderZeroNeverLearnt) {
    EXPECT_EQ(arp_learn(Zone::wan, kAddr, arp_hdr(kArpOpRequest, 0, kWanIp), true, true), ArpLearn::no);
    EXPECT_EQ(arp_learn(Zone::lan, kAddr, arp_hdr(kArpOpRequest, 0, kLanIp), true, true), ArpLearn::no);
    EXPECT_EQ(arp_learn(Zone::lan, kAddr, arp_hdr(kArpOpReply, 0, kLanIp), true, false), ArpLearn::no);
}

// ---------------------------------------------------------------- arp_sender_acceptable

TEST(ArpSenderAcceptable, NeighboursOfEachPort) {
    EXPECT_TRUE(arp_sender_acceptable(Zone::wan, kAddr, kGateway, kGatewayMac.data()));
    EXPECT_TRUE(arp_sender_acceptable(Zone::wan, kAddr, kWanHost, kGatewayMac.data()));
    EXPECT_TRUE(arp_sender_acceptable(Zone::lan, kAddr, kClient1, kClient1Mac.data()));
    EXPECT_TRUE(arp_sender_acceptable(Zone::lan, kAddr, kLanRouter, kClient1Mac.data()));
    EXPECT_TRUE(arp_sender_acceptable(Zone::dmz, kAddr, kWanIp, kServerMac.data()));
}

TEST(ArpSenderAcceptable, LanIpIsNobodysButTheRouters) {
    for (Zone z : kAllZones) EXPECT_FALSE(arp_sender_acceptable(z, kAddr, kLanIp, kClient1Mac.data())) << idx(z);
}

TEST(ArpSenderAcceptable, WanIpOnlyOnDmz) {
    EXPECT_FALSE(arp_sender_acceptable(Zone::wan, kAddr, kWanIp, kServerMac.data()));
    EXPECT_FALSE(arp_sender_acceptable(Zone::lan, kAddr, kWanIp, kServerMac.data()));
    EXPECT_TRUE(arp_sender_acceptable(Zone::dmz, kAddr, kWanIp, kServerMac.data()));
}

TEST(ArpSenderAcceptable, GatewayOnlyOnWan) {
    EXPECT_TRUE(arp_sender_acceptable(Zone::wan, kAddr, kGateway, kGatewayMac.data()));
    EXPECT_FALSE(arp_sender_acceptable(Zone::lan, kAddr, kGateway, kGatewayMac.data()));
    EXPECT_FALSE(arp_sender_acceptable(Zone::dmz, kAddr, kGateway, kGatewayMac.data()));
}

TEST(ArpSenderAcceptable, DmzHasOnlyTheServer) {
    for (uint32_t spa : {kWanHost, kClient1, kInternetHost, ipv4(10, 20, 1, 1)})
        EXPECT_FALSE(arp_sender_acceptable(Zone::dmz, kAddr, spa, kServerMac.data())) << dotted(spa);
}

TEST(ArpSenderAcceptable, SpecialPurposeSendersRefused) {
    for (Zone z : kAllZones)
        for (uint32_t spa : {uint32_t{0}, ipv4(0, 0, 0, 9), ipv4(127, 0, 0, 1), ipv4(224, 0, 0, 1),
                             ipv4(240, 0, 0, 1), ipv4(255, 255, 255, 255)})
            EXPECT_FALSE(arp_sender_acceptable(z, kAddr, spa, kGatewayMac.data())) << idx(z) << " " << dotted(spa);
}

TEST(ArpSenderAcceptable, HardwareAddressMustBeUnicast) {
    for (const Mac& sha : {kZeroMac, kBroadcastMac, kMulticastMac}) {
        EXPECT_FALSE(arp_sender_acceptable(Zone::wan, kAddr, kGateway, sha.data())) << mac_text(sha.data());
        EXPECT_FALSE(arp_sender_acceptable(Zone::lan, kAddr, kClient1, sha.data())) << mac_text(sha.data());
        EXPECT_FALSE(arp_sender_acceptable(Zone::dmz, kAddr, kWanIp, sha.data())) << mac_text(sha.data());
    }
}

// Spoofing: even if the routes said "on-link", a reply or a gratuitous ARP
// claiming the router's own addresses, or an address of another port, teaches
// nothing (the neighbour table cannot be poisoned).
TEST(ArpLearnTest, SpoofedClaimsNeverLearnt) {
    struct Claim {
        Zone z;
        uint32_t spa;
    };
    for (const Claim c : {Claim{Zone::lan, kLanIp}, Claim{Zone::lan, kWanIp}, Claim{Zone::lan, kGateway},
                          Claim{Zone::wan, kWanIp}, Claim{Zone::wan, kLanIp}, Claim{Zone::dmz, kGateway},
                          Claim{Zone::dmz, kLanIp}, Claim{Zone::dmz, kWanHost}})
        for (uint16_t op : {kArpOpRequest, kArpOpReply}) {
            const uint32_t target = arp_sender_address(c.z, kAddr);
            // Gratuitous (target = sender), a reply to the router, a request it answered.
            EXPECT_EQ(arp_learn(c.z, kAddr, arp_hdr(op, c.spa, c.spa, kClient1Mac), true, false), ArpLearn::no)
                << kZoneNames[idx(c.z)] << " " << dotted(c.spa) << " op " << op;
            EXPECT_EQ(arp_learn(c.z, kAddr, arp_hdr(op, c.spa, target, kClient1Mac), true, true), ArpLearn::no)
                << kZoneNames[idx(c.z)] << " " << dotted(c.spa) << " op " << op;
        }
}

TEST(ArpLearnTest, NonUnicastHardwareAddressNeverLearnt) {
    for (const Mac& sha : {kZeroMac, kBroadcastMac, kMulticastMac})
        EXPECT_EQ(arp_learn(Zone::wan, kAddr, arp_hdr(kArpOpReply, kGateway, kWanIp, sha), true, false),
                  ArpLearn::no)
            << mac_text(sha.data());
}

// ---------------------------------------------------------------- frames

TEST(ArpMakeReply, EveryField) {
    Bytes f = arp_frame(kBroadcastMac, kArpOpRequest, kGatewayMac, kGateway, kZeroMac, kWanIp);
    f.resize(60, 0);  // as received: padded
    const Bytes before = f;
    arp_make_reply(eth_of(f), arp_of(f), kRouterWanMac.data());

    const EthHdr* eth = eth_of(f);
    EXPECT_EQ(mac_text(eth->dst), mac_text(kGatewayMac));
    EXPECT_EQ(mac_text(eth->src), mac_text(kRouterWanMac));
    EXPECT_EQ(eth->type.host(), kEtherTypeArp);

    const ArpHdr* arp = arp_of(f);
    EXPECT_EQ(arp->htype.host(), kArpHwEther);
    EXPECT_EQ(arp->ptype.host(), kEtherTypeIpv4);
    EXPECT_EQ(arp->hlen, 6);
    EXPECT_EQ(arp->plen, 4);
    EXPECT_EQ(arp->op.host(), kArpOpReply);
    EXPECT_EQ(mac_text(arp->sha), mac_text(kRouterWanMac));
    EXPECT_EQ(dotted(arp->spa.host()), dotted(kWanIp));
    EXPECT_EQ(mac_text(arp->tha), mac_text(kGatewayMac));
    EXPECT_EQ(dotted(arp->tpa.host()), dotted(kGateway));

    // Nothing beyond the ARP payload is touched, and the result parses.
    EXPECT_TRUE(std::equal(f.begin() + 42, f.end(), before.begin() + 42));
    EXPECT_EQ(parse_frame(f.data(), static_cast<uint32_t>(f.size())).kind, FrameKind::arp);
}

TEST(ArpMakeReply, UnicastRequestToThePort) {
    // A refresh (unicast request with tha set) is answered the same way.
    Bytes f = arp_frame(kRouterWanMac, kArpOpRequest, kServerMac, kWanIp, kRouterWanMac, kGateway);
    arp_make_reply(eth_of(f), arp_of(f), kRouterWanMac.data());
    EXPECT_EQ(mac_text(eth_of(f)->dst), mac_text(kServerMac));
    EXPECT_EQ(arp_of(f)->op.host(), kArpOpReply);
    EXPECT_EQ(dotted(arp_of(f)->spa.host()), dotted(kGateway));
    EXPECT_EQ(dotted(arp_of(f)->tpa.host()), dotted(kWanIp));
    EXPECT_EQ(mac_text(arp_of(f)->tha), mac_text(kServerMac));
}

TEST(ArpBuildRequest, EveryField) {
    Bytes buf(80, 0xa5);
    const uint16_t n = arp_build_request(buf.data(), kRouterWanMac.data(), kWanIp, kGateway);
    EXPECT_EQ(n, 60);
    EXPECT_EQ(n, kArpFrameLen);

    const EthHdr* eth = eth_of(buf);
    EXPECT_EQ(mac_text(eth->dst), mac_text(kBroadcastMac));
    EXPECT_EQ(mac_text(eth->src), mac_text(kRouterWanMac));
    EXPECT_EQ(eth->type.host(), kEtherTypeArp);

    const ArpHdr* arp = arp_of(buf);
    EXPECT_EQ(arp->htype.host(), 1);
    EXPECT_EQ(arp->ptype.host(), 0x0800);
    EXPECT_EQ(arp->hlen, 6);
    EXPECT_EQ(arp->plen, 4);
    EXPECT_EQ(arp->op.host(), 1);
    EXPECT_EQ(mac_text(arp->sha), mac_text(kRouterWanMac));
    EXPECT_EQ(dotted(arp->spa.host()), dotted(kWanIp));
    EXPECT_EQ(mac_text(arp->tha), mac_text(kZeroMac));
    EXPECT_EQ(dotted(arp->tpa.host()), dotted(kGateway));

    for (size_t i = 42; i < 60; ++i) EXPECT_EQ(buf[i], 0) << "padding byte " << i;
    for (size_t i = 60; i < buf.size(); ++i) EXPECT_EQ(buf[i], 0xa5) << "byte " << i << " beyond the frame";

    EXPECT_EQ(parse_frame(buf.data(), n).kind, FrameKind::arp);
}

}  // namespace
}  // namespace ipshare
