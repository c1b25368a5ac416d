// Benchmark harness: the dataplane's real worker state (WorkerCtx, Nat,
// FragTable, neighbour table, token buckets, tables from build_tables) built
// as control/daemon.cc builds it, on ethdev ports backed by rte_rings (the
// ring PMD), as tests/support/ring_router.h does for the unit tests.
//
// One iteration of a benchmark:
//   load     (untimed)  write the next frames of the traffic pattern into a
//                       fixed set of mbufs and enqueue them on the RX rings,
//                       one burst of 32 per busy port and poll round;
//   run      (timed)    the worker's poll rounds: rte_eth_rx_burst on every
//                       port, process_burst() on what came in, with several
//                       workers drain_handoff(), then TxQueues::flush_all
//                       (rte_eth_tx_burst into the TX rings), rte_rdtsc
//                       around the whole loop;
//   collect  (untimed)  take the mbufs back from the TX rings; the ones the
//                       router did not forward (dropped, waiting for ARP)
//                       are missing.
// The mbufs are reused, so nothing is allocated in steady state; every frame
// is rewritten from its flow before each use (so translated headers, TTL and
// MACs start afresh) and is warm in cache, as if a NIC had just written it
// (DDIO).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "burst.h"
#include "counters.h"
#include "frag.h"
#include "nat.h"
#include "neighbour.h"
#include "tables.h"
#include "walk.h"
#include "worker.h"

struct rte_mempool;
struct rte_ring;
struct rte_rcu_qsbr;

namespace ipshare::bench {

constexpr uint32_t ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) {
    return (uint32_t{a} << 24) | (uint32_t{b} << 16) | (uint32_t{c} << 8) | d;
}

// The reference addresses of DESIGN.md.
inline constexpr uint32_t kLanIp = ip4(192, 168, 1, 1);
inline constexpr uint32_t kLanNet = ip4(192, 168, 1, 0);
inline constexpr uint32_t kWanIp = ip4(203, 0, 113, 10);
inline constexpr uint32_t kWanNet = ip4(203, 0, 113, 0);
inline constexpr uint32_t kGateway = ip4(203, 0, 113, 1);
// Remote hosts: the RFC 2544 benchmarking range 198.18.0.0/15, beyond the gateway.
inline constexpr uint32_t kRemoteBase = ip4(198, 18, 0, 0);
inline constexpr uint32_t kRemoteCount = 1u << 17;
// LAN clients 192.168.1.2 .. 192.168.1.201, all with a neighbour entry.
inline constexpr uint32_t kClients = 200;
inline constexpr uint32_t kFirstClient = kLanNet + 2;

using Mac = std::array<uint8_t, 6>;
inline constexpr Mac kGatewayMac = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x01};
inline constexpr Mac kServerMac = {0x02, 0x00, 0x5e, 0x00, 0x00, 0x0a};
inline Mac client_mac(uint32_t client_ip) { return {0x02, 0x00, 0x5e, 0x01, 0x00, static_cast<uint8_t>(client_ip)}; }

// 64-byte packets on the wire: 60 bytes of frame (Ethernet 14, IPv4 20,
// UDP 8, payload 18) and the 4-byte FCS the NIC adds.
inline constexpr uint16_t kFrameLen = 60;

// Writes a UDP frame with valid IPv4 and UDP checksums, TTL 64.
void write_udp_frame(uint8_t* p, const uint8_t* dst_mac, const uint8_t* src_mac, uint32_t src, uint32_t dst,
                     uint16_t sport, uint16_t dport);

inline constexpr unsigned kMaxWorkers = 2;

// What every worker shares: the mbuf pool, three ring-backed ports (one queue
// pair per worker), the tables, the neighbour table, RCU, the control rings.
struct Env {
    unsigned queues = 1;
    rte_mempool* pool = nullptr;
    std::array<std::array<rte_ring*, kMaxWorkers>, kNumZones> rx{}, tx{};
    std::array<PortInfo, kNumZones> ports{};
    std::unique_ptr<Tables> tables;
    std::atomic<const Tables*> published{nullptr};
    rte_rcu_qsbr* qsbr = nullptr;
    std::unique_ptr<NeighbourTable> neigh;
    rte_ring* learn = nullptr;
    rte_ring* pending = nullptr;
    // Several workers: each NAT flow has one owner; the others hand its
    // packets to the owner's ring (nat_stage.cc). One per worker, as the daemon.
    std::array<rte_ring*, kMaxWorkers> handoff{};
    CaptureRings capture{};  // all null: no capture running, as in the daemon
    uint64_t hz = 1;
    uint64_t start_tsc = 0;
};

