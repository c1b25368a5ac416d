// The forward stage: what routing does to a datagram's IP header (RFC 1812
// 5.3.1), for everything the router passes on (routed, or about to be
// translated by the nat stage): TTL decremented with the checksum patched
// incrementally, or, when it runs out, ICMP time exceeded back to the sender.
// It runs before NAT, so an error quotes the datagram as its sender sent it.
// (The error itself is built by reply.cc.)
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "checksum.h"
#include "icmp.h"
#include "stages.h"
#include "worker.h"

namespace ipshare {

void stage_forward(Burst& b, const Tables& t, WorkerCtx& w) {
    if (!(b.actions & kRoutedActions)) return;
    const uint64_t now = rte_rdtsc();
    for (uint16_t i = 0; i < b.n; ++i) {
        if (!(bit(b.st[i].action) & kRoutedActions)) continue;
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
