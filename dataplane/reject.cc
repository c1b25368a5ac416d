#include "reject.h"

#include <cstring>

#include "checksum.h"

namespace ipshare {

FrameSpan tcp_build_rst(uint8_t* frame, const uint8_t mac[6]) {
    auto* eth = reinterpret_cast<EthHdr*>(frame);
    std::memcpy(eth->dst, eth->src, 6);
    std::memcpy(eth->src, mac, 6);

    auto* ip = reinterpret_cast<Ipv4Hdr*>(frame + sizeof(EthHdr));
    const unsigned hl = ip->header_len();
    const uint16_t ip_len = ip->total_length.host();
    const auto* old_tcp = reinterpret_cast<const TcpHdr*>(reinterpret_cast<const uint8_t*>(ip) + hl);
    const unsigned doff = (old_tcp->data_off >> 4) * 4u;
    uint32_t seg_len = ip_len - hl - doff;
    if (old_tcp->flags & kTcpSyn) ++seg_len;
    if (old_tcp->flags & kTcpFin) ++seg_len;

    TcpHdr rst{};
    rst.sport = old_tcp->dport;
    rst.dport = old_tcp->sport;
    if (old_tcp->flags & kTcpAck) {  // <SEQ=SEG.ACK><CTL=RST>
        rst.seq = old_tcp->ack;
        rst.flags = kTcpRst;
    } else {  // <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
        rst.ack = be32::from_host(old_tcp->seq.host() + seg_len);
        rst.flags = kTcpRst | kTcpAck;
    }
    rst.data_off = 5 << 4;

    const be32 src = ip->src, dst = ip->dst;
    Ipv4Hdr nip{};
    nip.version_ihl = 0x45;
    nip.total_length = be16::from_host(sizeof(Ipv4Hdr) + sizeof(TcpHdr));
    nip.ttl = kDefaultTtl;
    nip.proto = kIpProtoTcp;
    nip.src = dst;
    nip.dst = src;
    nip.checksum = ipv4_header_checksum(&nip);
    std::memcpy(ip, &nip, sizeof nip);

    // Pseudo-header (RFC 9293 3.1) + header.
    uint32_t sum = csum_partial(&nip.src, 8);
    const uint16_t proto_len[2] = {be16::from_host(kIpProtoTcp).raw(), be16::from_host(sizeof(TcpHdr)).raw()};
    sum = csum_partial(proto_len, 4, sum);
    sum = csum_partial(&rst, sizeof rst, sum);
    rst.checksum = csum_finish(sum);
    std::memcpy(reinterpret_cast<uint8_t*>(ip) + sizeof(Ipv4Hdr), &rst, sizeof rst);

    return FrameSpan{frame, static_cast<uint16_t>(sizeof(EthHdr) + sizeof(Ipv4Hdr) + sizeof(TcpHdr))};
}

}  // namespace ipshare
