// The forward stage: what routing does to a datagram's IP header (RFC 1812
// 5.3.1): TTL decremented with the checksum patched incrementally, or, when
// it runs out, ICMP time exceeded back to the sender instead.
//
// Source of the time-exceeded message: toward wan, wan-ip (the only address
// the router speaks with upstream, so no LAN address ever leaves on wan);
// toward lan and dmz, lan-ip, the router's own address.
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "checksum.h"
#include "icmp.h"
#include "stages.h"
#include "worker.h"

namespace ipshare {

void stage_forward(Burst& b, const Tables& t, WorkerCtx& w) {
    if (!b.has(Action::forward)) return;
    const uint64_t now = rte_rdtsc();
    for (uint16_t i = 0; i < b.n; ++i) {
        if (b.st[i].action != Action::forward) continue;
        rte_mbuf* m = b.m[i];
        uint8_t* frame = rte_pktmbuf_mtod(m, uint8_t*);
        auto* ip = reinterpret_cast<Ipv4Hdr*>(frame + sizeof(EthHdr));
        if (ip->ttl > 1) {
            ipv4_dec_ttl(ip);
            continue;
        }
        const uint16_t ip_len = ip->total_length.host();
        if (!icmp_error_allowed(ip, ip_len) || rte_pktmbuf_headroom(m) < kIcmpErrorPrepend ||
            !w.icmp_errors.take(now)) {
            b.set_drop(i, Drop::ttl_exceeded_silent);
            continue;
        }
        const uint32_t src = b.in == Zone::wan ? t.addr.wan_ip : t.addr.lan_ip;
        rte_pktmbuf_prepend(m, kIcmpErrorPrepend);
        const FrameSpan f = icmp_build_error(frame, ip_len, kIcmpTimeExceeded, kIcmpCodeTtlExceeded, src,
                                             w.ports[idx(b.in)].mac);
        m->data_len = f.len;
        m->pkt_len = f.len;
        b.set(i, Action::reply);
        w.counters->drop(b.in, Drop::ttl_exceeded);
        w.counters->icmp_sent.add();
    }
}

}  // namespace ipshare
