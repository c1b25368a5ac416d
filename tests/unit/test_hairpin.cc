// Hairpin NAT through the real stages (main in eal_main.cc): a LAN client
// connects to wan-ip on a forwarded port, and the router turns the packet
// around to the forward's target on the same LAN port, translated both ways
// (DNAT to the target, SNAT to the client's outside address), so that the
// target's reply comes back through the router (docs/configuration.md,
// `forward` and `hairpin source`; nat_stage.cc, on_hairpin and chain_in).
// Also what NAT toward the LAN owes path MTU discovery (translate_in).
//
// Real mbufs from a real mempool go in through ring-backed ethdev ports and
// process_burst() (tests/support/ring_router.h); the frames that leave are read back from the TX rings and
// checked field by field. Checksums are verified by full recomputation
// (packet_builder.h's reference sum over the pseudo-header), never by the
// code under test.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "packet_builder.h"
#include "ring_router_test.h"

namespace ipshare {
namespace {

using namespace test;

constexpr uint32_t kClient2 = ipv4(192, 168, 1, 12);
constexpr Mac kClient2Mac = {0x02, 0x00, 0x5e, 0x00, 0x01, 0x0c};
constexpr uint16_t kNaptLo = 61000, kNaptHi = 65535;

// The reference configuration with one forward: wan-ip:8080 -> client2:80.
std::string config_text(bool hairpin_lan) {
    std::string c =
        "port wan net_ring_hp_wan\n"
        "port lan net_ring_hp_lan\n"
        "port dmz net_ring_hp_dmz\n"
        "lan address 192.168.1.1/24\n"
        "wan network 203.0.113.0/24 gateway 203.0.113.1\n"
        "server address 203.0.113.10\n"
        "forward tcp 8080 to 192.168.1.12 port 80\n";
    if (hairpin_lan) c += "hairpin source lan\n";
    return c;
}

// ---------------------------------------------------------------- L4 checksums (reference)

// The one's-complement sum over the pseudo-header and the whole L4 segment
// of a frame's datagram.
uint16_t l4_sum_with_pseudo(const Bytes& f) {
    const Ipv4Hdr* ip = ip_of(f);
    const size_t l4_len = ip->total_length.host() - ip->header_len();
    Bytes p(12 + l4_len);
    const uint32_t src = ip->src.host(), dst = ip->dst.host();
    for (int i = 0; i < 4; ++i) {
        p[i] = static_cast<uint8_t>(src >> (24 - 8 * i));
        p[4 + i] = static_cast<uint8_t>(dst >> (24 - 8 * i));
    }
    p[8] = 0;
    p[9] = ip->proto;
    p[10] = static_cast<uint8_t>(l4_len >> 8);
    p[11] = static_cast<uint8_t>(l4_len);
    std::memcpy(p.data() + 12, l4_of(f), l4_len);
    return ref_sum(p.data(), p.size());
}

size_t l4_checksum_offset(uint8_t proto) { return proto == kIpProtoTcp ? 16 : 6; }

// Fills the TCP or UDP checksum of a built frame (the builder leaves it 0).
void fill_l4_checksum(Bytes& f) {
    uint8_t* c = l4_of(f) + l4_checksum_offset(ip_of(f)->proto);
    c[0] = c[1] = 0;
    uint16_t sum = static_cast<uint16_t>(~l4_sum_with_pseudo(f));
    if (sum == 0 && ip_of(f)->proto == kIpProtoUdp) sum = 0xffff;
    c[0] = static_cast<uint8_t>(sum >> 8);
    c[1] = static_cast<uint8_t>(sum);
}

bool l4_checksum_valid(const Bytes& f) { return l4_sum_with_pseudo(f) == 0xffff; }

const TcpHdr* tcp_of(const Bytes& f) { return reinterpret_cast<const TcpHdr*>(l4_of(f)); }
const UdpHdr* udp_of(const Bytes& f) { return reinterpret_cast<const UdpHdr*>(l4_of(f)); }

Bytes tcp_segment(const Mac& dst_mac, const Mac& src_mac, uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                  uint8_t flags, uint16_t ip_id, size_t payload = 0) {
    Bytes f = PacketBuilder()
                  .eth(dst_mac, src_mac)
                  .ipv4({.src = src, .dst = dst, .proto = kIpProtoTcp, .ttl = 64, .id = ip_id})
                  .tcp(sport, dport, flags)
                  .payload(pattern(payload, static_cast<uint8_t>(ip_id)))
                  .build();
    fill_l4_checksum(f);
    return f;
}

Bytes udp_datagram(const Mac& dst_mac, const Mac& src_mac, uint32_t src, uint16_t sport, uint32_t dst,
                   uint16_t dport, uint16_t ip_id) {
    Bytes f = PacketBuilder()
                  .eth(dst_mac, src_mac)
                  .ipv4({.src = src, .dst = dst, .proto = kIpProtoUdp, .ttl = 64, .id = ip_id})
                  .udp(sport, dport)
                  .payload(pattern(24, static_cast<uint8_t>(ip_id)))
                  .build();
    fill_l4_checksum(f);
    return f;
}

// ---------------------------------------------------------------- the router

// A router on three ring-backed ports (ring_router.h) with Tables from
// build_tables() over a parsed configuration with a forward.
class Hairpin : public RingRouterTest {
protected:
    void SetUp() override {
        RingRouterParams p;
        p.prefix = "hp";
        p.mac_base = 0x20;
        p.neighbours.push_back({Zone::lan, kClient1, kClient1Mac});
        p.neighbours.push_back({Zone::lan, kClient2, kClient2Mac});
        p.nat.port_lo = kNaptLo;
        p.nat.port_hi = kNaptHi;
        ASSERT_NO_FATAL_FAILURE(start_router(p));
        ASSERT_NO_FATAL_FAILURE(use_config(/*hairpin_lan=*/false));
    }

