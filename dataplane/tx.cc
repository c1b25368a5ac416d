#include "tx.h"

#include <rte_ethdev.h>
#include <rte_ip_frag.h>

#include "checksum.h"
#include "headers.h"
#include <rte_mbuf.h>

namespace ipshare {
namespace {
constexpr unsigned kMaxFragments = 48;  // a 64 KB datagram at a 1500-byte MTU
}

void TxQueues::push_fragmented(Zone z, rte_mbuf* m, Counters& c) {
    auto* eth = rte_pktmbuf_mtod(m, EthHdr*);
    const EthHdr l2 = *eth;
    auto* ip = reinterpret_cast<const Ipv4Hdr*>(eth + 1);
    if (l2.type.host() != kEtherTypeIpv4 || (ip->frag.host() & kIpFlagDF) || !direct_pool) {
        rte_pktmbuf_free(m);  // DF: the forward stage answered "fragmentation needed" for the port it knew
        c.drop(z, Drop::mtu_exceeded);
        return;
    }
    rte_pktmbuf_adj(m, sizeof(EthHdr));
    rte_mbuf* frags[kMaxFragments];
    const int32_t n = rte_ipv4_fragment_packet(m, frags, kMaxFragments, mtu[idx(z)], direct_pool, indirect_pool);
    rte_pktmbuf_free(m);  // the fragments hold their own references to its data
    if (n <= 0) {
        c.drop(z, Drop::mtu_exceeded);
        return;
    }
    for (int32_t i = 0; i < n; ++i) {
        rte_mbuf* f = frags[i];
        auto* fip = rte_pktmbuf_mtod(f, Ipv4Hdr*);
        fip->checksum = ipv4_header_checksum(fip);
        auto* feth = reinterpret_cast<EthHdr*>(rte_pktmbuf_prepend(f, sizeof(EthHdr)));
        if (!feth) {
            rte_pktmbuf_free(f);
            c.drop(z, Drop::no_mbuf);
            continue;
        }
        *feth = l2;
        TxQueue& t = q[idx(z)];
        t.m[t.n++] = f;
        if (t.n == kTxBuffer) flush(z, c);
    }
}

void TxQueues::flush(Zone z, Counters& c) {
    TxQueue& t = q[idx(z)];
    if (capture)
        if (rte_ring* r = (*capture)[idx(z)].load(std::memory_order_relaxed)) capture_copy(r, t.m, t.n);
    const uint16_t sent = rte_eth_tx_burst(t.port_id, t.queue_id, t.m, t.n);
    c.port[idx(z)].tx.add(sent);
    if (sent < t.n) {
        rte_pktmbuf_free_bulk(t.m + sent, t.n - sent);
        c.drop(z, Drop::tx_full, t.n - sent);
    }
    t.n = 0;
}

}  // namespace ipshare
