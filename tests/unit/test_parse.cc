// Unit tests for frame validation (dataplane/parse.h): every drop reason
// parse_frame can give, and the frames it must accept.
#include <gtest/gtest.h>

#include <ostream>

#include "packet_builder.h"
#include "parse.h"

namespace ipshare {

static void PrintTo(Drop d, std::ostream* os) {
    *os << (d == Drop::count ? "count" : kDropNames[static_cast<size_t>(d)]);
}
static void PrintTo(FrameKind k, std::ostream* os) {
    *os << (k == FrameKind::drop ? "drop" : k == FrameKind::arp ? "arp" : "ipv4");
}

namespace {

using namespace test;

constexpr Mac kRouterMac = kRouterWanMac;

FrameInfo parse(const Bytes& f) { return parse_frame(f.data(), static_cast<uint32_t>(f.size())); }

// parse_frame must drop `f` for `why`.
void expect_drop(const Bytes& f, Drop why) {
    const FrameInfo fi = parse(f);
    EXPECT_EQ(fi.kind, FrameKind::drop);
    EXPECT_EQ(fi.reason, why);
}

Bytes udp() { return udp_frame(kRouterMac, kGatewayMac, kInternetHost, kWanIp); }

Bytes who_has() { return arp_frame(kBroadcastMac, kArpOpRequest, kGatewayMac, kGateway, kZeroMac, kWanIp); }

// A UDP datagram with the given IPv4 options (a multiple of 4 bytes).
Bytes udp_with_options(const Bytes& options) {
    return PacketBuilder()
        .eth(kRouterMac, kGatewayMac)
        .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoUdp, .options = options})
        .udp(1, 2)
        .payload(pattern(8))
        .build();
}

// ---------------------------------------------------------------- Ethernet

TEST(ParseEthernet, Truncated) {
    const Bytes f = udp();
    for (uint32_t len : {0u, 1u, 13u}) {
        const FrameInfo fi = parse_frame(f.data(), len);
        EXPECT_EQ(fi.kind, FrameKind::drop) << len;
        EXPECT_EQ(fi.reason, Drop::eth_truncated) << len;
    }
}

TEST(ParseEthernet, VlanTagged) {
    Bytes f = udp();
    eth_of(f)->type = be16::from_host(0x8100);
    expect_drop(f, Drop::vlan_tagged);
    eth_of(f)->type = be16::from_host(0x88a8);
    expect_drop(f, Drop::vlan_tagged);
}

TEST(ParseEthernet, Ipv6IsUnsupported) {
    Bytes f = udp();
    eth_of(f)->type = be16::from_host(0x86dd);
    expect_drop(f, Drop::ethertype_unsupported);
    eth_of(f)->type = be16::from_host(0x0000);
    expect_drop(f, Drop::ethertype_unsupported);
}

TEST(ParseEthernet, ExactlyAnEthernetHeaderOfUnknownType) {
    Bytes f = PacketBuilder().eth(kRouterMac, kGatewayMac, 0x88cc).build();
    ASSERT_EQ(f.size(), 14u);
    expect_drop(f, Drop::ethertype_unsupported);
}

TEST(ParseEthernet, MulticastOrBroadcastSource) {
    Bytes f = PacketBuilder().eth(kRouterMac, kMulticastMac).ipv4({.src = kInternetHost, .dst = kWanIp}).udp(1, 2).build();
    expect_drop(f, Drop::l2_bad_source);
    f = PacketBuilder().eth(kRouterMac, kBroadcastMac).ipv4({.src = kInternetHost, .dst = kWanIp}).udp(1, 2).build();
    expect_drop(f, Drop::l2_bad_source);
    // Checked before the type: an ARP frame from a group address too.
    f = who_has();
    eth_of(f)->src[0] |= 1;
    expect_drop(f, Drop::l2_bad_source);
}

// ---------------------------------------------------------------- ARP

