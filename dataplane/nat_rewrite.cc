#include "nat_rewrite.h"

#include <cstring>

#include "checksum.h"

namespace ipshare {
namespace {

uint8_t* l4_of(Ipv4Hdr* ip) { return reinterpret_cast<uint8_t*>(ip) + ip->header_len(); }
const uint8_t* l4_of(const Ipv4Hdr* ip) { return reinterpret_cast<const uint8_t*>(ip) + ip->header_len(); }

uint16_t load16(const uint8_t* p) {
    be16 v;
    std::memcpy(&v, p, 2);
    return v.host();
}

// ones-complement add of ~old + new for one raw 16-bit word
uint32_t word_delta(uint16_t old_raw, uint16_t new_raw) {
    return static_cast<uint16_t>(~old_raw) + uint32_t{new_raw};
}

uint32_t addr_delta(uint32_t old_ip, uint32_t new_ip) {
    const uint32_t o = be32::from_host(old_ip).raw(), n = be32::from_host(new_ip).raw();
    return word_delta(static_cast<uint16_t>(o), static_cast<uint16_t>(n)) +
           word_delta(static_cast<uint16_t>(o >> 16), static_cast<uint16_t>(n >> 16));
}

uint32_t port_delta(uint16_t old_port, uint16_t new_port) {
    return word_delta(be16::from_host(old_port).raw(), be16::from_host(new_port).raw());
}

// check' = ~(~check + delta)
be16 apply_delta(be16 check, uint16_t delta) {
    return be16::from_raw(static_cast<uint16_t>(~csum_fold(static_cast<uint16_t>(~check.raw()) + uint32_t{delta})));
}

void patch16(uint8_t* p, uint16_t delta) {
    be16 c;
    std::memcpy(&c, p, 2);
    c = apply_delta(c, delta);
    std::memcpy(p, &c, 2);
}

void patch_udp(uint8_t* p, uint16_t delta) {
    be16 c;
    std::memcpy(&c, p, 2);
    if (c.raw() == 0) return;  // no checksum: stays none
    c = apply_delta(c, delta);
    if (c.raw() == 0) c = be16::from_raw(0xffff);
    std::memcpy(p, &c, 2);
}

bool is_icmp_query(uint8_t type) { return type == kIcmpEchoRequest || type == kIcmpEchoReply; }

FlowKind ports_of(const Ipv4Hdr* ip, uint16_t ip_len, Flow* f) {
    const unsigned hl = ip->header_len();
    const uint8_t* l4 = l4_of(ip);
    switch (ip->proto) {
    case kIpProtoTcp: {
        if (ip_len < hl + sizeof(TcpHdr)) return FlowKind::truncated;
        const unsigned doff = (l4[12] >> 4) * 4u;
        if (doff < sizeof(TcpHdr) || hl + doff > ip_len) return FlowKind::truncated;
        f->sport = load16(l4);
        f->dport = load16(l4 + 2);
        return FlowKind::ports;
    }
    case kIpProtoUdp:
        if (ip_len < hl + sizeof(UdpHdr)) return FlowKind::truncated;
        f->sport = load16(l4);
        f->dport = load16(l4 + 2);
        return FlowKind::ports;
    case kIpProtoIcmp: {
        if (ip_len < hl + sizeof(IcmpHdr)) return FlowKind::truncated;
        const uint8_t type = l4[0];
        if (icmp_is_error(type)) return FlowKind::icmp_error;
        if (!is_icmp_query(type)) return FlowKind::other_icmp;
        const uint16_t id = load16(l4 + 4);
        if (type == kIcmpEchoRequest) f->sport = id; else f->dport = id;
        return FlowKind::icmp_query;
    }
    default:
        return FlowKind::portless;
    }
}

}  // namespace

FlowKind flow_of(const Ipv4Hdr* ip, uint16_t ip_len, Flow* f) {
    f->src = ip->src.host();
    f->dst = ip->dst.host();
    f->proto = ip->proto;
    f->sport = f->dport = 0;
    if (ip->frag_offset() != 0) return FlowKind::fragment;
    return ports_of(ip, ip_len, f);
}

bool icmp_checksum_ok(const Ipv4Hdr* ip, uint16_t ip_len) {
    const unsigned hl = ip->header_len();
    return csum_fold(csum_partial(l4_of(ip), ip_len - hl)) == 0xffff;
}

bool icmp_error_inner_flow(const Ipv4Hdr* ip, uint16_t ip_len, Flow* inner) {
    const unsigned hl = ip->header_len();
    if (ip_len < hl + sizeof(IcmpHdr) + sizeof(Ipv4Hdr)) return false;
    const auto* in = reinterpret_cast<const Ipv4Hdr*>(l4_of(ip) + sizeof(IcmpHdr));
    const unsigned avail = ip_len - hl - sizeof(IcmpHdr);
    if (in->version() != 4 || in->header_len() < sizeof(Ipv4Hdr) || in->header_len() + 8 > avail) return false;
    if (in->frag_offset() != 0) return false;
    inner->src = in->src.host();
    inner->dst = in->dst.host();
    inner->proto = in->proto;
    inner->sport = inner->dport = 0;
    const uint8_t* l4 = reinterpret_cast<const uint8_t*>(in) + in->header_len();
    switch (in->proto) {
    case kIpProtoTcp:
    case kIpProtoUdp:
        inner->sport = load16(l4);
        inner->dport = load16(l4 + 2);
        return true;
    case kIpProtoIcmp:
        if (!is_icmp_query(l4[0])) return false;  // no errors about errors
        if (l4[0] == kIcmpEchoRequest) inner->sport = load16(l4 + 4); else inner->dport = load16(l4 + 4);
        return true;
    default:
        return true;
    }
}

NatDelta nat_delta(uint8_t proto, uint32_t old_ip, uint16_t old_port, uint32_t new_ip, uint16_t new_port) {
    const uint32_t a = addr_delta(old_ip, new_ip);
    const uint32_t p = port_delta(old_port, new_port);
    NatDelta d;
    d.ip = csum_fold(a);
    if (proto == kIpProtoIcmp)
        d.l4 = csum_fold(p);
    else if (proto == kIpProtoTcp || proto == kIpProtoUdp)
        d.l4 = csum_fold(a + p);
    else
        d.l4 = 0;
    return d;
}

void nat_rewrite(Ipv4Hdr* ip, uint16_t ip_len, Dir which, uint32_t new_ip, uint16_t new_port, NatDelta d) {
    const bool src = which == Dir::out;
    (src ? ip->src : ip->dst) = be32::from_host(new_ip);
    ip->checksum = apply_delta(ip->checksum, d.ip);
    if (ip->frag_offset() != 0) return;
    uint8_t* l4 = l4_of(ip);
    const be16 port = be16::from_host(new_port);
    switch (ip->proto) {
    case kIpProtoTcp:
        std::memcpy(l4 + (src ? 0 : 2), &port, 2);
        patch16(l4 + 16, d.l4);
        break;
    case kIpProtoUdp:
        std::memcpy(l4 + (src ? 0 : 2), &port, 2);
        patch_udp(l4 + 6, d.l4);
        break;
    case kIpProtoIcmp:
        std::memcpy(l4 + 4, &port, 2);
        patch16(l4 + 2, d.l4);
        break;
    default: break;
    }
    (void)ip_len;
}

void nat_rewrite_icmp_error(Ipv4Hdr* ip, uint16_t ip_len, Dir outer, uint32_t outer_ip, uint32_t inner_ip,
                            uint16_t inner_port) {
    // Outer header.
    be32& outer_field = outer == Dir::in ? ip->dst : ip->src;
    ip->checksum = csum_replace32(ip->checksum, outer_field, be32::from_host(outer_ip));
    outer_field = be32::from_host(outer_ip);

    // Embedded datagram: it travelled the other way, so an inbound error
    // carries our outbound datagram, whose *source* we translated.
    const unsigned hl = ip->header_len();
    auto* icmp = reinterpret_cast<IcmpHdr*>(l4_of(ip));
    auto* in = reinterpret_cast<Ipv4Hdr*>(reinterpret_cast<uint8_t*>(icmp) + sizeof(IcmpHdr));
    const unsigned avail = ip_len - hl - sizeof(IcmpHdr);
    const bool inner_src = outer == Dir::in;
    be32& in_field = inner_src ? in->src : in->dst;
    const uint32_t old_ip = in_field.host();
    in->checksum = csum_replace32(in->checksum, in_field, be32::from_host(inner_ip));
    in_field = be32::from_host(inner_ip);

    uint8_t* l4 = reinterpret_cast<uint8_t*>(in) + in->header_len();
    const unsigned l4_avail = avail - in->header_len();
    const be16 port = be16::from_host(inner_port);
    switch (in->proto) {
    case kIpProtoTcp:
    case kIpProtoUdp: {
        uint8_t* p = l4 + (inner_src ? 0 : 2);
        const uint16_t old_port = load16(p);
        std::memcpy(p, &port, 2);
        const NatDelta d = nat_delta(in->proto, old_ip, old_port, inner_ip, inner_port);
        if (in->proto == kIpProtoUdp && l4_avail >= 8) patch_udp(l4 + 6, d.l4);
        if (in->proto == kIpProtoTcp && l4_avail >= 18) patch16(l4 + 16, d.l4);
        break;
    }
    case kIpProtoIcmp: {
        const uint16_t old_id = load16(l4 + 4);
        std::memcpy(l4 + 4, &port, 2);
        patch16(l4 + 2, nat_delta(kIpProtoIcmp, 0, old_id, 0, inner_port).l4);
        break;
    }
    default: break;
    }
    // The ICMP checksum covers everything above: recompute it (errors are rare).
    icmp->checksum = be16{};
    icmp->checksum = csum_finish(csum_partial(icmp, ip_len - hl));
}

}  // namespace ipshare
