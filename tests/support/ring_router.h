// A router on ring ports, for tests and harnesses that run the real packet
// walk (process_burst) over real mbufs: a mempool, three ethdev ports backed
// by rte_rings (rte_eth_from_rings, started with port_start), a neighbour
// table under RCU, the learn / pending / inject / refeed rings, a Nat and a
// FragTable, and a WorkerCtx wired as the daemon wires it. Tables come from
// build_tables() over a configuration. Frames go in through an RX ring and
// rte_eth_rx_burst and come out through rte_eth_tx_burst into a TX ring.
//
// No GoogleTest here (the fuzz harness uses it too); ring_router_test.h is
// the fixture on top. The members are public and named as the fixtures name
// them: tests read and poke them (counters_, w_, the rings).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "frag.h"
#include "nat.h"
#include "neighbour.h"
#include "packet_builder.h"
#include "tables_build.h"
#include "worker.h"

struct rte_mempool;
struct rte_ring;
struct rte_rcu_qsbr;
struct rte_mbuf;

namespace ipshare::test {

struct RingRouterParams {
    struct Limit {
        uint64_t rate, burst;  // tokens a second, banked at most
    };
    struct Neighbour {
        Zone zone;
        uint32_t ip;
        Mac mac;
    };

    // Every DPDK object is named after it: <prefix>_pool, <prefix>_rx_wan, and
    // the ports net_ring_<prefix>_wan, _lan, _dmz. Unique among live routers.
    std::string prefix;
    unsigned pool_size = 1023;
    unsigned ring_size = 256;  // each port's RX and TX ring
    // Not 0: a pool of indirect mbufs, and TX fragments at each port's MTU
    // (the daemon's wiring). 0: TX as the unit tests had it (no pools).
    unsigned indirect_pool_size = 0;
    uint8_t mac_base = 0x10;  // port z's MAC is 02:1a:00:00:00:(mac_base + z)
    std::vector<Neighbour> neighbours = {{Zone::dmz, kWanIp, kServerMac}, {Zone::wan, kGateway, kGatewayMac}};
    NatParams nat = default_nat();
    Limit icmp_errors{100, 50}, icmp_echo{1000, 100}, arp_replies{1000, 100};
    uint32_t now_s = 0;
    // After each burst, also run what the worker loop runs next: released
    // fragments (refeed) and frames from the control thread (inject).
    bool drain_after_burst = false;

    static NatParams default_nat() {
        NatParams np;
        np.wan_ip = kWanIp;
        np.capacity = 1024;
        np.per_client = 64;
        return np;
    }
};

class RingRouter {
public:
    RingRouter() = default;
    RingRouter(const RingRouter&) = delete;
    RingRouter& operator=(const RingRouter&) = delete;
    ~RingRouter() { stop(); }

    // Makes every object and wires w_; no tables yet (load_config). False
    // with *err on the first failure; stop() frees what was made.
    bool start(const RingRouterParams& p, std::string* err);
    // Frees everything (mbufs still in the rings too). Idempotent.
    void stop();

    // Tables for `c` (or the configuration text), published to the worker.
    // The old tables go first: the route table's name is reused. Safe
    // between bursts: the caller is the only "worker".
    bool load_config(const Config& c, uint64_t generation, std::string* err);
    bool load_config_text(const std::string& text, uint64_t generation, std::string* err);

    // "net_ring_<prefix>_<zone>": the device name rte_eth_from_rings gives.
    std::string port_name(Zone z) const;
    Mac mac_of(Zone z) const;
    // A one-segment mbuf holding `frame`, or null when the pool is empty.
    rte_mbuf* mbuf_of(const Bytes& frame);
    // The mbufs arrive on port `z` in one burst (at most kBurst) and go
    // through the router; TX is flushed. False with *err when the RX ring or
    // rte_eth_rx_burst did not take them all.
    bool run_burst(Zone z, rte_mbuf* const* in, unsigned n, std::string* err);

    static void free_ring_mbufs(rte_ring* r);
    // Frees the mbufs waiting in every ring (RX, TX, pending, inject, refeed).
    void free_queued_mbufs();

    RingRouterParams params_;
    rte_mempool* pool_ = nullptr;
    rte_mempool* indirect_ = nullptr;
    unsigned initial_avail_ = 0;  // pool_'s free mbufs when started
    std::array<rte_ring*, kNumZones> rx_{}, tx_{};
    std::array<bool, kNumZones> port_made_{};
    std::array<PortInfo, kNumZones> ports_{};
    ForwardIds ids_;
    std::unique_ptr<Tables> tables_;
    std::atomic<const Tables*> published_{nullptr};
    rte_rcu_qsbr* qsbr_ = nullptr;
    std::unique_ptr<NeighbourTable> neigh_;
    rte_ring* learn_ = nullptr;
    rte_ring* pending_ = nullptr;
    rte_ring* inject_ = nullptr;
    rte_ring* refeed_ = nullptr;
    std::unique_ptr<Nat> nat_;
    std::unique_ptr<FragTable> frags_;
    Counters counters_;
    std::atomic<bool> stop_{false};
    WorkerCtx w_;

private:
    bool make_port(Zone z, std::string* err);
};

}  // namespace ipshare::test
