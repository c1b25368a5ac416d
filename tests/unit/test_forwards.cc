// ForwardTable (forwards.h): outside port on wan-ip -> LAN target, per
// protocol, as the workers look it up; pure.
//
// Entries are added as tables_build.cc adds them from `forward` statements:
// protos bit 0 TCP, bit 1 UDP; lo-hi the outside ports; target_lo the target
// port for lo (the outside port itself without `port`); a stable id.
#include <gtest/gtest.h>

#include <cstdint>

#include "forwards.h"
#include "headers.h"
#include "packet_builder.h"

namespace ipshare {
namespace {

using test::dotted;
using test::ipv4;

constexpr uint8_t kTcp = 1, kUdp = 2;  // ForwardTable::add's protos bits
constexpr uint32_t kWeb = ipv4(192, 168, 1, 101);
constexpr uint32_t kGame = ipv4(192, 168, 1, 102);
constexpr uint32_t kBoth = ipv4(192, 168, 1, 103);

ForwardEntry entry(uint32_t target, uint16_t lo, uint16_t hi, uint16_t target_lo, uint16_t id) {
    ForwardEntry e;
    e.target = target;
    e.lo = lo;
    e.hi = hi;
    e.target_lo = target_lo;
    e.id = id;
    return e;
}

// The reference configuration's forwards (docs/configuration.md):
//   forward tcp 8080 to 192.168.1.101 port 80
//   forward udp 27015-27020 to 192.168.1.102
//   forward tcp+udp 5000-5009 to 192.168.1.103 port 6000-6009
ForwardTable reference() {
    ForwardTable t;
    t.add(kTcp, entry(kWeb, 8080, 8080, 80, 1));
    t.add(kUdp, entry(kGame, 27015, 27020, 27015, 2));
    t.add(kTcp | kUdp, entry(kBoth, 5000, 5009, 6000, 3));
    return t;
}

TEST(ForwardTable, EmptyTableFindsNothing) {
    const ForwardTable t;
    EXPECT_TRUE(t.empty());
    EXPECT_TRUE(t.entries().empty());
    for (uint8_t proto : {kIpProtoTcp, kIpProtoUdp, kIpProtoIcmp})
        for (uint16_t port : {0, 1, 80, 8080, 65535}) EXPECT_EQ(t.lookup(proto, port), nullptr) << port;
}

TEST(ForwardTable, SinglePortWithPortRewrite) {
    const ForwardTable t = reference();
    EXPECT_FALSE(t.empty());
    const ForwardEntry* e = t.lookup(kIpProtoTcp, 8080);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(dotted(e->target), "192.168.1.101");
    EXPECT_EQ(e->target_port(8080), 80);
    EXPECT_EQ(e->id, 1);
    EXPECT_EQ(t.lookup(kIpProtoTcp, 8079), nullptr);
    EXPECT_EQ(t.lookup(kIpProtoTcp, 8081), nullptr);
    EXPECT_EQ(t.lookup(kIpProtoTcp, 80), nullptr) << "the target port is not an outside port";
}

TEST(ForwardTable, LookupIsPerProtocol) {
    const ForwardTable t = reference();
    EXPECT_EQ(t.lookup(kIpProtoUdp, 8080), nullptr) << "forward tcp 8080 does not forward UDP";
    EXPECT_EQ(t.lookup(kIpProtoTcp, 27015), nullptr) << "forward udp 27015-27020 does not forward TCP";
    ASSERT_NE(t.lookup(kIpProtoUdp, 27015), nullptr);
    // Neither ICMP nor any other protocol is ever forwarded.
    for (uint8_t proto : {kIpProtoIcmp, kIpProtoGre, kIpProtoEsp, kIpProtoSctp, uint8_t{0}})
        for (uint16_t port : {8080, 27015, 5000}) EXPECT_EQ(t.lookup(proto, port), nullptr) << int{proto};
}

TEST(ForwardTable, RangeWithTheSamePorts) {
    const ForwardTable t = reference();
    for (uint16_t p = 27015; p <= 27020; ++p) {
        const ForwardEntry* e = t.lookup(kIpProtoUdp, p);
        ASSERT_NE(e, nullptr) << p;
        EXPECT_EQ(dotted(e->target), "192.168.1.102") << p;
        EXPECT_EQ(e->target_port(p), p) << "without `port`, the target uses the outside port";
        EXPECT_EQ(e->id, 2);
    }
    EXPECT_EQ(t.lookup(kIpProtoUdp, 27014), nullptr);
    EXPECT_EQ(t.lookup(kIpProtoUdp, 27021), nullptr);
}

TEST(ForwardTable, TcpPlusUdpRangeMapsOntoTheTargetRange) {
    const ForwardTable t = reference();
    for (uint8_t proto : {kIpProtoTcp, kIpProtoUdp}) {
        for (uint16_t p = 5000; p <= 5009; ++p) {
            const ForwardEntry* e = t.lookup(proto, p);
            ASSERT_NE(e, nullptr) << int{proto} << " " << p;
            EXPECT_EQ(dotted(e->target), "192.168.1.103");
            EXPECT_EQ(e->target_port(p), 6000 + (p - 5000)) << p;
        }
        EXPECT_EQ(t.lookup(proto, 4999), nullptr);
        EXPECT_EQ(t.lookup(proto, 5010), nullptr);
        EXPECT_EQ(t.lookup(proto, 6000), nullptr);
    }
    // Both protocols find the same entry.
    EXPECT_EQ(t.lookup(kIpProtoTcp, 5003), t.lookup(kIpProtoUdp, 5003));
}

TEST(ForwardTable, ExtremePorts) {
    ForwardTable t;
    t.add(kTcp, entry(kWeb, 1, 1, 65535, 7));
    t.add(kUdp, entry(kGame, 65530, 65535, 1, 8));
    const ForwardEntry* lo = t.lookup(kIpProtoTcp, 1);
    ASSERT_NE(lo, nullptr);
    EXPECT_EQ(lo->target_port(1), 65535);
    for (unsigned p = 65530; p <= 65535; ++p) {
        const ForwardEntry* e = t.lookup(kIpProtoUdp, static_cast<uint16_t>(p));
        ASSERT_NE(e, nullptr) << p;
        EXPECT_EQ(e->target_port(static_cast<uint16_t>(p)), 1 + (p - 65530)) << p;
    }
    EXPECT_EQ(t.lookup(kIpProtoTcp, 0), nullptr);
    EXPECT_EQ(t.lookup(kIpProtoUdp, 0), nullptr);
    EXPECT_EQ(t.lookup(kIpProtoTcp, 65535), nullptr);
}

TEST(ForwardTable, TcpAndUdpOnTheSamePortGoToTheirOwnTargets) {
    // `forward tcp 53 ...` and `forward udp 53 ...` may coexist.
    ForwardTable t;
    t.add(kTcp, entry(kWeb, 53, 53, 53, 1));
    t.add(kUdp, entry(kGame, 53, 53, 5353, 2));
    const ForwardEntry* tcp = t.lookup(kIpProtoTcp, 53);
    const ForwardEntry* udp = t.lookup(kIpProtoUdp, 53);
    ASSERT_TRUE(tcp && udp);
    EXPECT_EQ(dotted(tcp->target), "192.168.1.101");
    EXPECT_EQ(tcp->target_port(53), 53);
    EXPECT_EQ(dotted(udp->target), "192.168.1.102");
    EXPECT_EQ(udp->target_port(53), 5353);
}

TEST(ForwardTable, EntriesKeepTheConfigurationOrder) {
    const ForwardTable t = reference();
    ASSERT_EQ(t.entries().size(), 3u);
    EXPECT_EQ(t.entries()[0].lo, 8080);
    EXPECT_EQ(t.entries()[1].lo, 27015);
    EXPECT_EQ(t.entries()[1].hi, 27020);
    EXPECT_EQ(t.entries()[2].lo, 5000);
    EXPECT_EQ(t.entries()[2].target_lo, 6000);
    // lookup() hands out the entries themselves.
    EXPECT_EQ(t.lookup(kIpProtoTcp, 8080), &t.entries()[0]);
    EXPECT_EQ(t.lookup(kIpProtoUdp, 27020), &t.entries()[1]);
    EXPECT_EQ(t.lookup(kIpProtoTcp, 5009), &t.entries()[2]);
}

TEST(ForwardTable, LiveIdsAreThoseOfThePresentForwards) {
    const ForwardTable t = reference();
    EXPECT_TRUE(t.live(1));
    EXPECT_TRUE(t.live(2));
    EXPECT_TRUE(t.live(3));
    EXPECT_FALSE(t.live(0)) << "0 is never an id";
    EXPECT_FALSE(t.live(4));
    EXPECT_FALSE(t.live(65535));
}

TEST(ForwardTable, ANewTableWithoutAForwardMakesItsIdDead) {
    // What the control thread publishes after `no forward udp 27015-27020`:
    // the other forwards keep their ids, the removed one is no longer live,
    // and a re-added forward gets a fresh id.
    const ForwardTable before = reference();
    ForwardTable after;
    after.add(kTcp, entry(kWeb, 8080, 8080, 80, 1));
    after.add(kTcp | kUdp, entry(kBoth, 5000, 5009, 6000, 3));
    EXPECT_TRUE(before.live(2));
    EXPECT_FALSE(after.live(2));
    EXPECT_TRUE(after.live(1));
    EXPECT_TRUE(after.live(3));
    EXPECT_EQ(after.lookup(kIpProtoUdp, 27015), nullptr);

    ForwardTable readded = after;
    readded.add(kUdp, entry(kBoth, 27015, 27020, 27015, 4));
    EXPECT_FALSE(readded.live(2));
    EXPECT_TRUE(readded.live(4));
    const ForwardEntry* e = readded.lookup(kIpProtoUdp, 27017);
    ASSERT_NE(e, nullptr);
    EXPECT_EQ(dotted(e->target), "192.168.1.103");
    EXPECT_EQ(e->id, 4);
}

TEST(ForwardTable, HighIds) {
    ForwardTable t;
    t.add(kTcp, entry(kWeb, 8080, 8080, 80, 65535));
    EXPECT_TRUE(t.live(65535));
    ASSERT_NE(t.lookup(kIpProtoTcp, 8080), nullptr);
    EXPECT_EQ(t.lookup(kIpProtoTcp, 8080)->id, 65535);
}

}  // namespace
}  // namespace ipshare
