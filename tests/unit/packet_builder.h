// Test helper: Ethernet frames built field by field, and views to read or
// corrupt the fields of a built frame. Checksums and lengths are filled by an
// independent reference (RFC 1071 over big-endian words, written here), never
// by the code under test. Pure: no DPDK.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "addresses.h"
#include "headers.h"

namespace ipshare::test {

using Bytes = std::vector<uint8_t>;
using Mac = std::array<uint8_t, 6>;

constexpr uint32_t ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d;
}

// ------------------------------------------------------------ reference addresses (DESIGN.md)

inline constexpr uint32_t kLanIp = ipv4(192, 168, 1, 1);
inline constexpr uint32_t kLanNet = ipv4(192, 168, 1, 0);
inline constexpr uint32_t kLanBroadcast = ipv4(192, 168, 1, 255);
inline constexpr uint32_t kLanMask = 0xffffff00u;
inline constexpr uint32_t kClient1 = ipv4(192, 168, 1, 11);
inline constexpr uint32_t kLanRouter = ipv4(192, 168, 1, 254);  // `route 10.20.0.0/16 via 192.168.1.254`
inline constexpr uint32_t kWanIp = ipv4(203, 0, 113, 10);       // held by the server
inline constexpr uint32_t kWanNet = ipv4(203, 0, 113, 0);
inline constexpr uint32_t kWanBroadcast = ipv4(203, 0, 113, 255);
inline constexpr uint32_t kWanMask = 0xffffff00u;
inline constexpr uint32_t kGateway = ipv4(203, 0, 113, 1);
inline constexpr uint32_t kInternetHost = ipv4(198, 51, 100, 20);

inline Addresses reference_addresses() {
    Addresses a;
    a.lan_ip = kLanIp;
    a.lan = Subnet{kLanNet, kLanMask};
    a.wan_ip = kWanIp;
    a.wan = Subnet{kWanNet, kWanMask};
    a.gateway = kGateway;
    return a;
}

inline constexpr Mac kBroadcastMac = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
inline constexpr Mac kZeroMac = {0, 0, 0, 0, 0, 0};
inline constexpr Mac kGatewayMac = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x01};
inline constexpr Mac kServerMac = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x0a};
inline constexpr Mac kClient1Mac = {0x02, 0x00, 0x5e, 0x00, 0x01, 0x0b};
inline constexpr Mac kRouterWanMac = {0x02, 0x1a, 0x00, 0x00, 0x00, 0x01};  // for pure tests
inline constexpr Mac kMulticastMac = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};

inline std::string dotted(uint32_t a) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
    return buf;
}

inline std::string mac_text(const uint8_t* m) {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return buf;
}
inline std::string mac_text(const Mac& m) { return mac_text(m.data()); }

// ------------------------------------------------------------ reference checksum

// One's-complement sum of the big-endian 16-bit words, odd byte padded, folded.
inline uint16_t ref_sum(const uint8_t* p, size_t n) {
    uint64_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t{p[i]} << 8) | p[i + 1];
    if (n & 1) s += uint32_t{p[n - 1]} << 8;
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return static_cast<uint16_t>(s);
}

// The checksum field value (host order) for data whose checksum field is zero.
inline uint16_t ref_checksum(const uint8_t* p, size_t n) { return static_cast<uint16_t>(~ref_sum(p, n)); }

// Whether data that includes its checksum field verifies.
inline bool ref_verify(const uint8_t* p, size_t n) { return ref_sum(p, n) == 0xffff; }

// ------------------------------------------------------------ views of a built frame

inline EthHdr* eth_of(Bytes& f) { return reinterpret_cast<EthHdr*>(f.data()); }
inline const EthHdr* eth_of(const Bytes& f) { return reinterpret_cast<const EthHdr*>(f.data()); }
inline ArpHdr* arp_of(Bytes& f) { return reinterpret_cast<ArpHdr*>(f.data() + sizeof(EthHdr)); }
inline const ArpHdr* arp_of(const Bytes& f) { return reinterpret_cast<const ArpHdr*>(f.data() + sizeof(EthHdr)); }
inline Ipv4Hdr* ip_of(Bytes& f) { return reinterpret_cast<Ipv4Hdr*>(f.data() + sizeof(EthHdr)); }
inline const Ipv4Hdr* ip_of(const Bytes& f) { return reinterpret_cast<const Ipv4Hdr*>(f.data() + sizeof(EthHdr)); }
inline uint8_t* l4_of(Bytes& f) { return f.data() + sizeof(EthHdr) + ip_of(f)->header_len(); }
inline const uint8_t* l4_of(const Bytes& f) { return f.data() + sizeof(EthHdr) + ip_of(f)->header_len(); }
inline IcmpHdr* icmp_of(Bytes& f) { return reinterpret_cast<IcmpHdr*>(l4_of(f)); }
inline const IcmpHdr* icmp_of(const Bytes& f) { return reinterpret_cast<const IcmpHdr*>(l4_of(f)); }

