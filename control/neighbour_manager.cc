#include "neighbour_manager.h"

#include <cstring>

#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "../dataplane/arp.h"
#include "../dataplane/burst.h"
#include "../dataplane/headers.h"

namespace ipshare {

NeighbourManager::~NeighbourManager() {
    for (auto& [k, w] : waiting_) rte_pktmbuf_free_bulk(w.pkts.data(), static_cast<unsigned>(w.pkts.size()));
}

std::vector<NeighbourManager::Entry> NeighbourManager::snapshot(uint64_t now) const {
    std::vector<Entry> out;
    for (const auto& [k, e] : known_) {
        uint64_t mac = 0;
        d_.table->lookup(zone_of(k), ip_of(k), &mac);
        out.push_back(Entry{zone_of(k), ip_of(k), mac, e.probes ? "probing" : "reachable",
                            static_cast<uint32_t>((now - e.confirmed) / d_.hz)});
    }
    for (const auto& [k, w] : waiting_)
        out.push_back(Entry{zone_of(k), ip_of(k), 0, "incomplete", 0});
    return out;
}

void NeighbourManager::poll(uint64_t now) {
    ArpLearnMsg msgs[64];
    unsigned n;
    while ((n = rte_ring_sc_dequeue_burst_elem(d_.learn_ring, msgs, sizeof(ArpLearnMsg), 64, nullptr)) > 0)
        for (unsigned i = 0; i < n; ++i) {
            const ArpLearnMsg& m = msgs[i];
            // Checked again here, the single writer: no message can put the
            // router's own addresses, or one from the wrong port, in the table.
            if (m.zone >= kNumZones || !arp_sender_acceptable(static_cast<Zone>(m.zone), addr_, m.ip, m.mac))
                continue;
            on_learn(static_cast<Zone>(m.zone), m.ip, mac_to_word(m.mac), m.create, now);
        }

    void* objs[64];
    while ((n = rte_ring_sc_dequeue_burst(d_.pending_ring, objs, 64, nullptr)) > 0)
        for (unsigned i = 0; i < n; ++i) on_pending(static_cast<rte_mbuf*>(objs[i]), now);

    if (now >= next_timers_) {
        timers(now);
        next_timers_ = now + d_.hz / 10;
    }
}

void NeighbourManager::on_learn(Zone z, uint32_t ip, uint64_t mac, bool create, uint64_t now) {
    const uint64_t k = key(z, ip);
    auto known = known_.find(k);
    if (known == known_.end()) {
        if (!create) return;
        known = known_.emplace(k, Known{}).first;
    }
    d_.table->set(z, ip, mac);
    known->second = Known{now, 0, 0};
    auto w = waiting_.find(k);
    if (w == waiting_.end()) return;
    for (rte_mbuf* m : w->second.pkts) send_to(m, z, mac);
    waiting_pkts_ -= w->second.pkts.size();
    waiting_.erase(w);
}

void NeighbourManager::on_pending(rte_mbuf* m, uint64_t now) {
    const auto* meta = static_cast<const MbufMeta*>(rte_mbuf_to_priv(m));
    const auto z = static_cast<Zone>(meta->zone);
    uint64_t mac;
    if (d_.table->lookup(z, meta->nexthop, &mac)) {  // resolved while it travelled
        send_to(m, z, mac);
        return;
    }
    Waiting& w = waiting_[key(z, meta->nexthop)];
    if (w.pkts.size() >= kMaxPerNeighbour || waiting_pkts_ >= kMaxWaiting) {
        rte_pktmbuf_free(m);
        d_.counters->drop(z, Drop::neigh_queue_full);
        return;
    }
    w.pkts.push_back(m);
    ++waiting_pkts_;
    if (w.requests == 0) {
        send_request(z, meta->nexthop);
        w.requests = 1;
        w.last_request = now;
    }
}

void NeighbourManager::timers(uint64_t now) {
    const uint64_t second = d_.hz;
    for (auto it = waiting_.begin(); it != waiting_.end();) {
        Waiting& w = it->second;
        if (now - w.last_request < second) {
            ++it;
            continue;
        }
        if (w.requests >= kResolveTries) {
            drop_waiting(w, zone_of(it->first), Drop::neigh_unresolved);
            it = waiting_.erase(it);
            continue;
        }
        send_request(zone_of(it->first), ip_of(it->first));
        ++w.requests;
        w.last_request = now;
        ++it;
    }
    for (auto it = known_.begin(); it != known_.end();) {
        Known& e = it->second;
        if (now - e.confirmed < kReachableSeconds * second || now - e.last_probe < second) {
            ++it;
            continue;
        }
        if (e.probes >= kProbes) {
            d_.table->remove(zone_of(it->first), ip_of(it->first));
            it = known_.erase(it);
            continue;
        }
        send_request(zone_of(it->first), ip_of(it->first));
        ++e.probes;
        e.last_probe = now;
        ++it;
    }
}

void NeighbourManager::drop_waiting(Waiting& w, Zone z, Drop why) {
    rte_pktmbuf_free_bulk(w.pkts.data(), static_cast<unsigned>(w.pkts.size()));
    d_.counters->drop(z, why, w.pkts.size());
    waiting_pkts_ -= w.pkts.size();
    w.pkts.clear();
}

void NeighbourManager::send_request(Zone z, uint32_t target) {
    rte_mbuf* m = rte_pktmbuf_alloc(d_.pool);
    if (!m) {
        d_.counters->drop(z, Drop::no_mbuf);
        return;
    }
    auto* buf = reinterpret_cast<uint8_t*>(rte_pktmbuf_append(m, kArpFrameLen));
    arp_build_request(buf, d_.ports[idx(z)].mac, arp_sender_address(z, addr_), target);
    transmit(m, z);
}

void NeighbourManager::send_to(rte_mbuf* m, Zone z, uint64_t mac) {
    auto* eth = rte_pktmbuf_mtod(m, EthHdr*);
    word_to_mac(mac, eth->dst);
    std::memcpy(eth->src, d_.ports[idx(z)].mac, 6);
    transmit(m, z);
}

void NeighbourManager::transmit(rte_mbuf* m, Zone z) {
    static_cast<MbufMeta*>(rte_mbuf_to_priv(m))->zone = static_cast<uint8_t>(z);
    rte_ring* ring = d_.inject_rings[next_inject_++ % d_.inject_rings.size()];
    if (rte_ring_sp_enqueue(ring, m) != 0) {
        rte_pktmbuf_free(m);
        d_.counters->drop(z, Drop::tx_full);
    }
}

}  // namespace ipshare
