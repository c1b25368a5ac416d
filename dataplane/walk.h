// The walk of one received burst through the stages, top to bottom. The
// worker's process_burst() and the benchmarks' instrumented walk are this one
// template, so what bench/ times per stage is the code the worker runs.
// `after(stage)` runs after each stage: nothing in the worker (the empty
// lambda inlines away), an rte_rdtsc lap in bench/harness.cc.
#pragma once

#include <atomic>
#include <cstdint>

#include "burst.h"
#include "capture_tap.h"
#include "stages.h"
#include "worker.h"

namespace ipshare {

enum class Stage : uint8_t { classify, arp, local, forward, filter, nat, neighbour, tx };
inline constexpr unsigned kNumStages = 8;

template <typename After>
inline void walk_burst(WorkerCtx& w, const Tables& t, Zone in, rte_mbuf** pkts, uint16_t n, After&& after) {
    Burst b;
    b.in = in;
    b.n = n;
    b.actions = 0;
    for (uint16_t i = 0; i < n; ++i) b.m[i] = pkts[i];
    w.counters->port[idx(in)].rx.add(n);
    if (w.capture)
        if (rte_ring* r = (*w.capture)[idx(in)].load(std::memory_order_relaxed)) capture_copy(r, pkts, n);

    stage_classify(b, t, w);
    after(Stage::classify);
    stage_arp(b, t, w);
    after(Stage::arp);
    stage_local(b, t, w);
    after(Stage::local);
    stage_forward(b, t, w);
    after(Stage::forward);
    stage_filter(b, t, w);
    after(Stage::filter);
    stage_nat(b, t, w);
    after(Stage::nat);
    stage_neighbour(b, w);
    after(Stage::neighbour);
    stage_tx(b, w);
    after(Stage::tx);
}

}  // namespace ipshare