// The IPv4 datagram of a frame (total length bytes after Ethernet).
inline Bytes datagram_of(const Bytes& f) {
    const size_t len = ip_of(f)->total_length.host();
    return Bytes(f.begin() + sizeof(EthHdr), f.begin() + static_cast<std::ptrdiff_t>(sizeof(EthHdr) + len));
}

// Recomputes the IPv4 header checksum (reference) after a test changed a field.
inline void refresh_ip_checksum(Bytes& f) {
    Ipv4Hdr* ip = ip_of(f);
    ip->checksum = be16{};
    const size_t avail = f.size() - sizeof(EthHdr);
    const size_t hl = ip->header_len() < avail ? ip->header_len() : avail;
    ip->checksum = be16::from_host(ref_checksum(f.data() + sizeof(EthHdr), hl));
}

inline bool ip_checksum_valid(const Bytes& f) {
    return ref_verify(f.data() + sizeof(EthHdr), ip_of(f)->header_len());
}

// The ICMP checksum verifies over the whole ICMP message.
inline bool icmp_checksum_valid(const Bytes& f) {
    const Ipv4Hdr* ip = ip_of(f);
    return ref_verify(l4_of(f), ip->total_length.host() - ip->header_len());
}

// ------------------------------------------------------------ the builder

struct Ipv4Fields {
    uint32_t src = 0;
    uint32_t dst = 0;
    uint8_t proto = kIpProtoUdp;
    uint8_t ttl = 64;
    uint8_t tos = 0;
    uint16_t id = 0x1234;
    uint16_t frag = 0;  // flags and offset, host order
    Bytes options;      // a multiple of 4 bytes
};

// Deterministic payload bytes.
inline Bytes pattern(size_t n, uint8_t seed = 0) {
    Bytes b(n);
    for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>(seed + i * 7 + (i >> 8));
    return b;
}

class PacketBuilder {
public:
    PacketBuilder& eth(const Mac& dst, const Mac& src, uint16_t type = kEtherTypeIpv4) {
        EthHdr e{};
        std::memcpy(e.dst, dst.data(), 6);
        std::memcpy(e.src, src.data(), 6);
        e.type = be16::from_host(type);
        eth_ = e;
        return *this;
    }

    PacketBuilder& arp(uint16_t op, const Mac& sha, uint32_t spa, const Mac& tha, uint32_t tpa) {
        ArpHdr a{};
        a.htype = be16::from_host(kArpHwEther);
        a.ptype = be16::from_host(kEtherTypeIpv4);
        a.hlen = 6;
        a.plen = 4;
        a.op = be16::from_host(op);
        std::memcpy(a.sha, sha.data(), 6);
        a.spa = be32::from_host(spa);
        std::memcpy(a.tha, tha.data(), 6);
        a.tpa = be32::from_host(tpa);
        arp_ = a;
        return *this;
    }

    PacketBuilder& ipv4(const Ipv4Fields& f) {
        ip_ = f;
        return *this;
    }

    // ICMP header; the checksum covers the payload that follows.
    PacketBuilder& icmp(uint8_t type, uint8_t code, uint16_t id = 0, uint16_t seq = 0) {
        l4_ = L4::icmp;
        IcmpHdr h{};
        h.type = type;
        h.code = code;
        h.id = be16::from_host(id);
        h.seq = be16::from_host(seq);
        l4hdr_ = to_bytes(h);
        return *this;
    }

    // UDP header, length filled, checksum 0 (none, legal over IPv4).
    PacketBuilder& udp(uint16_t sport, uint16_t dport) {
        l4_ = L4::udp;
        UdpHdr h{};
        h.sport = be16::from_host(sport);
        h.dport = be16::from_host(dport);
        l4hdr_ = to_bytes(h);
        return *this;
    }

    // TCP header without options; checksum left 0 (the router never reads it).
    PacketBuilder& tcp(uint16_t sport, uint16_t dport, uint8_t flags = kTcpSyn) {
        l4_ = L4::tcp;
        TcpHdr h{};
        h.sport = be16::from_host(sport);
        h.dport = be16::from_host(dport);
        h.seq = be32::from_host(0x01020304);
        h.data_off = 5 << 4;
        h.flags = flags;
        h.window = be16::from_host(65535);
        l4hdr_ = to_bytes(h);
        return *this;
    }

