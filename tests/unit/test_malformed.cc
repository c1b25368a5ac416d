// Malformed and unusual frames through the whole walk (process_burst), one
// table: each row is a frame, the port it arrives on, and what must happen:
// dropped with a named counter (that counter, and no other, rises by one, and
// nothing leaves any port), or passed (it leaves on the expected port, nothing
// is counted as a drop). Real mbufs, a real mempool, ethdev ports backed by
// rte_rings, as in test_stages.cc (main in eal_main.cc).
//
// Rows may send frames before the one under test (a session to match, the
// first fragment of a datagram); their effects are not checked. After each
// row, fragments still waiting for their first one are given up as the
// worker does (inbound ones go to the server, outbound ones are dropped), and
// time jumps ahead so that no session or fragment verdict outlives its row.
#include <gtest/gtest.h>

#include <atomic>
#include <cstddef>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
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

#include "config_parse.h"
#include "frag.h"
#include "nat.h"
#include "neighbour.h"
#include "neighbour_manager.h"
#include "packet_builder.h"
#include "port.h"
#include "stages.h"
#include "tables_build.h"
#include "worker.h"

namespace ipshare {
namespace {

using namespace test;

constexpr const char* kConfig =
    "port wan net_ring_malf_wan\n"
    "port lan net_ring_malf_lan\n"
    "port dmz net_ring_malf_dmz\n"
    "lan address 192.168.1.1/24\n"
    "wan network 203.0.113.0/24 gateway 203.0.113.1\n"
    "server address 203.0.113.10\n"
    "route 10.20.0.0/16 via 192.168.1.254\n";

constexpr unsigned kPoolSize = 2047;
constexpr unsigned kRingSize = 1024;

// ---------------------------------------------------------------- the table

struct Expect {
    Drop drop = Drop::count;        // Drop::count: passed, not dropped
    std::optional<Zone> out;        // where it leaves, when passed
    size_t frames = 1;              // how many frames leave
    size_t len = 0;                 // the (first) frame's length, when not 0
    std::function<void(const Bytes& in, const Bytes& out)> check = {};  // more, on the (first) frame out
};

Expect dropped(Drop d) { return Expect{d, std::nullopt, 0, 0}; }
Expect passed(Zone z, size_t len = 0, size_t frames = 1) { return Expect{Drop::count, z, frames, len}; }
// Taken by the router and not counted as a drop, nothing leaves (an ARP
// packet it learns from, or could: see arp_stage.cc).
Expect consumed() { return Expect{Drop::count, std::nullopt, 0, 0}; }
Expect passed_checked(Zone z, size_t len, std::function<void(const Bytes&, const Bytes&)> check) {
    return Expect{Drop::count, z, 1, len, std::move(check)};
}

// The IPv4 options of a frame (bytes 20 .. IHL*4 of its header).
Bytes options_of(const Bytes& f) {
    const size_t hl = (f[sizeof(EthHdr)] & 15u) * 4u;
    return Bytes(f.begin() + sizeof(EthHdr) + 20, f.begin() + static_cast<std::ptrdiff_t>(sizeof(EthHdr) + hl));
}

// Options are forwarded as they came: ipshare records no route and no
// timestamp (RFC 7126 4.3.3: routers may ignore them), and never honours a
// source route (those are dropped, ip_source_route).
void options_untouched(const Bytes& in, const Bytes& out) {
    EXPECT_EQ(ip_of(out)->version_ihl, ip_of(in)->version_ihl) << "header length";
    EXPECT_EQ(options_of(out), options_of(in)) << "options changed";
}

struct Sent {
    Zone in;
    Bytes frame;
};

struct Row {
    std::string what;
    Zone in;
    Bytes frame;
    Expect expect;
    std::vector<Sent> before = {};
};

// ---------------------------------------------------------------- frames

// The router's port MACs (set by the fixture; the ring PMD has none).
Mac port_mac(Zone z) { return Mac{0x02, 0x1a, 0x00, 0x00, 0x00, static_cast<uint8_t>(0x20 + idx(z))}; }

const Mac kClient2Mac = {0x02, 0x00, 0x5e, 0x00, 0x01, 0x0c};
constexpr uint32_t kClient2 = ipv4(192, 168, 1, 12);
constexpr uint32_t kWanHostAddr = ipv4(203, 0, 113, 77);  // a host of the wan network, no neighbour entry

Bytes cut(Bytes f, size_t n) {
    f.resize(n);
    return f;
}

// A datagram whose transport part is `l4` bytes (its IPv4 total length
// matches: a datagram cut short by its sender, not by the link).
Bytes datagram(Zone in, uint32_t src, uint32_t dst, uint8_t proto, const Bytes& l4, uint16_t frag = 0,
               uint16_t id = 0x1234) {
    const Mac& peer = in == Zone::wan ? kGatewayMac : in == Zone::lan ? kClient1Mac : kServerMac;
    return PacketBuilder()
        .eth(port_mac(in), peer)
        .ipv4({.src = src, .dst = dst, .proto = proto, .id = id, .frag = frag})
        .payload(l4)
        .build();
}

Bytes from_wan(uint8_t proto, const Bytes& l4, uint16_t frag = 0, uint16_t id = 0x1234) {
    return datagram(Zone::wan, kInternetHost, kWanIp, proto, l4, frag, id);
}
Bytes from_lan(uint8_t proto, const Bytes& l4, uint16_t frag = 0, uint16_t id = 0x1234) {
    return datagram(Zone::lan, kClient1, kInternetHost, proto, l4, frag, id);
}

Bytes udp_wan(size_t payload = 16) {
    return PacketBuilder()
        .eth(port_mac(Zone::wan), kGatewayMac)
        .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoUdp})
        .udp(53, 5353)
        .payload(pattern(payload))
        .build();
}

Bytes with_options(Zone in, const Bytes& options) {
    const bool wan = in == Zone::wan;
    return PacketBuilder()
        .eth(port_mac(in), wan ? kGatewayMac : kClient1Mac)
        .ipv4({.src = wan ? kInternetHost : kClient1, .dst = wan ? kWanIp : kInternetHost, .proto = kIpProtoUdp,
               .options = options})
        .udp(40000, 53)
        .payload(pattern(8))
        .build();
}

// The bytes of a TCP header (no options), flags SYN.
Bytes tcp_header(uint16_t sport, uint16_t dport, uint8_t data_off_words = 5) {
    Bytes b = PacketBuilder().tcp(sport, dport).build();
    b[12] = static_cast<uint8_t>(data_off_words << 4);
    return b;
}

Bytes udp_header(uint16_t sport, uint16_t dport, uint16_t len = 8) {
    Bytes b = PacketBuilder().udp(sport, dport).build();
    b[4] = static_cast<uint8_t>(len >> 8);
    b[5] = static_cast<uint8_t>(len);
    return b;
}

// An ICMP message (checksum right) of type/code with `body` after its 8-byte header.
Bytes icmp_message(uint8_t type, uint8_t code, const Bytes& body) {
    Bytes m = PacketBuilder().icmp(type, code).payload(body).build();
    m[2] = m[3] = 0;
    const uint16_t c = ref_checksum(m.data(), m.size());
    m[2] = static_cast<uint8_t>(c >> 8);
    m[3] = static_cast<uint8_t>(c);
    return m;
}

Bytes ip_part(const Bytes& f) { return Bytes(f.begin() + sizeof(EthHdr), f.end()); }

