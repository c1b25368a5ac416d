#include "ring_router.h"

#include <cstring>

#include <rte_bus_vdev.h>
#include <rte_cycles.h>
#include <rte_eth_ring.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "burst.h"
#include "config_parse.h"
#include "port.h"

namespace ipshare::test {

namespace {

bool fail(std::string* err, const std::string& what) {
    *err = what;
    return false;
}

}  // namespace

bool RingRouter::start(const RingRouterParams& p, std::string* err) {
    params_ = p;
    const std::string& n = p.prefix;
    const int socket = static_cast<int>(rte_socket_id());
    pool_ = rte_pktmbuf_pool_create((n + "_pool").c_str(), p.pool_size, 0, sizeof(MbufMeta),
                                    RTE_MBUF_DEFAULT_BUF_SIZE, socket);
    if (!pool_) return fail(err, std::string("mbuf pool: ") + rte_strerror(rte_errno));
    initial_avail_ = rte_mempool_avail_count(pool_);
    if (p.indirect_pool_size) {
        indirect_ = rte_pktmbuf_pool_create((n + "_indirect").c_str(), p.indirect_pool_size, 0, sizeof(MbufMeta),
                                            0, socket);
        if (!indirect_) return fail(err, std::string("indirect mbuf pool: ") + rte_strerror(rte_errno));
    }
    for (Zone z : kAllZones)
        if (!make_port(z, err)) return false;

    const size_t qsz = rte_rcu_qsbr_get_memsize(1);
    qsbr_ = static_cast<rte_rcu_qsbr*>(rte_zmalloc((n + "_qsbr").c_str(), qsz, RTE_CACHE_LINE_SIZE));
    if (!qsbr_ || rte_rcu_qsbr_init(qsbr_, 1) != 0) return fail(err, "rcu qsbr");
    neigh_ = NeighbourTable::create(n + "_neigh", 1024, qsbr_, err);
    if (!neigh_) return false;
    for (const auto& nb : p.neighbours)
        if (!neigh_->set(nb.zone, nb.ip, mac_to_word(nb.mac.data()))) return fail(err, "neighbour " + dotted(nb.ip));

    learn_ = rte_ring_create_elem((n + "_learn").c_str(), sizeof(ArpLearnMsg), 256, socket, RING_F_SC_DEQ);
    pending_ = rte_ring_create((n + "_pending").c_str(), 256, socket, RING_F_SC_DEQ);
    inject_ = rte_ring_create((n + "_inject").c_str(), 256, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    refeed_ = rte_ring_create((n + "_refeed").c_str(), 256, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!learn_ || !pending_ || !inject_ || !refeed_) return fail(err, "learn, pending, inject or refeed ring");

    nat_ = Nat::create(n + "_nat", p.nat, err);
    if (!nat_) return false;
    nat_->set_counters(&counters_);
    frags_ = FragTable::create(n + "_frag", 64, 64, err);
    if (!frags_) return false;

    const uint64_t hz = rte_get_tsc_hz();
    w_.index = 0;
    w_.ports = ports_;
    w_.tables = &published_;
    w_.neigh = neigh_.get();
    w_.learn_ring = learn_;
    w_.pending_ring = pending_;
    w_.inject_ring = inject_;
    w_.qsbr = qsbr_;
    w_.icmp_errors = TokenBucket(p.icmp_errors.rate, p.icmp_errors.burst, hz);
    w_.icmp_echo = TokenBucket(p.icmp_echo.rate, p.icmp_echo.burst, hz);
    w_.arp_replies = TokenBucket(p.arp_replies.rate, p.arp_replies.burst, hz);
    for (Zone z : kAllZones) {
        w_.tx.q[idx(z)].port_id = ports_[idx(z)].port_id;
        w_.tx.q[idx(z)].queue_id = 0;
    }
    if (indirect_) {
        for (Zone z : kAllZones) w_.tx.mtu[idx(z)] = ports_[idx(z)].mtu;
        w_.tx.direct_pool = pool_;
        w_.tx.indirect_pool = indirect_;
    }
    w_.counters = &counters_;
    w_.stop = &stop_;
    w_.nat = nat_.get();
    w_.frags = frags_.get();
    w_.refeed_ring = refeed_;
    w_.start_tsc = rte_rdtsc();
    w_.tsc_hz = hz;
    w_.now_s = p.now_s;
    return true;
}

std::string RingRouter::port_name(Zone z) const { return "net_ring_" + params_.prefix + "_" + kZoneNames[idx(z)]; }

bool RingRouter::make_port(Zone z, std::string* err) {
    const int socket = static_cast<int>(rte_socket_id());
    const std::string n = params_.prefix;
    const std::string zone = kZoneNames[idx(z)];
    rte_ring*& rx = rx_[idx(z)];
    rte_ring*& tx = tx_[idx(z)];
    rx = rte_ring_create((n + "_rx_" + zone).c_str(), params_.ring_size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    tx = rte_ring_create((n + "_tx_" + zone).c_str(), params_.ring_size, socket, RING_F_SP_ENQ | RING_F_SC_DEQ);
    if (!rx || !tx) return fail(err, "rings of port " + zone);
    const int port = rte_eth_from_rings((n + "_" + zone).c_str(), &rx, 1, &tx, 1, static_cast<unsigned>(socket));
    if (port < 0) return fail(err, std::string("rte_eth_from_rings: ") + rte_strerror(rte_errno));
    port_made_[idx(z)] = true;
    char name[RTE_ETH_NAME_MAX_LEN];
    if (rte_eth_dev_get_name_by_port(static_cast<uint16_t>(port), name) != 0 || port_name(z) != name)
        return fail(err, "port " + zone + " is not named " + port_name(z));
    if (!port_start(static_cast<uint16_t>(port), 1, pool_, &ports_[idx(z)], err)) return false;
    // The ring PMD's MAC is all zeros and cannot be set (no mac_addr_set):
    // give each port a distinct one, as port_start would read from a NIC,
    // so that a frame's Ethernet source tells which port the router used.
    const uint8_t mac[6] = {0x02, 0x1a, 0x00, 0x00, 0x00, static_cast<uint8_t>(params_.mac_base + idx(z))};
    std::memcpy(ports_[idx(z)].mac, mac, 6);
    return true;
}

void RingRouter::free_queued_mbufs() {
    free_ring_mbufs(pending_);
    free_ring_mbufs(inject_);
    free_ring_mbufs(refeed_);
    for (Zone z : kAllZones) {
        free_ring_mbufs(tx_[idx(z)]);
        free_ring_mbufs(rx_[idx(z)]);
    }
}

void RingRouter::stop() {
    free_queued_mbufs();
    frags_.reset();
    nat_.reset();
    neigh_.reset();
    rte_free(qsbr_);
    qsbr_ = nullptr;
    for (rte_ring** r : {&learn_, &pending_, &inject_, &refeed_}) {
        rte_ring_free(*r);
        *r = nullptr;
    }
    published_.store(nullptr);
    tables_.reset();
    for (Zone z : kAllZones) {
        if (port_made_[idx(z)]) {
            rte_eth_dev_stop(ports_[idx(z)].port_id);
            rte_vdev_uninit(port_name(z).c_str());
            port_made_[idx(z)] = false;
        }
        rte_ring_free(rx_[idx(z)]);
        rte_ring_free(tx_[idx(z)]);
        rx_[idx(z)] = tx_[idx(z)] = nullptr;
    }
    rte_mempool_free(indirect_);
    rte_mempool_free(pool_);
    indirect_ = pool_ = nullptr;
}

bool RingRouter::load_config(const Config& c, uint64_t generation, std::string* err) {
    published_.store(nullptr);
    tables_.reset();  // the route table's name is reused
    tables_ = build_tables(c, generation, ids_, err);
    if (!tables_) return false;
    published_.store(tables_.get());
    return true;
}

bool RingRouter::load_config_text(const std::string& text, uint64_t generation, std::string* err) {
    Config c;
    if (const auto e = parse_config(text, params_.prefix + ".conf", c)) return fail(err, e->str());
    return load_config(c, generation, err);
}

Mac RingRouter::mac_of(Zone z) const {
    Mac m;
    std::memcpy(m.data(), ports_[idx(z)].mac, 6);
    return m;
}

rte_mbuf* RingRouter::mbuf_of(const Bytes& frame) {
    rte_mbuf* m = rte_pktmbuf_alloc(pool_);
    if (!m) return nullptr;
    char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(frame.size()));
    if (!p) {
        rte_pktmbuf_free(m);
        return nullptr;
    }
    if (!frame.empty()) std::memcpy(p, frame.data(), frame.size());
    return m;
}

bool RingRouter::run_burst(Zone z, rte_mbuf* const* in, unsigned n, std::string* err) {
    if (n > kBurst) return fail(err, "more than a burst");
    const unsigned queued =
        rte_ring_enqueue_burst(rx_[idx(z)], reinterpret_cast<void* const*>(in), n, nullptr);
    if (queued != n) return fail(err, "the RX ring took " + std::to_string(queued) + " of " + std::to_string(n));
    rte_mbuf* pkts[kBurst];
    const uint16_t got = rte_eth_rx_burst(ports_[idx(z)].port_id, 0, pkts, kBurst);
    if (got != n) return fail(err, "rte_eth_rx_burst gave " + std::to_string(got) + " of " + std::to_string(n));
    process_burst(w_, *published_.load(), z, pkts, got);
    if (params_.drain_after_burst) {
        drain_refeed(w_);
        drain_inject(w_);
    }
    w_.tx.flush_all(counters_);
    return true;
}

void RingRouter::free_ring_mbufs(rte_ring* r) {
    void* obj;
    while (r && rte_ring_dequeue(r, &obj) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(obj));
}

}  // namespace ipshare::test