    PacketBuilder& payload(const Bytes& p) {
        payload_ = p;
        return *this;
    }

    // Ethernet padding (zeros) after the datagram up to `frame_len` bytes.
    PacketBuilder& pad_to(size_t frame_len) {
        pad_to_ = frame_len;
        return *this;
    }

    Bytes build() const {
        Bytes f;
        if (eth_) append(f, to_bytes(*eth_));
        if (arp_) append(f, to_bytes(*arp_));
        if (ip_) {
            const size_t l3 = f.size();
            const size_t hl = sizeof(Ipv4Hdr) + ip_->options.size();
            Ipv4Hdr h{};
            h.version_ihl = static_cast<uint8_t>(0x40 | (hl / 4));
            h.tos = ip_->tos;
            h.id = be16::from_host(ip_->id);
            h.frag = be16::from_host(ip_->frag);
            h.ttl = ip_->ttl;
            h.proto = ip_->proto;
            h.src = be32::from_host(ip_->src);
            h.dst = be32::from_host(ip_->dst);
            append(f, to_bytes(h));
            append(f, ip_->options);
            const size_t l4 = f.size();
            append(f, l4hdr_);
            append(f, payload_);
            const size_t total = f.size() - l3;
            auto* ip = reinterpret_cast<Ipv4Hdr*>(f.data() + l3);
            ip->total_length = be16::from_host(static_cast<uint16_t>(total));
            ip->checksum = be16::from_host(ref_checksum(f.data() + l3, hl));
            if (l4_ == L4::icmp) {
                auto* icmp = reinterpret_cast<IcmpHdr*>(f.data() + l4);
                icmp->checksum = be16::from_host(ref_checksum(f.data() + l4, f.size() - l4));
            } else if (l4_ == L4::udp) {
                auto* udp = reinterpret_cast<UdpHdr*>(f.data() + l4);
                udp->length = be16::from_host(static_cast<uint16_t>(f.size() - l4));
            }
        } else {
            append(f, l4hdr_);
            append(f, payload_);
        }
        if (f.size() < pad_to_) f.resize(pad_to_, 0);
        return f;
    }

private:
    enum class L4 : uint8_t { none, icmp, udp, tcp };

    template <typename T>
    static Bytes to_bytes(const T& v) {
        Bytes b(sizeof v);
        std::memcpy(b.data(), &v, sizeof v);
        return b;
    }
    static void append(Bytes& to, const Bytes& from) { to.insert(to.end(), from.begin(), from.end()); }

    std::optional<EthHdr> eth_;
    std::optional<ArpHdr> arp_;
    std::optional<Ipv4Fields> ip_;
    L4 l4_ = L4::none;
    Bytes l4hdr_;
    Bytes payload_;
    size_t pad_to_ = 0;
};

// ------------------------------------------------------------ common frames

// An ICMP echo request frame.
inline Bytes echo_request(const Mac& dst_mac, const Mac& src_mac, uint32_t src, uint32_t dst, uint8_t ttl = 64,
                          size_t payload_len = 56, uint16_t id = 0x4242, uint16_t seq = 1) {
    return PacketBuilder()
        .eth(dst_mac, src_mac)
        .ipv4({.src = src, .dst = dst, .proto = kIpProtoIcmp, .ttl = ttl})
        .icmp(kIcmpEchoRequest, 0, id, seq)
        .payload(pattern(payload_len))
        .build();
}

// A UDP datagram frame.
inline Bytes udp_frame(const Mac& dst_mac, const Mac& src_mac, uint32_t src, uint32_t dst, uint8_t ttl = 64,
                       size_t payload_len = 32) {
    return PacketBuilder()
        .eth(dst_mac, src_mac)
        .ipv4({.src = src, .dst = dst, .proto = kIpProtoUdp, .ttl = ttl})
        .udp(40000, 53)
        .payload(pattern(payload_len, 0x33))
        .build();
}

// An ARP frame (Ethernet + 28 bytes of ARP, no padding).
inline Bytes arp_frame(const Mac& eth_dst, uint16_t op, const Mac& sha, uint32_t spa, const Mac& tha, uint32_t tpa) {
    return PacketBuilder().eth(eth_dst, sha, kEtherTypeArp).arp(op, sha, spa, tha, tpa).build();
}

}  // namespace ipshare::test
