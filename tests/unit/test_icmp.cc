// Unit tests for the ICMP the router originates (dataplane/icmp.h): echo
// replies made in place and errors written into the headroom.
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <random>

#include "icmp.h"
#include "packet_builder.h"
#include "parse.h"

namespace ipshare {

static void PrintTo(EchoCheck e, std::ostream* os) {
    *os << (e == EchoCheck::ok ? "ok" : e == EchoCheck::not_echo ? "not_echo" : "bad_checksum");
}

namespace {

using namespace test;

constexpr Mac kRouterLanMac = {0x02, 0x1a, 0x00, 0x00, 0x00, 0x02};

Bytes ping_lan_ip(size_t payload = 56) { return echo_request(kRouterLanMac, kClient1Mac, kClient1, kLanIp, 64, payload); }

EchoCheck check(const Bytes& f) { return icmp_check_echo_request(ip_of(f), ip_of(f)->total_length.host()); }

bool allowed(const Bytes& f) { return icmp_error_allowed(ip_of(f), ip_of(f)->total_length.host()); }

// ---------------------------------------------------------------- echo check

TEST(IcmpEchoCheck, GoodRequest) {
    EXPECT_EQ(check(ping_lan_ip()), EchoCheck::ok);
    EXPECT_EQ(check(ping_lan_ip(0)), EchoCheck::ok);
    EXPECT_EQ(check(ping_lan_ip(57)), EchoCheck::ok);  // odd length
}

TEST(IcmpEchoCheck, NotAnEchoRequest) {
    const Bytes reply = PacketBuilder()
                            .eth(kRouterLanMac, kClient1Mac)
                            .ipv4({.src = kClient1, .dst = kLanIp, .proto = kIpProtoIcmp})
                            .icmp(kIcmpEchoReply, 0, 1, 1)
                            .build();
    EXPECT_EQ(check(reply), EchoCheck::not_echo);
    const Bytes code1 = PacketBuilder()
                            .eth(kRouterLanMac, kClient1Mac)
                            .ipv4({.src = kClient1, .dst = kLanIp, .proto = kIpProtoIcmp})
                            .icmp(kIcmpEchoRequest, 1, 1, 1)
                            .build();
    EXPECT_EQ(check(code1), EchoCheck::not_echo);
    const Bytes timestamp = PacketBuilder()
                                .eth(kRouterLanMac, kClient1Mac)
                                .ipv4({.src = kClient1, .dst = kLanIp, .proto = kIpProtoIcmp})
                                .icmp(kIcmpTimestamp, 0, 1, 1)
                                .payload(pattern(12))
                                .build();
    EXPECT_EQ(check(timestamp), EchoCheck::not_echo);
    EXPECT_EQ(check(udp_frame(kRouterLanMac, kClient1Mac, kClient1, kLanIp)), EchoCheck::not_echo);
    // UDP whose first payload byte happens to be 8: the protocol decides.
    Bytes u = udp_frame(kRouterLanMac, kClient1Mac, kClient1, kLanIp);
    l4_of(u)[0] = kIcmpEchoRequest;
    l4_of(u)[1] = 0;
    EXPECT_EQ(check(u), EchoCheck::not_echo);
}

TEST(IcmpEchoCheck, TooShortForAnIcmpHeader) {
    Bytes f = ping_lan_ip(0);
    ip_of(f)->total_length = be16::from_host(27);
    EXPECT_EQ(icmp_check_echo_request(ip_of(f), 27), EchoCheck::not_echo);
}

TEST(IcmpEchoCheck, Fragments) {
    for (uint16_t frag : {uint16_t{kIpFlagMF}, uint16_t{1}, uint16_t{kIpFlagMF | 185}}) {
        const Bytes f = PacketBuilder()
                            .eth(kRouterLanMac, kClient1Mac)
                            .ipv4({.src = kClient1, .dst = kLanIp, .proto = kIpProtoIcmp, .frag = frag})
                            .icmp(kIcmpEchoRequest, 0, 1, 1)
                            .payload(pattern(64))
                            .build();
        EXPECT_EQ(check(f), EchoCheck::not_echo) << std::hex << frag;
    }
    // DF alone is not a fragment.
    const Bytes df = PacketBuilder()
                         .eth(kRouterLanMac, kClient1Mac)
                         .ipv4({.src = kClient1, .dst = kLanIp, .proto = kIpProtoIcmp, .frag = kIpFlagDF})
                         .icmp(kIcmpEchoRequest, 0, 1, 1)
                         .build();
    EXPECT_EQ(check(df), EchoCheck::ok);
}

TEST(IcmpEchoCheck, BadChecksum) {
    Bytes f = ping_lan_ip();
    icmp_of(f)->checksum = be16::from_host(static_cast<uint16_t>(icmp_of(f)->checksum.host() ^ 1));
    EXPECT_EQ(check(f), EchoCheck::bad_checksum);
    Bytes g = ping_lan_ip();
    g.back() ^= 0x80;  // the last payload byte is covered
    EXPECT_EQ(check(g), EchoCheck::bad_checksum);
}

TEST(IcmpEchoCheck, ChecksumCoversIpLenOnly) {
    // Padding after the datagram is not part of the ICMP message.
    Bytes f = PacketBuilder()
                  .eth(kRouterLanMac, kClient1Mac)
                  .ipv4({.src = kClient1, .dst = kLanIp, .proto = kIpProtoIcmp})
                  .icmp(kIcmpEchoRequest, 0, 7, 9)
                  .payload(pattern(3))
                  .pad_to(60)
                  .build();
    std::fill(f.begin() + 14 + 31, f.end(), 0x5a);
    EXPECT_EQ(check(f), EchoCheck::ok);
}

TEST(IcmpEchoCheck, WithIpOptions) {
    const Bytes f = PacketBuilder()
                        .eth(kRouterLanMac, kClient1Mac)
                        .ipv4({.src = kClient1, .dst = kLanIp, .proto = kIpProtoIcmp,
                               .options = {7, 7, 4, 0, 0, 0, 0, kIpOptEnd}})
                        .icmp(kIcmpEchoRequest, 0, 1, 2)
                        .payload(pattern(20))
                        .build();
    EXPECT_EQ(check(f), EchoCheck::ok);
}

// ---------------------------------------------------------------- echo reply

void expect_reply_of(const Bytes& request, Bytes reply) {
    const Ipv4Hdr* q = ip_of(request);
    const Ipv4Hdr* r = ip_of(reply);
    EXPECT_EQ(dotted(r->src.host()), dotted(q->dst.host()));
    EXPECT_EQ(dotted(r->dst.host()), dotted(q->src.host()));
    EXPECT_EQ(r->ttl, kDefaultTtl);
    EXPECT_EQ(r->proto, kIpProtoIcmp);
    EXPECT_EQ(r->total_length.host(), q->total_length.host());
    EXPECT_EQ(r->version_ihl, q->version_ihl);
    EXPECT_TRUE(ip_checksum_valid(reply));
    const IcmpHdr* ic = icmp_of(reply);
    EXPECT_EQ(ic->type, kIcmpEchoReply);
    EXPECT_EQ(ic->code, 0);
    EXPECT_EQ(ic->id.host(), icmp_of(request)->id.host());
    EXPECT_EQ(ic->seq.host(), icmp_of(request)->seq.host());
    EXPECT_TRUE(icmp_checksum_valid(reply));
    // The exact value a full recomputation gives.
    Bytes recomputed = reply;
    icmp_of(recomputed)->checksum = be16{};
    const size_t icmp_len = r->total_length.host() - r->header_len();
    EXPECT_EQ(ic->checksum.host(), ref_checksum(l4_of(recomputed), icmp_len));
    Bytes ip_recomputed = reply;
    refresh_ip_checksum(ip_recomputed);
    EXPECT_EQ(r->checksum.host(), ip_of(ip_recomputed)->checksum.host());
    // Payload unchanged.
    const size_t data = 14 + r->header_len() + sizeof(IcmpHdr);
    EXPECT_TRUE(std::equal(reply.begin() + static_cast<std::ptrdiff_t>(data), reply.end(),
                           request.begin() + static_cast<std::ptrdiff_t>(data)));
    // Ethernet is the caller's: untouched.
    EXPECT_TRUE(std::equal(reply.begin(), reply.begin() + 14, request.begin()));
}

TEST(IcmpEchoReply, FieldsAndChecksums) {
    const Bytes req = echo_request(kRouterLanMac, kClient1Mac, kClient1, kLanIp, 3, 56, 0xbeef, 17);
    Bytes rep = req;
    icmp_echo_to_reply(ip_of(rep));
    expect_reply_of(req, rep);
    EXPECT_EQ(dotted(ip_of(rep)->src.host()), "192.168.1.1");
    EXPECT_EQ(dotted(ip_of(rep)->dst.host()), "192.168.1.11");
}

TEST(IcmpEchoReply, ManyRandomRequests) {
    std::mt19937 rng(21);
    for (int i = 0; i < 2000; ++i) {
        const size_t len = rng() % 1400;
        Bytes payload(len);
        for (auto& b : payload) b = static_cast<uint8_t>(rng());
        const Bytes req = PacketBuilder()
                              .eth(kRouterLanMac, kClient1Mac)
                              .ipv4({.src = static_cast<uint32_t>(rng()), .dst = kLanIp, .proto = kIpProtoIcmp,
                                     .ttl = static_cast<uint8_t>(rng()), .id = static_cast<uint16_t>(rng())})
                              .icmp(kIcmpEchoRequest, 0, static_cast<uint16_t>(rng()), static_cast<uint16_t>(rng()))
                              .payload(payload)
                              .build();
        Bytes rep = req;
        icmp_echo_to_reply(ip_of(rep));
        expect_reply_of(req, rep);
        if (HasFailure()) {
            ADD_FAILURE() << "round " << i;
            return;
        }
    }
}

TEST(IcmpEchoReply, WithIpOptions) {
    const Bytes req = PacketBuilder()
                          .eth(kRouterLanMac, kClient1Mac)
                          .ipv4({.src = kClient1, .dst = kLanIp, .proto = kIpProtoIcmp,
                                 .options = {7, 7, 4, 0, 0, 0, 0, kIpOptEnd}})
                          .icmp(kIcmpEchoRequest, 0, 1, 2)
                          .payload(pattern(21))
                          .build();
    Bytes rep = req;
    icmp_echo_to_reply(ip_of(rep));
    expect_reply_of(req, rep);
}

// ---------------------------------------------------------------- error allowed

TEST(IcmpErrorAllowed, NotAboutIcmpErrors) {
    for (uint8_t type : {kIcmpDestUnreach, kIcmpSourceQuench, kIcmpRedirect, kIcmpTimeExceeded, kIcmpParamProblem}) {
        const Bytes f = PacketBuilder()
                            .eth(kRouterLanMac, kGatewayMac)
                            .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoIcmp})
                            .icmp(type, 0)
                            .payload(pattern(28))
                            .build();
        EXPECT_FALSE(allowed(f)) << "type " << int{type};
    }
}

