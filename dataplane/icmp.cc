#include "icmp.h"

#include <algorithm>
#include <cstring>

#include "addresses.h"
#include "checksum.h"

namespace ipshare {

EchoCheck icmp_check_echo_request(const Ipv4Hdr* ip, uint16_t ip_len) {
    const unsigned hl = ip->header_len();
    if (ip->proto != kIpProtoIcmp || ip->is_fragment() || ip_len < hl + sizeof(IcmpHdr))
        return EchoCheck::not_echo;
    const auto* icmp = reinterpret_cast<const IcmpHdr*>(reinterpret_cast<const uint8_t*>(ip) + hl);
    if (icmp->type != kIcmpEchoRequest || icmp->code != 0) return EchoCheck::not_echo;
    if (csum_fold(csum_partial(icmp, ip_len - hl)) != 0xffff) return EchoCheck::bad_checksum;
    return EchoCheck::ok;
}

void icmp_echo_to_reply(Ipv4Hdr* ip) {
    auto* icmp = reinterpret_cast<IcmpHdr*>(reinterpret_cast<uint8_t*>(ip) + ip->header_len());
    uint16_t old_word;
    std::memcpy(&old_word, &icmp->type, 2);
    icmp->type = kIcmpEchoReply;
    uint16_t new_word;
    std::memcpy(&new_word, &icmp->type, 2);
    icmp->checksum = csum_replace16(icmp->checksum, old_word, new_word);
    if (icmp->checksum.raw() == 0) icmp->checksum = be16::from_raw(0xffff);  // -0: an all-zero message sums to 0xffff

    const be32 src = ip->src;
    ip->src = ip->dst;
    ip->dst = src;
    ip->ttl = kDefaultTtl;
    ip->checksum = ipv4_header_checksum(ip);
}

bool icmp_error_allowed(const Ipv4Hdr* ip, uint16_t ip_len) {
    if (ip->frag_offset() != 0) return false;
    const uint32_t src = ip->src.host();
    if (src == 0 || is_martian_source(src)) return false;
    if (ip->proto == kIpProtoIcmp) {
        const unsigned hl = ip->header_len();
        if (ip_len < hl + 1) return false;  // cannot tell: stay silent
        const uint8_t type = reinterpret_cast<const uint8_t*>(ip)[hl];
        if (icmp_is_error(type)) return false;
    }
    return true;
}

FrameSpan icmp_build_error(uint8_t* frame, uint16_t ip_len, uint8_t type, uint8_t code, uint32_t src,
                           const uint8_t mac[6], uint16_t next_hop_mtu) {
    const uint8_t* old_ip_bytes = frame + sizeof(EthHdr);
    Ipv4Hdr old_ip;
    std::memcpy(&old_ip, old_ip_bytes, sizeof old_ip);
    uint8_t prev_hop[6];
    std::memcpy(prev_hop, reinterpret_cast<const EthHdr*>(frame)->src, 6);

    const uint16_t quote = std::min<uint16_t>(ip_len, kIcmpErrorMaxIpLen - kIcmpErrorPrepend);
    uint8_t* start = frame - kIcmpErrorPrepend;

    auto* eth = reinterpret_cast<EthHdr*>(start);
    std::memcpy(eth->dst, prev_hop, 6);
    std::memcpy(eth->src, mac, 6);
    eth->type = be16::from_host(kEtherTypeIpv4);

    auto* ip = reinterpret_cast<Ipv4Hdr*>(start + sizeof(EthHdr));
    ip->version_ihl = 0x45;
    ip->tos = 0xc0;  // internetwork control, as routers send their errors
    ip->total_length = be16::from_host(static_cast<uint16_t>(kIcmpErrorPrepend + quote));
    ip->id = be16{};
    ip->frag = be16{};
    ip->ttl = kDefaultTtl;
    ip->proto = kIpProtoIcmp;
    ip->src = be32::from_host(src);
    ip->dst = old_ip.src;
    ip->checksum = ipv4_header_checksum(ip);

    auto* icmp = reinterpret_cast<IcmpHdr*>(start + sizeof(EthHdr) + sizeof(Ipv4Hdr));
    icmp->type = type;
    icmp->code = code;
    icmp->checksum = be16{};
    icmp->id = be16{};
    icmp->seq = be16::from_host(next_hop_mtu);
    icmp->checksum = csum_finish(csum_partial(icmp, sizeof(IcmpHdr) + quote));

    return FrameSpan{start, static_cast<uint16_t>(sizeof(EthHdr) + kIcmpErrorPrepend + quote)};
}

}  // namespace ipshare
