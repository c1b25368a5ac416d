// The worker: poll every port, walk each burst through the stages, send.
//
//   rx burst (one port)
//     -> classify   validate, decide per the decision table      classify.cc
//     -> arp        answer / learn / drop                        arp_stage.cc
//     -> local      echo replies from the router itself          local.cc
//     -> forward    TTL, or ICMP time exceeded                   forward.cc
//     -> filter     firewall for zone pairs without sessions    firewall.cc
//     -> nat        NAPT: sessions, or the server               nat_stage.cc
//     -> neighbour  Ethernet addresses, or wait for ARP          neighbour_stage.cc
//     -> tx         buffered per port; drops freed and counted   below, tx.cc
//
// No locks, no system calls, no allocation: tables are read through the
// RCU-published pointer, counters are this worker's own.
#include "worker.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <algorithm>

#include "stages.h"
#include "walk.h"

namespace ipshare {

void stage_tx(Burst& b, WorkerCtx& w) {
    rte_mbuf* to_free[kBurst];
    unsigned nfree = 0;
    Counters& c = *w.counters;
    for (uint16_t i = 0; i < b.n; ++i) {
        switch (b.st[i].action) {
        case Action::reply: w.tx.push(b.in, b.m[i], c); break;
        case Action::transmit: w.tx.push(b.st[i].out, b.m[i], c); break;
        case Action::handed_off: break;
        case Action::consumed: to_free[nfree++] = b.m[i]; break;
        case Action::drop: c.drop(b.in, b.st[i].drop); to_free[nfree++] = b.m[i]; break;
        case Action::arp:
        case Action::local:
        case Action::forward:
        case Action::nat_out:
        case Action::nat_in:
        case Action::hairpin:
        case Action::dmz_to_lan:
        case Action::checked:  // a stage left it unfinished: cannot happen, but never leak
            c.drop(b.in, Drop::no_route);
            to_free[nfree++] = b.m[i];
            break;
        }
    }
    if (nfree) rte_pktmbuf_free_bulk(to_free, nfree);
}

void process_burst(WorkerCtx& w, const Tables& t, Zone in, rte_mbuf** pkts, uint16_t n) {
    walk_burst(w, t, in, pkts, n, [](Stage) {});
}

void drain_inject(WorkerCtx& w) {
    void* objs[kBurst];
    const unsigned n = rte_ring_sc_dequeue_burst(w.inject_ring, objs, kBurst, nullptr);
    for (unsigned i = 0; i < n; ++i) {
        auto* m = static_cast<rte_mbuf*>(objs[i]);
        const auto* meta = static_cast<const MbufMeta*>(rte_mbuf_to_priv(m));
        w.tx.push(static_cast<Zone>(meta->zone), m, *w.counters);
    }
}

void drain_refeed(WorkerCtx& w) {
    if (!w.refeed_ring) return;
    void* objs[kBurst];
    const unsigned n = rte_ring_sc_dequeue_burst(w.refeed_ring, objs, kBurst, nullptr);
    if (n == 0) return;
    for (Zone in : kAllZones) {
        Burst b;
        b.in = in;
        b.n = 0;
        b.actions = bit(Action::forward);
        for (unsigned i = 0; i < n; ++i) {
            auto* m = static_cast<rte_mbuf*>(objs[i]);
            const auto* meta = static_cast<const MbufMeta*>(rte_mbuf_to_priv(m));
            if (meta->in_zone != idx(in)) continue;
            b.m[b.n] = m;
            b.st[b.n++] = PktState{Action::forward, static_cast<Zone>(meta->zone), Drop::count, meta->nexthop};
        }
        if (b.n == 0) continue;
        stage_neighbour(b, w);
        stage_tx(b, w);
    }
}

void serve_mailbox(WorkerCtx& w, const Tables& t) {
    Mailbox& mb = *w.mailbox;
    Nat& nat = *w.nat;
    const uint32_t end = std::min(nat.capacity(), mb.cursor + Mailbox::kSlotsPerRound);
    for (uint32_t id = mb.cursor; id < end; ++id) {
        if (!nat.in_use(id)) continue;
        const Session& s = nat.at(id);
        if (!mb.query.matches(s)) continue;
        if (mb.query.dead_forwards && (s.kind != SessionKind::forward || t.forwards.live(s.forward_id))) continue;
        ++mb.matched;
        if (mb.op == Mailbox::Op::list && mb.out_count < mb.out_capacity) mb.out[mb.out_count++] = s;
        if (mb.op == Mailbox::Op::flush) nat.remove(id, w.now_s);
    }
    mb.cursor = end;
    if (end == nat.capacity()) mb.state.store(Mailbox::kDone, std::memory_order_release);
}

void drain_handoff(WorkerCtx& w, const Tables& t) {
    if (w.nworkers < 2) return;
    void* objs[kBurst];
    const unsigned n = rte_ring_sc_dequeue_burst(w.handoff_rings[w.index], objs, kBurst, nullptr);
    if (n == 0) return;
    for (Zone in : kAllZones) {
        Burst b;
        b.in = in;
        b.n = 0;
        b.actions = 0;
        b.owned = true;
        for (unsigned i = 0; i < n; ++i) {
            auto* m = static_cast<rte_mbuf*>(objs[i]);
            const auto* meta = static_cast<const MbufMeta*>(rte_mbuf_to_priv(m));
            if (meta->in_zone != idx(in)) continue;
            const auto a = static_cast<Action>(meta->action);
            b.m[b.n] = m;
            b.st[b.n++] = PktState{a, static_cast<Zone>(meta->zone), Drop::count, meta->nexthop};
            b.actions |= bit(a);
        }
        if (b.n == 0) continue;
        stage_nat(b, t, w);
        stage_neighbour(b, w);
        stage_tx(b, w);
    }
}

int worker_loop(WorkerCtx& w) {
    rte_rcu_qsbr_thread_register(w.qsbr, w.index);
    rte_rcu_qsbr_thread_online(w.qsbr, w.index);
    rte_mbuf* pkts[kBurst];
    const auto queue = static_cast<uint16_t>(w.index);
    constexpr unsigned kExpiryBudget = 64;  // sessions removed per poll round at most
    while (!w.stop->load(std::memory_order_relaxed)) {
        const Tables* t = w.tables->load(std::memory_order_acquire);
        w.now_s = static_cast<uint32_t>((rte_rdtsc() - w.start_tsc) / w.tsc_hz);
        bool busy = false;
        for (Zone z : kAllZones) {
            const uint16_t n = rte_eth_rx_burst(w.ports[idx(z)].port_id, queue, pkts, kBurst);
            if (n) {
                busy = true;
                process_burst(w, *t, z, pkts, n);
            }
        }
        drain_handoff(w, *t);
        drain_refeed(w);
        drain_inject(w);
        w.tx.flush_all(*w.counters);
        if (w.nat) expire_sessions(w, *t, kExpiryBudget);
        if (w.mailbox && w.mailbox->state.load(std::memory_order_acquire) == Mailbox::kPosted) serve_mailbox(w, *t);
        rte_rcu_qsbr_quiescent(w.qsbr, w.index);
        (busy ? w.counters->busy_polls : w.counters->idle_polls).add();
    }
    w.tx.flush_all(*w.counters);
    rte_rcu_qsbr_thread_offline(w.qsbr, w.index);
    rte_rcu_qsbr_thread_unregister(w.qsbr, w.index);
    return 0;
}

}  // namespace ipshare