TEST(IcmpErrorAllowed, AboutIcmpQueries) {
    for (uint8_t type : {kIcmpEchoRequest, kIcmpEchoReply, kIcmpTimestamp, kIcmpTimestampReply}) {
        const Bytes f = PacketBuilder()
                            .eth(kRouterLanMac, kGatewayMac)
                            .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoIcmp})
                            .icmp(type, 0)
                            .build();
        EXPECT_TRUE(allowed(f)) << "type " << int{type};
    }
}

TEST(IcmpErrorAllowed, TcpUdpAndOthers) {
    const Bytes tcp = PacketBuilder()
                          .eth(kRouterLanMac, kGatewayMac)
                          .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoTcp})
                          .tcp(443, 50000)
                          .build();
    EXPECT_TRUE(allowed(tcp));
    EXPECT_TRUE(allowed(udp_frame(kRouterLanMac, kGatewayMac, kInternetHost, kWanIp)));
    const Bytes gre = PacketBuilder()
                          .eth(kRouterLanMac, kGatewayMac)
                          .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoGre})
                          .payload(pattern(20))
                          .build();
    EXPECT_TRUE(allowed(gre));
}

TEST(IcmpErrorAllowed, FirstFragmentYesLaterNo) {
    auto frag = [](uint16_t f) {
        return PacketBuilder()
            .eth(kRouterLanMac, kGatewayMac)
            .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoUdp, .frag = f})
            .udp(1, 2)
            .payload(pattern(16))
            .build();
    };
    EXPECT_TRUE(allowed(frag(kIpFlagMF)));
    EXPECT_FALSE(allowed(frag(kIpFlagMF | 1)));
    EXPECT_FALSE(allowed(frag(185)));
    EXPECT_FALSE(allowed(frag(kIpFragOffsetMask)));
    // A later fragment of an ICMP error, whose first byte is not a type.
    const Bytes icmp_frag = PacketBuilder()
                                .eth(kRouterLanMac, kGatewayMac)
                                .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoIcmp, .frag = 3})
                                .payload(Bytes{kIcmpEchoRequest, 0, 0, 0, 0, 0, 0, 0})
                                .build();
    EXPECT_FALSE(allowed(icmp_frag));
}

