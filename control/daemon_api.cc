// The daemon's answers to the control socket (ControlApi): read-outs of
// counters and tables, and the changes (configuration, flush, capture).
//
// Sessions belong to the workers: the control thread never walks their
// tables; it posts a request in each worker's mailbox and waits for the
// answers. Tables are replaced, never edited: a new set is built aside,
// published with one pointer swap, and the old one freed once every worker
// has passed a quiescent state (rte_rcu_qsbr_synchronize).
#include <algorithm>
#include <chrono>
#include <thread>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>

#include "../dataplane/port.h"
#include "config_parse.h"
#include "daemon.h"

namespace ipshare {
namespace {

std::string mac_text(uint64_t w) {
    uint8_t m[6];
    word_to_mac(w, m);
    char buf[18];
    std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return buf;
}

std::string proto_name(uint8_t p) {
    switch (p) {
    case kIpProtoTcp: return "tcp";
    case kIpProtoUdp: return "udp";
    case kIpProtoIcmp: return "icmp";
    case kIpProtoGre: return "gre";
    case kIpProtoEsp: return "esp";
    case kIpProtoSctp: return "sctp";
    default: return std::to_string(p);
    }
}

SessionQuery query_of(const SessionFilter& f) {
    SessionQuery q;
    if (f.proto) q.proto = *f.proto;
    if (f.client) q.has_client = true, q.client = *f.client;
    if (f.remote) q.has_remote = true, q.remote = *f.remote;
    if (f.port) q.port = *f.port;
    if (f.state) {
        q.tcp_state = -2;  // an unknown name matches nothing
        for (int i = 0; i < 8; ++i)
            if (*f.state == kTcpStateNames[i]) q.tcp_state = static_cast<int16_t>(i);
    }
    return q;
}

// What cannot change while running: the ports, the addresses, the size of
// the NAT (its tables are preallocated at start).
std::optional<std::string> needs_restart(const Config& a, const Config& b) {
    if (a.port_device != b.port_device) return "the ports";
    if (a.lan != b.lan) return "'lan address'";
    if (a.wan_network != b.wan_network || a.wan_gateway != b.wan_gateway) return "'wan network'";
    if (a.server != b.server) return "'server address'";
    if (a.napt_ports != b.napt_ports) return "'napt ports'";
    if (a.napt_sessions != b.napt_sessions) return "'napt sessions'";
    if (a.napt_ports_per_client != b.napt_ports_per_client) return "'napt ports-per-client'";
    if (a.timeouts.port_rest != b.timeouts.port_rest) return "'timeout port-rest'";
    return std::nullopt;
}

}  // namespace

uint32_t Daemon::now_seconds() const { return static_cast<uint32_t>((rte_rdtsc() - start_tsc_) / hz_); }

// Nanoseconds since start, without overflowing the 64-bit product.
uint64_t Daemon::now_ns(uint64_t tsc) const {
    const uint64_t d = tsc - start_tsc_;
    return d / hz_ * 1000000000ull + d % hz_ * 1000000000ull / hz_;
}

uint64_t Daemon::ask_workers(Mailbox::Op op, const SessionQuery& q, size_t limit, std::vector<Session>* out,
                             std::vector<unsigned>* owners) {
    if (!launched_) return 0;
    std::vector<std::vector<Session>> bufs(nworkers_);
    for (unsigned i = 0; i < nworkers_; ++i) {
        Mailbox& mb = mailboxes_[i];
        bufs[i].resize(op == Mailbox::Op::list ? limit : 0);
        mb.op = op;
        mb.query = q;
        mb.out = bufs[i].data();
        mb.out_capacity = static_cast<uint32_t>(bufs[i].size());
        mb.out_count = 0;
        mb.matched = 0;
        mb.cursor = 0;
        mb.state.store(Mailbox::kPosted, std::memory_order_release);
    }
    uint64_t matched = 0;
    for (unsigned i = 0; i < nworkers_; ++i) {
        Mailbox& mb = mailboxes_[i];
        // Workers answer within a few poll rounds; they never stop while launched.
        while (mb.state.load(std::memory_order_acquire) != Mailbox::kDone)
            std::this_thread::sleep_for(std::chrono::microseconds(50));
        matched += mb.matched;
        if (out) out->insert(out->end(), bufs[i].begin(), bufs[i].begin() + mb.out_count);
        if (owners) owners->insert(owners->end(), mb.out_count, i);
        mb.state.store(Mailbox::kIdle, std::memory_order_relaxed);
    }
    return matched;
}

std::vector<PortRow> Daemon::ports() {
    const CounterTotals t = totals();
    std::vector<PortRow> rows;
    for (Zone z : kAllZones) {
        const int i = idx(z);
        PortRow r;
        r.zone = kZoneNames[i];
        r.device = cfg_.port_device[i];
        r.link = port_link_text(port_ids_[i]);
        r.mac = mac_text(mac_to_word(ports_[i].mac));
        r.rx = t.rx[i];
        r.tx = t.tx[i];
        r.dropped = t.dropped[i];
        rte_eth_stats st{};
        if (rte_eth_stats_get(port_ids_[i], &st) == 0) {
            r.nic_missed = st.imissed;
            r.nic_errors = st.ierrors + st.oerrors;
        }
        r.rx_pps = rx_pps_[i];
        r.tx_pps = tx_pps_[i];
        rows.push_back(r);
    }
    return rows;
}

std::vector<DropRow> Daemon::drops() {
    const CounterTotals t = totals();
    std::vector<DropRow> rows;
    for (int d = 0; d < kNumDrops; ++d) rows.push_back(DropRow{kDropNames[d], kDropDescriptions[d], t.drops[d]});
    return rows;
}

std::vector<NeighbourRow> Daemon::neighbours() {
    std::vector<NeighbourRow> rows;
    for (const auto& e : neigh_mgr_->snapshot(rte_rdtsc()))
        rows.push_back(NeighbourRow{kZoneNames[idx(e.zone)], e.ip, e.mac ? mac_text(e.mac) : "-", e.state,
                                    e.age_seconds});
    std::sort(rows.begin(), rows.end(),
              [](const NeighbourRow& a, const NeighbourRow& b) { return std::tie(a.zone, a.ip) < std::tie(b.zone, b.ip); });
    return rows;
}

std::vector<SessionRow> Daemon::sessions(const SessionFilter& f, size_t limit) {
    std::vector<Session> found;
    std::vector<unsigned> owner;
    ask_workers(Mailbox::Op::list, query_of(f), limit, &found, &owner);
    const uint32_t now = now_seconds();
    std::vector<SessionRow> rows;
    for (size_t k = 0; k < found.size(); ++k) {
        const Session& s = found[k];
        if (rows.size() >= limit) break;
        SessionRow r;
        r.proto = proto_name(s.proto);
        r.kind = kSessionKindNames[static_cast<int>(s.kind)];
        if (s.kind == SessionKind::napt && s.outside_ip == tables_->addr.lan_ip) r.kind = "hairpin";
        r.client_ip = s.client_ip;
        r.client_port = s.client_port;
        r.outside_ip = s.kind == SessionKind::track ? s.client_ip : s.outside_ip;
        r.outside_port = s.outside_port;
        r.remote_ip = s.remote_ip;
        r.remote_port = s.remote_port;
        r.state = s.proto == kIpProtoTcp ? kTcpStateNames[static_cast<int>(s.tcp)] : "active";
        r.idle_seconds = now > s.last_seen ? now - s.last_seen : 0;
        const uint32_t timeout = tables_->nat.timeouts[static_cast<int>(s.tclass)];
        r.expires_in = timeout > r.idle_seconds ? timeout - r.idle_seconds : 0;
        r.packets_out = s.packets_out;
        r.packets_in = s.packets_in;
        r.worker = owner[k];
        rows.push_back(r);
    }
    return rows;
}

uint64_t Daemon::session_count(const SessionFilter& f) {
    return ask_workers(Mailbox::Op::count, query_of(f), 0, nullptr);
}

uint64_t Daemon::flush_sessions(const SessionFilter& f) {
    return ask_workers(Mailbox::Op::flush, query_of(f), 0, nullptr);
}

std::vector<ForwardRow> Daemon::forwards() {
    std::vector<ForwardRow> rows;
    const auto& entries = tables_->forwards.entries();
    for (size_t i = 0; i < cfg_.forwards.size() && i < entries.size(); ++i) {
        SessionQuery q;
        q.forward_id = entries[i].id;
        rows.push_back(ForwardRow{format_forward(cfg_.forwards[i]),
                                  static_cast<uint32_t>(ask_workers(Mailbox::Op::count, q, 0, nullptr))});
    }
    return rows;
}

std::vector<FilterRow> Daemon::filters() {
    auto row = [&](std::string text, uint16_t slot) {
        FilterRow r{std::move(text), 0, 0};
        for (unsigned i = 0; i <= nworkers_; ++i) {
            r.packets += counters_[i].filter_packets[slot].get();
            r.bytes += counters_[i].filter_bytes[slot].get();
        }
        return r;
    };
    std::vector<FilterRow> rows;
    for (size_t i = 0; i < cfg_.filters.size(); ++i)
        rows.push_back(row(format_filter_rule(cfg_.filters[i]), static_cast<uint16_t>(i)));
    for (Zone from : kAllZones)
        for (Zone to : kAllZones)
            if (from != to)
                rows.push_back(row(format_filter_policy(from, to, cfg_.policies[idx(from)][idx(to)]),
                                   FilterTable::policy_slot(from, to)));
    return rows;
}

std::vector<WorkerRow> Daemon::workers() {
    std::vector<WorkerRow> rows;
    for (unsigned i = 0; i < nworkers_; ++i) {
        WorkerRow r;
        r.worker = i;
        r.lcore = lcores_[i];
        r.busy_polls = counters_[i].busy_polls.get();
        r.idle_polls = counters_[i].idle_polls.get();
        r.busy_percent = busy_percent_[i];
        for (int p = 0; p < 4; ++p) r.sessions += static_cast<uint32_t>(counters_[i].nat_active[p].get());
        rows.push_back(r);
    }
    return rows;
}

std::vector<MemoryRow> Daemon::memory() {
    std::vector<MemoryRow> rows;
    rows.push_back(MemoryRow{"mbufs", rte_mempool_in_use_count(pool_), pool_->size});
    uint64_t sessions = 0;
    for (unsigned i = 0; i < nworkers_; ++i)
        for (int p = 0; p < 4; ++p) sessions += counters_[i].nat_active[p].get();
    rows.push_back(MemoryRow{"sessions", sessions, uint64_t{cfg_.napt_sessions / nworkers_} * nworkers_});
    rows.push_back(MemoryRow{"neighbours", neigh_->count(), 16384});
    rows.push_back(MemoryRow{"neighbour-queue", neigh_mgr_->waiting_packets(), NeighbourManager::kMaxWaiting});
    return rows;
}

Outcome Daemon::apply_config(const Config& next_in) {
    Config next = next_in;
    next.file = cfg_.file;
    if (auto e = validate_config(next)) return Outcome{false, e->message};
    if (auto what = needs_restart(cfg_, next)) return Outcome{false, "changing " + *what + " needs a restart"};
    std::string err;
    auto t = build_tables(next, tables_->generation + 1, forward_ids_, &err);
    if (!t) return Outcome{false, err};
    const bool rules_changed = next.filters != cfg_.filters || next.policies != cfg_.policies;
    const bool forwards_changed = next.forwards != cfg_.forwards;

    std::unique_ptr<Tables> old = std::move(tables_);
    tables_ = std::move(t);
    published_.store(tables_.get(), std::memory_order_release);
    if (launched_) rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);
    old.reset();  // no worker can still hold it
    neigh_mgr_->set_addresses(tables_->addr);
    cfg_ = next;

