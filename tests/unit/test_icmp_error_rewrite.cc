// NAT header work (nat_rewrite.h) on ICMP errors: nat_rewrite_icmp_error,
// inbound (an error from the internet about what the NAT sent for a client)
// and outbound (a client's error about what it received through the NAT),
// for quotes of every length. Each translated error must be byte for byte
// the error built from scratch about the untranslated datagram, with every
// checksum (outer IP, ICMP, embedded IP) recomputed in full, and nothing
// written past its end. Datagrams built field by field (raw_datagram.h).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>

#include "checksum.h"
#include "headers.h"
#include "nat_rewrite.h"
#include "raw_datagram.h"

namespace ipshare {
namespace {

using namespace test::raw;

// ------------------------------------------------------------------ ICMP errors: translation

// Buffer slack after the datagram, to see that nothing writes past it.
constexpr size_t kGuard = 64;
constexpr uint8_t kGuardByte = 0xa5;

Bytes with_guard(const Bytes& b) { return cat(b, Bytes(kGuard, kGuardByte)); }
bool guard_intact(const Bytes& b, size_t len) {
    for (size_t i = len; i < b.size(); ++i)
        if (b[i] != kGuardByte) return false;
    return b.size() == len + kGuard;
}

// The checks every translated error gets, beyond the byte comparison:
// outer IP checksum, ICMP checksum and embedded IP checksum all recomputed.
void expect_error_checksums(const Bytes& pkt, size_t len) {
    const Bytes b = head(pkt, len);
    EXPECT_EQ(iph(b)->checksum.host(), ipv4_header_checksum(iph(b)).host()) << "outer IP checksum";
    EXPECT_EQ(stored_l4_checksum(b), full_l4_checksum(b)) << "ICMP checksum";
    const auto* inner = reinterpret_cast<const Ipv4Hdr*>(l4p(b) + 8);
    EXPECT_EQ(inner->checksum.host(), ipv4_header_checksum(inner).host()) << "embedded IP checksum";
}

// Dir::in: an error from the internet about a datagram the NAT sent for the
// client. `client_dgram` is what the client sent, `sent` what left wan.
void check_error_in(const Bytes& client_dgram, const Bytes& sent, size_t quote_len, uint32_t from, uint8_t type,
                    uint8_t code, uint16_t client_port, const char* what) {
    SCOPED_TRACE(what);
    const Bytes err = icmp_error_to(from, kWan, head(sent, quote_len), type, code, 0x00000578);
    Bytes pkt = with_guard(err);
    Flow outer;
    ASSERT_EQ(flow_of(iph(pkt), len16(err), &outer), FlowKind::icmp_error);
    Flow inner;
    ASSERT_TRUE(icmp_error_inner_flow(iph(pkt), len16(err), &inner));

    nat_rewrite_icmp_error(iph(pkt), len16(err), Dir::in, kClient, kClient, client_port);

    EXPECT_TRUE(guard_intact(pkt, err.size())) << "wrote past the datagram";
    const Bytes got = head(pkt, err.size());
    const Bytes want = icmp_error_to(from, kClient, head(client_dgram, quote_len), type, code, 0x00000578);
    EXPECT_EQ(got, want);
    EXPECT_EQ(iph(got)->dst.host(), kClient);
    EXPECT_EQ(iph(got)->src.host(), from);
    const auto* in = reinterpret_cast<const Ipv4Hdr*>(l4p(got) + 8);
    EXPECT_EQ(in->src.host(), kClient);
    EXPECT_EQ(in->dst.host(), kRemote);
    expect_error_checksums(pkt, err.size());
}

TEST(IcmpErrorRewrite, InboundUdpFullyQuoted) {
    const Bytes payload = {0xbe, 0xef, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1};
    const Bytes client = sent_udp(kClient, kClientPort, payload);
    const Bytes sent = sent_udp(kWan, kOutsidePort, payload);
    check_error_in(client, sent, sent.size(), kRemote, kIcmpDestUnreach, 3, kClientPort, "udp full");

    // and, named: the inner UDP checksum recomputed over the quoted datagram
    Bytes pkt = icmp_error_to(kRemote, kWan, sent);
    nat_rewrite_icmp_error(iph(pkt), len16(pkt), Dir::in, kClient, kClient, kClientPort);
    const Bytes inner(l4p(pkt) + 8, pkt.data() + pkt.size());
    EXPECT_EQ(get16(l4p(inner)), kClientPort);
    EXPECT_EQ(get16(l4p(inner) + 2), 53);
    EXPECT_EQ(stored_l4_checksum(inner), full_l4_checksum(inner));
    EXPECT_EQ(iph(inner)->id.host(), 0x0101);
    EXPECT_EQ(iph(inner)->ttl, 63);
}

TEST(IcmpErrorRewrite, InboundUdpPartlyQuoted) {
    std::mt19937 rng(9);
    const Bytes payload = random_bytes(rng, 1200);
    const Bytes client = sent_udp(kClient, kClientPort, payload);
    const Bytes sent = sent_udp(kWan, kOutsidePort, payload);
    for (size_t q : {28, 29, 48, 548})
        check_error_in(client, sent, q, kRemote, kIcmpDestUnreach, 3, kClientPort,
                       ("udp quote " + std::to_string(q)).c_str());
}

TEST(IcmpErrorRewrite, InboundUdpWithoutChecksum) {
    const Bytes client =
        build({.src = kClient, .l4 = udp(kClientPort, 53, Bytes(10, 1)), .id = 0x0101, .ttl = 63, .l4_checksum = false});
    const Bytes sent =
        build({.src = kWan, .l4 = udp(kOutsidePort, 53, Bytes(10, 1)), .id = 0x0101, .ttl = 63, .l4_checksum = false});
    check_error_in(client, sent, sent.size(), kRemote, kIcmpDestUnreach, 3, kClientPort, "udp no checksum");
    check_error_in(client, sent, 28, kRemote, kIcmpDestUnreach, 3, kClientPort, "udp no checksum, 8 bytes");
}

TEST(IcmpErrorRewrite, InboundTcp) {
    std::mt19937 rng(6);
    const Bytes payload = random_bytes(rng, 300);
    auto seg = [&](uint32_t src, uint16_t sport) {
        return build({.proto = kIpProtoTcp, .src = src, .l4 = tcp(sport, 443, kTcpAck | kTcpPsh, payload, 3), .id = 0x0202});
    };
    const Bytes client = seg(kClient, kClientPort), sent = seg(kWan, kOutsidePort);
    // 8 bytes of TCP: ports and sequence number only, no checksum present
    check_error_in(client, sent, 28, kRemote, kIcmpDestUnreach, 4 /* frag needed */, kClientPort, "tcp 8 bytes");
    check_error_in(client, sent, 36, kRemoteRouter, kIcmpTimeExceeded, 0, kClientPort, "tcp 16 bytes");
    // the checksum is quoted from 18 bytes on
    check_error_in(client, sent, 38, kRemote, kIcmpDestUnreach, 4, kClientPort, "tcp 18 bytes");
    check_error_in(client, sent, 40, kRemote, kIcmpDestUnreach, 4, kClientPort, "tcp header");
    check_error_in(client, sent, 52, kRemote, kIcmpDestUnreach, 4, kClientPort, "tcp header with options");
    check_error_in(client, sent, sent.size(), kRemote, kIcmpParamProblem, 0, kClientPort, "tcp full");

    // named: with the full header quoted, the TCP checksum is that of the
    // datagram the client sent (not all of it is quoted)
    Bytes pkt = icmp_error_to(kRemote, kWan, head(sent, 60));
    nat_rewrite_icmp_error(iph(pkt), len16(pkt), Dir::in, kClient, kClient, kClientPort);
    const uint8_t* itcp = l4p(pkt) + 8 + 20;
    EXPECT_EQ(get16(itcp), kClientPort);
    EXPECT_EQ(get16(itcp + 2), 443);
    EXPECT_EQ(get32(itcp + 4), 0x11223344u);
    EXPECT_EQ(get16(itcp + 16), stored_l4_checksum(client));
    EXPECT_EQ(stored_l4_checksum(client), full_l4_checksum(client));
}

TEST(IcmpErrorRewrite, InboundIcmpEcho) {
    const Bytes data(24, 0x42);
    const uint16_t client_id = 0x1234;
    const Bytes client = build({.proto = kIpProtoIcmp, .src = kClient, .l4 = icmp_echo(kIcmpEchoRequest, client_id, 3, data), .id = 9});
    const Bytes sent = build({.proto = kIpProtoIcmp, .src = kWan, .l4 = icmp_echo(kIcmpEchoRequest, kOutsidePort, 3, data), .id = 9});
    check_error_in(client, sent, sent.size(), kRemoteRouter, kIcmpTimeExceeded, 0, client_id, "echo full");
    check_error_in(client, sent, 28, kRemote, kIcmpDestUnreach, 1, client_id, "echo 8 bytes");

    Bytes pkt = icmp_error_to(kRemoteRouter, kWan, sent, kIcmpTimeExceeded, 0);
    nat_rewrite_icmp_error(iph(pkt), len16(pkt), Dir::in, kClient, kClient, client_id);
    const Bytes inner(l4p(pkt) + 8, pkt.data() + pkt.size());
    EXPECT_EQ(get16(l4p(inner) + 4), client_id);
    EXPECT_EQ(get16(l4p(inner) + 6), 3);
    EXPECT_EQ(stored_l4_checksum(inner), full_l4_checksum(inner)) << "embedded ICMP checksum";
}

TEST(IcmpErrorRewrite, InboundWithOuterIpOptions) {
    const Bytes client = sent_udp(kClient, kClientPort), sent = sent_udp(kWan, kOutsidePort);
    Spec e{.proto = kIpProtoIcmp, .src = kRemote, .dst = kWan, .l4 = icmp_msg(kIcmpDestUnreach, 3, head(sent, 28)),
           .ip_opt_words = 3};
    Bytes pkt = build(e);
    nat_rewrite_icmp_error(iph(pkt), len16(pkt), Dir::in, kClient, kClient, kClientPort);
    e.dst = kClient;
    e.l4 = icmp_msg(kIcmpDestUnreach, 3, head(client, 28));
    EXPECT_EQ(pkt, build(e));
}

// Dir::out: a LAN client's error about a datagram it received from the
// internet through the NAT; the remote must see it about what it sent.
void check_error_out(const Bytes& remote_sent, const Bytes& delivered, size_t quote_len, const char* what) {
    SCOPED_TRACE(what);
    const Bytes err = build({.proto = kIpProtoIcmp, .src = kClient, .dst = kRemote,
                             .l4 = icmp_msg(kIcmpDestUnreach, 3, head(delivered, quote_len)), .id = 0x3333});
    Bytes pkt = with_guard(err);
    Flow inner;
    ASSERT_TRUE(icmp_error_inner_flow(iph(pkt), len16(err), &inner));
    EXPECT_EQ(inner.dst, kClient);

    nat_rewrite_icmp_error(iph(pkt), len16(err), Dir::out, kWan, kWan, kOutsidePort);

    EXPECT_TRUE(guard_intact(pkt, err.size()));
    const Bytes got = head(pkt, err.size());
    const Bytes want = build({.proto = kIpProtoIcmp, .src = kWan, .dst = kRemote,
                              .l4 = icmp_msg(kIcmpDestUnreach, 3, head(remote_sent, quote_len)), .id = 0x3333});
    EXPECT_EQ(got, want);
    EXPECT_EQ(iph(got)->src.host(), kWan);
    EXPECT_EQ(iph(got)->dst.host(), kRemote);
    const uint8_t* in = l4p(got) + 8;
    EXPECT_EQ(get32(in + 12), kRemote);  // embedded source untouched
    EXPECT_EQ(get32(in + 16), kWan);     // embedded destination: back to wan-ip
    EXPECT_EQ(get16(in + 20 + 2), kOutsidePort);
    expect_error_checksums(pkt, err.size());
}

TEST(IcmpErrorRewrite, OutboundAboutInboundUdp) {
    const Bytes payload(33, 0x5a);
    const Bytes remote_sent = build({.src = kRemote, .dst = kWan, .l4 = udp(53, kOutsidePort, payload), .id = 0x4444});
    const Bytes delivered = build({.src = kRemote, .dst = kClient, .l4 = udp(53, kClientPort, payload), .id = 0x4444});
    check_error_out(remote_sent, delivered, delivered.size(), "udp full");
    check_error_out(remote_sent, delivered, 28, "udp 8 bytes");
    Bytes pkt = build({.proto = kIpProtoIcmp, .src = kClient, .dst = kRemote,
                       .l4 = icmp_msg(kIcmpDestUnreach, 3, delivered)});
    nat_rewrite_icmp_error(iph(pkt), len16(pkt), Dir::out, kWan, kWan, kOutsidePort);
    const Bytes inner(l4p(pkt) + 8, pkt.data() + pkt.size());
    EXPECT_EQ(get16(l4p(inner)), 53);
    EXPECT_EQ(get16(l4p(inner) + 2), kOutsidePort);
    EXPECT_EQ(stored_l4_checksum(inner), full_l4_checksum(inner));
}

TEST(IcmpErrorRewrite, OutboundAboutInboundTcp) {
    const Bytes remote_sent =
        build({.proto = kIpProtoTcp, .src = kRemote, .dst = kWan, .l4 = tcp(443, kOutsidePort, kTcpAck, Bytes(100, 1))});
    const Bytes delivered =
        build({.proto = kIpProtoTcp, .src = kRemote, .dst = kClient, .l4 = tcp(443, kClientPort, kTcpAck, Bytes(100, 1))});
    check_error_out(remote_sent, delivered, 28, "tcp 8 bytes");
    check_error_out(remote_sent, delivered, 40, "tcp header");
    check_error_out(remote_sent, delivered, delivered.size(), "tcp full");
}

TEST(IcmpErrorRewrite, RandomInbound) {
    Random r(31337);
    for (int i = 0; i < 500; ++i) {
        const uint8_t proto = r.u(0, 2) == 0 ? kIpProtoTcp : (r.u(0, 1) ? kIpProtoUdp : kIpProtoIcmp);
        const uint32_t client = r.lan_host();
        const uint32_t remote = r.internet_host();
        const uint16_t cport = r.port();
        const uint16_t outside = static_cast<uint16_t>(r.u(61000, 65535));
        const uint16_t rport = proto == kIpProtoIcmp ? 0 : r.port();
        Spec c = r.spec(proto, client, remote, cport, rport);
        c.frag = 0;
        Spec s = c;
        s.src = kWan;
        set_port(s, Dir::out, outside);
        const Bytes client_dgram = build(c), sent = build(s);
        const size_t hl = iph(sent)->header_len();
        // quotes: 8 bytes, the whole transport header, all of it, or anything between
        size_t q;
        switch (r.u(0, 3)) {
        case 0: q = hl + 8; break;
        case 1: q = hl + (proto == kIpProtoTcp ? (l4p(sent)[12] >> 4) * 4u : 8u); break;
        case 2: q = sent.size(); break;
        default: q = r.u(static_cast<uint32_t>(hl + 8), static_cast<uint32_t>(sent.size())); break;
        }
        if (proto == kIpProtoTcp && q == hl + 17) q = hl + 18;  // half a checksum quoted: nothing sensible to expect
        q = std::min(q, sent.size());
        const Bytes err = icmp_error_to(remote, kWan, head(sent, q));
        Bytes pkt = with_guard(err);
        Flow inner;
        ASSERT_TRUE(icmp_error_inner_flow(iph(pkt), len16(err), &inner)) << i;
        ASSERT_EQ(inner.src, kWan);
        nat_rewrite_icmp_error(iph(pkt), len16(err), Dir::in, client, client, cport);
        ASSERT_TRUE(guard_intact(pkt, err.size())) << "round " << i;
        ASSERT_EQ(head(pkt, err.size()), icmp_error_to(remote, client, head(client_dgram, q)))
            << "round " << i << " proto " << int(proto) << " quote " << q;
    }
}

}  // namespace
}  // namespace ipshare
