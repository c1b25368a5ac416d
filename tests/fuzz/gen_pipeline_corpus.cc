// Writes the seed corpus of fuzz_pipeline (format: pipeline_world.h) into the
// directory given as argument, one file per frame:
//   gen_pipeline_corpus tests/fuzz/corpus/fuzz_pipeline
// The frames fit the world of the fuzzer: replies that match its sessions,
// ICMP errors that quote them, fragments, options, VLANs, cut-short frames.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "pipeline_world.h"

using namespace ipshare;
using namespace ipshare::fuzz;

namespace {

Bytes ip_only(const Bytes& f) { return Bytes(f.begin() + sizeof(EthHdr), f.end()); }

Bytes cut(Bytes f, size_t n) {
    f.resize(n);
    return f;
}

// An ICMP error about `about` (a whole frame; its datagram is quoted, up to
// `quote` bytes), from `src` to `dst`.
Bytes icmp_error(const Mac& dst_mac, const Mac& src_mac, uint32_t src, uint32_t dst, uint8_t type, uint8_t code,
                 const Bytes& about, size_t quote = 28, uint16_t mtu = 0) {
    Bytes q = ip_only(about);
    if (q.size() > quote) q.resize(quote);
    return PacketBuilder()
        .eth(dst_mac, src_mac)
        .ipv4({.src = src, .dst = dst, .proto = kIpProtoIcmp})
        .icmp(type, code, 0, mtu)
        .payload(q)
        .build();
}

Bytes udp_fragment(const Mac& dst_mac, const Mac& src_mac, uint32_t src, uint32_t dst, uint16_t sport,
                   uint16_t dport, uint16_t frag, size_t payload, uint16_t id = 0x7777) {
    Bytes f = PacketBuilder()
                  .eth(dst_mac, src_mac)
                  .ipv4({.src = src, .dst = dst, .proto = kIpProtoUdp, .id = id, .frag = frag})
                  .udp(sport, dport)
                  .payload(pattern(payload, 9))
                  .build();
    return f;
}

Bytes raw_fragment(const Mac& dst_mac, const Mac& src_mac, uint32_t src, uint32_t dst, uint8_t proto, uint16_t frag,
                   size_t payload, uint16_t id = 0x7777) {
    return PacketBuilder()
        .eth(dst_mac, src_mac)
        .ipv4({.src = src, .dst = dst, .proto = proto, .id = id, .frag = frag})
        .payload(pattern(payload, 3))
        .build();
}

Bytes with_options(const Mac& dst_mac, const Mac& src_mac, uint32_t src, uint32_t dst, const Bytes& options) {
    return PacketBuilder()
        .eth(dst_mac, src_mac)
        .ipv4({.src = src, .dst = dst, .proto = kIpProtoUdp, .options = options})
        .udp(40000, 53)
        .payload(pattern(8))
        .build();
}

Bytes vlan(const Bytes& f, uint16_t tpid = kEtherTypeVlan) {
    Bytes v(f.begin(), f.begin() + 12);
    v.push_back(static_cast<uint8_t>(tpid >> 8));
    v.push_back(static_cast<uint8_t>(tpid));
    v.push_back(0x00);
    v.push_back(0x0a);  // VID 10
    v.insert(v.end(), f.begin() + 12, f.end());
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIRECTORY\n", argv[0]);
        return 2;
    }
    const std::string dir = argv[1];
    const Mac wan = router_mac(kWan), lan = router_mac(kLan), dmz = router_mac(kDmz);
    std::vector<Seed> seeds;
    auto add = [&](const std::string& name, int zone, const Bytes& f) { seeds.push_back({name, zone, f}); };