TEST(ParseArp, RequestAndReplyAccepted) {
    const FrameInfo req = parse(who_has());
    EXPECT_EQ(req.kind, FrameKind::arp);
    const Bytes reply = arp_frame(kRouterMac, kArpOpReply, kGatewayMac, kGateway, kRouterMac, kWanIp);
    EXPECT_EQ(parse(reply).kind, FrameKind::arp);
}

TEST(ParseArp, PaddedToMinimumFrameAccepted) {
    Bytes f = who_has();
    f.resize(60, 0);
    EXPECT_EQ(parse(f).kind, FrameKind::arp);
}

TEST(ParseArp, Truncated) {
    const Bytes f = who_has();
    ASSERT_EQ(f.size(), 42u);
    for (uint32_t len : {14u, 15u, 41u}) {
        const FrameInfo fi = parse_frame(f.data(), len);
        EXPECT_EQ(fi.kind, FrameKind::drop) << len;
        EXPECT_EQ(fi.reason, Drop::arp_malformed) << len;
    }
}

TEST(ParseArp, EachBadField) {
    struct Case {
        const char* what;
        void (*corrupt)(ArpHdr*);
    };
    const Case cases[] = {
        {"htype 6 (IEEE 802)", [](ArpHdr* a) { a->htype = be16::from_host(6); }},
        {"htype 0", [](ArpHdr* a) { a->htype = be16::from_host(0); }},
        {"ptype IPv6", [](ArpHdr* a) { a->ptype = be16::from_host(0x86dd); }},
        {"hlen 8", [](ArpHdr* a) { a->hlen = 8; }},
        {"hlen 0", [](ArpHdr* a) { a->hlen = 0; }},
        {"plen 16", [](ArpHdr* a) { a->plen = 16; }},
        {"plen 0", [](ArpHdr* a) { a->plen = 0; }},
        {"op 0", [](ArpHdr* a) { a->op = be16::from_host(0); }},
        {"op 3 (RARP request)", [](ArpHdr* a) { a->op = be16::from_host(3); }},
        {"op 0x0100 (byte-swapped request)", [](ArpHdr* a) { a->op = be16::from_host(0x0100); }},
        {"sender hardware address multicast", [](ArpHdr* a) { a->sha[0] |= 1; }},
        {"sender hardware address broadcast", [](ArpHdr* a) { std::memset(a->sha, 0xff, 6); }},
    };
    for (const Case& c : cases) {
        Bytes f = who_has();
        c.corrupt(arp_of(f));
        const FrameInfo fi = parse(f);
        EXPECT_EQ(fi.kind, FrameKind::drop) << c.what;
        EXPECT_EQ(fi.reason, Drop::arp_malformed) << c.what;
    }
}

// ---------------------------------------------------------------- IPv4 header

TEST(ParseIpv4, GoodDatagram) {
    const Bytes f = udp();
    const FrameInfo fi = parse(f);
    EXPECT_EQ(fi.kind, FrameKind::ipv4);
    EXPECT_EQ(fi.ip_len, f.size() - 14);
}

TEST(ParseIpv4, IpLenIsTotalLengthNotFrameLength) {
    // 28-byte datagram padded to the 60-byte Ethernet minimum.
    const Bytes f = PacketBuilder()
                        .eth(kRouterMac, kGatewayMac)
                        .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoIcmp})
                        .icmp(kIcmpEchoRequest, 0, 1, 1)
                        .pad_to(60)
                        .build();
    ASSERT_EQ(f.size(), 60u);
    const FrameInfo fi = parse(f);
    EXPECT_EQ(fi.kind, FrameKind::ipv4);
    EXPECT_EQ(fi.ip_len, 28);
}

TEST(ParseIpv4, Truncated) {
    const Bytes f = udp();
    for (uint32_t len : {14u, 20u, 33u}) {
        const FrameInfo fi = parse_frame(f.data(), len);
        EXPECT_EQ(fi.kind, FrameKind::drop) << len;
        EXPECT_EQ(fi.reason, Drop::ip_truncated) << len;
    }
    // Exactly a 20-byte header (total length 20): accepted.
    Bytes bare = PacketBuilder().eth(kRouterMac, kGatewayMac).ipv4({.src = kInternetHost, .dst = kWanIp}).build();
    ASSERT_EQ(bare.size(), 34u);
    EXPECT_EQ(parse(bare).kind, FrameKind::ipv4);
    EXPECT_EQ(parse(bare).ip_len, 20);
}

