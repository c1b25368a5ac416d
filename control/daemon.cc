#include "daemon.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "../dataplane/burst.h"
#include "../dataplane/port.h"
#include "config_parse.h"
#include "stats.h"
#include "tables_build.h"

namespace ipshare {
namespace {

constexpr uint32_t kNeighbourCapacity = 16384;
constexpr unsigned kLearnRing = 4096;
constexpr unsigned kPendingRing = 1024;
constexpr unsigned kInjectRing = 1024;
constexpr unsigned kRefeedRing = 1024;
constexpr unsigned kHandoffRing = 4096;
// Fragments (frag.h): datagrams tracked and fragments waiting, per worker.
constexpr uint32_t kFragDatagrams = 4096;
constexpr uint32_t kFragWaiting = 512;
// Rate limits of what the router generates, per worker (RFC 1812 4.3.2.8).
constexpr uint64_t kIcmpErrorRate = 100, kIcmpErrorBurst = 50;
constexpr uint64_t kEchoRate = 1000, kEchoBurst = 100;
constexpr uint64_t kArpRate = 1000, kArpBurst = 100;

int worker_entry(void* arg) { return worker_loop(*static_cast<WorkerCtx*>(arg)); }

std::string mac_text(const uint8_t* m) {
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return buf;
}

void drain_ring(rte_ring* r) {
    void* obj;
    while (r && rte_ring_dequeue(r, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
}

}  // namespace

Daemon::Daemon(Config cfg, std::array<uint16_t, kNumZones> port_ids, uint32_t mbuf_size)
    : cfg_(std::move(cfg)), port_ids_(port_ids), mbuf_size_(mbuf_size) {}

bool Daemon::start(std::string* err) {
    unsigned lcore;
    std::vector<unsigned> lcores;
    RTE_LCORE_FOREACH_WORKER(lcore) lcores.push_back(lcore);
    lcores_ = lcores;
    nworkers_ = static_cast<unsigned>(lcores.size());
    if (nworkers_ == 0) return *err = "no worker lcore: give EAL at least two, e.g. -l 0,1", false;

    const unsigned nmbufs = 3 * nworkers_ * 2048 + 8192 - 1;
    pool_ = rte_pktmbuf_pool_create("ipshare_mbufs", nmbufs, 256, sizeof(MbufMeta),
                                    static_cast<uint16_t>(mbuf_size_), static_cast<int>(rte_socket_id()));
    if (!pool_) return *err = std::string("cannot create the mbuf pool: ") + rte_strerror(rte_errno), false;
    indirect_pool_ = rte_pktmbuf_pool_create("ipshare_indirect", 8191, 256, sizeof(MbufMeta), 0,
                                             static_cast<int>(rte_socket_id()));
    if (!indirect_pool_) return *err = "cannot create the indirect mbuf pool", false;

    const size_t qsz = rte_rcu_qsbr_get_memsize(nworkers_);
    qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc("ipshare_qsbr", qsz, RTE_CACHE_LINE_SIZE));
    if (!qsbr_ || rte_rcu_qsbr_init(qsbr_, nworkers_) != 0) return *err = "cannot set up RCU", false;

    tables_ = build_tables(cfg_, 1, forward_ids_, err);
    if (!tables_) return false;
    published_.store(tables_.get(), std::memory_order_release);

    neigh_ = NeighbourTable::create("ipshare_neigh", kNeighbourCapacity, qsbr_, err);
    if (!neigh_) return false;

    const int socket = static_cast<int>(rte_socket_id());
    learn_ring_ = rte_ring_create_elem("ipshare_learn", sizeof(ArpLearnMsg), kLearnRing, socket, RING_F_SC_DEQ);
    pending_ring_ = rte_ring_create("ipshare_pending", kPendingRing, socket, RING_F_SC_DEQ);
    if (!learn_ring_ || !pending_ring_) return *err = "cannot create the control rings", false;
    for (unsigned i = 0; i < nworkers_; ++i) {
        const std::string name = "ipshare_inject" + std::to_string(i);
        rte_ring* r = rte_ring_create(name.c_str(), kInjectRing, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (!r) return *err = "cannot create an inject ring", false;
        inject_rings_.push_back(r);
    }

    std::vector<uint16_t> wan_reta;
    for (Zone z : kAllZones) {
        std::string perr;
        if (!port_start(port_ids_[idx(z)], static_cast<uint16_t>(nworkers_), pool_, &ports_[idx(z)], &perr,
                        z == Zone::wan ? &wan_reta : nullptr)) {
            *err = "port " + std::string(kZoneNames[idx(z)]) + " (" + cfg_.port_device[idx(z)] + "): " + perr;
            return false;
        }
        port_started_[idx(z)] = true;
    }

    if (!wan_reta.empty()) wan_rss_ = std::make_unique<RssPredictor>(kRssKey, std::move(wan_reta));

    counters_ = std::make_unique<Counters[]>(nworkers_ + 1);
    mailboxes_ = std::make_unique<Mailbox[]>(nworkers_);
    const uint64_t hz = rte_get_tsc_hz();
    hz_ = hz;
    start_tsc_ = rte_rdtsc();
    last_busy_.assign(nworkers_, 0);
    last_idle_.assign(nworkers_, 0);
    busy_percent_.assign(nworkers_, 0);
    neigh_mgr_ = std::make_unique<NeighbourManager>(NeighbourManager::Deps{
        neigh_.get(), pool_, learn_ring_, pending_ring_, inject_rings_, ports_, &counters_[nworkers_], hz});
    neigh_mgr_->set_addresses(tables_->addr);

    for (unsigned i = 0; i < nworkers_; ++i) {
        NatParams np;
        np.wan_ip = tables_->addr.wan_ip;
        np.port_lo = cfg_.napt_ports.lo;
        np.port_hi = cfg_.napt_ports.hi;
        np.capacity = cfg_.napt_sessions / nworkers_;
        np.per_client = client_cap_per_worker(cfg_.napt_ports_per_client, cfg_.napt_ports.size(), nworkers_);
        np.rest_seconds = cfg_.timeouts.port_rest;
        np.stride = nworkers_;
        np.offset = i;
        np.seed = rte_rdtsc() ^ (uint64_t{i} << 32);
        np.reply_rss = wan_rss_.get();
        np.rx_queue = static_cast<uint16_t>(i);
        auto nat = Nat::create("nat" + std::to_string(i), np, err);
        if (!nat) return false;
        nat->set_counters(&counters_[i]);
        nats_.push_back(std::move(nat));
        auto frags = FragTable::create("frag" + std::to_string(i), kFragDatagrams, kFragWaiting, err);
        if (!frags) return false;
        frags_.push_back(std::move(frags));
        rte_ring* r = rte_ring_create(("ipshare_refeed" + std::to_string(i)).c_str(), kRefeedRing, socket,
                                      RING_F_SP_ENQ | RING_F_SC_DEQ);
        if (!r) return *err = "cannot create a refeed ring", false;
        refeed_rings_.push_back(r);
        rte_ring* h = rte_ring_create(("ipshare_handoff" + std::to_string(i)).c_str(), kHandoffRing, socket,
                                      RING_F_SC_DEQ);
        if (!h) return *err = "cannot create a handoff ring", false;
        handoff_rings_.push_back(h);
    }

    workers_.resize(nworkers_);
    for (unsigned i = 0; i < nworkers_; ++i) {
        WorkerCtx& w = workers_[i];
        w.index = i;
        w.ports = ports_;
        w.tables = &published_;
        w.neigh = neigh_.get();
        w.learn_ring = learn_ring_;
        w.pending_ring = pending_ring_;
        w.inject_ring = inject_rings_[i];
        w.qsbr = qsbr_;
        w.icmp_errors = TokenBucket(kIcmpErrorRate, kIcmpErrorBurst, hz);
        w.icmp_echo = TokenBucket(kEchoRate, kEchoBurst, hz);
        w.arp_replies = TokenBucket(kArpRate, kArpBurst, hz);
        for (Zone z : kAllZones) {
            w.tx.q[idx(z)].port_id = ports_[idx(z)].port_id;
            w.tx.q[idx(z)].queue_id = static_cast<uint16_t>(i);
            w.tx.mtu[idx(z)] = ports_[idx(z)].mtu;
        }
        w.tx.direct_pool = pool_;
        w.tx.indirect_pool = indirect_pool_;
        w.counters = &counters_[i];
        w.stop = &stop_;
        w.nat = nats_[i].get();
        w.mailbox = &mailboxes_[i];
        w.capture = &capture_rings_;
        w.tx.capture = &capture_rings_;
        w.frags = frags_[i].get();
        w.refeed_ring = refeed_rings_[i];
        w.nworkers = nworkers_;
        w.handoff_rings = handoff_rings_.data();
        w.start_tsc = start_tsc_;
        w.tsc_hz = hz;
    }
    for (unsigned i = 0; i < nworkers_; ++i) {
        if (rte_eal_remote_launch(worker_entry, &workers_[i], lcores[i]) != 0)
            return *err = "cannot launch a worker", false;
    }
    launched_ = true;

    if (nworkers_ > 1)
        std::printf("ipshare: wan: %s\n", wan_rss_ ? "predictable RSS (NAPT ports chosen so replies reach their owner's queue)"
                                                    : "no predictable RSS (replies reach their owner by handoff)");
    std::printf("ipshare: ready: %u worker(s); wan %s lan %s dmz %s\n", nworkers_, mac_text(ports_[0].mac).c_str(),
                mac_text(ports_[1].mac).c_str(), mac_text(ports_[2].mac).c_str());
    std::fflush(stdout);
    return true;
}

void Daemon::run(int signal_fd, CtlServer* server) {
    std::vector<pollfd> fds;
    for (;;) {
        signalfd_siginfo si;
        bool quit = false;
        while (read(signal_fd, &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
            if (si.ssi_signo == SIGINT || si.ssi_signo == SIGTERM) quit = true;
            if (si.ssi_signo == SIGUSR1) {
                std::fputs(format_counters(totals()).c_str(), stdout);
                std::fflush(stdout);
            }
        }
        if (quit) return;
        const uint64_t now = rte_rdtsc();
        neigh_mgr_->poll(now);
        housekeeping(now);
        if (server) server->poll_once();
        fds.assign(1, pollfd{signal_fd, POLLIN, 0});
        if (server) server->append_pollfds(&fds);
        poll(fds.data(), fds.size(), 1);
    }
}

CounterTotals Daemon::totals() const {
    CounterTotals t;
    if (counters_)
        for (unsigned i = 0; i <= nworkers_; ++i) t.add(counters_[i]);
    return t;
}

void Daemon::stop() {
    if (stopped_) return;
    stopped_ = true;
    end_capture();
    if (launched_) {
        stop_.store(true, std::memory_order_relaxed);
        rte_eal_mp_wait_lcore();
        launched_ = false;
    }
    for (Zone z : kAllZones)
        if (port_started_[idx(z)]) {
            port_stop(port_ids_[idx(z)]);
            port_started_[idx(z)] = false;
        }
    if (counters_) {
        std::fputs(format_counters(totals()).c_str(), stdout);
        std::fflush(stdout);
    }
}

Daemon::~Daemon() {
    stop();
    neigh_mgr_.reset();
    drain_ring(pending_ring_);
    for (rte_ring* r : inject_rings_) drain_ring(r);
    for (rte_ring* r : inject_rings_) rte_ring_free(r);
    frags_.clear();
    for (rte_ring* r : refeed_rings_) drain_ring(r);
    for (rte_ring* r : refeed_rings_) rte_ring_free(r);
    for (rte_ring* r : handoff_rings_) drain_ring(r);
    for (rte_ring* r : handoff_rings_) rte_ring_free(r);
    rte_ring_free(pending_ring_);
    rte_ring_free(learn_ring_);
    neigh_.reset();
    nats_.clear();
    tables_.reset();
    rte_free(qsbr_);
    rte_mempool_free(pool_);
    rte_mempool_free(indirect_pool_);
}

}  // namespace ipshare
