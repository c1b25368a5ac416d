// Packets the router originates in answer to one it received, built in the
// received buffer: ICMP errors (time exceeded, destination unreachable) and
// TCP resets (filter reject). All rate-limited per worker, so the router is never an
// amplifier (RFC 1812 4.3.2.8).
//
// Source of the errors: toward wan, wan-ip (the only address the router
// speaks with upstream, so no LAN address ever leaves on wan); toward lan and
// dmz, lan-ip, the router's own address. A reset comes from the address and
// port the segment was sent to, as from the refusing host.
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "icmp.h"
#include "reject.h"
#include "stages.h"
#include "worker.h"

namespace ipshare {

bool reply_icmp_error(Burst& b, uint16_t i, const Tables& t, WorkerCtx& w, uint8_t type, uint8_t code,
                      uint64_t now, uint16_t next_hop_mtu) {
    rte_mbuf* m = b.m[i];
    uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
    const auto* ip = reinterpret_cast<const Ipv4Hdr*>(frame + sizeof(EthHdr));
    const uint16_t ip_len = ip->total_length.host();
    if (!icmp_error_allowed(ip, ip_len) || rte_pktmbuf_headroom(m) < kIcmpErrorPrepend || !w.icmp_errors.take(now))
        return false;
    const uint32_t src = b.in == Zone::wan ? t.addr.wan_ip : t.addr.lan_ip;
    rte_pktmbuf_prepend(m, kIcmpErrorPrepend);
    const FrameSpan f = icmp_build_error(frame, ip_len, type, code, src, w.ports[idx(b.in)].mac, next_hop_mtu);
    m->data_len = f.len;
    m->pkt_len = f.len;
    b.set(i, Action::reply);
    w.counters->icmp_sent.add();
    return true;
}

bool reply_tcp_rst(Burst& b, uint16_t i, WorkerCtx& w, uint64_t now) {
    rte_mbuf* m = b.m[i];
    uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
    const auto* ip = reinterpret_cast<const Ipv4Hdr*>(frame + sizeof(EthHdr));
    const unsigned hl = ip->header_len();
    const uint16_t ip_len = ip->total_length.host();
    if (ip->frag_offset() != 0 || ip_len < hl + sizeof(TcpHdr)) return false;  // no whole TCP header to answer
    const uint8_t* l4 = reinterpret_cast<const uint8_t*>(ip) + hl;
    const unsigned doff = (l4[12] >> 4) * 4u;
    if (doff < sizeof(TcpHdr) || hl + doff > ip_len) return false;
    if ((l4[13] & kTcpRst) || !w.icmp_errors.take(now)) return false;
    const FrameSpan f = tcp_build_rst(frame, w.ports[idx(b.in)].mac);
    m->data_len = f.len;
    m->pkt_len = f.len;
    b.set(i, Action::reply);
    return true;
}

}  // namespace ipshare