TEST(ParseIpv4, BadVersion) {
    for (uint8_t v : {0, 5, 6, 15}) {
        Bytes f = udp();
        ip_of(f)->version_ihl = static_cast<uint8_t>((v << 4) | 5);
        refresh_ip_checksum(f);
        expect_drop(f, Drop::ip_bad_version);
    }
}

TEST(ParseIpv4, HeaderLengthBelowFive) {
    for (uint8_t ihl : {0, 1, 4}) {
        Bytes f = udp();
        ip_of(f)->version_ihl = static_cast<uint8_t>(0x40 | ihl);
        expect_drop(f, Drop::ip_bad_header_len);
    }
}

TEST(ParseIpv4, HeaderLengthBeyondFrame) {
    // IHL 15 (60 bytes) in a frame that carries 34 bytes after Ethernet.
    Bytes f = PacketBuilder().eth(kRouterMac, kGatewayMac).ipv4({.src = kInternetHost, .dst = kWanIp}).udp(1, 2).payload(pattern(6)).build();
    ASSERT_EQ(f.size(), 14u + 34u);
    ip_of(f)->version_ihl = 0x4f;
    refresh_ip_checksum(f);
    expect_drop(f, Drop::ip_bad_header_len);
    // IHL 6 with only the 20-byte header in the frame.
    Bytes g = PacketBuilder().eth(kRouterMac, kGatewayMac).ipv4({.src = kInternetHost, .dst = kWanIp}).build();
    ip_of(g)->version_ihl = 0x46;
    expect_drop(g, Drop::ip_bad_header_len);
}

TEST(ParseIpv4, TotalLengthBelowHeader) {
    for (uint16_t tl : {0, 19}) {
        Bytes f = udp();
        ip_of(f)->total_length = be16::from_host(tl);
        refresh_ip_checksum(f);
        expect_drop(f, Drop::ip_bad_total_len);
    }
    // With options: total length 20 is below the 24-byte header.
    Bytes g = udp_with_options({kIpOptNop, kIpOptNop, kIpOptNop, kIpOptEnd});
    ip_of(g)->total_length = be16::from_host(20);
    refresh_ip_checksum(g);
    expect_drop(g, Drop::ip_bad_total_len);
}

TEST(ParseIpv4, TotalLengthBeyondFrame) {
    Bytes f = udp();
    const auto len = static_cast<uint16_t>(f.size() - 14);
    ip_of(f)->total_length = be16::from_host(static_cast<uint16_t>(len + 1));
    refresh_ip_checksum(f);
    expect_drop(f, Drop::ip_bad_total_len);
    ip_of(f)->total_length = be16::from_host(65535);
    refresh_ip_checksum(f);
    expect_drop(f, Drop::ip_bad_total_len);
    // Exactly the frame: fine.
    ip_of(f)->total_length = be16::from_host(len);
    refresh_ip_checksum(f);
    EXPECT_EQ(parse(f).kind, FrameKind::ipv4);
}

TEST(ParseIpv4, BadChecksum) {
    Bytes f = udp();
    ip_of(f)->checksum = be16::from_host(static_cast<uint16_t>(ip_of(f)->checksum.host() ^ 0x0100));
    expect_drop(f, Drop::ip_bad_checksum);
    // A changed field with the old checksum.
    Bytes g = udp();
    ip_of(g)->ttl = static_cast<uint8_t>(ip_of(g)->ttl - 1);
    expect_drop(g, Drop::ip_bad_checksum);
}

