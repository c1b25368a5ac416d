#include "classify.h"

#include <cstring>

#include <rte_mbuf.h>

#include "inbound_shortcut.h"
#include "parse.h"
#include "worker.h"

namespace ipshare {
namespace {

constexpr Verdict drop(Drop why) { return Verdict{Action::drop, Zone::wan, why, 0}; }
constexpr Verdict local() { return Verdict{Action::local, Zone::wan, Drop::count, 0}; }
Verdict forward(Zone out, uint32_t nexthop) { return Verdict{Action::forward, out, Drop::count, nexthop}; }
Verdict route_to(NextHop nh, uint32_t dst) {
    return forward(nh.zone, RouteTable::next_hop_address(nh, dst));
}

Verdict from_wan(uint32_t src, uint32_t dst, const Tables& t) {
    const Addresses& a = t.addr;
    if (dst != a.wan_ip) return drop(Drop::wan_not_for_us);
    if (a.wan.contains(src)) {  // the upstream subnet: a host of it, not its network/broadcast nor wan-ip
        if (!a.wan.is_host(src) || src == a.wan_ip) return drop(Drop::spoofed_source);
    } else if (is_private(src) || t.routes->zone_of(src) != Zone::wan) {
        return drop(Drop::spoofed_source);
    }
    return Verdict{Action::nat_in, Zone::dmz, Drop::count, a.wan_ip};  // the server, unless a session claims it
}

Verdict from_dmz(uint32_t src, uint32_t dst, const Tables& t) {
    const Addresses& a = t.addr;
    if (src != a.wan_ip) return drop(Drop::spoofed_source);
    if (dst == a.lan_ip) return local();
    if (dst == a.lan.broadcast() || dst == a.wan.broadcast() || dst == a.wan.net)
        return drop(Drop::martian_destination);  // directed broadcasts are not forwarded (RFC 2644)
    const NextHop nh = t.routes->lookup(dst);
    if (nh.zone == Zone::dmz) return drop(Drop::dmz_bad_destination);
    Verdict v = route_to(nh, dst);
    if (nh.zone == Zone::lan)
        v.action = t.filter.pass_all(Zone::dmz, Zone::lan) ? Action::checked : Action::dmz_to_lan;
    else
        v.action = Action::checked;  // evaluated per packet: no session; counted on its rule or policy
    return v;
}

// TCP/UDP to lan-ip can only be the reply half of `hairpin source lan`, and
// an ICMP error to lan-ip the target's error about such a flow; the router
// answers the rest itself (local.cc).
bool hairpin_reply_to_lan_ip(const Ipv4Hdr& ip) {
    if (ip.proto == kIpProtoTcp || ip.proto == kIpProtoUdp) return true;
    if (ip.proto != kIpProtoIcmp || ip.frag.host() & kIpFragOffsetMask) return false;
    const unsigned hl = ip.header_len();
    if (ip.total_length.host() <= hl) return false;  // parse_frame checked total length against the frame
    return icmp_is_error(reinterpret_cast<const uint8_t*>(&ip)[hl]);
}

Verdict from_lan(uint32_t src, uint32_t dst, const Ipv4Hdr& ip, const Tables& t) {
    const Addresses& a = t.addr;
    const bool lan_host = t.routes->zone_of(src) == Zone::lan && src != a.lan_ip && src != a.lan.net && src != a.lan.broadcast();
    if (!lan_host) return drop(Drop::spoofed_source);
    if (dst == a.lan_ip)
        return hairpin_reply_to_lan_ip(ip) ? Verdict{Action::hairpin, Zone::lan, Drop::count, 0} : local();
    if (dst == a.lan.broadcast() || dst == a.wan.broadcast() || dst == a.wan.net)
        return drop(Drop::martian_destination);  // directed broadcasts are not forwarded (RFC 2644)
    if (dst == a.wan_ip) return Verdict{Action::hairpin, Zone::dmz, Drop::count, a.wan_ip};
    const NextHop nh = t.routes->lookup(dst);
    if (nh.zone == Zone::wan)
        return Verdict{Action::nat_out, Zone::wan, Drop::count, RouteTable::next_hop_address(nh, dst)};
    return route_to(nh, dst);
}

// A datagram to wan-ip that no session can claim (inbound_shortcut.h).
bool server_only(const Ipv4Hdr* ip, uint16_t len, const Tables& t, const Nat& nat) {
    const NatParams& np = nat.params();
    const unsigned hl = ip->header_len();
    if ((ip->proto == kIpProtoTcp || ip->proto == kIpProtoUdp) && ip->frag_offset() == 0 && len >= hl + 4u) {
        be16 dport;  // quick answer for the usual NAPT reply: a port of the range is looked up
        std::memcpy(&dport, reinterpret_cast<const uint8_t*>(ip) + hl + 2, 2);
        if (dport.host() >= np.port_lo && dport.host() <= np.port_hi) return false;
    }
    Flow f;
    const FlowKind kind = flow_of(ip, len, &f);
    return inbound_goes_to_server(kind, ip->more_fragments(), f, t.addr.wan_ip, np.port_lo, np.port_hi, t.forwards);
}

}  // namespace

Verdict classify_ipv4(Zone in, const Ipv4Hdr& ip, const Tables& t) {
    const uint32_t src = ip.src.host();
    const uint32_t dst = ip.dst.host();
    if (is_martian_source(src)) return drop(Drop::martian_source);
    if (is_martian_destination(dst)) return drop(Drop::martian_destination);
    switch (in) {
    case Zone::wan: return from_wan(src, dst, t);
    case Zone::dmz: return from_dmz(src, dst, t);
    case Zone::lan: return from_lan(src, dst, ip, t);
    }
    return drop(Drop::no_route);
}

void stage_classify(Burst& b, const Tables& t, WorkerCtx& w) {
    const uint8_t* my_mac = w.ports[idx(b.in)].mac;
    // Every mbuf header of the burst in flight first, then each frame a few
    // packets ahead (its address is in the header): the misses overlap.
    constexpr uint16_t kAhead = 4;
    for (uint16_t i = 0; i < b.n; ++i) rte_prefetch0(b.m[i]);
    for (uint16_t i = 0; i < kAhead && i < b.n; ++i) rte_prefetch0(rte_pktmbuf_mtod(b.m[i], void*));
    for (uint16_t i = 0; i < b.n; ++i) {
        if (i + kAhead < b.n) rte_prefetch0(rte_pktmbuf_mtod(b.m[i + kAhead], void*));
        rte_mbuf* m = b.m[i];
        if (!rte_pktmbuf_is_contiguous(m)) {
            b.set_drop(i, Drop::frame_chained);
            continue;
        }
        const auto* frame = rte_pktmbuf_mtod(m, const uint8_t*);
        const FrameInfo fi = parse_frame(frame, rte_pktmbuf_data_len(m));
        if (fi.kind == FrameKind::drop) {
            b.set_drop(i, fi.reason);
            continue;
        }
        const auto* eth = reinterpret_cast<const EthHdr*>(frame);
        const bool to_me = std::memcmp(eth->dst, my_mac, 6) == 0;
        if (fi.kind == FrameKind::arp) {
            static constexpr uint8_t kBroadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
            if (to_me || std::memcmp(eth->dst, kBroadcast, 6) == 0)
                b.set(i, Action::arp);
            else
                b.set_drop(i, Drop::l2_not_for_us);
            continue;
        }
        if (!to_me) {
            b.set_drop(i, Drop::l2_not_for_us);
            continue;
        }
        // Ethernet padding beyond the datagram is not forwarded.
        const uint16_t frame_len = static_cast<uint16_t>(kL3Offset + fi.ip_len);
        if (rte_pktmbuf_data_len(m) > frame_len) rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - frame_len);
        const auto* ip = reinterpret_cast<const Ipv4Hdr*>(frame + kL3Offset);
        Verdict v = classify_ipv4(b.in, *ip, t);
        if (v.action == Action::nat_in && w.nat && server_only(ip, fi.ip_len, t, *w.nat))
            v.action = Action::checked;  // the server's without a session lookup; the filter stage counts it
        b.st[i] = PktState{v.action, v.out, v.drop, v.nexthop};
        b.actions |= bit(v.action);
    }
}

}  // namespace ipshare
