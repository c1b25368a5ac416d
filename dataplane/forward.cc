// The forward stage: what routing does to a datagram's IP header (RFC 1812
// 5.3.1), for everything the router passes on (routed, or about to be
// translated by the nat stage): TTL decremented with the checksum patched
// incrementally, or, when it runs out, ICMP time exceeded back to the sender.
// It runs before NAT, so an error quotes the datagram as its sender sent it.
//
// Source of the errors the router originates: toward wan, wan-ip (the only
// address the router speaks with upstream, so no LAN address ever leaves on
// wan); toward lan and dmz, lan-ip, the router's own address.
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "checksum.h"
#include "icmp.h"
#include "stages.h"
#include "worker.h"

namespace ipshare {

bool reply_icmp_error(Burst& b, uint16_t i, const Tables& t, WorkerCtx& w, uint8_t type, uint8_t code,
                      uint64_t now) {
    rte_mbuf* m = b.m[i];
    uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
    const auto* ip = reinterpret_cast<const Ipv4Hdr*>(frame + sizeof(EthHdr));
    const uint16_t ip_len = ip->total_length.host();
    if (!icmp_error_allowed(ip, ip_len) || rte_pktmbuf_headroom(m) < kIcmpErrorPrepend || !w.icmp_errors.take(now))
        return false;
    const uint32_t src = b.in == Zone::wan ? t.addr.wan_ip : t.addr.lan_ip;
    rte_pktmbuf_prepend(m, kIcmpErrorPrepend);
    const FrameSpan f = icmp_build_error(frame, ip_len, type, code, src, w.ports[idx(b.in)].mac);
    m->data_len = f.len;
    m->pkt_len = f.len;
    b.set(i, Action::reply);
    w.counters->icmp_sent.add();
    return true;
}

void stage_forward(Burst& b, const Tables& t, WorkerCtx& w) {
    if (!b.has(Action::forward) && !b.has(Action::nat_out) && !b.has(Action::nat_in)) return;
    const uint64_t now = rte_rdtsc();
    for (uint16_t i = 0; i < b.n; ++i) {
        const Action a = b.st[i].action;
        if (a != Action::forward && a != Action::nat_out && a != Action::nat_in) continue;
        auto* ip = rte_pktmbuf_mtod_offset(b.m[i], Ipv4Hdr*, sizeof(EthHdr));
        if (ip->ttl > 1) {
            ipv4_dec_ttl(ip);
            continue;
        }
        if (reply_icmp_error(b, i, t, w, kIcmpTimeExceeded, kIcmpCodeTtlExceeded, now))
            w.counters->drop(b.in, Drop::ttl_exceeded);
        else
            b.set_drop(i, Drop::ttl_exceeded_silent);
    }
}

}  // namespace ipshare