TEST(ParseIpv4, ChecksumFfffVerifiesWhenSumIsZero) {
    // A header whose checksum is 0x0000 may also be sent as 0xffff.
    for (uint16_t id = 0;; ++id) {
        Bytes f = udp();
        ip_of(f)->id = be16::from_host(id);
        refresh_ip_checksum(f);
        if (ip_of(f)->checksum.host() != 0) continue;
        EXPECT_EQ(parse(f).kind, FrameKind::ipv4);
        ip_of(f)->checksum = be16::from_host(0xffff);
        EXPECT_EQ(parse(f).kind, FrameKind::ipv4);
        break;
    }
}

// ---------------------------------------------------------------- IPv4 options

TEST(ParseOptions, LooseSourceRoute) {
    // LSRR, length 7, pointer 4, one address; then End of list.
    const Bytes f = udp_with_options({kIpOptLsrr, 7, 4, 198, 51, 100, 1, kIpOptEnd});
    expect_drop(f, Drop::ip_source_route);
}

TEST(ParseOptions, StrictSourceRoute) {
    const Bytes f = udp_with_options({kIpOptSsrr, 7, 4, 198, 51, 100, 1, kIpOptEnd});
    expect_drop(f, Drop::ip_source_route);
}

TEST(ParseOptions, SourceRouteAfterNops) {
    const Bytes f = udp_with_options({kIpOptNop, kIpOptNop, kIpOptNop, kIpOptNop, kIpOptLsrr, 7, 4, 10, 0, 0, 1, kIpOptEnd});
    expect_drop(f, Drop::ip_source_route);
}

TEST(ParseOptions, RecordRouteAllowed) {
    // Record Route (7), length 11, pointer 4, room for two addresses, End.
    const Bytes f = udp_with_options({7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, kIpOptEnd});
    const FrameInfo fi = parse(f);
    EXPECT_EQ(fi.kind, FrameKind::ipv4);
    EXPECT_EQ(fi.ip_len, f.size() - 14);
}

TEST(ParseOptions, NopsAndEndAllowed) {
    EXPECT_EQ(parse(udp_with_options({kIpOptNop, kIpOptNop, kIpOptNop, kIpOptNop})).kind, FrameKind::ipv4);
    EXPECT_EQ(parse(udp_with_options({kIpOptEnd, 0, 0, 0})).kind, FrameKind::ipv4);
    // After End of list nothing is read, not even a would-be source route.
    EXPECT_EQ(parse(udp_with_options({kIpOptEnd, kIpOptLsrr, 0, 0})).kind, FrameKind::ipv4);
}

TEST(ParseOptions, LengthZero) {
    expect_drop(udp_with_options({7, 0, 4, 0}), Drop::ip_bad_options);
    expect_drop(udp_with_options({7, 0, kIpOptNop, kIpOptEnd}), Drop::ip_bad_options);
}

TEST(ParseOptions, LengthOne) {
    // Read as a 1-byte option, the rest would parse as NOPs and End.
    expect_drop(udp_with_options({7, 1, kIpOptNop, kIpOptEnd}), Drop::ip_bad_options);
}

TEST(ParseOptions, LengthBeyondOptionSpace) {
    // Record Route claiming 9 bytes in 8 bytes of options.
    expect_drop(udp_with_options({7, 9, 4, 0, 0, 0, 0, 0}), Drop::ip_bad_options);
    // The same claim hiding a source route behind it is still malformed.
    expect_drop(udp_with_options({kIpOptNop, kIpOptLsrr, 7, 4}), Drop::ip_bad_options);
}

TEST(ParseOptions, TypeWithoutLengthByte) {
    // The last option byte is a type that needs a length.
    expect_drop(udp_with_options({kIpOptNop, kIpOptNop, kIpOptNop, 7}), Drop::ip_bad_options);
}

TEST(ParseOptions, ChecksumIsCheckedBeforeOptions) {
    Bytes f = udp_with_options({kIpOptLsrr, 7, 4, 198, 51, 100, 1, kIpOptEnd});
    ip_of(f)->checksum = be16::from_host(static_cast<uint16_t>(ip_of(f)->checksum.host() + 1));
    expect_drop(f, Drop::ip_bad_checksum);
}

}  // namespace
}  // namespace ipshare