    // The sessions' own packets, both ways.
    const Bytes out_tcp = tcp_frame(lan, kClient1Mac, kClient1, kInternetHost, kTcpClientPort, 80, kTcpAck, 20);
    const Bytes out_udp = udp_to(lan, kClient1Mac, kClient1, kInternetHost, kUdpClientPort, 53, 24);
    const Bytes out_echo = echo_request(lan, kClient1Mac, kClient1, kInternetHost, 64, 16, kEchoId, 2);
    const Bytes in_tcp = tcp_frame(wan, kGatewayMac, kInternetHost, kWanIp, 80, kTcpClientPort, kTcpSyn | kTcpAck);
    const Bytes in_udp = udp_to(wan, kGatewayMac, kInternetHost, kWanIp, 53, kUdpClientPort, 40);
    const Bytes in_echo_reply = PacketBuilder()
                                    .eth(wan, kGatewayMac)
                                    .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoIcmp})
                                    .icmp(kIcmpEchoReply, 0, kEchoId, 1)
                                    .payload(pattern(16))
                                    .build();
    add("lan_tcp_session", kLan, out_tcp);
    add("lan_udp_session", kLan, out_udp);
    add("lan_echo_session", kLan, out_echo);
    add("wan_tcp_reply", kWan, in_tcp);
    add("wan_tcp_rst", kWan, tcp_frame(wan, kGatewayMac, kInternetHost, kWanIp, 80, kTcpClientPort, kTcpRst));
    add("wan_tcp_fin", kWan, tcp_frame(wan, kGatewayMac, kInternetHost, kWanIp, 80, kTcpClientPort, kTcpFin | kTcpAck, 10));
    add("wan_udp_reply", kWan, in_udp);
    add("wan_echo_reply", kWan, in_echo_reply);
    add("wan_udp_other_remote", kWan, udp_to(wan, kGatewayMac, kWanHost, kWanIp, 53, kUdpClientPort));
    add("wan_gre_reply", kWan,
        PacketBuilder().eth(wan, kGatewayMac).ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoGre})
            .payload(pattern(24)).build());

    // Forward: the open connection and a new one; the target's replies.
    add("wan_forward_data", kWan,
        tcp_frame(wan, kGatewayMac, kInternetHost, kWanIp, kForwardRemotePort, 8080, kTcpAck, 30));
    add("wan_forward_new", kWan, tcp_frame(wan, kGatewayMac, kWanHost, kWanIp, 41000, 8080, kTcpSyn));
    add("lan_forward_reply", kLan,
        tcp_frame(lan, kClient2Mac, kClient2, kInternetHost, 80, kForwardRemotePort, kTcpSyn | kTcpAck));
    add("lan_hairpin_forward", kLan, tcp_frame(lan, kClient1Mac, kClient1, kWanIp, 45000, 8080, kTcpSyn));
    add("lan_hairpin_mapping", kLan, udp_to(lan, kClient2Mac, kClient2, kWanIp, 5000, kUdpClientPort));
    add("lan_hairpin_lan_ip_reply", kLan + 3, tcp_frame(lan, kClient2Mac, kClient2, kLanIp, 80, 61010, kTcpSyn | kTcpAck));

    // To the server and back.
    add("wan_to_server_tcp", kWan, tcp_frame(wan, kGatewayMac, kInternetHost, kWanIp, 50000, 443, kTcpSyn));
    add("wan_to_server_echo", kWan, echo_request(wan, kGatewayMac, kInternetHost, kWanIp, 50, 32, 0x1111, 1));
    add("wan_to_server_esp", kWan,
        PacketBuilder().eth(wan, kGatewayMac).ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoEsp})
            .payload(pattern(40)).build());
    add("dmz_to_internet", kDmz, tcp_frame(dmz, kServerMac, kWanIp, kInternetHost, 443, 50000, kTcpAck, 100));
    add("dmz_to_wan_onlink_unresolved", kDmz, udp_to(dmz, kServerMac, kWanIp, kWanOnLinkRouted, 123, 123));
    add("dmz_reply_tracked", kDmz,
        tcp_frame(dmz, kServerMac, kWanIp, kClient1, 22, kTrackClientPort, kTcpSyn | kTcpAck));
    add("dmz_new_to_lan", kDmz, tcp_frame(dmz, kServerMac, kWanIp, kClient1, 5555, 22, kTcpSyn));
    add("dmz_echo_lan_ip", kDmz, echo_request(dmz, kServerMac, kWanIp, kLanIp));
    add("dmz_spoofed", kDmz, udp_to(dmz, kServerMac, kWanHost, kInternetHost, 1, 2));
    add("lan_to_server", kLan, tcp_frame(lan, kClient1Mac, kClient1, kWanIp, 40002, 443, kTcpSyn));
    add("lan_track_data", kLan, tcp_frame(lan, kClient1Mac, kClient1, kWanIp, kTrackClientPort, 22, kTcpAck, 12));

    // New NAT flows, rejects, the router itself, routes.
    add("lan_new_tcp", kLan, tcp_frame(lan, kClient1Mac, kClient1, kInternetHost, 33000, 443, kTcpSyn));
    add("lan_new_udp_unresolved_client", kLan, udp_to(lan, kClient3Mac, kClient3, kInternetHost, 33001, 443));
    add("lan_smtp_reject", kLan, tcp_frame(lan, kClient1Mac, kClient1, kInternetHost, 33002, 25, kTcpSyn));
    add("lan_netbios_reject", kLan, udp_to(lan, kClient1Mac, kClient1, kInternetHost, 137, 137));
    add("lan_echo_lan_ip", kLan, echo_request(lan, kClient1Mac, kClient1, kLanIp, 64, 56, 7, 7));
    add("lan_udp_lan_ip", kLan, udp_to(lan, kClient1Mac, kClient1, kLanIp, 1000, 53));
    add("lan_via_lan_router", kLan, udp_to(lan, kClient1Mac, kClient1, kBehindLanRouter, 1000, 53));
    add("lan_from_behind_router", kLan, udp_to(lan, kLanRouterMac, kBehindLanRouter, kInternetHost, 1000, 53));
    add("lan_gre_out", kLan,
        PacketBuilder().eth(lan, kClient1Mac).ipv4({.src = kClient1, .dst = kInternetHost, .proto = kIpProtoGre})
            .payload(pattern(20)).build());
    add("lan_sctp_out", kLan,
        PacketBuilder().eth(lan, kClient2Mac).ipv4({.src = kClient2, .dst = kInternetHost, .proto = kIpProtoSctp})
            .payload(pattern(28)).build());
    add("lan_timestamp_out", kLan,
        PacketBuilder().eth(lan, kClient1Mac).ipv4({.src = kClient1, .dst = kInternetHost, .proto = kIpProtoIcmp})
            .icmp(kIcmpTimestamp, 0, 1, 1).payload(pattern(12)).build());
    add("wan_ttl1", kWan, udp_to(wan, kGatewayMac, kInternetHost, kWanIp, 53, kUdpClientPort, 16, 1));
    add("lan_ttl1", kLan, tcp_frame(lan, kClient1Mac, kClient1, kInternetHost, kTcpClientPort, 80, kTcpAck, 0, 1));
    add("dmz_ttl1", kDmz, udp_to(dmz, kServerMac, kWanIp, kInternetHost, 1000, 53, 8, 1));

    // ICMP errors that quote a session, or not.
    const Bytes sent_tcp = tcp_frame(wan, wan, kWanIp, kInternetHost, kTcpClientPort, 80, kTcpSyn);
    const Bytes sent_udp = udp_to(wan, wan, kWanIp, kInternetHost, kUdpClientPort, 53);
    const Bytes sent_echo = echo_request(wan, wan, kWanIp, kInternetHost, 64, 16, kEchoId, 1);
    add("wan_unreach_tcp_session", kWan, icmp_error(wan, kGatewayMac, kGateway, kWanIp, kIcmpDestUnreach, 1, sent_tcp));
    add("wan_unreach_udp_session", kWan,
        icmp_error(wan, kGatewayMac, kInternetHost, kWanIp, kIcmpDestUnreach, 3, sent_udp, 60));
    add("wan_ttl_exceeded_echo_session", kWan,
        icmp_error(wan, kGatewayMac, kGateway, kWanIp, kIcmpTimeExceeded, 0, sent_echo));
    add("wan_frag_needed_tcp_session", kWan,
        icmp_error(wan, kGatewayMac, kGateway, kWanIp, kIcmpDestUnreach, 4, sent_tcp, 40, 1400));
    add("wan_unreach_quote_truncated", kWan,
        icmp_error(wan, kGatewayMac, kGateway, kWanIp, kIcmpDestUnreach, 1, sent_tcp, 24));
    add("wan_unreach_quote_header_only", kWan,
        icmp_error(wan, kGatewayMac, kGateway, kWanIp, kIcmpDestUnreach, 1, sent_tcp, 20));
    const Bytes sent_error = icmp_error(wan, wan, kWanIp, kInternetHost, kIcmpDestUnreach, 3, sent_udp);
    add("wan_unreach_quote_icmp_error", kWan,
        icmp_error(wan, kGatewayMac, kGateway, kWanIp, kIcmpDestUnreach, 1, sent_error, 56));
    add("wan_unreach_quote_forward", kWan,
        icmp_error(wan, kGatewayMac, kGateway, kWanIp, kIcmpDestUnreach, 1,
                   tcp_frame(wan, wan, kWanIp, kInternetHost, 8080, kForwardRemotePort, kTcpSyn | kTcpAck)));
    add("wan_unreach_no_session", kWan,
        icmp_error(wan, kGatewayMac, kGateway, kWanIp, kIcmpDestUnreach, 1,
                   tcp_frame(wan, wan, kWanIp, kInternetHost, 443, 50000, kTcpAck)));
    add("lan_unreach_about_session", kLan,
        icmp_error(lan, kClient1Mac, kClient1, kInternetHost, kIcmpDestUnreach, 3,
                   udp_to(lan, lan, kInternetHost, kClient1, 53, kUdpClientPort)));
    add("lan_unreach_unmatched", kLan,
        icmp_error(lan, kClient1Mac, kClient1, kInternetHost, kIcmpDestUnreach, 3,
                   udp_to(lan, lan, kInternetHost, kClient1, 53, 9999)));
    add("dmz_unreach_about_tracked", kDmz,
        icmp_error(dmz, kServerMac, kWanIp, kClient1, kIcmpDestUnreach, 3,
                   tcp_frame(dmz, dmz, kClient1, kWanIp, kTrackClientPort, 22, kTcpAck)));

    // Fragments: the first, a later one, a zero-length one, overlapping ones.
    add("wan_udp_first_fragment", kWan,
        udp_fragment(wan, kGatewayMac, kInternetHost, kWanIp, 53, kUdpClientPort, kIpFlagMF, 64));
    add("wan_later_fragment", kWan, raw_fragment(wan, kGatewayMac, kInternetHost, kWanIp, kIpProtoUdp, 9, 40));
    add("wan_last_fragment", kWan, raw_fragment(wan, kGatewayMac, kInternetHost, kWanIp, kIpProtoUdp, 0x20, 16));
    add("wan_zero_length_fragment", kWan, raw_fragment(wan, kGatewayMac, kInternetHost, kWanIp, kIpProtoUdp, kIpFlagMF | 4, 0));
    add("lan_udp_first_fragment", kLan,
        udp_fragment(lan, kClient1Mac, kClient1, kInternetHost, kUdpClientPort, 53, kIpFlagMF, 72));
    add("lan_later_fragment", kLan, raw_fragment(lan, kClient1Mac, kClient1, kInternetHost, kIpProtoUdp, 10, 24));
    add("lan_first_fragment_tcp_short", kLan,
        raw_fragment(lan, kClient1Mac, kClient1, kInternetHost, kIpProtoTcp, kIpFlagMF, 8));
    add("lan_smtp_first_fragment_short", kLan,
        PacketBuilder().eth(lan, kClient1Mac)
            .ipv4({.src = kClient1, .dst = kInternetHost, .proto = kIpProtoTcp, .frag = kIpFlagMF})
            .payload(Bytes{0x80, 0x00, 0x00, 0x19, 0, 0, 0, 1}).build());
    add("dmz_fragment", kDmz, raw_fragment(dmz, kServerMac, kWanIp, kInternetHost, kIpProtoUdp, kIpFlagMF | 3, 32));

    // Big datagrams: fragmented on the way out, or refused with DF.
    add("wan_big_to_server", kWan, udp_to(wan, kGatewayMac, kInternetHost, kWanIp, 53, 5353, 1700));
    {
        Bytes df = PacketBuilder().eth(dmz, kServerMac)
                       .ipv4({.src = kWanIp, .dst = kInternetHost, .proto = kIpProtoUdp, .frag = kIpFlagDF})
                       .udp(1000, 2000).payload(pattern(1600)).build();
        add("dmz_big_df", kDmz, df);
    }

    // IP options.
    add("wan_record_route", kWan,
        with_options(wan, kGatewayMac, kInternetHost, kWanIp, Bytes{7, 7, 4, 0, 0, 0, 0, 0}));
    add("wan_lsrr", kWan, with_options(wan, kGatewayMac, kInternetHost, kWanIp, Bytes{131, 7, 4, 10, 0, 0, 1, 0}));
    add("lan_ssrr", kLan, with_options(lan, kClient1Mac, kClient1, kInternetHost, Bytes{137, 7, 4, 10, 0, 0, 1, 0}));
    add("lan_nop_end", kLan, with_options(lan, kClient1Mac, kClient1, kInternetHost, Bytes{1, 1, 1, 0}));
    add("lan_bad_option_len", kLan, with_options(lan, kClient1Mac, kClient1, kInternetHost, Bytes{7, 9, 4, 0}));
    add("lan_record_route", kLan,
        with_options(lan, kClient1Mac, kClient1, kInternetHost, Bytes{7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
    add("lan_timestamp_option", kLan,
        with_options(lan, kClient1Mac, kClient1, kInternetHost, Bytes{68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
    add("wan_router_alert", kWan, with_options(wan, kGatewayMac, kInternetHost, kWanIp, Bytes{148, 4, 0, 0}));
    add("dmz_lsrr", kDmz, with_options(dmz, kServerMac, kWanIp, kInternetHost, Bytes{1, 131, 7, 4, 10, 0, 0, 1}));

    // ARP.
    add("wan_arp_who_has_wan_ip", kWan, arp_frame(kBroadcastMac, kArpOpRequest, kGatewayMac, kGateway, kZeroMac, kWanIp));
    add("wan_arp_who_has_other", kWan, arp_frame(kBroadcastMac, kArpOpRequest, kGatewayMac, kGateway, kZeroMac, kWanHost));
    add("wan_arp_reply", kWan, arp_frame(wan, kArpOpReply, kGatewayMac, kGateway, wan, kWanIp));
    add("lan_arp_who_has_lan_ip", kLan, arp_frame(kBroadcastMac, kArpOpRequest, kClient3Mac, kClient3, kZeroMac, kLanIp));
    add("lan_arp_probe", kLan, arp_frame(kBroadcastMac, kArpOpRequest, kClient3Mac, 0, kZeroMac, kClient3));
    add("dmz_arp_who_has_gateway", kDmz, arp_frame(kBroadcastMac, kArpOpRequest, kServerMac, kWanIp, kZeroMac, kGateway));
    add("dmz_arp_who_has_client", kDmz, arp_frame(kBroadcastMac, kArpOpRequest, kServerMac, kWanIp, kZeroMac, kClient1));
    {
        Bytes bad = arp_frame(kBroadcastMac, kArpOpRequest, kGatewayMac, kGateway, kZeroMac, kWanIp);
        arp_of(bad)->hlen = 8;
        add("wan_arp_bad_hlen", kWan, bad);
        bad = arp_frame(kBroadcastMac, kArpOpRequest, kGatewayMac, kGateway, kZeroMac, kWanIp);
        std::memset(arp_of(bad)->sha, 0, 6);
        add("wan_arp_zero_sha", kWan, bad);
    }
    // Who may ask, and spoofing (nothing of it is answered or learnt).
    const Mac evil = {0x02, 0xee, 0xee, 0xee, 0xee, 0x01};
    add("wan_arp_probe_wan_ip", kWan, arp_frame(kBroadcastMac, kArpOpRequest, kGatewayMac, 0, kZeroMac, kWanIp));
    add("wan_arp_who_has_from_internet", kWan,
        arp_frame(kBroadcastMac, kArpOpRequest, kGatewayMac, kInternetHost, kZeroMac, kWanIp));
    add("wan_arp_reply_claims_wan_ip", kWan, arp_frame(wan, kArpOpReply, evil, kWanIp, wan, kWanIp));
    add("lan_arp_gratuitous_lan_ip", kLan, arp_frame(kBroadcastMac, kArpOpRequest, evil, kLanIp, kZeroMac, kLanIp));
    add("lan_arp_reply_claims_gateway", kLan, arp_frame(lan, kArpOpReply, evil, kGateway, lan, kLanIp));
    add("lan_arp_who_has_from_outside", kLan,
        arp_frame(kBroadcastMac, kArpOpRequest, evil, kWanHost, kZeroMac, kLanIp));
    add("dmz_arp_gratuitous_gateway", kDmz, arp_frame(kBroadcastMac, kArpOpRequest, evil, kGateway, kZeroMac, kGateway));
    add("dmz_arp_who_has_broadcast", kDmz,
        arp_frame(kBroadcastMac, kArpOpRequest, kServerMac, kWanIp, kZeroMac, ipv4(203, 0, 113, 255)));

    // Layer 2 oddities and cut-short frames.
    add("wan_vlan", kWan, vlan(in_udp));
    add("lan_qinq", kLan, vlan(out_udp, kEtherTypeQinQ));
    add("wan_vlan_cut", kWan, cut(vlan(in_udp), 16));
    add("wan_multicast_ip_source", kWan, udp_to(wan, kGatewayMac, ipv4(224, 0, 0, 1), kWanIp, 5353, 5353));
    add("wan_broadcast_ip_source", kWan, udp_to(wan, kGatewayMac, 0xffffffffu, kWanIp, 67, 68));
    add("wan_net_broadcast_source", kWan, udp_to(wan, kGatewayMac, ipv4(203, 0, 113, 255), kWanIp, 1, 2));
    add("lan_broadcast_ip_source", kLan, udp_to(lan, kClient1Mac, ipv4(192, 168, 1, 255), kInternetHost, 1, 2));
    add("lan_to_mdns_group", kLan, udp_to(lan, kClient1Mac, kClient1, ipv4(224, 0, 0, 251), 5353, 5353));
    add("lan_to_lan_broadcast", kLan, udp_to(lan, kClient1Mac, kClient1, ipv4(192, 168, 1, 255), 137, 137));
    add("wan_ipv6", kWan, PacketBuilder().eth(wan, kGatewayMac, 0x86dd).payload(pattern(40)).build());
    {
        Bytes mc = in_udp;
        eth_of(mc)->src[0] |= 1;
        add("wan_multicast_source", kWan, mc);
    }
    add("wan_eth_only", kWan, cut(in_udp, 14));
    add("wan_ip_cut", kWan, cut(in_udp, 30));
    add("lan_tcp_cut", kLan, cut(out_tcp, 14 + 20 + 12));
    add("lan_udp_cut", kLan, cut(out_udp, 14 + 20 + 4));
    add("wan_icmp_cut", kWan, cut(in_echo_reply, 14 + 20 + 4));
    {
        Bytes padded = PacketBuilder().eth(wan, kGatewayMac)
                           .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoIcmp})
                           .icmp(kIcmpEchoReply, 0, kEchoId, 9).pad_to(60).build();
        add("wan_echo_reply_padded", kWan, padded);
    }
    {
        Bytes doff = out_tcp;
        l4_of(doff)[12] = 0xf0;  // data offset 60 bytes, past the end
        add("lan_tcp_doff_past_end", kLan, doff);
    }

    // Variant 1 (endpoint-independent filtering, hairpin source lan).
    add("v1_wan_udp_other_remote", kWan + 3, udp_to(wan, kGatewayMac, kWanHost, kWanIp, 999, kUdpClientPort));
    add("v1_lan_hairpin_forward", kLan + 3, tcp_frame(lan, kClient1Mac, kClient1, kWanIp, 45001, 8080, kTcpSyn));
    add("v1_wan_telnet_reject", kWan + 3, tcp_frame(wan, kGatewayMac, kInternetHost, kWanIp, 50001, 23, kTcpSyn));
    add("v1_wan_tftp_reject", kWan + 3, udp_to(wan, kGatewayMac, kInternetHost, kWanIp, 50001, 69));
    add("v1_dmz_smtp_reject", kDmz + 3, tcp_frame(dmz, kServerMac, kWanIp, kInternetHost, 50002, 25, kTcpSyn));
    add("v1_dmz_new_to_lan_reject", kDmz + 3, tcp_frame(dmz, kServerMac, kWanIp, kClient1, 5555, 22, kTcpSyn));
    add("v1_dmz_reply_tracked", kDmz + 3,
        tcp_frame(dmz, kServerMac, kWanIp, kClient1, 22, kTrackClientPort, kTcpSyn | kTcpAck));

    int written = 0;
    for (const Seed& s : seeds) {
        const std::string path = dir + "/" + s.name;
        FILE* f = std::fopen(path.c_str(), "wb");
        if (!f) {
            std::perror(path.c_str());
            return 1;
        }
        const uint8_t port = static_cast<uint8_t>(s.zone);
        std::fwrite(&port, 1, 1, f);
        std::fwrite(s.frame.data(), 1, s.frame.size(), f);
        std::fclose(f);
        ++written;
    }
    std::printf("%d seeds written\n", written);
    return 0;
}
