// Malformed and unusual frames through the whole walk (process_burst), one
// table: each row is a frame, the port it arrives on, and what must happen:
// dropped with a named counter (that counter, and no other, rises by one, and
// nothing leaves any port), or passed (it leaves on the expected port, nothing
// is counted as a drop). Real mbufs, a real mempool, ethdev ports backed by
// rte_rings (tests/support/ring_router.h; main in eal_main.cc).
//
// This file: the test that runs the table, and its rows about the IPv4
// layer (truncated frames, the IPv4 header and its options, fragments, TCP
// data offsets, ICMP errors, broadcast and multicast addresses). The rows
// about ARP and Ethernet are in test_malformed_link.cc; what a row is, the
// frames rows share and the Malformed fixture, in malformed_fixture.h.
//
// Rows may send frames before the one under test (a session to match, the
// first fragment of a datagram); their effects are not checked. After each
// row, fragments still waiting for their first one are given up as the
// worker does (inbound ones go to the server, outbound ones are dropped), and
// time jumps ahead so that no session or fragment verdict outlives its row.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "malformed_fixture.h"
#include "packet_builder.h"

namespace ipshare::test::malformed {
namespace {

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

}  // namespace

// ---------------------------------------------------------------- the rows

void add_ipv4_rows(std::vector<Row>& r) {
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
}

void add_address_rows(std::vector<Row>& r) {
    const Zone wan = Zone::wan, lan = Zone::lan, dmz = Zone::dmz;

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
}

namespace {

std::vector<Row> rows() {
    std::vector<Row> r;
    add_ipv4_rows(r);
    add_link_rows(r);
    add_address_rows(r);
    return r;
}

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
}  // namespace ipshare::test::malformed