Bytes arp_request(const Mac& sha, uint32_t spa, uint32_t tpa) {
    return arp_frame(kBroadcastMac, kArpOpRequest, sha, spa, kZeroMac, tpa);
}

Bytes with_eth_type(Bytes f, uint16_t type) {
    eth_of(f)->type = be16::from_host(type);
    return f;
}

Bytes vlan_tagged(const Bytes& f, uint16_t tpid) {
    Bytes v(f.begin(), f.begin() + 12);
    v.push_back(static_cast<uint8_t>(tpid >> 8));
    v.push_back(static_cast<uint8_t>(tpid));
    v.push_back(0x00);
    v.push_back(0x0a);
    v.insert(v.end(), f.begin() + 12, f.end());
    return v;
}

std::vector<Row> rows() {
    std::vector<Row> r;
    const Zone wan = Zone::wan, lan = Zone::lan, dmz = Zone::dmz;
    const Bytes good = udp_wan();  // 14 + 20 + 8 + 16 bytes, to the server

    // ---- truncated at every header boundary
    r.push_back({"empty frame", wan, Bytes{}, dropped(Drop::eth_truncated)});
    r.push_back({"Ethernet cut at 13 bytes", wan, cut(good, 13), dropped(Drop::eth_truncated)});
    r.push_back({"Ethernet header only, IPv4", wan, cut(good, 14), dropped(Drop::ip_truncated)});
    r.push_back({"IPv4 header cut at 19 bytes", wan, cut(good, 14 + 19), dropped(Drop::ip_truncated)});
    r.push_back({"IPv4 header whole, datagram cut by the link", wan, cut(good, 14 + 20),
                 dropped(Drop::ip_bad_total_len)});
    r.push_back({"UDP header cut by the link", wan, cut(good, 14 + 20 + 4), dropped(Drop::ip_bad_total_len)});
    r.push_back({"Ethernet header only, ARP", wan, cut(arp_request(kGatewayMac, kGateway, kWanIp), 14),
                 dropped(Drop::arp_malformed)});
    r.push_back({"ARP cut at 27 bytes", wan, cut(arp_request(kGatewayMac, kGateway, kWanIp), 14 + 27),
                 dropped(Drop::arp_malformed)});
    // Datagrams whose transport header their sender cut short (total length agrees).
    for (size_t n : {size_t{0}, size_t{8}, size_t{19}})
        r.push_back({"from lan, TCP header of " + std::to_string(n) + " bytes", lan,
                     from_lan(kIpProtoTcp, cut(tcp_header(40000, 443), n)), dropped(Drop::l4_truncated)});
    for (size_t n : {size_t{0}, size_t{7}})
        r.push_back({"from lan, UDP header of " + std::to_string(n) + " bytes", lan,
                     from_lan(kIpProtoUdp, cut(udp_header(40000, 53), n)), dropped(Drop::l4_truncated)});
    for (size_t n : {size_t{0}, size_t{4}, size_t{7}})
        r.push_back({"from lan, ICMP header of " + std::to_string(n) + " bytes", lan,
                     from_lan(kIpProtoIcmp, cut(icmp_message(kIcmpEchoRequest, 0, {}), n)),
                     dropped(Drop::l4_truncated)});
    // From wan, what matches no session is the server's, cut short or not.
    r.push_back({"from wan, TCP header of 8 bytes: to the server", wan,
                 from_wan(kIpProtoTcp, cut(tcp_header(40000, 443), 8)), passed(dmz, 14 + 20 + 8)});
    r.push_back({"from wan, ICMP header of 4 bytes: to the server", wan,
                 from_wan(kIpProtoIcmp, cut(icmp_message(kIcmpEchoRequest, 0, {}), 4)), passed(dmz, 14 + 24)});

    // ---- IHL, total length, checksum, version
    {
        Bytes f = good;
        ip_of(f)->version_ihl = 0x44;
        refresh_ip_checksum(f);
        r.push_back({"IHL 4", wan, f, dropped(Drop::ip_bad_header_len)});
        f = good;
        ip_of(f)->version_ihl = 0x40;
        r.push_back({"IHL 0", wan, f, dropped(Drop::ip_bad_header_len)});
        Bytes g = cut(good, 14 + 40);
        ip_of(g)->version_ihl = 0x4f;  // 60 bytes of header in a 40-byte datagram
        refresh_ip_checksum(g);
        r.push_back({"IHL 15 beyond the frame", wan, g, dropped(Drop::ip_bad_header_len)});
        f = good;
        ip_of(f)->total_length = be16::from_host(static_cast<uint16_t>(f.size() - 14 + 1));
        refresh_ip_checksum(f);
        r.push_back({"total length one more than the frame", wan, f, dropped(Drop::ip_bad_total_len)});
        f = good;
        ip_of(f)->total_length = be16::from_host(19);
        refresh_ip_checksum(f);
        r.push_back({"total length below the header", wan, f, dropped(Drop::ip_bad_total_len)});
        f = good;
        ip_of(f)->total_length = be16::from_host(0);
        refresh_ip_checksum(f);
        r.push_back({"total length 0", wan, f, dropped(Drop::ip_bad_total_len)});
        // Smaller than the frame: the rest is link padding, trimmed, the datagram forwarded.
        Bytes padded = good;
        padded.resize(good.size() + 22, 0xee);
        r.push_back({"total length smaller than the frame (padding)", wan, padded, passed(dmz, good.size())});
        Bytes tiny = PacketBuilder()
                         .eth(port_mac(wan), kGatewayMac)
                         .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoGre})
                         .pad_to(60)
                         .build();
        r.push_back({"header-only datagram in a padded minimum frame", wan, tiny, passed(dmz, 14 + 20)});
        f = good;
        ip_of(f)->checksum = be16::from_host(static_cast<uint16_t>(ip_of(f)->checksum.host() ^ 0x0100));
        r.push_back({"bad IPv4 header checksum", wan, f, dropped(Drop::ip_bad_checksum)});
        f = good;
        ip_of(f)->version_ihl = 0x65;
        refresh_ip_checksum(f);
        r.push_back({"version 6 in an IPv4 frame", wan, f, dropped(Drop::ip_bad_version)});
    }

    // ---- IP options
    // Options other than source routes pass untouched: no route recorded, no
    // timestamp added (so no LAN address is ever written into one).
    r.push_back({"record route option: forwarded, no route recorded", wan,
                 with_options(wan, Bytes{7, 7, 4, 0, 0, 0, 0, 0}), passed_checked(dmz, 14 + 28 + 16, options_untouched)});
    r.push_back({"record route from lan: NAT'd, no route recorded", lan,
                 with_options(lan, Bytes{7, 7, 4, 0, 0, 0, 0, 0}), passed_checked(wan, 14 + 28 + 16, options_untouched)});
    r.push_back({"timestamp option from lan: NAT'd, no timestamp added", lan,
                 with_options(lan, Bytes{68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
                 passed_checked(wan, 14 + 32 + 16, options_untouched)});
    r.push_back({"router alert option", wan, with_options(wan, Bytes{148, 4, 0, 0}),
                 passed_checked(dmz, 14 + 24 + 16, options_untouched)});
    r.push_back({"NOPs and end of options", wan, with_options(wan, Bytes{1, 1, 1, 0}), passed(dmz)});
    r.push_back({"strict source route (SSRR) from wan", wan, with_options(wan, Bytes{137, 7, 4, 10, 0, 0, 1, 0}),
                 dropped(Drop::ip_source_route)});
    r.push_back({"loose source route (LSRR) from lan", lan, with_options(lan, Bytes{131, 7, 4, 10, 0, 0, 1, 0}),
                 dropped(Drop::ip_source_route)});
    r.push_back({"LSRR already at its end (pointer past the list)", wan,
                 with_options(wan, Bytes{131, 7, 8, 10, 0, 0, 1, 0}), dropped(Drop::ip_source_route)});
    r.push_back({"loose source route (LSRR)", wan, with_options(wan, Bytes{131, 7, 4, 10, 0, 0, 1, 0}),
                 dropped(Drop::ip_source_route)});
    r.push_back({"strict source route (SSRR) from lan", lan, with_options(lan, Bytes{137, 7, 4, 10, 0, 0, 1, 0}),
                 dropped(Drop::ip_source_route)});
    r.push_back({"LSRR after a NOP", dmz,
                 PacketBuilder()
                     .eth(port_mac(dmz), kServerMac)
                     .ipv4({.src = kWanIp, .dst = kInternetHost, .proto = kIpProtoUdp,
                            .options = Bytes{1, 131, 7, 4, 10, 0, 0, 1}})
                     .udp(1, 2)
                     .build(),
                 dropped(Drop::ip_source_route)});
    r.push_back({"option length 1", wan, with_options(wan, Bytes{7, 1, 0, 0}), dropped(Drop::ip_bad_options)});
    r.push_back({"option longer than the header", wan, with_options(wan, Bytes{7, 9, 4, 0}),
                 dropped(Drop::ip_bad_options)});
    r.push_back({"option type without its length byte", wan, with_options(wan, Bytes{1, 1, 1, 7}),
                 dropped(Drop::ip_bad_options)});

    // ---- fragments
    {
        const Bytes first_l4 = [] {
            Bytes b = udp_header(53, 5353, 8 + 32);
            const Bytes p = pattern(16);
            b.insert(b.end(), p.begin(), p.end());
            return b;
        }();
        const Bytes first_wan = from_wan(kIpProtoUdp, first_l4, kIpFlagMF, 0x4001);
        r.push_back({"zero-length fragment from wan (no first): given up to the server", wan,
                     from_wan(kIpProtoUdp, {}, kIpFlagMF | 3, 0x4000), passed(dmz, 14 + 20)});
        r.push_back({"zero-length last fragment after its first: follows it", wan,
                     from_wan(kIpProtoUdp, {}, 3, 0x4001), passed(dmz, 14 + 20), {{wan, first_wan}}});
        r.push_back({"zero-length first fragment from wan: to the server", wan,
                     from_wan(kIpProtoUdp, {}, kIpFlagMF, 0x4002), passed(dmz, 14 + 20)});
        r.push_back({"zero-length first fragment from lan: no ports", lan,
                     from_lan(kIpProtoUdp, {}, kIpFlagMF, 0x4003), dropped(Drop::l4_truncated)});
        r.push_back({"zero-length fragment from lan (no first): given up", lan,
                     from_lan(kIpProtoUdp, {}, kIpFlagMF | 3, 0x4004), dropped(Drop::napt_fragment_unmatched)});
        // Overlapping: offset 1 (8 bytes) rewrites bytes the first fragment carried.
        r.push_back({"fragment overlapping its first one, from wan", wan,
                     from_wan(kIpProtoUdp, pattern(16, 1), kIpFlagMF | 1, 0x4001), passed(dmz, 14 + 36),
                     {{wan, first_wan}}});
        r.push_back({"the same first fragment twice", wan, first_wan, passed(dmz, first_wan.size()),
                     {{wan, first_wan}}});
        const Bytes first_lan = from_lan(kIpProtoUdp, first_l4, kIpFlagMF, 0x4005);
        r.push_back({"fragment overlapping its first one, from lan: NAT'd like it", lan,
                     from_lan(kIpProtoUdp, pattern(16, 2), kIpFlagMF | 1, 0x4005), passed(wan, 14 + 36),
                     {{lan, first_lan}}});
    }

    // ---- TCP data offset
    r.push_back({"TCP data offset past the end, from lan", lan,
                 from_lan(kIpProtoTcp, tcp_header(40000, 443, 15)), dropped(Drop::l4_truncated)});
    r.push_back({"TCP data offset 4 (below the header), from lan", lan,
                 from_lan(kIpProtoTcp, tcp_header(40000, 443, 4)), dropped(Drop::l4_truncated)});
    r.push_back({"TCP data offset past the end, from wan: to the server", wan,
                 from_wan(kIpProtoTcp, tcp_header(40000, 443, 15)), passed(dmz, 14 + 40)});

    // ---- ICMP errors
    {
        // A session: 192.168.1.11:40000 -> 198.51.100.20:53 (its outside port
        // is random, so the errors that must match it come from the client).
        const Bytes to_client = PacketBuilder()
                                    .eth(port_mac(lan), kGatewayMac)
                                    .ipv4({.src = kInternetHost, .dst = kClient1, .proto = kIpProtoUdp})
                                    .udp(53, 40000)
                                    .payload(pattern(8))
                                    .build();
        const Bytes session = PacketBuilder()
                                  .eth(port_mac(lan), kClient1Mac)
                                  .ipv4({.src = kClient1, .dst = kInternetHost, .proto = kIpProtoUdp})
                                  .udp(40000, 53)
                                  .payload(pattern(8))
                                  .build();
        const Bytes quote = ip_part(to_client);
        r.push_back({"from lan, error about a session's datagram: NAT'd out", lan,
                     from_lan(kIpProtoIcmp, icmp_message(kIcmpDestUnreach, 3, Bytes(quote.begin(), quote.begin() + 28))),
                     passed(wan), {{lan, session}}});
        r.push_back({"from lan, error quoting the IP header only", lan,
                     from_lan(kIpProtoIcmp, icmp_message(kIcmpDestUnreach, 3, Bytes(quote.begin(), quote.begin() + 20))),
                     dropped(Drop::napt_icmp_error_unmatched), {{lan, session}}});
        r.push_back({"from lan, error quoting 4 bytes of UDP", lan,
                     from_lan(kIpProtoIcmp, icmp_message(kIcmpDestUnreach, 3, Bytes(quote.begin(), quote.begin() + 24))),
                     dropped(Drop::napt_icmp_error_unmatched), {{lan, session}}});
        r.push_back({"from lan, error quoting nothing", lan,
                     from_lan(kIpProtoIcmp, icmp_message(kIcmpDestUnreach, 3, {})),
                     dropped(Drop::napt_icmp_error_unmatched)});
        Bytes bad_ihl = Bytes(quote.begin(), quote.begin() + 28);
        bad_ihl[0] = 0x4f;
        r.push_back({"from lan, error quoting a header whose IHL runs past the quote", lan,
                     from_lan(kIpProtoIcmp, icmp_message(kIcmpDestUnreach, 3, bad_ihl)),
                     dropped(Drop::napt_icmp_error_unmatched), {{lan, session}}});
        // An error about an error (RFC 1812 4.3.2.7 / RFC 5508 REQ-3).
        const Bytes inner_error = PacketBuilder()
                                      .ipv4({.src = kInternetHost, .dst = kClient1, .proto = kIpProtoIcmp})
                                      .icmp(kIcmpDestUnreach, 1)
                                      .payload(Bytes(quote.begin(), quote.begin() + 28))
                                      .build();
        r.push_back({"from lan, error about an ICMP error", lan,
                     from_lan(kIpProtoIcmp, icmp_message(kIcmpTimeExceeded, 0, inner_error)),
                     dropped(Drop::napt_icmp_error_unmatched), {{lan, session}}});
        Bytes bad_sum = from_lan(kIpProtoIcmp, icmp_message(kIcmpDestUnreach, 3, Bytes(quote.begin(), quote.begin() + 28)));
        bad_sum.back() ^= 0xff;
        r.push_back({"from lan, error about a session with a bad ICMP checksum", lan, bad_sum,
                     dropped(Drop::napt_icmp_error_unmatched), {{lan, session}}});
        // From wan, errors that match no session are the server's, unchanged.
        const Bytes sent = PacketBuilder()
                               .ipv4({.src = kWanIp, .dst = kInternetHost, .proto = kIpProtoUdp})
                               .udp(5353, 53)
                               .payload(pattern(8))
                               .build();
        r.push_back({"from wan, error quoting 4 bytes of UDP: to the server", wan,
                     from_wan(kIpProtoIcmp, icmp_message(kIcmpDestUnreach, 3, Bytes(sent.begin(), sent.begin() + 24))),
                     passed(dmz, 14 + 20 + 8 + 24)});
        const Bytes error_from_us = PacketBuilder()
                                        .ipv4({.src = kWanIp, .dst = kInternetHost, .proto = kIpProtoIcmp})
                                        .icmp(kIcmpDestUnreach, 3)
                                        .payload(Bytes(sent.begin(), sent.begin() + 28))
                                        .build();
        r.push_back({"from wan, error about an ICMP error: to the server", wan,
                     from_wan(kIpProtoIcmp, icmp_message(kIcmpDestUnreach, 1, error_from_us)),
                     passed(dmz, 14 + 20 + 8 + error_from_us.size())});
        r.push_back({"from the server, error about an ICMP error: forwarded unchanged", dmz,
                     datagram(dmz, kWanIp, kInternetHost, kIpProtoIcmp,
                              icmp_message(kIcmpDestUnreach, 1, ip_part(datagram(dmz, kInternetHost, kWanIp,
                                                                                  kIpProtoIcmp,
                                                                                  icmp_message(3, 3, {}))))),
                     passed(wan)});
    }

    // ---- ARP
    {
        const Bytes ok = arp_request(kGatewayMac, kGateway, kWanIp);
        Bytes f = ok;
        arp_of(f)->hlen = 8;
        r.push_back({"ARP hardware length 8", wan, f, dropped(Drop::arp_malformed)});
        f = ok;
        arp_of(f)->plen = 16;
        r.push_back({"ARP protocol length 16", wan, f, dropped(Drop::arp_malformed)});
        f = ok;
        arp_of(f)->hlen = 0;
        arp_of(f)->plen = 0;
        r.push_back({"ARP lengths 0", wan, f, dropped(Drop::arp_malformed)});
        f = ok;
        arp_of(f)->htype = be16::from_host(6);  // IEEE 802
        r.push_back({"ARP hardware type 6", wan, f, dropped(Drop::arp_malformed)});
        f = ok;
        arp_of(f)->ptype = be16::from_host(0x86dd);
        r.push_back({"ARP protocol type IPv6", wan, f, dropped(Drop::arp_malformed)});
        f = ok;
        arp_of(f)->op = be16::from_host(3);  // RARP request
        r.push_back({"ARP operation 3", wan, f, dropped(Drop::arp_malformed)});
        f = ok;
        arp_of(f)->sha[0] |= 1;
        r.push_back({"ARP sender hardware address multicast", wan, f, dropped(Drop::arp_malformed)});
        r.push_back({"ARP request for wan-ip: answered", wan, ok, passed(wan, ok.size())});
        Bytes padded = ok;
        padded.resize(60, 0);
        r.push_back({"ARP request padded to 60 bytes: answered", wan, padded, passed(wan)});
        r.push_back({"ARP request for lan-ip on lan: answered", lan, arp_request(kClient1Mac, kClient1, kLanIp),
                     passed(lan)});
        f = ok;
        std::memset(arp_of(f)->sha, 0, 6);
        r.push_back({"ARP sender hardware address zero", wan, f, dropped(Drop::arp_malformed)});
        f = ok;
        std::memset(arp_of(f)->sha, 0xff, 6);
        r.push_back({"ARP sender hardware address broadcast", wan, f, dropped(Drop::arp_malformed)});

        // Who asks: on wan only hosts of the wan network (and probes) are
        // answered, on lan only hosts of the LAN subnet (DESIGN.md).
        r.push_back({"who-has wan-ip from a host of the wan network: answered", wan,
                     arp_request(kGatewayMac, ipv4(203, 0, 113, 77), kWanIp), passed(wan, ok.size())});
        r.push_back({"who-has wan-ip probe (sender 0.0.0.0): answered", wan, arp_request(kGatewayMac, 0, kWanIp),
                     passed(wan, ok.size())});
        r.push_back({"who-has wan-ip from a LAN address, on wan", wan, arp_request(kGatewayMac, kClient1, kWanIp),
                     dropped(Drop::arp_ignored)});
        r.push_back({"who-has wan-ip from lan-ip, on wan", wan, arp_request(kGatewayMac, kLanIp, kWanIp),
                     dropped(Drop::arp_ignored)});
        r.push_back({"who-has wan-ip from the wan network's broadcast address", wan,
                     arp_request(kGatewayMac, kWanBroadcast, kWanIp), dropped(Drop::arp_ignored)});
        r.push_back({"who-has wan-ip from the wan network's network address", wan,
                     arp_request(kGatewayMac, kWanNet, kWanIp), dropped(Drop::arp_ignored)});
        r.push_back({"who-has wan-ip from an internet address", wan, arp_request(kGatewayMac, kInternetHost, kWanIp),
                     dropped(Drop::arp_ignored)});
        r.push_back({"who-has wan-ip from 255.255.255.255", wan, arp_request(kGatewayMac, 0xffffffffu, kWanIp),
                     dropped(Drop::arp_ignored)});
        r.push_back({"who-has wan-ip on lan", lan, arp_request(kClient1Mac, kClient1, kWanIp),
                     consumed()});
        r.push_back({"who-has lan-ip from outside the LAN subnet", lan, arp_request(kClient1Mac, kWanHostAddr, kLanIp),
                     dropped(Drop::arp_ignored)});
        r.push_back({"who-has lan-ip probe (sender 0.0.0.0): answered", lan, arp_request(kClient1Mac, 0, kLanIp),
                     passed(lan)});
        r.push_back({"who-has lan-ip from the LAN broadcast address", lan,
                     arp_request(kClient1Mac, kLanBroadcast, kLanIp), dropped(Drop::arp_ignored)});
        r.push_back({"who-has the gateway from the server, on dmz: answered", dmz,
                     arp_request(kServerMac, kWanIp, kGateway), passed(dmz)});
        r.push_back({"who-has the wan broadcast address from the server, on dmz", dmz,
                     arp_request(kServerMac, kWanIp, kWanBroadcast), consumed()});
        r.push_back({"who-has a multicast address from the server, on dmz", dmz,
                     arp_request(kServerMac, kWanIp, ipv4(224, 0, 0, 1)), consumed()});
        r.push_back({"who-has the gateway from another sender, on dmz", dmz,
                     arp_request(kServerMac, kWanHostAddr, kGateway), dropped(Drop::arp_ignored)});

        // Spoofing (what is learnt is checked by ArpSpoofingTeachesNothing).
        r.push_back({"gratuitous ARP claiming lan-ip, on lan", lan,
                     arp_request(kClient1Mac, kLanIp, kLanIp), dropped(Drop::arp_ignored)});
        r.push_back({"ARP reply claiming the gateway, on lan", lan,
                     arp_frame(port_mac(lan), kArpOpReply, kClient1Mac, kGateway, port_mac(lan), kLanIp),
                     dropped(Drop::arp_ignored)});
        r.push_back({"ARP reply claiming wan-ip, on wan", wan,
                     arp_frame(port_mac(wan), kArpOpReply, kGatewayMac, kWanIp, port_mac(wan), kWanIp),
                     dropped(Drop::arp_ignored)});
        r.push_back({"gratuitous ARP claiming the gateway, on dmz", dmz,
                     arp_request(kServerMac, kGateway, kGateway), dropped(Drop::arp_ignored)});
    }

    // ---- Ethernet sources and destinations, VLANs, other types
    {
        Bytes f = good;
        std::memcpy(eth_of(f)->src, kBroadcastMac.data(), 6);
        r.push_back({"broadcast Ethernet source", wan, f, dropped(Drop::l2_bad_source)});
        f = good;
        std::memcpy(eth_of(f)->src, kMulticastMac.data(), 6);
        r.push_back({"multicast Ethernet source", wan, f, dropped(Drop::l2_bad_source)});
        f = arp_request(kGatewayMac, kGateway, kWanIp);
        std::memcpy(eth_of(f)->src, kMulticastMac.data(), 6);
        r.push_back({"ARP from a multicast Ethernet source", wan, f, dropped(Drop::l2_bad_source)});
        f = from_lan(kIpProtoUdp, udp_header(40000, 53));
        std::memcpy(eth_of(f)->src, kBroadcastMac.data(), 6);
        r.push_back({"broadcast Ethernet source on lan", lan, f, dropped(Drop::l2_bad_source)});
        f = good;
        std::memcpy(eth_of(f)->dst, kBroadcastMac.data(), 6);
        r.push_back({"IPv4 to the Ethernet broadcast", wan, f, dropped(Drop::l2_not_for_us)});
        f = good;
        std::memcpy(eth_of(f)->dst, kServerMac.data(), 6);
        r.push_back({"IPv4 to another MAC", wan, f, dropped(Drop::l2_not_for_us)});
        r.push_back({"802.1Q tagged", wan, vlan_tagged(good, kEtherTypeVlan), dropped(Drop::vlan_tagged)});
        r.push_back({"802.1ad tagged", lan, vlan_tagged(from_lan(kIpProtoUdp, udp_header(1, 2)), kEtherTypeQinQ),
                     dropped(Drop::vlan_tagged)});
        r.push_back({"802.1Q tagged ARP", dmz,
                     vlan_tagged(arp_request(kServerMac, kWanIp, kGateway), kEtherTypeVlan), dropped(Drop::vlan_tagged)});
        r.push_back({"802.1Q tag cut short", wan, cut(vlan_tagged(good, kEtherTypeVlan), 16),
                     dropped(Drop::vlan_tagged)});
        r.push_back({"IPv6", wan, with_eth_type(good, 0x86dd), dropped(Drop::ethertype_unsupported)});
        r.push_back({"EtherType 0 (802.3 length)", wan, with_eth_type(good, 0x002e),
                     dropped(Drop::ethertype_unsupported)});
    }

    // ---- IPv4 broadcast and multicast sources (and destinations)
    {
        auto udp_from = [](Zone in, uint32_t src, uint32_t dst) {
            return datagram(in, src, dst, kIpProtoUdp, udp_header(40000, 53));
        };
        r.push_back({"multicast source, from wan", wan, udp_from(wan, ipv4(224, 0, 0, 1), kWanIp),
                     dropped(Drop::martian_source)});
        r.push_back({"limited broadcast source, from wan", wan, udp_from(wan, 0xffffffffu, kWanIp),
                     dropped(Drop::martian_source)});
        r.push_back({"wan network's broadcast as source, from wan", wan, udp_from(wan, kWanBroadcast, kWanIp),
                     dropped(Drop::spoofed_source)});
        r.push_back({"wan network's address as source, from wan", wan, udp_from(wan, kWanNet, kWanIp),
                     dropped(Drop::spoofed_source)});
        r.push_back({"LAN address as source, from wan", wan, udp_from(wan, kClient1, kWanIp),
                     dropped(Drop::spoofed_source)});
        r.push_back({"multicast source, from lan", lan, udp_from(lan, ipv4(224, 0, 0, 251), kInternetHost),
                     dropped(Drop::martian_source)});
        r.push_back({"LAN broadcast as source, from lan", lan, udp_from(lan, kLanBroadcast, kInternetHost),
                     dropped(Drop::spoofed_source)});
        r.push_back({"lan-ip as source, from lan", lan, udp_from(lan, kLanIp, kInternetHost),
                     dropped(Drop::spoofed_source)});
        r.push_back({"limited broadcast source, from dmz", dmz, udp_from(dmz, 0xffffffffu, kInternetHost),
                     dropped(Drop::martian_source)});
        r.push_back({"multicast source, from dmz", dmz, udp_from(dmz, ipv4(239, 1, 2, 3), kInternetHost),
                     dropped(Drop::martian_source)});
        r.push_back({"to the limited broadcast, from lan", lan, udp_from(lan, kClient1, 0xffffffffu),
                     dropped(Drop::martian_destination)});
        r.push_back({"to a multicast group, from lan", lan, udp_from(lan, kClient1, ipv4(224, 0, 0, 251)),
                     dropped(Drop::martian_destination)});
        r.push_back({"to the LAN broadcast, from lan", lan, udp_from(lan, kClient1, kLanBroadcast),
                     dropped(Drop::martian_destination)});
        r.push_back({"to the wan network's broadcast, from dmz", dmz, udp_from(dmz, kWanIp, kWanBroadcast),
                     dropped(Drop::martian_destination)});
        r.push_back({"to the wan network's broadcast, from wan", wan, udp_from(wan, kInternetHost, kWanBroadcast),
                     dropped(Drop::wan_not_for_us)});
    }
    return r;
}

// ---------------------------------------------------------------- the fixture

class Malformed : public ::testing::Test {
protected:
    void SetUp() override {
        const int socket = static_cast<int>(rte_socket_id());
        pool_ = rte_pktmbuf_pool_create("malf_pool", kPoolSize, 0, sizeof(MbufMeta), RTE_MBUF_DEFAULT_BUF_SIZE,
                                        socket);
        ASSERT_NE(pool_, nullptr) << rte_strerror(rte_errno);
        for (Zone z : kAllZones) ASSERT_NO_FATAL_FAILURE(make_port(z));

        Config c;
        const auto err = parse_config(kConfig, "malformed.conf", c);
        ASSERT_FALSE(err) << err->str();
        ForwardIds ids;
        std::string why;
        tables_ = build_tables(c, 4242, ids, &why);
        ASSERT_TRUE(tables_) << why;
        published_.store(tables_.get());

        const size_t qsz = rte_rcu_qsbr_get_memsize(1);
        qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("malf_qsbr", qsz, RTE_CACHE_LINE_SIZE));
        ASSERT_NE(qsbr_, nullptr);
        ASSERT_EQ(rte_rcu_qsbr_init(qsbr_, 1), 0);
        neigh_ = NeighbourTable::create("malf_neigh", 1024, qsbr_, &why);
        ASSERT_TRUE(neigh_) << why;
        ASSERT_TRUE(neigh_->set(Zone::dmz, kWanIp, mac_to_word(kServerMac.data())));
        ASSERT_TRUE(neigh_->set(Zone::wan, kGateway, mac_to_word(kGatewayMac.data())));
        ASSERT_TRUE(neigh_->set(Zone::lan, kClient1, mac_to_word(kClient1Mac.data())));
        ASSERT_TRUE(neigh_->set(Zone::lan, kClient2, mac_to_word(kClient2Mac.data())));

        learn_ = rte_ring_create_elem("malf_learn", sizeof(ArpLearnMsg), 256, socket, RING_F_SC_DEQ);
        pending_ = rte_ring_create("malf_pending", 256, socket, RING_F_SC_DEQ);
        inject_ = rte_ring_create("malf_inject", 256, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
        refeed_ = rte_ring_create("malf_refeed", 256, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
        ASSERT_TRUE(learn_ && pending_ && inject_ && refeed_);

        NatParams np;
        np.wan_ip = kWanIp;
        np.capacity = 1024;
        np.per_client = 64;
        nat_ = Nat::create("malf_nat", np, &why);
        ASSERT_TRUE(nat_) << why;
        nat_->set_counters(&counters_);
        frags_ = FragTable::create("malf_frag", 64, 64, &why);
        ASSERT_TRUE(frags_) << why;

        const uint64_t hz = rte_get_tsc_hz();
        w_.index = 0;
        w_.ports = ports_;
        w_.tables = &published_;
        w_.neigh = neigh_.get();
        w_.learn_ring = learn_;
        w_.pending_ring = pending_;
        w_.inject_ring = inject_;
        w_.qsbr = qsbr_;
        w_.icmp_errors = TokenBucket(1000, 1000, hz);
        w_.icmp_echo = TokenBucket(1000, 1000, hz);
        w_.arp_replies = TokenBucket(1000, 1000, hz);
        for (Zone z : kAllZones) {
            w_.tx.q[idx(z)].port_id = ports_[idx(z)].port_id;
            w_.tx.q[idx(z)].queue_id = 0;
        }
        w_.counters = &counters_;
        w_.stop = &stop_;
        w_.nat = nat_.get();
        w_.frags = frags_.get();
        w_.refeed_ring = refeed_;
        w_.start_tsc = rte_rdtsc();
        w_.tsc_hz = hz;
        w_.now_s = 1;
        initial_avail_ = rte_mempool_avail_count(pool_);
    }

    void TearDown() override {
        for (rte_ring* r : {pending_, inject_, refeed_}) free_ring(r);
        for (Zone z : kAllZones) {
            free_ring(tx_[idx(z)]);
            free_ring(rx_[idx(z)]);
        }
        frags_.reset();  // frees what still waits
        if (pool_) {
            EXPECT_EQ(rte_mempool_avail_count(pool_), initial_avail_) << "mbufs leaked";
        }
        nat_.reset();
        neigh_.reset();
        rte_free(qsbr_);
        rte_ring_free(learn_);
        rte_ring_free(pending_);
        rte_ring_free(inject_);
        rte_ring_free(refeed_);
        tables_.reset();
        for (Zone z : kAllZones) {
            if (port_made_[idx(z)]) {
                rte_eth_dev_stop(ports_[idx(z)].port_id);
                rte_vdev_uninit((std::string("net_ring_malf_") + kZoneNames[idx(z)]).c_str());
            }
            rte_ring_free(rx_[idx(z)]);
            rte_ring_free(tx_[idx(z)]);
        }
        rte_mempool_free(pool_);
    }

    void make_port(Zone z) {
        const int socket = static_cast<int>(rte_socket_id());
        const std::string n = kZoneNames[idx(z)];
        rx_[idx(z)] = rte_ring_create(("malf_rx_" + n).c_str(), kRingSize, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
        tx_[idx(z)] = rte_ring_create(("malf_tx_" + n).c_str(), kRingSize, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
        ASSERT_TRUE(rx_[idx(z)] && tx_[idx(z)]);
        const int port = rte_eth_from_rings(("malf_" + n).c_str(), &rx_[idx(z)], 1, &tx_[idx(z)], 1,
                                            static_cast<unsigned>(socket));
        ASSERT_GE(port, 0) << "rte_eth_from_rings: " << rte_strerror(rte_errno);
        port_made_[idx(z)] = true;
        std::string err;
        ASSERT_TRUE(port_start(static_cast<uint16_t>(port), 1, pool_, &ports_[idx(z)], &err)) << err;
        const Mac mac = port_mac(z);
        std::memcpy(ports_[idx(z)].mac, mac.data(), 6);
    }

    static void free_ring(rte_ring* r) {
        void* obj;
        while (r && rte_ring_dequeue(r, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
    }

    // One frame in on `z`, through the router as the worker loop runs it.
    void receive(Zone z, const Bytes& frame) {
        rte_mbuf* m = rte_pktmbuf_alloc(pool_);
        ASSERT_NE(m, nullptr);
        if (!frame.empty()) {
            char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
            ASSERT_NE(p, nullptr);
            std::memcpy(p, frame.data(), frame.size());
        }
        ASSERT_EQ(rte_ring_enqueue(rx_[idx(z)], m), 0);
        rte_mbuf* pkts[kBurst];
        const uint16_t n = rte_eth_rx_burst(ports_[idx(z)].port_id, 0, pkts, kBurst);
        ASSERT_EQ(n, 1);
        process_burst(w_, *tables_, z, pkts, n);
        drain_refeed(w_);
        drain_inject(w_);
        w_.tx.flush_all(counters_);
    }

    // Fragments still waiting are given up (the worker does it when they expire).
    void give_up_fragments() {
        w_.now_s += FragTable::kLifetimeSeconds;
        expire_sessions(w_, *tables_, 1u << 20);
        drain_refeed(w_);
        w_.tx.flush_all(counters_);
    }

    std::vector<Bytes> sent(Zone z) {
        std::vector<Bytes> out;
        void* obj;
        while (rte_ring_dequeue(tx_[idx(z)], &obj) == 0) {
            auto* m = static_cast<rte_mbuf*>(obj);
            const auto* p = rte_pktmbuf_mtod(m, const uint8_t*);
            out.emplace_back(p, p + rte_pktmbuf_data_len(m));
            rte_pktmbuf_free(m);
        }
        return out;
    }

    void discard_output() {
        for (Zone z : kAllZones) free_ring(tx_[idx(z)]);
        free_ring(pending_);
        ArpLearnMsg msg;
        while (rte_ring_dequeue_elem(learn_, &msg, sizeof msg) == 0) {
        }
    }

    // A clean slate: every session and fragment verdict of earlier rows expires.
    void next_row() {
        w_.now_s += 100000;
        expire_sessions(w_, *tables_, 1u << 20);
        drain_refeed(w_);
        w_.tx.flush_all(counters_);
        discard_output();
    }

    void run_row(const Row& row) {
        next_row();
        for (const Sent& s : row.before) ASSERT_NO_FATAL_FAILURE(receive(s.in, s.frame));
        discard_output();
        CounterTotals before;
        before.add(counters_);
        ASSERT_NO_FATAL_FAILURE(receive(row.in, row.frame));
        give_up_fragments();
        CounterTotals after;
        after.add(counters_);

        std::array<std::vector<Bytes>, kNumZones> out;
        for (Zone z : kAllZones) out[idx(z)] = sent(z);
        EXPECT_EQ(rte_ring_count(pending_), 0u) << "waits for ARP";
        uint64_t drops = 0;
        for (int d = 0; d < kNumDrops; ++d) drops += after.drops[d] - before.drops[d];
        std::string counted;
        for (int d = 0; d < kNumDrops; ++d)
            if (after.drops[d] != before.drops[d]) counted += std::string(" ") + kDropNames[d];
        EXPECT_EQ(after.rx[idx(row.in)], before.rx[idx(row.in)] + 1);

        const Expect& e = row.expect;
        if (e.drop != Drop::count) {
            const int d = static_cast<int>(e.drop);
            EXPECT_EQ(after.drops[d] - before.drops[d], 1u) << "expected " << kDropNames[d] << "; counted:" << counted;
            EXPECT_EQ(drops, 1u) << "counted:" << counted;
            EXPECT_EQ(after.dropped[idx(row.in)] - before.dropped[idx(row.in)], 1u) << "not counted on its port";
            for (Zone z : kAllZones) EXPECT_TRUE(out[idx(z)].empty()) << "a frame left on " << kZoneNames[idx(z)];
        } else if (!e.out) {
            EXPECT_EQ(drops, 0u) << "counted:" << counted;
            for (Zone z : kAllZones) EXPECT_TRUE(out[idx(z)].empty()) << "a frame left on " << kZoneNames[idx(z)];
        } else {
            EXPECT_EQ(drops, 0u) << "counted:" << counted;
            for (Zone z : kAllZones) {
                const size_t want = z == *e.out ? e.frames : 0;
                EXPECT_EQ(out[idx(z)].size(), want) << "frames out " << kZoneNames[idx(z)];
            }
            const auto& o = out[idx(*e.out)];
            if (e.len && !o.empty()) {
                EXPECT_EQ(o[0].size(), e.len) << "length of the frame out " << kZoneNames[idx(*e.out)];
            }
            if (e.check && !o.empty()) e.check(row.frame, o[0]);
            for (const Bytes& f : o) {
                ASSERT_GE(f.size(), sizeof(EthHdr));
                EXPECT_EQ(mac_text(eth_of(f)->src), mac_text(port_mac(*e.out))) << "Ethernet source";
                if (eth_of(f)->type.host() == kEtherTypeIpv4) {
                    EXPECT_TRUE(ip_checksum_valid(f)) << "IPv4 header checksum";
                    EXPECT_EQ(ip_of(f)->total_length.host() + sizeof(EthHdr), f.size()) << "total length";
                }
            }
        }
    }

    rte_mempool* pool_ = nullptr;
    unsigned initial_avail_ = 0;
    std::array<rte_ring*, kNumZones> rx_{}, tx_{};
    std::array<bool, kNumZones> port_made_{};
    std::array<PortInfo, kNumZones> ports_{};
    std::unique_ptr<Tables> tables_;
    std::atomic<const Tables*> published_{nullptr};
    rte_rcu_qsbr* qsbr_ = nullptr;
    std::unique_ptr<NeighbourTable> neigh_;
    rte_ring* learn_ = nullptr;
    rte_ring* pending_ = nullptr;
    rte_ring* inject_ = nullptr;
    rte_ring* refeed_ = nullptr;
    std::unique_ptr<Nat> nat_;
    std::unique_ptr<FragTable> frags_;
    Counters counters_;
    std::atomic<bool> stop_{false};
    WorkerCtx w_;
};

TEST_F(Malformed, EveryRowOfTheTable) {
    const std::vector<Row> table = rows();
    ASSERT_GT(table.size(), 60u);
    for (const Row& row : table) {
        SCOPED_TRACE(row.what + " (in on " + kZoneNames[idx(row.in)] + ")");
        ASSERT_NO_FATAL_FAILURE(run_row(row));
    }
    discard_output();
}

// ---------------------------------------------------------------- ARP spoofing and rate limits

// What the arp stage offers the control thread to learn, one frame at a time.
std::vector<ArpLearnMsg> learnt(rte_ring* ring) {
    std::vector<ArpLearnMsg> out;
    ArpLearnMsg msg;
    while (rte_ring_dequeue_elem(ring, &msg, sizeof msg) == 0) out.push_back(msg);
    return out;
}

TEST_F(Malformed, ArpSpoofingTeachesNothing) {
    const Mac evil = {0x02, 0xee, 0xee, 0xee, 0xee, 0x01};
    const Zone wan = Zone::wan, lan = Zone::lan, dmz = Zone::dmz;
    struct Spoof {
        std::string what;
        Zone in;
        Bytes frame;
    };
    auto reply = [&](Zone z, uint32_t spa, uint32_t tpa) {
        return arp_frame(port_mac(z), kArpOpReply, evil, spa, port_mac(z), tpa);
    };
    auto gratuitous = [&](uint32_t spa) { return arp_frame(kBroadcastMac, kArpOpRequest, evil, spa, kZeroMac, spa); };
    auto request = [&](uint32_t spa, uint32_t tpa) {
        return arp_frame(kBroadcastMac, kArpOpRequest, evil, spa, kZeroMac, tpa);
    };
    const std::vector<Spoof> spoofs = {
        {"reply claiming lan-ip, on lan", lan, reply(lan, kLanIp, kLanIp)},
        {"gratuitous ARP for lan-ip, on lan", lan, gratuitous(kLanIp)},
        {"reply claiming the gateway, on lan", lan, reply(lan, kGateway, kLanIp)},
        {"gratuitous ARP for the gateway, on lan", lan, gratuitous(kGateway)},
        {"reply claiming wan-ip, on lan", lan, reply(lan, kWanIp, kLanIp)},
        {"request from wan-ip for lan-ip, on lan", lan, request(kWanIp, kLanIp)},
        {"reply from outside the LAN subnet, on lan", lan, reply(lan, ipv4(10, 99, 0, 1), kLanIp)},
        {"reply claiming wan-ip, on wan", wan, reply(wan, kWanIp, kWanIp)},
        {"gratuitous ARP for wan-ip, on wan", wan, gratuitous(kWanIp)},
        {"reply claiming lan-ip, on wan", wan, reply(wan, kLanIp, kWanIp)},
        {"request for wan-ip from a LAN address, on wan", wan, request(kClient1, kWanIp)},
        {"reply from the internet, on wan", wan, reply(wan, kInternetHost, kWanIp)},
        {"reply from the wan broadcast address, on wan", wan, reply(wan, kWanBroadcast, kWanIp)},
        {"reply claiming the gateway, on dmz", dmz, reply(dmz, kGateway, kGateway)},
        {"gratuitous ARP for the gateway, on dmz", dmz, gratuitous(kGateway)},
        {"reply claiming lan-ip, on dmz", dmz, reply(dmz, kLanIp, kGateway)},
        {"request from a wan host for the gateway, on dmz", dmz, request(kWanHostAddr, kGateway)},
    };
    for (const Spoof& sp : spoofs) {
        SCOPED_TRACE(sp.what);
        next_row();
        const uint64_t ignored = counters_.drops[static_cast<int>(Drop::arp_ignored)].get();
        ASSERT_NO_FATAL_FAILURE(receive(sp.in, sp.frame));
        EXPECT_TRUE(learnt(learn_).empty()) << "offered to the neighbour table";
        EXPECT_EQ(counters_.drops[static_cast<int>(Drop::arp_ignored)].get(), ignored + 1);
        for (Zone z : kAllZones) EXPECT_TRUE(sent(z).empty()) << "a frame left on " << kZoneNames[idx(z)];
    }

    // The same path learns a real neighbour (the test can fail): the gateway
    // answering the router, with a new MAC, and a new LAN client.
    next_row();
    ASSERT_NO_FATAL_FAILURE(receive(wan, arp_frame(port_mac(wan), kArpOpReply, evil, kGateway, port_mac(wan), kWanIp)));
    std::vector<ArpLearnMsg> got = learnt(learn_);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(dotted(got[0].ip), dotted(kGateway));
    EXPECT_EQ(got[0].zone, idx(wan));
    EXPECT_EQ(got[0].create, 1);
    EXPECT_EQ(mac_text(got[0].mac), mac_text(evil));
    ASSERT_NO_FATAL_FAILURE(receive(lan, arp_frame(kBroadcastMac, kArpOpRequest, evil, ipv4(192, 168, 1, 50),
                                                   kZeroMac, kLanIp)));
    got = learnt(learn_);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(dotted(got[0].ip), "192.168.1.50");
    EXPECT_EQ(got[0].zone, idx(lan));
    discard_output();
}

// The single writer of the neighbour table checks every learn message again:
// a forged one (as if a worker had been fooled) changes nothing.
TEST_F(Malformed, NeighbourManagerRefusesForgedLearns) {
    NeighbourManager::Deps d{neigh_.get(), pool_, learn_, pending_, {inject_}, ports_, &counters_, rte_get_tsc_hz()};
    NeighbourManager mgr(d);
    mgr.set_addresses(tables_->addr);
    const Mac evil = {0x02, 0xee, 0xee, 0xee, 0xee, 0x02};
    struct Forged {
        Zone z;
        uint32_t ip;
        Mac mac;
    };
    const std::vector<Forged> forged = {
        {Zone::lan, kLanIp, evil},         {Zone::lan, kGateway, evil},    {Zone::lan, kWanIp, evil},
        {Zone::wan, kWanIp, evil},         {Zone::wan, kLanIp, evil},      {Zone::dmz, kGateway, evil},
        {Zone::dmz, kLanIp, evil},         {Zone::dmz, kWanHostAddr, evil}, {Zone::wan, kGateway, kZeroMac},
        {Zone::wan, kGateway, kBroadcastMac}, {Zone::lan, kClient1, kMulticastMac}, {Zone::wan, 0, evil},
        {Zone::lan, ipv4(224, 0, 0, 1), evil},
    };
    for (const Forged& f : forged) {
        ArpLearnMsg msg{f.ip, static_cast<uint8_t>(idx(f.z)), 1, {}, {}};
        std::memcpy(msg.mac, f.mac.data(), 6);
        ASSERT_EQ(rte_ring_enqueue_elem(learn_, &msg, sizeof msg), 0);
    }
    ArpLearnMsg bad_zone{kClient2, 7, 1, {}, {}};
    std::memcpy(bad_zone.mac, evil.data(), 6);
    ASSERT_EQ(rte_ring_enqueue_elem(learn_, &bad_zone, sizeof bad_zone), 0);
    // And one real neighbour, so that the test can fail.
    ArpLearnMsg good{ipv4(192, 168, 1, 51), static_cast<uint8_t>(idx(Zone::lan)), 1, {}, {}};
    std::memcpy(good.mac, evil.data(), 6);
    ASSERT_EQ(rte_ring_enqueue_elem(learn_, &good, sizeof good), 0);

    mgr.poll(rte_rdtsc());

    uint64_t mac = 0;
    for (const Forged& f : forged) {
        SCOPED_TRACE(std::string(kZoneNames[idx(f.z)]) + " " + dotted(f.ip) + " " + mac_text(f.mac));
        if (neigh_->lookup(f.z, f.ip, &mac)) {
            // Only the entries the fixture made exist, unchanged.
            const bool preset = (f.z == Zone::wan && f.ip == kGateway) || (f.z == Zone::lan && f.ip == kClient1);
            EXPECT_TRUE(preset) << "learnt";
            EXPECT_NE(mac, mac_to_word(f.mac.data())) << "overwritten";
        }
    }
    EXPECT_TRUE(neigh_->lookup(Zone::wan, kGateway, &mac));
    EXPECT_EQ(mac, mac_to_word(kGatewayMac.data()));
    EXPECT_TRUE(neigh_->lookup(Zone::lan, kClient1, &mac));
    EXPECT_EQ(mac, mac_to_word(kClient1Mac.data()));
    for (Zone z : kAllZones) EXPECT_FALSE(neigh_->lookup(z, kClient2, &mac) && mac == mac_to_word(evil.data()));
    ASSERT_TRUE(neigh_->lookup(Zone::lan, ipv4(192, 168, 1, 51), &mac)) << "a real neighbour was not learnt";
    EXPECT_EQ(mac, mac_to_word(evil.data()));
    EXPECT_EQ(rte_ring_count(inject_), 0u) << "frames sent";
}

// Every ARP reply the router generates takes a token; when the bucket is
// empty the request is dropped and counted (ratelimited), so an ARP flood
// never becomes a reply flood.
TEST_F(Malformed, ArpRepliesAreRateLimited) {
    // Three tokens, and the next one an hour away: no refill during the test.
    w_.arp_replies = TokenBucket(1, 3, rte_get_tsc_hz() * 3600);
    const std::vector<std::pair<Zone, Bytes>> asks = {
        {Zone::wan, arp_request(kGatewayMac, kGateway, kWanIp)},
        {Zone::lan, arp_request(kClient1Mac, kClient1, kLanIp)},
        {Zone::dmz, arp_request(kServerMac, kWanIp, kGateway)},
        {Zone::wan, arp_request(kGatewayMac, 0, kWanIp)},
        {Zone::lan, arp_request(kClient1Mac, 0, kLanIp)},
        {Zone::dmz, arp_request(kServerMac, kWanIp, kInternetHost)},
    };
    next_row();
    const uint64_t replies = counters_.arp_replies_sent.get();
    const uint64_t limited = counters_.drops[static_cast<int>(Drop::ratelimited)].get();
    size_t out = 0;
    for (const auto& [z, f] : asks) {
        ASSERT_NO_FATAL_FAILURE(receive(z, f));
        for (Zone o : kAllZones) out += sent(o).size();
    }
    EXPECT_EQ(out, 3u);
    EXPECT_EQ(counters_.arp_replies_sent.get() - replies, 3u);
    EXPECT_EQ(counters_.drops[static_cast<int>(Drop::ratelimited)].get() - limited, 3u);
    discard_output();
}

}  // namespace
}  // namespace ipshare