TEST(IcmpErrorAllowed, MartianSources) {
    for (uint32_t src : {0u, ipv4(0, 1, 2, 3), ipv4(127, 0, 0, 1), ipv4(224, 0, 0, 1), ipv4(239, 255, 255, 250),
                         ipv4(240, 0, 0, 1), ipv4(255, 255, 255, 255)}) {
        const Bytes f = udp_frame(kRouterLanMac, kGatewayMac, src, kWanIp);
        EXPECT_FALSE(allowed(f)) << dotted(src);
    }
    for (uint32_t src : {kInternetHost, kClient1, ipv4(1, 0, 0, 1), ipv4(223, 255, 255, 254)})
        EXPECT_TRUE(allowed(udp_frame(kRouterLanMac, kGatewayMac, src, kWanIp))) << dotted(src);
}

TEST(IcmpErrorAllowed, IcmpWithoutItsTypeByte) {
    const Bytes f = PacketBuilder()
                        .eth(kRouterLanMac, kGatewayMac)
                        .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoIcmp})
                        .build();
    EXPECT_FALSE(icmp_error_allowed(ip_of(f), 20));
}

// ---------------------------------------------------------------- building errors

// A frame in a buffer with `headroom` bytes in front, as in an mbuf.
struct Buffer {
    Bytes bytes;
    size_t headroom;
    uint8_t* frame() { return bytes.data() + headroom; }
};

