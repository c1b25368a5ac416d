// The forward stage: what routing does to a datagram's IP header (RFC 1812
// 5.3.1), for everything the router passes on (routed, or about to be
// translated by the nat stage), in Linux's order:
//  1. TTL 1 or 0: ICMP time exceeded back to the sender;
//  2. DF set and larger than the MTU of the port classify chose: ICMP
//     "fragmentation needed" with that MTU (RFC 1191), so path MTU discovery
//     works through the router instead of black-holing;
//  3. otherwise the TTL is decremented, the checksum patched incrementally.
// It runs before NAT, so an error quotes the datagram as its sender sent it.
// (The error itself is built by reply.cc.) A datagram that NAT sends out
// another port than classify chose (inbound to a LAN client: classify chose
// the server's port) is checked again against the client's port by the nat
// stage (translate_in in nat_stage.cc), with the same refuse_too_big().
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "checksum.h"
#include "icmp.h"
#include "stages.h"
#include "worker.h"

namespace ipshare {

void refuse_too_big(Burst& b, uint16_t i, const Tables& t, WorkerCtx& w, uint16_t mtu, uint64_t now) {
    if (reply_icmp_error(b, i, t, w, kIcmpDestUnreach, kIcmpCodeFragNeeded, now, mtu))
        w.counters->drop(b.in, Drop::mtu_exceeded);
    else
        b.set_drop(i, Drop::mtu_exceeded);
}

void stage_forward(Burst& b, const Tables& t, WorkerCtx& w) {
    if (!(b.actions & kRoutedActions)) return;
    const uint64_t now = rte_rdtsc();
    for (uint16_t i = 0; i < b.n; ++i) {
        if (!(bit(b.st[i].action) & kRoutedActions)) continue;
        auto* ip = rte_pktmbuf_mtod_offset(b.m[i], Ipv4Hdr*, sizeof(EthHdr));
        if (ip->ttl <= 1) {
            if (reply_icmp_error(b, i, t, w, kIcmpTimeExceeded, kIcmpCodeTtlExceeded, now))
                w.counters->drop(b.in, Drop::ttl_exceeded);
            else
                b.set_drop(i, Drop::ttl_exceeded_silent);
            continue;
        }
        const uint16_t mtu = w.ports[idx(b.st[i].out)].mtu;
        if (df_exceeds(ip, mtu)) {
            refuse_too_big(b, i, t, w, mtu, now);
            continue;
        }
        ipv4_dec_ttl(ip);
    }
}

}  // namespace ipshare
