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
#include <cstring>
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
};

Expect dropped(Drop d) { return Expect{d, std::nullopt, 0, 0}; }
Expect passed(Zone z, size_t len = 0, size_t frames = 1) { return Expect{Drop::count, z, frames, len}; }

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
    r.push_back({"record route option", wan, with_options(wan, Bytes{7, 7, 4, 0, 0, 0, 0, 0}),
                 passed(dmz, 14 + 28 + 16)});
    r.push_back({"record route from lan, NAT'd", lan, with_options(lan, Bytes{7, 7, 4, 0, 0, 0, 0, 0}),
                 passed(wan, 14 + 28 + 16)});
    r.push_back({"NOPs and end of options", wan, with_options(wan, Bytes{1, 1, 1, 0}), passed(dmz)});
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
        r.push_back({"IPv6", wan, with_eth_type(good, 0x86dd), dropped(Drop::ethertype_unsupported)});
        r.push_back({"EtherType 0 (802.3 length)", wan, with_eth_type(good, 0x002e),
                     dropped(Drop::ethertype_unsupported)});
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

}  // namespace
}  // namespace ipshare
