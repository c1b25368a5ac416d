#include "harness.h"

#include <cstdlib>
#include <cstring>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "checksum.h"
#include "config.h"
#include "config_parse.h"
#include "headers.h"
#include "port.h"
#include "reference_topology.h"
#include "stages.h"
#include "tables_build.h"

namespace ipshare::bench {
namespace {

constexpr unsigned kPoolSize = 16383;
constexpr unsigned kRxRing = 4096;   // one iteration's bursts for one port (<= 2048 frames)
constexpr unsigned kTxRing = 8192;
// As control/daemon.cc.
constexpr uint32_t kFragDatagrams = 4096;
constexpr uint32_t kFragWaiting = 512;
constexpr unsigned kHandoffRing = 4096;
constexpr size_t kSpareMax = 4096;  // mbufs a worker keeps between iterations
constexpr uint64_t kIcmpErrorRate = 100, kIcmpErrorBurst = 50;
constexpr uint64_t kEchoRate = 1000, kEchoBurst = 100;
constexpr uint64_t kArpRate = 1000, kArpBurst = 100;

Env g_env;
unsigned g_serial = 0;  // DPDK object names are global: every worker gets fresh ones

std::string fail(const std::string& what) { return what + ": " + rte_strerror(rte_errno); }

// process_burst() of dataplane/worker.cc (the same walk_burst) with
// rte_rdtsc between the stages.
void process_burst_timed(WorkerCtx& w, const Tables& t, Zone in, rte_mbuf** pkts, uint16_t n,
                         std::array<uint64_t, kSlots>& cyc) {
    uint64_t t0 = rte_rdtsc();
    walk_burst(w, t, in, pkts, n, [&](Stage s) {
        const uint64_t t1 = rte_rdtsc();
        cyc[kClassify + static_cast<unsigned>(s)] += t1 - t0;
        t0 = t1;
    });
}

}  // namespace

void write_udp_frame(uint8_t* p, const uint8_t* dst_mac, const uint8_t* src_mac, uint32_t src, uint32_t dst,
                     uint16_t sport, uint16_t dport) {
    auto* eth = reinterpret_cast<EthHdr*>(p);
    std::memcpy(eth->dst, dst_mac, 6);
    std::memcpy(eth->src, src_mac, 6);
    eth->type = be16::from_host(kEtherTypeIpv4);
    auto* ip = reinterpret_cast<Ipv4Hdr*>(eth + 1);
    constexpr uint16_t ip_len = kFrameLen - sizeof(EthHdr);
    constexpr uint16_t udp_len = ip_len - sizeof(Ipv4Hdr);
    ip->version_ihl = 0x45;
    ip->tos = 0;
    ip->total_length = be16::from_host(ip_len);
    ip->id = be16::from_host(static_cast<uint16_t>(sport ^ dport));
    ip->frag = be16::from_host(0);
    ip->ttl = 64;
    ip->proto = kIpProtoUdp;
    ip->checksum = be16{};
    ip->src = be32::from_host(src);
    ip->dst = be32::from_host(dst);
    ip->checksum = ipv4_header_checksum(ip);
    auto* udp = reinterpret_cast<UdpHdr*>(ip + 1);
    udp->sport = be16::from_host(sport);
    udp->dport = be16::from_host(dport);
    udp->length = be16::from_host(udp_len);
    udp->checksum = be16{};
    uint8_t* payload = reinterpret_cast<uint8_t*>(udp + 1);
    for (unsigned i = 0; i < udp_len - sizeof(UdpHdr); ++i) payload[i] = static_cast<uint8_t>(i * 7 + 1);
    // Pseudo-header (RFC 768): addresses, protocol, UDP length; then the datagram.
    uint32_t sum = csum_partial(&ip->src, 8);
    const be16 pseudo[2] = {be16::from_host(kIpProtoUdp), be16::from_host(udp_len)};
    sum = csum_partial(pseudo, sizeof pseudo, sum);
    sum = csum_partial(udp, udp_len, sum);
    be16 c = csum_finish(sum);
    if (c.raw() == 0) c = be16::from_host(0xffff);
    udp->checksum = c;
}

Env& env() { return g_env; }

bool env_init(unsigned queues, std::string* err) {
    Env& e = g_env;
    e.queues = queues;
    e.hz = rte_get_tsc_hz();
    e.start_tsc = rte_rdtsc();
    const int socket = static_cast<int>(rte_socket_id());
    e.pool = rte_pktmbuf_pool_create("bench_mbufs", kPoolSize, 256, sizeof(MbufMeta), RTE_MBUF_DEFAULT_BUF_SIZE,
                                     socket);
    if (!e.pool) return *err = fail("cannot create the mbuf pool"), false;

    for (Zone z : kAllZones) {
        const std::string n = kZoneNames[idx(z)];
        for (unsigned q = 0; q < queues; ++q) {
            const std::string s = n + std::to_string(q);
            e.rx[idx(z)][q] = rte_ring_create(("bench_rx_" + s).c_str(), kRxRing, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
            e.tx[idx(z)][q] = rte_ring_create(("bench_tx_" + s).c_str(), kTxRing, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
            if (!e.rx[idx(z)][q] || !e.tx[idx(z)][q]) return *err = fail("cannot create the port rings"), false;
        }
        const int port = rte_eth_from_rings(("bench_" + n).c_str(), e.rx[idx(z)].data(), queues, e.tx[idx(z)].data(),
                                            queues, static_cast<unsigned>(socket));
        if (port < 0) return *err = fail("rte_eth_from_rings"), false;
        if (!port_start(static_cast<uint16_t>(port), static_cast<uint16_t>(queues), e.pool, &e.ports[idx(z)], err))
            return false;
        // The ring PMD's MAC is all zeros: give each port its own, as a NIC has.
        const uint8_t mac[6] = {0x02, 0x1a, 0x00, 0x00, 0x00, static_cast<uint8_t>(0x10 + idx(z))};
        std::memcpy(e.ports[idx(z)].mac, mac, 6);
    }

    // The reference configuration of DESIGN.md, on the bench's ports (its
    // routes, 10.20.0.0/16 and 203.0.113.128/25, carry none of the traffic).
    const Config cfg = test::reference_topology(
        {.wan = "net_ring_bench_wan", .lan = "net_ring_bench_lan", .dmz = "net_ring_bench_dmz"});
    if (const auto invalid = validate_config(cfg)) return *err = "configuration: " + invalid->str(), false;
    ForwardIds ids;
    e.tables = build_tables(cfg, 1, ids, err);
    if (!e.tables) return false;
    e.published.store(e.tables.get());

    const size_t qsz = rte_rcu_qsbr_get_memsize(kMaxWorkers);
    e.qsbr = static_cast<rte_rcu_qsbr*>(rte_zmalloc("bench_qsbr", qsz, RTE_CACHE_LINE_SIZE));
    if (!e.qsbr || rte_rcu_qsbr_init(e.qsbr, kMaxWorkers) != 0) return *err = "cannot set up RCU", false;
    e.neigh = NeighbourTable::create("bench_neigh", 1024, e.qsbr, err);
    if (!e.neigh) return false;
    // Every next hop resolved: no packet waits for ARP.
    bool ok = e.neigh->set(Zone::wan, kGateway, mac_to_word(kGatewayMac.data())) &&
              e.neigh->set(Zone::dmz, kWanIp, mac_to_word(kServerMac.data()));
    for (uint32_t c = 0; c < kClients; ++c) ok = ok && e.neigh->set(Zone::lan, kFirstClient + c, mac_to_word(client_mac(kFirstClient + c).data()));
    if (!ok) return *err = "cannot fill the neighbour table", false;

    e.learn = rte_ring_create_elem("bench_learn", sizeof(ArpLearnMsg), 4096, socket, RING_F_SC_DEQ);
    e.pending = rte_ring_create("bench_pending", 1024, socket, RING_F_SC_DEQ);
    if (!e.learn || !e.pending) return *err = fail("cannot create the control rings"), false;
    for (unsigned q = 0; q < kMaxWorkers; ++q) {
        e.handoff[q] = rte_ring_create(("bench_handoff" + std::to_string(q)).c_str(), kHandoffRing, socket, RING_F_SC_DEQ);
        if (!e.handoff[q]) return *err = fail("cannot create the handoff rings"), false;
    }
    return true;
}

void env_cleanup() {
    Env& e = g_env;
    for (Zone z : kAllZones) {
        if (e.pool) rte_eth_dev_stop(e.ports[idx(z)].port_id);
        for (rte_ring* r : e.rx[idx(z)]) rte_ring_free(r);
        for (rte_ring* r : e.tx[idx(z)]) rte_ring_free(r);
    }
    e.neigh.reset();
    e.published.store(nullptr);
    e.tables.reset();
    rte_free(e.qsbr);
    rte_ring_free(e.learn);
    rte_ring_free(e.pending);
    for (rte_ring*& r : e.handoff) {
        void* obj;
        while (r && rte_ring_dequeue(r, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
        rte_ring_free(r);
        r = nullptr;
    }
    e.qsbr = nullptr;
    e.learn = e.pending = nullptr;
    e.rx = {};
    e.tx = {};
    rte_mempool_free(e.pool);
    e.pool = nullptr;
}

uint64_t rdtsc_overhead() {
    uint64_t best = ~uint64_t{0};
    for (int i = 0; i < 1000; ++i) {
        const uint64_t a = rte_rdtsc();
        const uint64_t b = rte_rdtsc();
        if (b - a < best) best = b - a;
    }
    return best;
}

std::unique_ptr<BenchWorker> BenchWorker::create(unsigned q, unsigned nworkers, const NatConfig& nc,
                                                 std::string* err) {
    Env& e = g_env;
    std::unique_ptr<BenchWorker> bw(new BenchWorker());
    bw->q_ = q;
    const unsigned serial = ++g_serial;
    const std::string sfx = std::to_string(serial);
    NatParams np;
    np.wan_ip = e.tables->addr.wan_ip;
    np.port_lo = nc.port_lo;
    np.port_hi = nc.port_hi;
    np.capacity = nc.capacity;
    np.per_client = std::min<uint32_t>(4096, unsigned(nc.port_hi) - nc.port_lo + 1);
    np.rest_seconds = nc.rest_seconds;
    np.stride = nc.stride;
    np.offset = nc.offset;
    np.seed = 0x9e3779b97f4a7c15ull ^ serial;
    bw->nat_ = Nat::create("bnat" + sfx, np, err);
    if (!bw->nat_) return nullptr;
    bw->nat_->set_counters(&bw->counters_);
    bw->frags_ = FragTable::create("bfrag" + sfx, kFragDatagrams, kFragWaiting, err);
    if (!bw->frags_) return nullptr;
    const int socket = static_cast<int>(rte_socket_id());
    bw->refeed_ = rte_ring_create(("brefeed" + sfx).c_str(), 1024, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    bw->inject_ = rte_ring_create(("binject" + sfx).c_str(), 1024, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!bw->refeed_ || !bw->inject_) return *err = fail("cannot create the worker rings"), nullptr;

    WorkerCtx& w = bw->w_;
    w.index = q;
    w.ports = e.ports;
    w.tables = &e.published;
    w.neigh = e.neigh.get();
    w.learn_ring = e.learn;
    w.pending_ring = e.pending;
    w.inject_ring = bw->inject_;
    w.qsbr = e.qsbr;
    w.icmp_errors = TokenBucket(kIcmpErrorRate, kIcmpErrorBurst, e.hz);
    w.icmp_echo = TokenBucket(kEchoRate, kEchoBurst, e.hz);
    w.arp_replies = TokenBucket(kArpRate, kArpBurst, e.hz);
    for (Zone z : kAllZones) {
        w.tx.q[idx(z)].port_id = e.ports[idx(z)].port_id;
        w.tx.q[idx(z)].queue_id = static_cast<uint16_t>(q);
        w.tx.mtu[idx(z)] = e.ports[idx(z)].mtu;
    }
    w.tx.direct_pool = e.pool;
    w.tx.indirect_pool = nullptr;  // no egress fragmentation of 64-byte frames
    w.tx.capture = &e.capture;
    w.capture = &e.capture;
    w.counters = &bw->counters_;
    w.stop = nullptr;
    w.mailbox = nullptr;
    w.nat = bw->nat_.get();
    w.frags = bw->frags_.get();
    w.refeed_ring = bw->refeed_;
    w.nworkers = nworkers;
    w.handoff_rings = e.handoff.data();
    w.start_tsc = e.start_tsc;
    w.tsc_hz = e.hz;
    bw->tick();
    return bw;
}

BenchWorker::~BenchWorker() {
    for (rte_mbuf* m : spare_) rte_pktmbuf_free(m);
    for (rte_ring* r : {refeed_, inject_}) {
        void* obj;
        while (r && rte_ring_dequeue(r, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
        rte_ring_free(r);
    }
    frags_.reset();
    nat_.reset();
}

void BenchWorker::tick() { w_.now_s = static_cast<uint32_t>((rte_rdtsc() - w_.start_tsc) / w_.tsc_hz); }

unsigned BenchWorker::load(Traffic& t, unsigned rounds) {
    Env& e = g_env;
    std::array<std::vector<rte_mbuf*>, kNumZones> per_zone;
    for (unsigned r = 0; r < rounds; ++r) {
        for (Zone z : t.busy) {
            for (unsigned k = 0; k < kBurst; ++k) {
                rte_mbuf* m;
                if (!spare_.empty()) {
                    m = spare_.back();
                    spare_.pop_back();
                } else {
                    m = rte_pktmbuf_alloc(e.pool);
                    if (!m) std::abort();
                }
                rte_pktmbuf_reset(m);
                m->data_len = kFrameLen;
                m->pkt_len = kFrameLen;
                t.next(z, rte_pktmbuf_mtod(m, uint8_t*));
                per_zone[idx(z)].push_back(m);
            }
        }
    }
    for (Zone z : kAllZones) {
        auto& v = per_zone[idx(z)];
        if (v.empty()) continue;
        const unsigned n = rte_ring_enqueue_bulk(e.rx[idx(z)][q_], reinterpret_cast<void* const*>(v.data()),
                                                 static_cast<unsigned>(v.size()), nullptr);
        if (n != v.size()) std::abort();  // rounds too many for kRxRing
    }
    return rounds * static_cast<unsigned>(t.busy.size()) * kBurst;
}

uint64_t BenchWorker::run(unsigned rounds, Mode mode, Zone floor_out) {
    Env& e = g_env;
    const auto queue = static_cast<uint16_t>(q_);
    rte_mbuf* pkts[kBurst];
    Counters& c = counters_;
    // Diagnostic (not in the default run): BENCH_FREEZE_CLOCK=1 keeps now_s
    // still, so that established sessions are never re-queued on their
    // expiry list (Nat::touch) and that cost can be told apart.
    static const bool frozen = std::getenv("BENCH_FREEZE_CLOCK") != nullptr;
    const uint64_t start = rte_rdtsc();
    for (unsigned r = 0; r < rounds; ++r) {
        // As worker_loop(): the published tables and the clock, once a round.
        const Tables* t = w_.tables->load(std::memory_order_acquire);
        if (!frozen) w_.now_s = static_cast<uint32_t>((rte_rdtsc() - w_.start_tsc) / w_.tsc_hz);
        for (Zone z : kAllZones) {
            if (mode == Mode::stages) {
                const uint64_t a = rte_rdtsc();
                const uint16_t n = rte_eth_rx_burst(e.ports[idx(z)].port_id, queue, pkts, kBurst);
                stage_cycles[kRx] += rte_rdtsc() - a;
                if (n) process_burst_timed(w_, *t, z, pkts, n, stage_cycles);
                continue;
            }
            const uint16_t n = rte_eth_rx_burst(e.ports[idx(z)].port_id, queue, pkts, kBurst);
            if (!n) continue;
            if (mode == Mode::walk) {
                process_burst(w_, *t, z, pkts, n);
            } else {
                c.port[idx(z)].rx.add(n);
                for (uint16_t i = 0; i < n; ++i) w_.tx.push(floor_out, pkts[i], c);
            }
        }
        if (w_.nworkers > 1) drain_handoff(w_, *t);
        if (mode == Mode::stages) {
            const uint64_t a = rte_rdtsc();
            w_.tx.flush_all(c);
            stage_cycles[kFlush] += rte_rdtsc() - a;
        } else {
            w_.tx.flush_all(c);
        }
    }
    return rte_rdtsc() - start;
}

uint64_t BenchWorker::drain_tail(const std::function<bool()>& others_done) {
    if (w_.nworkers < 2) return 0;
    const uint64_t start = rte_rdtsc();
    const Tables* t = w_.tables->load(std::memory_order_acquire);
    rte_ring* mine = w_.handoff_rings[w_.index];
    for (;;) {
        const bool last = others_done();  // nothing more comes after this
        do {
            drain_handoff(w_, *t);
            w_.tx.flush_all(counters_);
        } while (rte_ring_count(mine) > 0);
        if (last) break;
    }
    return rte_rdtsc() - start;
}

unsigned BenchWorker::collect() {
    Env& e = g_env;
    unsigned back = 0;
    void* objs[256];
    for (Zone z : kAllZones) {
        unsigned n;
        while ((n = rte_ring_dequeue_burst(e.tx[idx(z)][q_], objs, 256, nullptr)) > 0) {
            for (unsigned i = 0; i < n; ++i) spare_.push_back(static_cast<rte_mbuf*>(objs[i]));
            back += n;
        }
        // Frames left unread on an RX ring (cannot happen: one burst per port and round).
        while ((n = rte_ring_dequeue_burst(e.rx[idx(z)][q_], objs, 256, nullptr)) > 0)
            for (unsigned i = 0; i < n; ++i) rte_pktmbuf_free(static_cast<rte_mbuf*>(objs[i]));
    }
    // Whatever went elsewhere (waiting for ARP, refeed) is freed; dropped ones already were.
    for (rte_ring* r : {refeed_, inject_, q_ == 0 ? e.pending : nullptr}) {
        void* obj;
        while (r && rte_ring_dequeue(r, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
    }
    if (q_ == 0) {
        ArpLearnMsg msg;
        while (rte_ring_dequeue_elem(e.learn, &msg, sizeof msg) == 0) {
        }
    }
    if (spare_.size() > kSpareMax) {  // another worker's mbufs came back here: return them to the pool
        rte_pktmbuf_free_bulk(spare_.data() + kSpareMax, static_cast<unsigned>(spare_.size() - kSpareMax));
        spare_.resize(kSpareMax);
    }
    return back;
}

}  // namespace ipshare::bench
