// The neighbour stage: Ethernet addresses for routed datagrams. Answers come
// from the worker's cache of recent lookups (neigh_cache.h) when it has them,
// else from one bulk lookup for the burst's misses. A datagram whose next hop
// is not resolved yet goes to the control thread, which queues it (bounded),
// sends ARP and sends it on.
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "headers.h"
#include "stages.h"
#include "worker.h"

namespace ipshare {
namespace {

void set_macs(Burst& b, uint16_t i, uint64_t mac, const WorkerCtx& w) {
    auto* eth = rte_pktmbuf_mtod(b.m[i], EthHdr*);
    word_to_mac(mac, eth->dst);
    std::memcpy(eth->src, w.ports[idx(b.st[i].out)].mac, 6);
    b.set(i, Action::transmit);
}

void to_control(Burst& b, uint16_t i, WorkerCtx& w) {
    rte_mbuf* m = b.m[i];
    auto* meta = static_cast<MbufMeta*>(rte_mbuf_to_priv(m));
    meta->nexthop = b.st[i].nexthop;
    meta->zone = static_cast<uint8_t>(b.st[i].out);
    if (rte_ring_mp_enqueue(w.pending_ring, m) == 0)
        b.set(i, Action::handed_off);
    else
        b.set_drop(i, Drop::neigh_queue_full);
}

}  // namespace

void stage_neighbour(Burst& b, WorkerCtx& w) {
    if (!b.has(Action::forward)) return;
    NeighCache& cache = w.neigh_cache;
    cache.sync(w.neigh->generation());  // before any lookup whose answer is cached
    NeighKey keys[kBurst];
    const void* key_ptrs[kBurst];
    uint16_t which[kBurst];
    unsigned k = 0;
    // The previous packet's answer first: a burst usually goes to one next hop.
    uint32_t last_ip = 0;
    Zone last_zone = Zone::wan;
    uint64_t last_mac = 0;
    bool have_last = false;
    for (uint16_t i = 0; i < b.n; ++i) {
        if (b.st[i].action != Action::forward) continue;
        const uint32_t ip = b.st[i].nexthop;
        const Zone z = b.st[i].out;
        if (!(have_last && ip == last_ip && z == last_zone)) {
            if (!cache.find(z, ip, &last_mac)) {
                keys[k] = NeighKey{ip, static_cast<uint32_t>(z)};
                key_ptrs[k] = &keys[k];
                which[k++] = i;
                have_last = false;
                continue;
            }
            last_ip = ip;
            last_zone = z;
            have_last = true;
        }
        set_macs(b, i, last_mac, w);
    }
    if (k == 0) return;
    uint64_t macs[kBurst];
    const uint64_t hits = w.neigh->lookup_bulk(key_ptrs, k, macs);
    for (unsigned j = 0; j < k; ++j) {
        const uint16_t i = which[j];
        if (!(hits & (uint64_t{1} << j))) {
            to_control(b, i, w);
            continue;
        }
        cache.put(b.st[i].out, b.st[i].nexthop, macs[j]);
        set_macs(b, i, macs[j], w);
    }
}

}  // namespace ipshare