    if (rules_changed)
        for (unsigned i = 0; i <= nworkers_; ++i)
            for (unsigned s = 0; s < FilterTable::kSlots; ++s) {
                counters_[i].filter_packets[s].reset();
                counters_[i].filter_bytes[s].reset();
            }
    if (forwards_changed) {  // the sessions of changed or removed forwards end now
        SessionQuery q;
        q.dead_forwards = true;
        ask_workers(Mailbox::Op::flush, q, 0, nullptr);
    }
    return Outcome{true, "applied (tables generation " + std::to_string(tables_->generation) + ")"};
}

Outcome Daemon::reload() {
    Config next;
    if (auto e = load_config_file(cfg_.file, next)) return Outcome{false, e->str()};
    return apply_config(next);
}

void Daemon::clear_counters() {
    for (unsigned i = 0; i <= nworkers_; ++i) {
        Counters& c = counters_[i];
        for (auto& p : c.port) p.rx.reset(), p.tx.reset(), p.dropped.reset();
        for (auto& d : c.drops) d.reset();
        for (auto& f : c.filter_packets) f.reset();
        for (auto& f : c.filter_bytes) f.reset();
        c.arp_replies_sent.reset();
        c.icmp_sent.reset();
        c.busy_polls.reset();
        c.idle_polls.reset();
        c.nat_created.reset();
        c.nat_expired.reset();
        c.nat_out.reset();
        c.nat_in.reset();
    }
    last_rx_.fill(0);
    last_tx_.fill(0);
    std::fill(last_busy_.begin(), last_busy_.end(), 0);
    std::fill(last_idle_.begin(), last_idle_.end(), 0);
    for (Zone z : kAllZones) rte_eth_stats_reset(port_ids_[idx(z)]);
}

