// The neighbour stage: Ethernet addresses for routed datagrams. One bulk
// lookup per burst; a datagram whose next hop is not resolved yet goes to the
// control thread, which queues it (bounded), sends ARP and sends it on.
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "headers.h"
#include "stages.h"
#include "worker.h"

namespace ipshare {

void stage_neighbour(Burst& b, WorkerCtx& w) {
    if (!b.has(Action::forward)) return;
    NeighKey keys[kBurst];
    const void* key_ptrs[kBurst];
    uint16_t which[kBurst];
    unsigned k = 0;
    for (uint16_t i = 0; i < b.n; ++i) {
        if (b.st[i].action != Action::forward) continue;
        keys[k] = NeighKey{b.st[i].nexthop, static_cast<uint32_t>(b.st[i].out)};
        key_ptrs[k] = &keys[k];
        which[k++] = i;
    }
    if (k == 0) return;
    uint64_t macs[kBurst];
    const uint64_t hits = w.neigh->lookup_bulk(key_ptrs, k, macs);
    for (unsigned j = 0; j < k; ++j) {
        const uint16_t i = which[j];
        rte_mbuf* m = b.m[i];
        if (hits & (uint64_t{1} << j)) {
            auto* eth = rte_pktmbuf_mtod(m, EthHdr*);
            word_to_mac(macs[j], eth->dst);
            std::memcpy(eth->src, w.ports[idx(b.st[i].out)].mac, 6);
            b.set(i, Action::transmit);
            continue;
        }
        auto* meta = static_cast<MbufMeta*>(rte_mbuf_to_priv(m));
        meta->nexthop = b.st[i].nexthop;
        meta->zone = static_cast<uint8_t>(b.st[i].out);
        if (rte_ring_mp_enqueue(w.pending_ring, m) == 0)
            b.set(i, Action::handed_off);
        else
            b.set_drop(i, Drop::neigh_queue_full);
    }
}

}  // namespace ipshare