    // Tables for the configuration, published to the worker.
    void use_config(bool hairpin_lan) {
        std::string err;
        ASSERT_TRUE(load_config_text(config_text(hairpin_lan), 1, &err)) << err;
        ASSERT_EQ(tables_->nat.hairpin_source_lan, hairpin_lan);
    }

    // The one frame `frame` produced: it left on lan and nowhere else.
    Bytes one_out_on_lan(const char* what) {
        const auto wan = sent(Zone::wan), dmz = sent(Zone::dmz), lan = sent(Zone::lan);
        EXPECT_TRUE(wan.empty()) << what << ": " << wan.size() << " frame(s) left on wan";
        EXPECT_TRUE(dmz.empty()) << what << ": " << dmz.size() << " frame(s) left on dmz (the server)";
        EXPECT_EQ(lan.size(), 1u) << what << ": frames on lan";
        return lan.empty() ? Bytes{} : lan[0];
    }

    // A client's UDP socket talks to the internet once (a STUN server, say):
    // the outside port of its mapping, read off the datagram that left on wan.
    uint16_t udp_mapping(const Mac& mac, uint32_t client, uint16_t port, uint16_t ip_id) {
        receive(Zone::lan, udp_datagram(mac_of(Zone::lan), mac, client, port, kInternetHost, 3478, ip_id));
        const auto wan = sent(Zone::wan);
        EXPECT_EQ(wan.size(), 1u) << "the datagram to the internet";
        return wan.empty() ? 0 : udp_of(wan[0])->sport.host();
    }
};

// `out` is `in` after the router changed the addresses and ports to these:
// TTL one less, checksums right by full recomputation, Ethernet from the
// router's lan port to `dst_mac`, and every other byte unchanged.
void expect_translated(const Bytes& in, const Bytes& out, const Mac& dst_mac, const Mac& src_mac, uint32_t src,
                       uint16_t sport, uint32_t dst, uint16_t dport) {
    ASSERT_EQ(out.size(), 14 + datagram_of(in).size()) << "length changed";
    EXPECT_EQ(mac_text(eth_of(out)->dst), mac_text(dst_mac));
    EXPECT_EQ(mac_text(eth_of(out)->src), mac_text(src_mac));
    EXPECT_EQ(eth_of(out)->type.host(), kEtherTypeIpv4);
    EXPECT_EQ(dotted(ip_of(out)->src.host()), dotted(src));
    EXPECT_EQ(dotted(ip_of(out)->dst.host()), dotted(dst));
    EXPECT_EQ(ip_of(out)->ttl, ip_of(in)->ttl - 1);
    EXPECT_TRUE(ip_checksum_valid(out)) << "IPv4 header checksum";
    const uint8_t proto = ip_of(in)->proto;
    ASSERT_EQ(ip_of(out)->proto, proto);
    const be16* ports = reinterpret_cast<const be16*>(l4_of(out));
    EXPECT_EQ(ports[0].host(), sport);
    EXPECT_EQ(ports[1].host(), dport);
    EXPECT_TRUE(l4_checksum_valid(out)) << (proto == kIpProtoTcp ? "TCP" : "UDP") << " checksum";
    // Everything but TTL, header checksum, addresses, ports and L4 checksum is as sent.
    Bytes a = datagram_of(in), b = datagram_of(out);
    const size_t hl = ip_of(in)->header_len();
    for (size_t i : {size_t{8}, size_t{10}, size_t{11}})
        a[i] = b[i] = 0;
    for (size_t i = 12; i < 20; ++i) a[i] = b[i] = 0;
    for (size_t i = 0; i < 4; ++i) a[hl + i] = b[hl + i] = 0;
    const size_t c = hl + l4_checksum_offset(proto);
    a[c] = a[c + 1] = b[c] = b[c + 1] = 0;
    EXPECT_TRUE(a == b) << "the datagram changed beyond addresses, ports, TTL and checksums";
}

// ---------------------------------------------------------------- TCP to a forwarded port

TEST_F(Hairpin, TcpToAForwardedPortIsTurnedAroundWithTheClientsOutsideAddress) {
    // hairpin source wan (the default): the target sees wan-ip and a NAPT port.
    const Bytes syn = tcp_segment(mac_of(Zone::lan), kClient1Mac, kClient1, 40000, kWanIp, 8080, kTcpSyn, 0x1001);
    // The reference checksum check itself: it accepts what was built and
    // refuses one flipped bit.
    ASSERT_TRUE(l4_checksum_valid(syn));
    Bytes flipped = syn;
    l4_of(flipped)[4] ^= 0x01;
    ASSERT_FALSE(l4_checksum_valid(flipped));
    receive(Zone::lan, syn);
    const Bytes at_target = one_out_on_lan("the SYN");
    ASSERT_FALSE(at_target.empty());
    const uint16_t port = tcp_of(at_target)->sport.host();
    EXPECT_GE(port, kNaptLo);
    EXPECT_LE(port, kNaptHi);
    expect_translated(syn, at_target, kClient2Mac, mac_of(Zone::lan), kWanIp, port, kClient2, 80);
    EXPECT_EQ(tcp_of(at_target)->flags, kTcpSyn);
    EXPECT_EQ(tcp_of(at_target)->seq.host(), tcp_of(syn)->seq.host());

    // The target answers the address it saw; the reply goes back to client1
    // as from wan-ip:8080, the address client1 connected to.
    const Bytes syn_ack =
        tcp_segment(mac_of(Zone::lan), kClient2Mac, kClient2, 80, kWanIp, port, kTcpSyn | kTcpAck, 0x2001);
    receive(Zone::lan, syn_ack);
    const Bytes at_client = one_out_on_lan("the SYN-ACK");
    ASSERT_FALSE(at_client.empty());
    expect_translated(syn_ack, at_client, kClient1Mac, mac_of(Zone::lan), kWanIp, 8080, kClient1, 40000);
    EXPECT_EQ(tcp_of(at_client)->flags, kTcpSyn | kTcpAck);

    // The rest of the connection uses the same translation, with data.
    const Bytes ack =
        tcp_segment(mac_of(Zone::lan), kClient1Mac, kClient1, 40000, kWanIp, 8080, kTcpAck | kTcpPsh, 0x1002, 333);
    receive(Zone::lan, ack);
    const Bytes ack_at_target = one_out_on_lan("the client's data");
    ASSERT_FALSE(ack_at_target.empty());
    expect_translated(ack, ack_at_target, kClient2Mac, mac_of(Zone::lan), kWanIp, port, kClient2, 80);

    EXPECT_EQ(total_drops(), 0u);
    // Two sessions: client1's outbound mapping and the forward's.
    EXPECT_EQ(nat_->active(), 2u);
    EXPECT_EQ(counters_.port[idx(Zone::lan)].tx.get(), 3u);
}

TEST_F(Hairpin, WithHairpinSourceLanTheTargetSeesLanIp) {
    ASSERT_NO_FATAL_FAILURE(use_config(/*hairpin_lan=*/true));
    const Bytes syn = tcp_segment(mac_of(Zone::lan), kClient1Mac, kClient1, 40000, kWanIp, 8080, kTcpSyn, 0x3001);
    receive(Zone::lan, syn);
    const Bytes at_target = one_out_on_lan("the SYN");
    ASSERT_FALSE(at_target.empty());
    const uint16_t port = tcp_of(at_target)->sport.host();
    expect_translated(syn, at_target, kClient2Mac, mac_of(Zone::lan), kLanIp, port, kClient2, 80);

    // The target answers lan-ip: the router turns it back to client1, from
    // wan-ip:8080.
    const Bytes syn_ack =
        tcp_segment(mac_of(Zone::lan), kClient2Mac, kClient2, 80, kLanIp, port, kTcpSyn | kTcpAck, 0x4001);
    receive(Zone::lan, syn_ack);
    const Bytes at_client = one_out_on_lan("the SYN-ACK");
    ASSERT_FALSE(at_client.empty());
    expect_translated(syn_ack, at_client, kClient1Mac, mac_of(Zone::lan), kWanIp, 8080, kClient1, 40000);
    EXPECT_EQ(total_drops(), 0u);
}

TEST_F(Hairpin, ForwardFromTheInternetKeepsTheSourceAndRepliesLeaveOnWan) {
    // The same forward from outside: DNAT only.
    const Bytes syn =
        tcp_segment(mac_of(Zone::wan), kGatewayMac, kInternetHost, 50000, kWanIp, 8080, kTcpSyn, 0x5001);
    receive(Zone::wan, syn);
    const auto lan = sent(Zone::lan);
    EXPECT_TRUE(sent(Zone::dmz).empty()) << "a forwarded SYN reached the server";
    EXPECT_TRUE(sent(Zone::wan).empty());
    ASSERT_EQ(lan.size(), 1u);
    expect_translated(syn, lan[0], kClient2Mac, mac_of(Zone::lan), kInternetHost, 50000, kClient2, 80);

    const Bytes syn_ack =
        tcp_segment(mac_of(Zone::lan), kClient2Mac, kClient2, 80, kInternetHost, 50000, kTcpSyn | kTcpAck, 0x6001);
    receive(Zone::lan, syn_ack);
    const auto wan = sent(Zone::wan);
    EXPECT_TRUE(sent(Zone::lan).empty());
    EXPECT_TRUE(sent(Zone::dmz).empty());
    ASSERT_EQ(wan.size(), 1u);
    expect_translated(syn_ack, wan[0], kGatewayMac, mac_of(Zone::wan), kWanIp, 8080, kInternetHost, 50000);
    EXPECT_EQ(total_drops(), 0u);
}

TEST_F(Hairpin, TcpToAnUnforwardedPortOfWanIpGoesToTheServerUnchanged) {
    const Bytes syn = tcp_segment(mac_of(Zone::lan), kClient1Mac, kClient1, 40001, kWanIp, 8081, kTcpSyn, 0x7001);
    receive(Zone::lan, syn);
    const auto dmz = sent(Zone::dmz);
    EXPECT_TRUE(sent(Zone::lan).empty());
    EXPECT_TRUE(sent(Zone::wan).empty());
    ASSERT_EQ(dmz.size(), 1u);
    expect_translated(syn, dmz[0], kServerMac, mac_of(Zone::dmz), kClient1, 40001, kWanIp, 8081);
}

// ---------------------------------------------------------------- inbound to wan-ip: the short cut

// A datagram from the internet to wan-ip on a port outside the NAPT range
// that is not forwarded skips the session lookup (inbound_shortcut.h): it
// reaches the server unchanged and counts on the wan -> dmz policy row.
TEST_F(Hairpin, InboundToAPortOutsideTheRangeThatIsNotForwardedReachesTheServer) {
    const Bytes d = udp_datagram(mac_of(Zone::wan), kGatewayMac, kInternetHost, 40000, kWanIp, 53, 0x8001);
    receive(Zone::wan, d);
    const auto dmz = sent(Zone::dmz);
    EXPECT_TRUE(sent(Zone::lan).empty());
    EXPECT_TRUE(sent(Zone::wan).empty());
    ASSERT_EQ(dmz.size(), 1u);
    expect_translated(d, dmz[0], kServerMac, mac_of(Zone::dmz), kInternetHost, 40000, kWanIp, 53);
    const uint16_t slot = FilterTable::policy_slot(Zone::wan, Zone::dmz);
    EXPECT_EQ(counters_.filter_packets[slot].get(), 1u);
    EXPECT_EQ(counters_.filter_bytes[slot].get(), datagram_of(d).size());
    EXPECT_EQ(total_drops(), 0u);
}

// A port of the NAPT range is always looked up (the short cut is only for
// ports outside it, PrecedenceSessionThenForwardThenServer below covers a
// mapping and a forward): without a session it goes to the server too.
TEST_F(Hairpin, InboundToAnUnmappedPortOfTheRangeReachesTheServer) {
    const uint16_t p1 = udp_mapping(kClient1Mac, kClient1, 5000, 0x0301);
    const uint16_t unmapped = p1 == kNaptHi ? kNaptLo : static_cast<uint16_t>(p1 + 1);
    const Bytes stray = udp_datagram(mac_of(Zone::wan), kGatewayMac, kInternetHost, 3478, kWanIp, unmapped, 0x0304);
    receive(Zone::wan, stray);
    const auto dmz = sent(Zone::dmz);
    EXPECT_TRUE(sent(Zone::lan).empty());
    ASSERT_EQ(dmz.size(), 1u);
    expect_translated(stray, dmz[0], kServerMac, mac_of(Zone::dmz), kInternetHost, 3478, kWanIp, unmapped);
    EXPECT_EQ(total_drops(), 0u);
}

// ---------------------------------------------------------------- UDP between two clients' mappings

TEST_F(Hairpin, UdpHolePunchingBetweenTwoClientsMappings) {
    // Each client learns its outside port by sending to the internet.
    const uint16_t p1 = udp_mapping(kClient1Mac, kClient1, 5000, 0x0101);
    const uint16_t p2 = udp_mapping(kClient2Mac, kClient2, 6000, 0x0201);
    ASSERT_NE(p1, p2);

    // client1 first, to client2's outside port: client2 never sent to
    // client1's, so address-and-port-dependent filtering drops it.
    receive(Zone::lan, udp_datagram(mac_of(Zone::lan), kClient1Mac, kClient1, 5000, kWanIp, p2, 0x0102));
    EXPECT_TRUE(sent(Zone::lan).empty()) << "client1's first datagram passed the filter";
    EXPECT_TRUE(sent(Zone::dmz).empty()) << "client1's first datagram went to the server";
    EXPECT_TRUE(sent(Zone::wan).empty());
    EXPECT_EQ(drops(Drop::hairpin_filtered), 1u);

    // client2 to client1's outside port: client1 has sent to it, so it passes.
    const Bytes b = udp_datagram(mac_of(Zone::lan), kClient2Mac, kClient2, 6000, kWanIp, p1, 0x0202);
    receive(Zone::lan, b);
    const Bytes at1 = one_out_on_lan("client2 -> client1");
    ASSERT_FALSE(at1.empty());
    expect_translated(b, at1, kClient1Mac, mac_of(Zone::lan), kWanIp, p2, kClient1, 5000);

    // Now client1's datagrams reach client2 too.
    const Bytes a = udp_datagram(mac_of(Zone::lan), kClient1Mac, kClient1, 5000, kWanIp, p2, 0x0103);
    receive(Zone::lan, a);
    const Bytes at2 = one_out_on_lan("client1 -> client2");
    ASSERT_FALSE(at2.empty());
    expect_translated(a, at2, kClient2Mac, mac_of(Zone::lan), kWanIp, p1, kClient2, 6000);
    EXPECT_EQ(total_drops(), 1u);
}


// ---------------------------------------------------------------- precedence for wan-ip

// From the internet, a datagram to wan-ip follows, in this order: a live
// session, a forward, the server (docs/forwarding.md).
TEST_F(Hairpin, PrecedenceSessionThenForwardThenServer) {
    // A session: client1's UDP mapping; the reply reaches client1, not the server.
    const uint16_t p1 = udp_mapping(kClient1Mac, kClient1, 5002, 0x0121);
    const Bytes reply = udp_datagram(mac_of(Zone::wan), kGatewayMac, kInternetHost, 3478, kWanIp, p1, 0x0321);
    receive(Zone::wan, reply);
    const Bytes at1 = one_out_on_lan("the reply to client1's mapping");
    ASSERT_FALSE(at1.empty());
    expect_translated(reply, at1, kClient1Mac, mac_of(Zone::lan), kInternetHost, 3478, kClient1, 5002);

    // A forward: wan-ip:8080 is client2's port 80, not the server's.
    const Bytes syn = tcp_segment(mac_of(Zone::wan), kGatewayMac, kInternetHost, 50001, kWanIp, 8080, kTcpSyn, 0x0322);
    receive(Zone::wan, syn);
    const Bytes at2 = one_out_on_lan("the SYN to the forward");
    ASSERT_FALSE(at2.empty());
    expect_translated(syn, at2, kClient2Mac, mac_of(Zone::lan), kInternetHost, 50001, kClient2, 80);
    // Its next segment follows the forward's session.
    const Bytes ack = tcp_segment(mac_of(Zone::wan), kGatewayMac, kInternetHost, 50001, kWanIp, 8080, kTcpAck, 0x0323);
    receive(Zone::wan, ack);
    const Bytes at2b = one_out_on_lan("the next segment");
    ASSERT_FALSE(at2b.empty());
    expect_translated(ack, at2b, kClient2Mac, mac_of(Zone::lan), kInternetHost, 50001, kClient2, 80);

    // Otherwise the server: UDP to 8080 (the forward is TCP only) and TCP to 8081.
    for (const Bytes& f : {udp_datagram(mac_of(Zone::wan), kGatewayMac, kInternetHost, 4001, kWanIp, 8080, 0x0324),
                           tcp_segment(mac_of(Zone::wan), kGatewayMac, kInternetHost, 50002, kWanIp, 8081, kTcpSyn,
                                       0x0325)}) {
        receive(Zone::wan, f);
        const auto dmz = sent(Zone::dmz);
        EXPECT_TRUE(sent(Zone::lan).empty());
        EXPECT_TRUE(sent(Zone::wan).empty());
        ASSERT_EQ(dmz.size(), 1u);
        const be16* ports = reinterpret_cast<const be16*>(l4_of(f));
        expect_translated(f, dmz[0], kServerMac, mac_of(Zone::dmz), kInternetHost, ports[0].host(), kWanIp,
                          ports[1].host());
    }
    EXPECT_EQ(total_drops(), 0u);
}

// ---------------------------------------------------------------- ICMP (RFC 5508 section 6, RFC 7857 section 12)

// An ICMP error from `src` to `dst` about `quoted` (a frame the sender
// received): the quoted datagram's IP header and first 8 bytes of payload.
Bytes icmp_error_about(const Mac& dst_mac, const Mac& src_mac, uint32_t src, uint32_t dst, const Bytes& quoted,
                       uint8_t type = kIcmpDestUnreach, uint8_t code = 3) {
    const Bytes d = datagram_of(quoted);
    const size_t n = ip_of(quoted)->header_len() + 8;
    return PacketBuilder()
        .eth(dst_mac, src_mac)
        .ipv4({.src = src, .dst = dst, .proto = kIpProtoIcmp, .ttl = 64, .id = 0x0e0e})
        .icmp(type, code)
        .payload(Bytes(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(n)))
        .build();
}

// The datagram quoted by an ICMP error frame.
const Ipv4Hdr* quoted_ip(const Bytes& f) { return reinterpret_cast<const Ipv4Hdr*>(l4_of(f) + 8); }
const be16* quoted_ports(const Bytes& f) {
    const Ipv4Hdr* in = quoted_ip(f);
    return reinterpret_cast<const be16*>(reinterpret_cast<const uint8_t*>(in) + in->header_len());
}
bool quoted_ip_checksum_valid(const Bytes& f) {
    return ref_verify(reinterpret_cast<const uint8_t*>(quoted_ip(f)), quoted_ip(f)->header_len());
}

// The target of a hairpinned connection refuses it with an ICMP error sent
// to the source it saw (wan-ip, or lan-ip for `hairpin source lan`): client1
// gets it as from wan-ip about the datagram it sent to wan-ip:8080, every
// checksum right (RFC 5508 REQ-7: hairpinned ICMP errors, also for NAPT).
class HairpinIcmpError : public Hairpin, public ::testing::WithParamInterface<bool> {};

TEST_P(HairpinIcmpError, FromTheForwardTargetReachesTheClientTranslatedBack) {
    const bool source_lan = GetParam();
    ASSERT_NO_FATAL_FAILURE(use_config(source_lan));
    const uint32_t seen_source = source_lan ? kLanIp : kWanIp;
    const Bytes syn = tcp_segment(mac_of(Zone::lan), kClient1Mac, kClient1, 40010, kWanIp, 8080, kTcpSyn, 0x1101);
    receive(Zone::lan, syn);
    const Bytes at_target = one_out_on_lan("the SYN");
    ASSERT_FALSE(at_target.empty());
    ASSERT_EQ(ip_of(at_target)->src.host(), seen_source);
    const uint16_t port = tcp_of(at_target)->sport.host();

    const Bytes err = icmp_error_about(mac_of(Zone::lan), kClient2Mac, kClient2, seen_source, at_target);
    ASSERT_TRUE(icmp_checksum_valid(err));
    receive(Zone::lan, err);
    const Bytes at_client = one_out_on_lan("the target's ICMP error");
    ASSERT_FALSE(at_client.empty());
    EXPECT_EQ(mac_text(eth_of(at_client)->dst), mac_text(kClient1Mac));
    EXPECT_EQ(dotted(ip_of(at_client)->src.host()), dotted(kWanIp)) << "client1 must see its peer, wan-ip";
    EXPECT_EQ(dotted(ip_of(at_client)->dst.host()), dotted(kClient1));
    EXPECT_EQ(ip_of(at_client)->ttl, 63);
    EXPECT_TRUE(ip_checksum_valid(at_client));
    EXPECT_EQ(icmp_of(at_client)->type, kIcmpDestUnreach);
    EXPECT_EQ(icmp_of(at_client)->code, 3);
    EXPECT_TRUE(icmp_checksum_valid(at_client)) << "ICMP checksum";
    // The quoted datagram is the one client1 sent, as it sent it.
    EXPECT_EQ(dotted(quoted_ip(at_client)->src.host()), dotted(kClient1));
    EXPECT_EQ(dotted(quoted_ip(at_client)->dst.host()), dotted(kWanIp));
    EXPECT_EQ(quoted_ports(at_client)[0].host(), 40010);
    EXPECT_EQ(quoted_ports(at_client)[1].host(), 8080);
    EXPECT_TRUE(quoted_ip_checksum_valid(at_client)) << "the quoted IPv4 header checksum";
    EXPECT_NE(port, 40010) << "(the test needs a translated port to prove the quoted port was restored)";
    EXPECT_EQ(total_drops(), 0u);
    // An error neither creates nor removes sessions (RFC 5508 REQ-6).
    EXPECT_EQ(nat_->active(), 2u);
}

INSTANTIATE_TEST_SUITE_P(HairpinSource, HairpinIcmpError, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? std::string("Lan") : std::string("Wan"); });

TEST_F(Hairpin, IcmpErrorBetweenTwoClientsMappings) {
    // client1 and client2 talk through their UDP mappings (as in the hole
    // punching test); client2's port closes and it says so to client1's
    // outside address: client1 gets the error about its own datagram.
    const uint16_t p1 = udp_mapping(kClient1Mac, kClient1, 5001, 0x0111);
    const uint16_t p2 = udp_mapping(kClient2Mac, kClient2, 6001, 0x0211);
    ASSERT_NE(p1, p2);
    // client1 first (filtered: client2 never sent to it), then client2, then client1 again.
    receive(Zone::lan, udp_datagram(mac_of(Zone::lan), kClient1Mac, kClient1, 5001, kWanIp, p2, 0x0113));
    ASSERT_TRUE(sent(Zone::lan).empty());
    receive(Zone::lan, udp_datagram(mac_of(Zone::lan), kClient2Mac, kClient2, 6001, kWanIp, p1, 0x0212));
    ASSERT_FALSE(one_out_on_lan("client2 -> client1").empty());
    const Bytes a = udp_datagram(mac_of(Zone::lan), kClient1Mac, kClient1, 5001, kWanIp, p2, 0x0112);
    receive(Zone::lan, a);
    const Bytes at2 = one_out_on_lan("client1 -> client2");
    ASSERT_FALSE(at2.empty());

    receive(Zone::lan, icmp_error_about(mac_of(Zone::lan), kClient2Mac, kClient2, kWanIp, at2));
    const Bytes at1 = one_out_on_lan("client2's port unreachable");
    ASSERT_FALSE(at1.empty());
    EXPECT_EQ(dotted(ip_of(at1)->src.host()), dotted(kWanIp));
    EXPECT_EQ(dotted(ip_of(at1)->dst.host()), dotted(kClient1));
    EXPECT_TRUE(ip_checksum_valid(at1));
    EXPECT_TRUE(icmp_checksum_valid(at1));
    EXPECT_EQ(dotted(quoted_ip(at1)->src.host()), dotted(kClient1));
    EXPECT_EQ(dotted(quoted_ip(at1)->dst.host()), dotted(kWanIp));
    EXPECT_EQ(quoted_ports(at1)[0].host(), 5001);
    EXPECT_EQ(quoted_ports(at1)[1].host(), p2);
    EXPECT_TRUE(quoted_ip_checksum_valid(at1));
    EXPECT_EQ(total_drops(), 1u);  // client1's first datagram
    EXPECT_EQ(drops(Drop::hairpin_filtered), 1u);
}

// An ICMP query to wan-ip has no NAPT mapping to follow (its identifier is
// the sender's own): like every flow to wan-ip that no forward or mapping
// claims, it reaches the holder of wan-ip, the server, untranslated, and
// the server's reply comes back although the dmz -> lan policy denies new
// flows (the request made a tracking session).
TEST_F(Hairpin, EchoRequestToWanIpIsAnsweredByTheServer) {
    const Bytes req = echo_request(mac_of(Zone::lan), kClient1Mac, kClient1, kWanIp, 64, 56, 0x5150, 7);
    receive(Zone::lan, req);
    const auto dmz = sent(Zone::dmz);
    EXPECT_TRUE(sent(Zone::lan).empty());
    EXPECT_TRUE(sent(Zone::wan).empty());
    ASSERT_EQ(dmz.size(), 1u);
    EXPECT_EQ(mac_text(eth_of(dmz[0])->dst), mac_text(kServerMac));
    EXPECT_EQ(dotted(ip_of(dmz[0])->src.host()), dotted(kClient1));
    EXPECT_EQ(dotted(ip_of(dmz[0])->dst.host()), dotted(kWanIp));
    EXPECT_EQ(icmp_of(dmz[0])->id.host(), 0x5150);
    EXPECT_TRUE(ip_checksum_valid(dmz[0]));
    EXPECT_TRUE(icmp_checksum_valid(dmz[0]));

    // The server's ICMP echo message to client1.
    const auto from_server = [&](uint8_t type, uint16_t id, uint16_t seq) {
        return PacketBuilder()
            .eth(mac_of(Zone::dmz), kServerMac)
            .ipv4({.src = kWanIp, .dst = kClient1, .proto = kIpProtoIcmp, .ttl = 64, .id = seq})
            .icmp(type, 0, id, seq)
            .payload(pattern(56))
            .build();
    };
    receive(Zone::dmz, from_server(kIcmpEchoReply, 0x5150, 7));
    const Bytes back = one_out_on_lan("the server's echo reply");
    ASSERT_FALSE(back.empty());
    EXPECT_EQ(mac_text(eth_of(back)->dst), mac_text(kClient1Mac));
    EXPECT_EQ(dotted(ip_of(back)->src.host()), dotted(kWanIp));
    EXPECT_EQ(dotted(ip_of(back)->dst.host()), dotted(kClient1));
    EXPECT_EQ(icmp_of(back)->type, kIcmpEchoReply);
    EXPECT_EQ(icmp_of(back)->id.host(), 0x5150);
    EXPECT_TRUE(icmp_checksum_valid(back));
    EXPECT_EQ(total_drops(), 0u);

    // Control: an echo request the server starts toward client1 is a new
    // dmz -> lan flow, which the default policy denies.
    receive(Zone::dmz, from_server(kIcmpEchoRequest, 0x6160, 1));
    EXPECT_TRUE(sent(Zone::lan).empty()) << "the server opened an ICMP flow into the LAN";
    EXPECT_EQ(total_drops(), 1u);
}

// ---------------------------------------------------------------- path MTU toward the LAN (RFC 1191)
// The forward stage checks a datagram to wan-ip against the MTU of the port
// classify chose, the server's; when a session sends it to a LAN host
// instead, the nat stage checks the LAN port's MTU, so the sender's path MTU
// discovery gets its answer, never a black hole.

// Sets DF on a built frame (checksum refreshed).
Bytes with_df(Bytes f) {
    ip_of(f)->frag = be16::from_host(kIpFlagDF);
    refresh_ip_checksum(f);
    return f;
}

TEST_F(Hairpin, DfDatagramTooBigForTheLanPortGetsFragmentationNeeded) {
    w_.ports[idx(Zone::lan)].mtu = 1400;
    // To a forward (wan-ip:8080 -> client2:80): 1,401 bytes do not fit the lan port.
    const auto syn = [&](size_t ip_len, uint16_t sport) {
        return with_df(tcp_segment(mac_of(Zone::wan), kGatewayMac, kInternetHost, sport, kWanIp, 8080, kTcpSyn,
                                   0x2001, ip_len - 40));
    };
    const Bytes big = syn(1401, 50000);
    receive(Zone::wan, big);
    EXPECT_TRUE(sent(Zone::lan).empty()) << "a DF datagram over the lan MTU left on lan";
    EXPECT_TRUE(sent(Zone::dmz).empty()) << "nor may it go to the server";
    auto back = sent(Zone::wan);
    ASSERT_EQ(back.size(), 1u);
    expect_fragmentation_needed(back[0], big, kGatewayMac, kWanIp, 1400);
    // 1,400 bytes fit and reach the target, translated.
    const Bytes fits = syn(1400, 50001);
    receive(Zone::wan, fits);
    const Bytes at_target = one_out_on_lan("1,400 bytes to the forward");
    ASSERT_FALSE(at_target.empty());
    EXPECT_EQ(ip_of(at_target)->total_length.host(), 1400);
    EXPECT_EQ(dotted(ip_of(at_target)->dst.host()), dotted(kClient2));

    // A reply to a client's NAPT mapping: the same.
    const uint16_t port = udp_mapping(kClient1Mac, kClient1, 40000, 0x3001);
    const auto reply = [&](size_t ip_len) {
        Bytes f = PacketBuilder()
                      .eth(mac_of(Zone::wan), kGatewayMac)
                      .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoUdp, .ttl = 64, .id = 0x3002})
                      .udp(3478, port)
                      .payload(pattern(ip_len - 28, 7))
                      .build();
        fill_l4_checksum(f);
        return with_df(f);
    };
    const Bytes big_reply = reply(1401);
    receive(Zone::wan, big_reply);
    EXPECT_TRUE(sent(Zone::lan).empty()) << "a DF reply over the lan MTU left on lan";
    EXPECT_TRUE(sent(Zone::dmz).empty());
    back = sent(Zone::wan);
    ASSERT_EQ(back.size(), 1u);
    expect_fragmentation_needed(back[0], big_reply, kGatewayMac, kWanIp, 1400);
    receive(Zone::wan, reply(1400));
    const Bytes at_client = one_out_on_lan("a 1,400-byte reply");
    ASSERT_FALSE(at_client.empty());
    EXPECT_EQ(dotted(ip_of(at_client)->dst.host()), dotted(kClient1));

    // The server's port is not the lan's: 1,401 bytes with no session reach it.
    receive(Zone::wan, with_df(tcp_segment(mac_of(Zone::wan), kGatewayMac, kInternetHost, 50002, kWanIp, 443,
                                           kTcpSyn, 0x2003, 1401 - 40)));
    const auto dmz = sent(Zone::dmz);
    ASSERT_EQ(dmz.size(), 1u) << "the server's datagram";
    EXPECT_EQ(ip_of(dmz[0])->total_length.host(), 1401);
    EXPECT_EQ(drops(Drop::mtu_exceeded), 2u);
    EXPECT_EQ(counters_.icmp_sent.get(), 2u);
}

