// The world fuzz_pipeline runs in, shared with gen_pipeline_corpus (which
// writes seeds that fit it): the reference configuration of the design brief
// with a port forward and two filter rules that send rejects, the router's
// port MACs, the neighbours known in advance, and the legitimate packets that
// open NAT sessions before each input. Pure: no DPDK.
//
// Input format of fuzz_pipeline: byte 0 chooses the ingress port ((byte &
// 0x7f) % 3: wan, lan, dmz), whether the harness leaves the checksums as they
// are (bit 7 set) or makes them right, and the configuration variant
// (((byte & 0x7f) / 3) % 2: 0 the base
// configuration, 1 with `napt filtering endpoint-independent` and `hairpin
// source lan`); the rest is one Ethernet frame.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "packet_builder.h"

namespace ipshare::fuzz {

using namespace ipshare::test;

inline const char* const kBaseConfig =
    "port wan net_ring_fuzz_wan\n"
    "port lan net_ring_fuzz_lan\n"
    "port dmz net_ring_fuzz_dmz\n"
    "lan address 192.168.1.1/24\n"
    "wan network 203.0.113.0/24 gateway 203.0.113.1\n"
    "server address 203.0.113.10\n"
    "napt ports 61000-65535\n"
    "route 10.20.0.0/16 via 192.168.1.254\n"
    "route 203.0.113.128/25 dev wan\n"
    "forward tcp 8080 to 192.168.1.12 port 80\n"
    "filter reject from lan to wan proto tcp port 25\n"
    "filter reject from lan to wan proto udp port 137\n";

inline const char* const kVariantConfig =
    "napt filtering endpoint-independent\n"
    "hairpin source lan\n"
    "filter reject from wan to dmz proto tcp port 23\n"
    "filter reject from wan to dmz proto udp port 69\n"
    "filter reject from dmz to wan proto tcp port 25\n"
    "filter policy from dmz to lan reject\n";

inline constexpr int kVariants = 2;

// The router's port MACs (the ring PMD has none worth using).
inline Mac router_mac(int zone) { return Mac{0x02, 0x1a, 0x00, 0x00, 0x00, static_cast<uint8_t>(0x10 + zone)}; }
inline constexpr int kWan = 0, kLan = 1, kDmz = 2;

inline constexpr uint32_t kClient2 = ipv4(192, 168, 1, 12);    // the forward's target
inline constexpr uint32_t kClient3 = ipv4(192, 168, 1, 13);    // no neighbour entry: waits for ARP
inline constexpr uint32_t kBehindLanRouter = ipv4(10, 20, 3, 4);
inline constexpr uint32_t kWanOnLinkRouted = ipv4(203, 0, 113, 200);  // on-link, unresolved
inline constexpr uint32_t kWanHost = ipv4(203, 0, 113, 77);

inline constexpr Mac kClient2Mac = {0x02, 0x00, 0x5e, 0x00, 0x01, 0x0c};
inline constexpr Mac kClient3Mac = {0x02, 0x00, 0x5e, 0x00, 0x01, 0x0d};
inline constexpr Mac kLanRouterMac = {0x02, 0x00, 0x5e, 0x00, 0x01, 0xfe};

struct Neighbour {
    int zone;
    uint32_t ip;
    Mac mac;
};
inline const std::vector<Neighbour>& neighbours() {
    static const std::vector<Neighbour> n = {
        {kWan, kGateway, kGatewayMac},     {kDmz, kWanIp, kServerMac},      {kLan, kClient1, kClient1Mac},
        {kLan, kClient2, kClient2Mac},     {kLan, kLanRouter, kLanRouterMac},
    };
    return n;
}

// Sessions opened before each input. Client ports (and the ICMP id) lie in
// the napt range, so port preservation gives them the same outside port
// every time: replies to 61001..61004 on wan-ip match.
inline constexpr uint16_t kTcpClientPort = 61001;   // 192.168.1.11:61001 -> 198.51.100.20:80
inline constexpr uint16_t kUdpClientPort = 61002;   // 192.168.1.11:61002 -> 198.51.100.20:53
inline constexpr uint16_t kEchoId = 61003;          // 192.168.1.11 echo id 61003 -> 198.51.100.20
inline constexpr uint16_t kForwardRemotePort = 40000;  // 198.51.100.20:40000 -> wan-ip:8080 (-> .12:80)
inline constexpr uint16_t kTrackClientPort = 40001;    // 192.168.1.11:40001 -> wan-ip:22 (the server, tracked)

// ---------------------------------------------------------------- transport checksums

// The transport checksum of an IPv4 datagram (reference code of
// packet_builder.h, never the router's): `none` when it does not apply (a
// fragment, another protocol, a cut-short header, a UDP length that is not
// the datagram's), `zero` for UDP without a checksum.
enum class L4Sum { none, zero, ok, bad };

inline uint32_t pseudo_sum(const uint8_t* ip, uint8_t proto, size_t l4_len) {
    uint8_t ph[12];
    std::memcpy(ph, ip + 12, 8);
    ph[8] = 0;
    ph[9] = proto;
    ph[10] = static_cast<uint8_t>(l4_len >> 8);
    ph[11] = static_cast<uint8_t>(l4_len);
    return ref_sum(ph, sizeof ph);
}

inline uint16_t fold(uint32_t s) {
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(s);
}

inline L4Sum l4_checksum(const uint8_t* ip, size_t ip_len) {
    if (ip_len < 20) return L4Sum::none;
    const size_t hl = (ip[0] & 15u) * 4u;
    if (hl < 20 || ip_len < hl) return L4Sum::none;
    if ((((ip[6] << 8) | ip[7]) & 0x3fff) != 0) return L4Sum::none;  // MF or an offset
    const uint8_t* l4 = ip + hl;
    const size_t n = ip_len - hl;
    switch (ip[9]) {
    case kIpProtoIcmp:
        if (n < 8) return L4Sum::none;
        return ref_verify(l4, n) ? L4Sum::ok : L4Sum::bad;
    case kIpProtoTcp:
        if (n < 20) return L4Sum::none;
        return fold(pseudo_sum(ip, kIpProtoTcp, n) + ref_sum(l4, n)) == 0xffff ? L4Sum::ok : L4Sum::bad;
    case kIpProtoUdp:
        if (n < 8 || static_cast<size_t>((l4[4] << 8) | l4[5]) != n) return L4Sum::none;
        if (l4[6] == 0 && l4[7] == 0) return L4Sum::zero;
        return fold(pseudo_sum(ip, kIpProtoUdp, n) + ref_sum(l4, n)) == 0xffff ? L4Sum::ok : L4Sum::bad;
    default:
        return L4Sum::none;
    }
}

// Fills the TCP or UDP checksum of a built frame (seeds carry right ones, so
// that the fuzzer checks that NAT keeps them right).
inline Bytes with_l4_checksum(Bytes f) {
    uint8_t* ip = f.data() + sizeof(EthHdr);
    const size_t ip_len = (ip[2] << 8) | ip[3];
    const size_t hl = (ip[0] & 15u) * 4u;
    uint8_t* l4 = ip + hl;
    const size_t n = ip_len - hl;
    const size_t at = ip[9] == kIpProtoTcp ? 16 : ip[9] == kIpProtoUdp ? 6 : 0;
    if (at == 0 || n < at + 2) return f;
    l4[at] = l4[at + 1] = 0;
    uint16_t c = static_cast<uint16_t>(~fold(pseudo_sum(ip, ip[9], n) + ref_sum(l4, n)));
    if (c == 0 && ip[9] == kIpProtoUdp) c = 0xffff;
    l4[at] = static_cast<uint8_t>(c >> 8);
    l4[at + 1] = static_cast<uint8_t>(c);
    return f;
}

// ---------------------------------------------------------------- the sessions before each input

struct Seed {
    std::string name;
    int zone;
    Bytes frame;
};

inline Bytes tcp_frame(const Mac& dst_mac, const Mac& src_mac, uint32_t src, uint32_t dst, uint16_t sport,
                       uint16_t dport, uint8_t flags, size_t payload = 0, uint8_t ttl = 64) {
    return with_l4_checksum(PacketBuilder()
                                .eth(dst_mac, src_mac)
                                .ipv4({.src = src, .dst = dst, .proto = kIpProtoTcp, .ttl = ttl})
                                .tcp(sport, dport, flags)
                                .payload(pattern(payload))
                                .build());
}

inline Bytes udp_to(const Mac& dst_mac, const Mac& src_mac, uint32_t src, uint32_t dst, uint16_t sport,
                    uint16_t dport, size_t payload = 16, uint8_t ttl = 64) {
    return with_l4_checksum(PacketBuilder()
                                .eth(dst_mac, src_mac)
                                .ipv4({.src = src, .dst = dst, .proto = kIpProtoUdp, .ttl = ttl})
                                .udp(sport, dport)
                                .payload(pattern(payload, 0x51))
                                .build());
}

// The packets that open the sessions, in order.
inline std::vector<Seed> setup_packets() {
    const Mac lan = router_mac(kLan), wan = router_mac(kWan);
    return {
        {"setup_tcp", kLan, tcp_frame(lan, kClient1Mac, kClient1, kInternetHost, kTcpClientPort, 80, kTcpSyn)},
        {"setup_udp", kLan, udp_to(lan, kClient1Mac, kClient1, kInternetHost, kUdpClientPort, 53)},
        {"setup_echo", kLan, echo_request(lan, kClient1Mac, kClient1, kInternetHost, 64, 16, kEchoId, 1)},
        {"setup_forward", kWan, tcp_frame(wan, kGatewayMac, kInternetHost, kWanIp, kForwardRemotePort, 8080, kTcpSyn)},
        {"setup_track", kLan, tcp_frame(lan, kClient1Mac, kClient1, kWanIp, kTrackClientPort, 22, kTcpSyn)},
        {"setup_gre", kLan,
         PacketBuilder()
             .eth(lan, kClient1Mac)
             .ipv4({.src = kClient1, .dst = kInternetHost, .proto = kIpProtoGre})
             .payload(pattern(24))
             .build()},
    };
}

}  // namespace ipshare::fuzz
