// The stages of the packet walk, in the order the worker calls them. Each
// takes a burst, acts on the packets whose action is its own, and leaves a
// new action for the next.
#pragma once

#include "burst.h"
#include "tables.h"

namespace ipshare {

struct WorkerCtx;

void stage_classify(Burst& b, const Tables& t, WorkerCtx& w);   // classify.cc
void stage_arp(Burst& b, const Tables& t, WorkerCtx& w);        // arp_stage.cc
void stage_local(Burst& b, const Tables& t, WorkerCtx& w);      // local.cc
void stage_forward(Burst& b, const Tables& t, WorkerCtx& w);    // forward.cc
void stage_neighbour(Burst& b, WorkerCtx& w);                   // neighbour_stage.cc
void stage_tx(Burst& b, WorkerCtx& w);                          // worker.cc

}  // namespace ipshare