Buffer with_headroom(const Bytes& frame, size_t headroom = kIcmpErrorPrepend + 16) {
    Buffer b{Bytes(headroom + frame.size() + 64, 0xdd), headroom};  // 64 bytes of tailroom
    std::fill_n(b.bytes.begin(), headroom, 0xee);
    std::copy(frame.begin(), frame.end(), b.bytes.begin() + static_cast<std::ptrdiff_t>(headroom));
    return b;
}

// Checks the error frame built from `original` (a frame, as received).
void expect_error_frame(const Bytes& original, const FrameSpan& span, const uint8_t* start, uint8_t type,
                        uint8_t code, uint32_t src, const Mac& mac) {
    const size_t orig_ip_len = ip_of(original)->total_length.host();
    const size_t quote = std::min<size_t>(orig_ip_len, 576 - 28);
    ASSERT_EQ(span.data, start);
    ASSERT_EQ(span.len, 14 + 28 + quote);
    const Bytes out(span.data, span.data + span.len);

    const EthHdr* eth = eth_of(out);
    EXPECT_EQ(mac_text(eth->dst), mac_text(eth_of(original)->src));
    EXPECT_EQ(mac_text(eth->src), mac_text(mac));
    EXPECT_EQ(eth->type.host(), kEtherTypeIpv4);

    const Ipv4Hdr* ip = ip_of(out);
    EXPECT_EQ(ip->version(), 4u);
    EXPECT_EQ(ip->header_len(), 20u);
    EXPECT_EQ(ip->total_length.host(), 28 + quote);
    EXPECT_LE(ip->total_length.host(), 576);
    EXPECT_FALSE(ip->is_fragment());
    EXPECT_EQ(ip->ttl, 64);
    EXPECT_EQ(ip->proto, kIpProtoIcmp);
    EXPECT_EQ(dotted(ip->src.host()), dotted(src));
    EXPECT_EQ(dotted(ip->dst.host()), dotted(ip_of(original)->src.host()));
    EXPECT_TRUE(ip_checksum_valid(out));

    const IcmpHdr* icmp = icmp_of(out);
    EXPECT_EQ(icmp->type, type);
    EXPECT_EQ(icmp->code, code);
    EXPECT_EQ(icmp->id.host(), 0);  // "unused" for time exceeded
    EXPECT_EQ(icmp->seq.host(), 0);
    EXPECT_TRUE(icmp_checksum_valid(out));

    const Bytes dgram = datagram_of(original);
    EXPECT_TRUE(std::equal(out.begin() + 42, out.end(), dgram.begin())) << "quote differs from the datagram";

    // What the router emits is a frame it would itself accept.
    const FrameInfo fi = parse_frame(out.data(), static_cast<uint32_t>(out.size()));
    EXPECT_EQ(fi.kind, FrameKind::ipv4);
    EXPECT_EQ(fi.ip_len, 28 + quote);
}

