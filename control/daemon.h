// The daemon: builds every object once (no singletons), hands references to
// the workers, and runs the control thread on the main lcore.
#pragma once

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "../dataplane/counters.h"
#include "../dataplane/mailbox.h"
#include "../dataplane/neighbour.h"
#include "../dataplane/rss.h"
#include "../dataplane/tables.h"
#include "../dataplane/worker.h"
#include "capture.h"
#include "config.h"
#include "control_api.h"
#include "ctl_server.h"
#include "neighbour_manager.h"
#include "tables_build.h"

struct rte_mempool;
struct rte_ring;
struct rte_rcu_qsbr;

namespace ipshare {

class Daemon : public ControlApi {
public:
    // `port_ids`: the ethdev ids of wan, lan, dmz, already resolved.
    // `mbuf_size`: data room of each packet buffer (headroom included).
    Daemon(Config cfg, std::array<uint16_t, kNumZones> port_ids, uint32_t mbuf_size);
    ~Daemon();
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;

    // Allocates, starts ports, launches the workers. False and *err on failure
    // (whatever was started is stopped by the destructor).
    bool start(std::string* err);

    // The control loop: signals (SIGINT/SIGTERM stop, SIGUSR1 prints the
    // counters), neighbour resolution. Returns when asked to stop.
    void run(int signal_fd, CtlServer* server);

    // Stops the workers and the ports; prints the final counters.
    void stop();

    CounterTotals totals() const;

    // ControlApi (daemon_api.cc).
    std::vector<PortRow> ports() override;
    std::vector<DropRow> drops() override;
    std::vector<NeighbourRow> neighbours() override;
    std::vector<SessionRow> sessions(const SessionFilter& f, size_t limit) override;
    uint64_t session_count(const SessionFilter& f) override;
    std::vector<ForwardRow> forwards() override;
    std::vector<FilterRow> filters() override;
    std::vector<WorkerRow> workers() override;
    std::vector<MemoryRow> memory() override;
    const Config& running_config() override { return cfg_; }
    Outcome apply_config(const Config& next) override;
    Outcome reload() override;
    uint64_t flush_sessions(const SessionFilter& f) override;
    void clear_counters() override;
    Outcome capture(const CaptureRequest& r) override;

    // Called by the control loop: rates once a second, the capture.
    void housekeeping(uint64_t now_tsc);

private:
    // Posts `op` to every worker's mailbox and waits for all answers.
    uint64_t ask_workers(Mailbox::Op op, const SessionQuery& q, size_t limit, std::vector<Session>* out,
                         std::vector<unsigned>* owners = nullptr);
    void end_capture();
    uint32_t now_seconds() const;
    uint64_t now_ns(uint64_t tsc) const;

    Config cfg_;
    std::array<uint16_t, kNumZones> port_ids_;
    std::array<PortInfo, kNumZones> ports_{};
    std::array<bool, kNumZones> port_started_{};
    unsigned nworkers_ = 0;

    rte_mempool* pool_ = nullptr;
    rte_mempool* indirect_pool_ = nullptr;  // egress fragments' data references
    uint32_t mbuf_size_;
    rte_rcu_qsbr* qsbr_ = nullptr;
    rte_ring* learn_ring_ = nullptr;
    rte_ring* pending_ring_ = nullptr;
    std::vector<rte_ring*> inject_rings_;

    std::unique_ptr<Tables> tables_;
    ForwardIds forward_ids_;
    std::atomic<const Tables*> published_{nullptr};
    std::unique_ptr<NeighbourTable> neigh_;
    std::unique_ptr<RssPredictor> wan_rss_;  // predictable RSS on wan (rss.h), when the NIC allows it
    std::unique_ptr<NeighbourManager> neigh_mgr_;

    std::vector<std::unique_ptr<Nat>> nats_;  // one per worker
    std::vector<std::unique_ptr<FragTable>> frags_;
    std::vector<rte_ring*> refeed_rings_;
    std::vector<rte_ring*> handoff_rings_;
    std::unique_ptr<Counters[]> counters_;  // one per worker, then the control thread's
    std::unique_ptr<Mailbox[]> mailboxes_;  // one per worker
    CaptureRings capture_rings_{};
    Capture capture_;
    std::vector<unsigned> lcores_;
    uint64_t start_tsc_ = 0, hz_ = 1;
    // Once-a-second samples for rates.
    uint64_t sample_tsc_ = 0;
    std::array<uint64_t, kNumZones> last_rx_{}, last_tx_{};
    std::array<double, kNumZones> rx_pps_{}, tx_pps_{};
    std::vector<uint64_t> last_busy_, last_idle_;
    std::vector<double> busy_percent_;
    std::vector<WorkerCtx> workers_;
    std::atomic<bool> stop_{false};
    bool launched_ = false;
    bool stopped_ = false;
};

}  // namespace ipshare