Outcome Daemon::capture(const CaptureRequest& r) {
    int zone = -1;
    for (Zone z : kAllZones)
        if (r.zone == kZoneNames[idx(z)]) zone = idx(z);
    if (zone < 0) return Outcome{false, "unknown port '" + r.zone + "' (expected wan, lan or dmz)"};
    if (r.count == 0 && r.seconds == 0) return Outcome{false, "give count N or seconds S"};
    std::string err;
    if (!capture_.open(r, now_ns(rte_rdtsc()), &err)) return Outcome{false, err};
    capture_rings_[zone].store(capture_.ring(), std::memory_order_release);
    return Outcome{true, "capturing on " + r.zone + " to " + r.file};
}

void Daemon::end_capture() {
    if (!capture_.active()) return;
    for (auto& r : capture_rings_) r.store(nullptr, std::memory_order_release);
    if (launched_) rte_rcu_qsbr_synchronize(qsbr_, RTE_QSBR_THRID_INVALID);  // no worker holds the ring
    capture_.poll(0);
    capture_.close();
}

void Daemon::housekeeping(uint64_t now) {
    if (capture_.active() && capture_.poll(now_ns(now))) end_capture();
    if (now - sample_tsc_ < hz_) return;
    const double secs = double(now - sample_tsc_) / double(hz_);
    sample_tsc_ = now;
    const CounterTotals t = totals();
    for (int z = 0; z < kNumZones; ++z) {
        rx_pps_[z] = double(t.rx[z] - last_rx_[z]) / secs;
        tx_pps_[z] = double(t.tx[z] - last_tx_[z]) / secs;
        last_rx_[z] = t.rx[z];
        last_tx_[z] = t.tx[z];
    }
    for (unsigned i = 0; i < nworkers_; ++i) {
        const uint64_t busy = counters_[i].busy_polls.get(), idle = counters_[i].idle_polls.get();
        const uint64_t db = busy - last_busy_[i], di = idle - last_idle_[i];
        busy_percent_[i] = db + di ? 100.0 * double(db) / double(db + di) : 0;
        last_busy_[i] = busy;
        last_idle_[i] = idle;
    }
}

}  // namespace ipshare