TEST(IcmpBuildError, TimeExceededForSmallDatagram) {
    const Bytes orig = udp_frame(kRouterWanMac, kGatewayMac, kInternetHost, kWanIp, 1, 32);
    Buffer buf = with_headroom(orig);
    const FrameSpan s =
        icmp_build_error(buf.frame(), ip_of(orig)->total_length.host(), kIcmpTimeExceeded, kIcmpCodeTtlExceeded,
                         kWanIp, kRouterWanMac.data());
    expect_error_frame(orig, s, buf.frame() - kIcmpErrorPrepend, kIcmpTimeExceeded, 0, kWanIp, kRouterWanMac);
    // Nothing written before the new frame's start.
    EXPECT_TRUE(std::all_of(buf.bytes.begin(), buf.bytes.begin() + 16, [](uint8_t b) { return b == 0xee; }));
}

TEST(IcmpBuildError, OtherTypeAndCode) {
    const Bytes orig = echo_request(kRouterWanMac, kGatewayMac, kInternetHost, kWanIp, 1, 10);
    Buffer buf = with_headroom(orig, kIcmpErrorPrepend);  // exactly enough headroom
    const FrameSpan s = icmp_build_error(buf.frame(), ip_of(orig)->total_length.host(), kIcmpDestUnreach,
                                         kIcmpCodeAdminProhibited, kLanIp, kRouterWanMac.data());
    expect_error_frame(orig, s, buf.bytes.data(), kIcmpDestUnreach, kIcmpCodeAdminProhibited, kLanIp, kRouterWanMac);
}

TEST(IcmpBuildError, QuoteIsCappedAt576ByteDatagram) {
    for (size_t ip_len : {size_t{547}, size_t{548}, size_t{549}, size_t{1000}, size_t{1500}}) {
        const Bytes orig = udp_frame(kRouterWanMac, kGatewayMac, kInternetHost, kWanIp, 1, ip_len - 28);
        ASSERT_EQ(ip_of(orig)->total_length.host(), ip_len);
        Buffer buf = with_headroom(orig);
        const FrameSpan s = icmp_build_error(buf.frame(), static_cast<uint16_t>(ip_len), kIcmpTimeExceeded, 0, kWanIp,
                                             kRouterWanMac.data());
        expect_error_frame(orig, s, buf.frame() - kIcmpErrorPrepend, kIcmpTimeExceeded, 0, kWanIp, kRouterWanMac);
        EXPECT_EQ(ip_of(Bytes(s.data, s.data + s.len))->total_length.host(), std::min<size_t>(576, 28 + ip_len))
            << ip_len;
    }
}

TEST(IcmpBuildError, QuotesOriginalWithOptions) {
    const Bytes orig = PacketBuilder()
                           .eth(kRouterWanMac, kGatewayMac)
                           .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoTcp, .ttl = 1,
                                  .options = {7, 7, 4, 0, 0, 0, 0, kIpOptEnd}})
                           .tcp(443, 50000, kTcpAck)
                           .payload(pattern(33))
                           .build();
    Buffer buf = with_headroom(orig);
    const FrameSpan s = icmp_build_error(buf.frame(), ip_of(orig)->total_length.host(), kIcmpTimeExceeded, 0,
                                         kWanIp, kRouterWanMac.data());
    expect_error_frame(orig, s, buf.frame() - kIcmpErrorPrepend, kIcmpTimeExceeded, 0, kWanIp, kRouterWanMac);
}

TEST(IcmpBuildError, PaddingIsNotQuoted) {
    // A 28-byte datagram in a 60-byte frame: the quote is 28 bytes.
    const Bytes orig = PacketBuilder()
                           .eth(kRouterWanMac, kGatewayMac)
                           .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoUdp, .ttl = 1})
                           .udp(5, 6)
                           .pad_to(60)
                           .build();
    Buffer buf = with_headroom(orig);
    const FrameSpan s = icmp_build_error(buf.frame(), 28, kIcmpTimeExceeded, 0, kWanIp, kRouterWanMac.data());
    expect_error_frame(orig, s, buf.frame() - kIcmpErrorPrepend, kIcmpTimeExceeded, 0, kWanIp, kRouterWanMac);
    EXPECT_EQ(s.len, 14 + 28 + 28);
}

}  // namespace
}  // namespace ipshare
