#include "parse.h"

#include "checksum.h"

namespace ipshare {
namespace {

FrameInfo drop(Drop why) { return FrameInfo{FrameKind::drop, why, 0}; }

FrameInfo parse_arp(const uint8_t* frame, uint32_t len) {
    if (len < kL3Offset + sizeof(ArpHdr)) return drop(Drop::arp_malformed);
    const auto* arp = reinterpret_cast<const ArpHdr*>(frame + kL3Offset);
    const uint16_t op = arp->op.host();
    if (arp->htype.host() != kArpHwEther || arp->ptype.host() != kEtherTypeIpv4 || arp->hlen != 6 ||
        arp->plen != 4 || (op != kArpOpRequest && op != kArpOpReply) || mac_is_multicast(arp->sha))
        return drop(Drop::arp_malformed);
    return FrameInfo{FrameKind::arp, Drop::eth_truncated, 0};
}

// RFC 791 3.1 option list: returns the drop reason or Drop::count if fine.
Drop check_options(const uint8_t* opt, unsigned n) {
    unsigned i = 0;
    while (i < n) {
        const uint8_t type = opt[i];
        if (type == kIpOptEnd) return Drop::count;
        if (type == kIpOptNop) {
            ++i;
            continue;
        }
        if (i + 1 >= n) return Drop::ip_bad_options;
        const uint8_t olen = opt[i + 1];
        if (olen < 2 || i + olen > n) return Drop::ip_bad_options;
        if (type == kIpOptLsrr || type == kIpOptSsrr) return Drop::ip_source_route;
        i += olen;
    }
    return Drop::count;
}

FrameInfo parse_ipv4(const uint8_t* frame, uint32_t len) {
    if (len < kL3Offset + sizeof(Ipv4Hdr)) return drop(Drop::ip_truncated);
    const auto* ip = reinterpret_cast<const Ipv4Hdr*>(frame + kL3Offset);
    if (ip->version() != 4) return drop(Drop::ip_bad_version);
    const unsigned hl = ip->header_len();
    if (hl < sizeof(Ipv4Hdr) || kL3Offset + hl > len) return drop(Drop::ip_bad_header_len);
    const unsigned total = ip->total_length.host();
    if (total < hl || kL3Offset + total > len) return drop(Drop::ip_bad_total_len);
    if (!ipv4_checksum_ok(ip)) return drop(Drop::ip_bad_checksum);
    if (hl > sizeof(Ipv4Hdr)) {
        const Drop d = check_options(frame + kL3Offset + sizeof(Ipv4Hdr), hl - sizeof(Ipv4Hdr));
        if (d != Drop::count) return drop(d);
    }
    return FrameInfo{FrameKind::ipv4, Drop::eth_truncated, static_cast<uint16_t>(total)};
}

}  // namespace

FrameInfo parse_frame(const uint8_t* frame, uint32_t len) {
    if (len < sizeof(EthHdr)) return drop(Drop::eth_truncated);
    const auto* eth = reinterpret_cast<const EthHdr*>(frame);
    if (mac_is_multicast(eth->src)) return drop(Drop::l2_bad_source);
    switch (eth->type.host()) {
    case kEtherTypeIpv4: return parse_ipv4(frame, len);
    case kEtherTypeArp: return parse_arp(frame, len);
    case kEtherTypeVlan:
    case kEtherTypeQinQ: return drop(Drop::vlan_tagged);
    default: return drop(Drop::ethertype_unsupported);
    }
}

}  // namespace ipshare