// ---------------------------------------------------------------- the inbound handshake (tcp_track)

// A TCP segment with these sequence and acknowledgement numbers.
Bytes with_seq(Bytes f, uint32_t seq, uint32_t ack) {
    auto* tcp = reinterpret_cast<TcpHdr*>(l4_of(f));
    tcp->seq = be32::from_host(seq);
    tcp->ack = be32::from_host(ack);
    fill_l4_checksum(f);
    return f;
}

// A spoofed SYN's sender never sees the target's SYN-ACK: its blind ACK
// passes (the target refuses it) but leaves the forward's session half-open;
// the ACK of the target's SYN establishes it. Blind RSTs change nothing.
TEST_F(Hairpin, ForwardSessionIsEstablishedOnlyByTheAckOfTheTargetsSyn) {
    const auto from_inet = [&](uint8_t flags, uint32_t seq, uint32_t ack) {
        return with_seq(tcp_segment(mac_of(Zone::wan), kGatewayMac, kInternetHost, 51000, kWanIp, 8080, flags, 0x4001),
                        seq, ack);
    };
    const auto state = [&] {
        const uint32_t id = nat_->lookup(outside_key(kIpProtoTcp, kInternetHost, 51000, 8080, kWanIp));
        return id == kNone ? std::string("none") : std::string(kTcpStateNames[int(nat_->at(id).tcp)]);
    };
    receive(Zone::wan, from_inet(kTcpSyn, 7000, 0));
    ASSERT_FALSE(one_out_on_lan("the SYN").empty());
    EXPECT_EQ(state(), "syn-in");
    receive(Zone::lan, with_seq(tcp_segment(mac_of(Zone::lan), kClient2Mac, kClient2, 80, kInternetHost, 51000,
                                            kTcpSyn | kTcpAck, 0x4002),
                                9000, 7001));
    ASSERT_EQ(sent(Zone::wan).size(), 1u) << "the SYN-ACK";
    EXPECT_EQ(state(), "syn-recv");
    for (uint32_t blind : {0u, 1u, 9000u, 9002u, 0x80002329u}) {
        receive(Zone::wan, from_inet(kTcpAck, 7001, blind));
        EXPECT_EQ(sent(Zone::lan).size(), 1u) << "the blind ACK still reaches the target, which refuses it";
        EXPECT_EQ(state(), "syn-recv") << "ack " << blind;
    }
    receive(Zone::wan, from_inet(kTcpRst, 7001, 0));
    EXPECT_EQ(sent(Zone::lan).size(), 1u);
    EXPECT_EQ(state(), "syn-recv") << "an RST leaves a half-open attempt half-open (6 s)";
    receive(Zone::wan, from_inet(kTcpAck, 7001, 9001));
    EXPECT_EQ(sent(Zone::lan).size(), 1u);
    EXPECT_EQ(state(), "established");
}

}  // namespace
}  // namespace ipshare