// Builds the environment once, after rte_eal_init. `queues`: workers that may run at once.
bool env_init(unsigned queues, std::string* err);
Env& env();
// Frees what env_init made (before rte_eal_cleanup).
void env_cleanup();

// A traffic pattern: which ports receive a burst in each poll round (in the
// worker's poll order wan, lan, dmz), and the next frame arriving on a port.
struct Traffic {
    std::vector<Zone> busy;
    std::function<void(Zone, uint8_t* frame)> next;
    // Frames per iteration: as many as a NIC's RX and TX rings hold under
    // load; fewer for slow paths, so that an iteration stays well under a
    // scheduler time slice (see quantile() in bench_dataplane.cc).
    unsigned per_iteration = 2048;
};

// How a poll round treats what it received.
enum class Mode : uint8_t {
    floor,   // rte_eth_rx_burst -> TxQueues::push to `floor_out` -> flush: no stages
    walk,    // rte_eth_rx_burst -> process_burst() -> flush: the real worker
    stages,  // the same walk (walk_burst) with rte_rdtsc between the stages
};

// Per-stage cycles (Mode::stages), summed over the iterations.
enum StageSlot : unsigned { kRx, kClassify, kArp, kLocal, kForward, kFilter, kNat, kNeighbour, kTx, kFlush, kSlots };
inline constexpr const char* kStageNames[kSlots] = {"rx",     "classify", "arp",       "local", "forward",
                                                    "filter", "nat",      "neighbour", "tx",    "flush"};
static_assert(kTx - kClassify + 1 == kNumStages, "one slot per stage of walk_burst (dataplane/walk.h), in its order");

struct NatConfig {
    uint32_t capacity = 1u << 20;  // the daemon's default `napt sessions`
    uint16_t port_lo = 61000, port_hi = 65535;  // the default `napt ports`
    uint32_t rest_seconds = 120;
    unsigned stride = 1, offset = 0;
};

// One worker: its WorkerCtx, Nat, FragTable, refeed and inject rings and
// counters, on queue `q` of every port, and the mbufs it cycles.
class BenchWorker {
public:
    // Worker `q` of `nworkers` (queue q of every port, handoff ring q).
    static std::unique_ptr<BenchWorker> create(unsigned q, unsigned nworkers, const NatConfig& nc, std::string* err);
    ~BenchWorker();

    WorkerCtx& ctx() { return w_; }
    Nat& nat() { return *nat_; }
    Counters& counters() { return counters_; }

    // Packets per iteration for `rounds` poll rounds of `t`.
    static unsigned packets(const Traffic& t, unsigned rounds) {
        return rounds * static_cast<unsigned>(t.busy.size()) * kBurst;
    }
    // Returns the number of frames loaded.
    unsigned load(Traffic& t, unsigned rounds);
    // The timed poll rounds; returns TSC cycles. `floor_out`: Mode::floor only.
    uint64_t run(unsigned rounds, Mode mode, Zone floor_out = Zone::dmz);
    // Several workers, after run(): keeps taking what the others hand over
    // until `others_done()` and its handoff ring is empty (the poll loop's
    // work for packets of this worker's flows that came in elsewhere).
    uint64_t drain_tail(const std::function<bool()>& others_done);
    // Takes back the mbufs from this worker's TX rings; returns how many.
    unsigned collect();

    // Per-stage cycles accumulated by Mode::stages.
    std::array<uint64_t, kSlots> stage_cycles{};

    // Sets now_s from the TSC, as the worker loop does once per round.
    void tick();

private:
    BenchWorker() = default;
    WorkerCtx w_;
    Counters counters_;
    std::unique_ptr<Nat> nat_;
    std::unique_ptr<FragTable> frags_;
    rte_ring* refeed_ = nullptr;
    rte_ring* inject_ = nullptr;
    unsigned q_ = 0;
    std::vector<rte_mbuf*> spare_;  // mbufs not in flight
};

// Cycles of one rte_rdtsc() pair, measured (for the stage breakdown).
uint64_t rdtsc_overhead();

}  // namespace ipshare::bench
