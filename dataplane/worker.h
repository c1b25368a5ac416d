// A poll-mode worker: owns one RX and one TX queue on each port and runs
// every burst through the stages, top to bottom (see worker.cc).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "counters.h"
#include "capture_tap.h"
#include "frag.h"
#include "mailbox.h"
#include "nat.h"
#include "neigh_cache.h"
#include "neighbour.h"
#include "ratelimit.h"
#include "tables.h"
#include "tx.h"
#include "zone.h"

struct rte_ring;
struct rte_rcu_qsbr;

namespace ipshare {

struct PortInfo {
    uint16_t port_id = 0;
    uint16_t mtu = 1500;
    uint8_t mac[6] = {};
};

// Worker -> control: "this sender is at this MAC" (ring element, 16 bytes).
struct ArpLearnMsg {
    uint32_t ip;   // host order
    uint8_t zone;
    uint8_t create;  // 1: create or refresh; 0: refresh an existing entry only
    uint8_t mac[6];
    uint8_t pad[4];
};
static_assert(sizeof(ArpLearnMsg) == 16);

struct WorkerCtx {
    unsigned index = 0;  // also its RCU thread id and its queue number
    std::array<PortInfo, kNumZones> ports{};
    const std::atomic<const Tables*>* tables = nullptr;
    const NeighbourTable* neigh = nullptr;
    NeighCache neigh_cache;  // this worker's recent answers of `neigh` (neigh_cache.h)
    rte_ring* learn_ring = nullptr;    // to control, multi-producer
    rte_ring* pending_ring = nullptr;  // to control: mbufs waiting for ARP
    rte_ring* inject_ring = nullptr;   // from control: frames to send (zone in MbufMeta)
    rte_rcu_qsbr* qsbr = nullptr;
    TokenBucket icmp_errors, icmp_echo, arp_replies;
    TxQueues tx;
    Counters* counters = nullptr;
    const std::atomic<bool>* stop = nullptr;

    Mailbox* mailbox = nullptr;       // requests from the control thread (mailbox.h)
    CaptureRings* capture = nullptr;  // copies of a port's traffic, when set (capture_tap.h)
    // Several workers: each NAT flow has one owner (nat_stage.cc); packets of
    // flows owned by another worker go to its handoff ring.
    unsigned nworkers = 1;
    rte_ring* const* handoff_rings = nullptr;  // one per worker, multi-producer
    Nat* nat = nullptr;       // this worker's sessions
    FragTable* frags = nullptr;       // this worker's fragment verdicts (frag.h)
    rte_ring* refeed_ring = nullptr;  // own: fragments released by frag, ready to route
    uint32_t now_s = 0;       // seconds since start, read once per poll round
    uint64_t start_tsc = 0;
    uint64_t tsc_hz = 1;
};

// Runs the whole walk over one received burst.
void process_burst(WorkerCtx& w, const Tables& t, Zone in, struct rte_mbuf** pkts, uint16_t n);

// Frames the control thread asked this worker to send.
void drain_inject(WorkerCtx& w);

// Datagrams decided earlier (MbufMeta: out zone, next hop, ingress zone) that
// still need the neighbour and tx stages: released fragments.
void drain_refeed(WorkerCtx& w);

// Packets other workers handed to this one (it owns their NAT flows): they
// enter at the nat stage, classify and TTL already done.
void drain_handoff(WorkerCtx& w, const Tables& t);

// Serves a posted mailbox request, a bounded number of session slots a round.
void serve_mailbox(WorkerCtx& w, const Tables& t);

// The poll loop, until *stop. Returns 0.
int worker_loop(WorkerCtx& w);

}  // namespace ipshare
