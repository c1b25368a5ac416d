// The daemon: builds every object once (no singletons), hands references to
// the workers, and runs the control thread on the main lcore.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "../dataplane/counters.h"
#include "../dataplane/neighbour.h"
#include "../dataplane/tables.h"
#include "../dataplane/worker.h"
#include "config.h"
#include "neighbour_manager.h"
#include "tables_build.h"

struct rte_mempool;
struct rte_ring;
struct rte_rcu_qsbr;

namespace ipshare {

class Daemon {
public:
    // `port_ids`: the ethdev ids of wan, lan, dmz, already resolved.
    Daemon(Config cfg, std::array<uint16_t, kNumZones> port_ids);
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Allocates, starts ports, launches the workers. False and *err on failure
    // (whatever was started is stopped by the destructor).
    bool start(std::string* err);

    // The control loop: signals (SIGINT/SIGTERM stop, SIGUSR1 prints the
    // counters), neighbour resolution. Returns when asked to stop.
    void run(int signal_fd);

    // Stops the workers and the ports; prints the final counters.
    void stop();

    CounterTotals totals() const;

private:
    Config cfg_;
    std::array<uint16_t, kNumZones> port_ids_;
    std::array<PortInfo, kNumZones> ports_{};
    std::array<bool, kNumZones> port_started_{};
    unsigned nworkers_ = 0;

    rte_mempool* pool_ = nullptr;
    rte_rcu_qsbr* qsbr_ = nullptr;
    rte_ring* learn_ring_ = nullptr;
    rte_ring* pending_ring_ = nullptr;
    std::vector<rte_ring*> inject_rings_;

    std::unique_ptr<Tables> tables_;
    ForwardIds forward_ids_;
    std::atomic<const Tables*> published_{nullptr};
    std::unique_ptr<NeighbourTable> neigh_;
    std::unique_ptr<NeighbourManager> neigh_mgr_;

    std::vector<std::unique_ptr<Nat>> nats_;  // one per worker
    std::vector<std::unique_ptr<FragTable>> frags_;
    std::vector<rte_ring*> refeed_rings_;
    std::unique_ptr<Counters[]> counters_;  // one per worker, then the control thread's
    std::vector<WorkerCtx> workers_;
    std::atomic<bool> stop_{false};
    bool launched_ = false;
    bool stopped_ = false;
};

}  // namespace ipshare
