// The dataplane benchmarks: the real stages (process_burst) over mbufs on
// ring-backed ports, one worker unless named otherwise (harness.h).
//
//   floor/wan_to_dmz             rx burst + tx burst only, no stage
//   pass/wan_to_dmz              internet -> server, untranslated (the NAT looks and misses)
//   pass/dmz_to_wan              server -> internet, untranslated (no NAT)
//   napt/sessions:N              LAN <-> internet through N established UDP sessions,
//                                both directions alternating, flows in random order
//   napt_pass/sessions:N         internet -> server with N sessions in the NAT table
//   create/new_mapping           the first packet of a flow from a new client endpoint:
//                                session + mapping + port allocation (64K sessions live)
//   create/existing_mapping      the first packet of a flow from a known endpoint to a
//                                new remote: session only
//   workers:2/...                two workers, each its own WorkerCtx and Nat, on two lcores
//   .../stages                   the same walk with rte_rdtsc between the stages
//
// Counters (per packet unless said): cycles_per_packet (TSC cycles around the
// poll rounds), Mpps (packets per second of that timed loop), not_forwarded
// (packets the router dropped or held: must be 0), sessions; for /stages one
// c_<stage> per stage. Google Benchmark's time is the timed loop's (manual
// time) per iteration of 2048 packets.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <rte_cycles.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "bench_registry.h"
#include "harness.h"
#include "headers.h"

namespace ipshare::bench {
namespace {

constexpr unsigned kPacketsPerIteration = 2048;
constexpr unsigned kWarmupIterations = 32;
constexpr uint16_t kRemotePort = 443;  // QUIC: UDP to 443
constexpr uint16_t kServerPort = 80;
constexpr uint32_t kMappings = 4096;   // client endpoints (fits the 4536 ports of 61000-65535)

unsigned rounds_for(const Traffic& t) {
    return kPacketsPerIteration / (static_cast<unsigned>(t.busy.size()) * kBurst);
}

// ---------------------------------------------------------------- flows

// N UDP flows from kMappings client endpoints (200 LAN hosts, a few ports
// each) to remotes in 198.18.0.0/15, port 443. Flow g uses endpoint g % M and
// the (g / M)-th remote of that endpoint. With several workers, worker o of s
// owns the flows g = j * s + o (its mappings land in its slice of the ports).
struct NaptFlows {
    uint32_t n = 0;  // this worker's
    uint32_t mappings = kMappings;
    uint32_t stride = 1, offset = 0;
    std::vector<uint16_t> outside;  // outside port of local flow j, after prefill

    uint32_t global(uint32_t j) const { return j * stride + offset; }
    uint32_t endpoint(uint32_t g) const { return g % mappings; }
    uint32_t client(uint32_t g) const { return kFirstClient + endpoint(g) % kClients; }
    uint16_t cport(uint32_t g) const { return static_cast<uint16_t>(1024 + endpoint(g) / kClients); }
    uint32_t remote(uint32_t g) const {
        return kRemoteBase + ((g / mappings + endpoint(g) * 7919u) % kRemoteCount);
    }

    void write_out(uint32_t j, uint8_t* frame) const {
        const uint32_t g = global(j);
        const uint32_t c = client(g);
        write_udp_frame(frame, env().ports[idx(Zone::lan)].mac, client_mac(c).data(), c, remote(g), cport(g),
                        kRemotePort);
    }
    void write_in(uint32_t j, uint8_t* frame) const {
        const uint32_t g = global(j);
        write_udp_frame(frame, env().ports[idx(Zone::wan)].mac, kGatewayMac.data(), remote(g), kWanIp, kRemotePort,
                        outside[j]);
    }
    FlowKey inside(uint32_t j) const {
        const uint32_t g = global(j);
        return inside_key(kIpProtoUdp, client(g), cport(g), remote(g), kRemotePort);
    }
};

std::vector<uint32_t> permutation(uint32_t n, uint64_t seed) {
    std::vector<uint32_t> p(n);
    std::iota(p.begin(), p.end(), 0u);
    std::mt19937_64 rng(seed);
    std::shuffle(p.begin(), p.end(), rng);
    return p;
}

// Internet hosts to the server (wan -> dmz), or the server to them.
void write_pass_in(uint32_t j, uint8_t* frame) {
    write_udp_frame(frame, env().ports[idx(Zone::wan)].mac, kGatewayMac.data(), kRemoteBase + (j * 40503u) % kRemoteCount,
                    kWanIp, static_cast<uint16_t>(1024 + j % 50000), kServerPort);
}
void write_pass_out(uint32_t j, uint8_t* frame) {
    write_udp_frame(frame, env().ports[idx(Zone::dmz)].mac, kServerMac.data(), kWanIp,
                    kRemoteBase + (j * 40503u) % kRemoteCount, kServerPort, static_cast<uint16_t>(1024 + j % 50000));
}
constexpr uint32_t kPassFlows = 4096;

// ---------------------------------------------------------------- scenarios

// The state a group of benchmarks shares; built once, kept while the next
// benchmark asks for the same key (Google Benchmark runs the repetitions of
// one benchmark in a row), freed before another is built (memory).
struct Scenario {
    std::string key;
    std::string error;
    std::vector<std::unique_ptr<BenchWorker>> workers;
    std::vector<NaptFlows> flows;
    std::vector<std::vector<uint32_t>> order;
    // Named traffic patterns, per worker.
    std::vector<std::map<std::string, Traffic>> traffic;
    uint32_t sessions = 0;  // established, all workers
    uint32_t capacity = 0;
    double prefill_cycles_per_packet = 0;
    double setup_seconds = 0;
    // Session creation: the flows created in the last iteration, removed after it.
    std::vector<FlowKey> created;
    uint64_t next_new = 0;
    uint64_t remove_cycles = 0, removed = 0, remove_misses = 0;
};

std::unique_ptr<Scenario> g_scenario;

Scenario* scenario(const std::string& key, const std::function<void(Scenario&)>& build) {
    if (g_scenario && g_scenario->key == key) return g_scenario.get();
    g_scenario.reset();
    auto s = std::make_unique<Scenario>();
    s->key = key;
    const uint64_t t0 = rte_rdtsc();
    build(*s);
    s->setup_seconds = double(rte_rdtsc() - t0) / double(env().hz);
    if (s->error.empty())
        std::fprintf(stderr, "bench: scenario %s ready in %.1f s\n", key.c_str(), s->setup_seconds);
    else
        std::fprintf(stderr, "bench: scenario %s: %s\n", key.c_str(), s->error.c_str());
    g_scenario = std::move(s);
    return g_scenario.get();
}

bool add_worker(Scenario& s, unsigned q, const NatConfig& nc) {
    std::string err;
    auto w = BenchWorker::create(q, nc, &err);
    if (!w) {
        s.error = "worker " + std::to_string(q) + ": " + err;
        return false;
    }
    s.workers.push_back(std::move(w));
    s.traffic.emplace_back();
    s.capacity += nc.capacity;
    return true;
}

// Pass-through patterns for worker i (flows in random order).
void add_pass_traffic(Scenario& s, unsigned i) {
    auto order = std::make_shared<std::vector<uint32_t>>(permutation(kPassFlows, 7 + i));
    auto cur = std::make_shared<uint32_t>(0);
    s.traffic[i]["wan_to_dmz"] = Traffic{{Zone::wan}, [order, cur](Zone, uint8_t* f) {
                                             write_pass_in((*order)[(*cur)++ % kPassFlows], f);
                                         }};
    s.traffic[i]["dmz_to_wan"] = Traffic{{Zone::dmz}, [order, cur](Zone, uint8_t* f) {
                                             write_pass_out((*order)[(*cur)++ % kPassFlows], f);
                                         }};
}

void build_pass(Scenario& s, unsigned nworkers) {
    for (unsigned i = 0; i < nworkers; ++i) {
        NatConfig nc;
        nc.capacity = (1u << 20) / nworkers;
        nc.stride = nworkers;
        nc.offset = i;
        if (!add_worker(s, i, nc)) return;
        add_pass_traffic(s, i);
    }
}

// Sends one packet of every flow through the real slow path (process_burst on
// the lan port), then reads back each flow's outside port.
bool prefill(Scenario& s, unsigned i) {
    BenchWorker& bw = *s.workers[i];
    NaptFlows& fl = s.flows[i];
    uint32_t seq = 0;
    Traffic t{{Zone::lan}, [&](Zone, uint8_t* f) { fl.write_out(seq++ % fl.n, f); }};
    const unsigned rounds = rounds_for(t);
    const unsigned per = BenchWorker::packets(t, rounds);
    uint64_t cycles = 0, packets = 0;
    while (seq < fl.n) {
        bw.load(t, rounds);
        cycles += bw.run(t, rounds, Mode::walk);
        packets += per;
        if (bw.collect()) {
            s.error = "prefill: packets not forwarded (table full? ports exhausted?) at " +
                      std::to_string(bw.nat().active()) + " sessions";
            return false;
        }
    }
    s.prefill_cycles_per_packet = double(cycles) / double(packets);
    if (bw.nat().active() != fl.n) {
        s.error = "prefill: " + std::to_string(bw.nat().active()) + " sessions, wanted " + std::to_string(fl.n);
        return false;
    }
    fl.outside.resize(fl.n);
    for (uint32_t j = 0; j < fl.n; ++j) {
        const uint32_t id = bw.nat().lookup(fl.inside(j));
        if (id == kNone) {
            s.error = "prefill: flow " + std::to_string(j) + " has no session";
            return false;
        }
        fl.outside[j] = bw.nat().at(id).outside_port;
    }
    return true;
}

// N established sessions over `nworkers` workers; table capacity per worker
// `capacity` (0: exactly its share of N, the table sized to the sessions).
void build_napt(Scenario& s, uint32_t n, unsigned nworkers, uint32_t capacity) {
    s.flows.reserve(nworkers);  // the traffic patterns point into it
    for (unsigned i = 0; i < nworkers; ++i) {
        NatConfig nc;
        nc.capacity = capacity ? capacity : n / nworkers;
        nc.stride = nworkers;
        nc.offset = i;
        if (!add_worker(s, i, nc)) return;
        NaptFlows fl;
        fl.n = n / nworkers;
        fl.mappings = std::min(kMappings, n);
        fl.stride = nworkers;
        fl.offset = i;
        s.flows.push_back(fl);
        if (!prefill(s, i)) return;
        s.sessions += s.workers[i]->nat().active();
        // Both directions, each from its own cursor over one random order of
        // the flows, half the table apart: every flow is visited in both
        // directions, never twice in a row.
        auto order = std::make_shared<std::vector<uint32_t>>(permutation(fl.n, 42 + i));
        auto out = std::make_shared<uint64_t>(0), in = std::make_shared<uint64_t>(fl.n / 2);
        const NaptFlows* f = &s.flows[i];
        s.traffic[i]["napt"] = Traffic{{Zone::wan, Zone::lan}, [f, order, out, in](Zone z, uint8_t* frame) {
                                           if (z == Zone::lan)
                                               f->write_out((*order)[(*out)++ % f->n], frame);
                                           else
                                               f->write_in((*order)[(*in)++ % f->n], frame);
                                       }};
        add_pass_traffic(s, i);
    }
}

// Session creation: a background of 64K established sessions (1024 endpoints)
// in the default 1M table; each iteration brings 2048 new flows, removed
// after it (untimed, measured apart) so that the table and the port range
// stay as they were. Released ports rest 0 s here so they can be reused.
constexpr uint32_t kCreateBackground = 1u << 16;
constexpr uint32_t kCreateBackgroundEndpoints = 1024;

void build_create(Scenario& s, bool new_mapping) {
    s.flows.reserve(1);
    NatConfig nc;
    nc.rest_seconds = 0;
    if (!add_worker(s, 0, nc)) return;
    NaptFlows fl;
    fl.n = kCreateBackground;
    fl.mappings = kCreateBackgroundEndpoints;
    s.flows.push_back(fl);
    if (!prefill(s, 0)) return;
    s.sessions = s.workers[0]->nat().active();
    Scenario* sp = &s;
    s.traffic[0]["create"] = Traffic{{Zone::lan}, [sp, new_mapping](Zone, uint8_t* frame) {
        const uint64_t k = sp->next_new++;
        uint32_t client, remote;
        uint16_t cport;
        if (new_mapping) {  // a new client port, to a remote
            client = kFirstClient + static_cast<uint32_t>(k % kClients);
            cport = static_cast<uint16_t>(10000 + (k / kClients) % 50000);
            remote = kRemoteBase + static_cast<uint32_t>((k * 40503u) % kRemoteCount);
        } else {  // a known endpoint (client, port) to a remote it never talked to
            const uint32_t e = static_cast<uint32_t>(k % kCreateBackgroundEndpoints);
            client = kFirstClient + e % kClients;
            cport = static_cast<uint16_t>(1024 + e / kClients);
            remote = ip4(198, 19, 0, 0) + static_cast<uint32_t>((k / kCreateBackgroundEndpoints) % 65536);
        }
        write_udp_frame(frame, env().ports[idx(Zone::lan)].mac, client_mac(client).data(), client, remote, cport,
                        kRemotePort);
        sp->created.push_back(inside_key(kIpProtoUdp, client, cport, remote, kRemotePort));
    }};
}

// Removes the sessions the last iteration created (Nat::remove, as expiry does).
void remove_created(Scenario& s) {
    Nat& nat = s.workers[0]->nat();
    const uint32_t now = s.workers[0]->ctx().now_s;
    const uint64_t t0 = rte_rdtsc();
    for (const FlowKey& k : s.created) {
        const uint32_t id = nat.lookup(k);
        if (id == kNone) {
            ++s.remove_misses;
            continue;
        }
        nat.remove(id, now);
        ++s.removed;
    }
    s.remove_cycles += rte_rdtsc() - t0;
    s.created.clear();
}

// ---------------------------------------------------------------- running

// One worker's iterations: cycles and per-stage cycles of each.
struct Totals {
    uint64_t cycles = 0, packets = 0, lost = 0;
    unsigned ppi = 0;  // packets per iteration
    std::vector<uint64_t> iter_cycles;
    std::vector<std::array<uint64_t, kSlots>> iter_stages;

    // The machine is shared: an iteration during which the worker was
    // descheduled counts the other process's time. The median iteration is
    // immune to that as long as most iterations ran undisturbed.
    double median_cpp() const {
        if (iter_cycles.empty()) return 0;
        std::vector<uint64_t> v = iter_cycles;
        std::nth_element(v.begin(), v.begin() + v.size() / 2, v.end());
        return double(v[v.size() / 2]) / ppi;
    }
    // Per-stage cycles per packet, averaged over the iterations no slower
    // than the median one.
    std::array<double, kSlots> stages_cpp() const {
        std::array<double, kSlots> out{};
        if (iter_cycles.empty()) return out;
        const double med = median_cpp() * ppi;
        unsigned used = 0;
        for (size_t i = 0; i < iter_cycles.size(); ++i) {
            if (double(iter_cycles[i]) > med) continue;
            for (unsigned k = 0; k < kSlots; ++k) out[k] += double(iter_stages[i][k]);
            ++used;
        }
        for (auto& x : out) x /= double(used) * ppi;
        return out;
    }
};

void report(benchmark::State& state, const Scenario& s, const std::vector<Totals>& per_worker, Mode mode) {
    const double hz = double(env().hz);
    double mpps = 0, cpp_sum = 0;
    uint64_t lost = 0, packets = 0;
    double mean_cpp = 0;
    for (size_t i = 0; i < per_worker.size(); ++i) {
        const Totals& t = per_worker[i];
        const double cpp = t.median_cpp();
        const double m = cpp > 0 ? hz / cpp / 1e6 : 0;
        mean_cpp += t.packets ? double(t.cycles) / double(t.packets) : 0;
        if (per_worker.size() > 1) {
            state.counters["Mpps_w" + std::to_string(i)] = m;
            state.counters["cycles_per_packet_w" + std::to_string(i)] = cpp;
        }
        mpps += m;
        cpp_sum += cpp;
        lost += t.lost;
        packets += t.packets;
    }
    state.counters["Mpps"] = mpps;  // the sum over workers: they run at the same time
    state.counters["cycles_per_packet"] = cpp_sum / double(per_worker.size());
    // Over all iterations, those disturbed by other processes included.
    state.counters["cycles_per_packet_mean"] = mean_cpp / double(per_worker.size());
    state.counters["not_forwarded"] = double(lost);
    state.counters["sessions"] = double(s.sessions);
    state.counters["capacity"] = double(s.capacity);
    state.counters["workers"] = double(per_worker.size());
    state.counters["tsc_mhz"] = hz / 1e6;
    if (s.prefill_cycles_per_packet > 0) state.counters["prefill_cycles_per_packet"] = s.prefill_cycles_per_packet;
    if (s.removed) state.counters["remove_cycles_per_session"] = double(s.remove_cycles) / double(s.removed);
    if (mode == Mode::stages) {
        const auto st = per_worker[0].stages_cpp();
        double sum = 0;
        for (unsigned k = 0; k < kSlots; ++k) {
            state.counters[std::string("c_") + kStageNames[k]] = st[k];
            sum += st[k];
        }
        state.counters["c_stages_sum"] = sum;
        state.counters["c_rdtsc"] = double(rdtsc_overhead());
    }
    state.SetItemsProcessed(static_cast<int64_t>(packets));
    if (lost) state.SkipWithError("packets were not forwarded: the path under test is not the one measured");
}

// Worker i's loop over `iters` iterations (one per benchmark iteration), timed
// rounds between two barriers so that several workers overlap.
struct Barrier {
    std::atomic<unsigned> count{0};
    std::atomic<unsigned> phase{0};
    unsigned parties = 1;
    void wait() {
        if (parties == 1) return;
        const unsigned ph = phase.load(std::memory_order_acquire);
        if (count.fetch_add(1, std::memory_order_acq_rel) + 1 == parties) {
            count.store(0, std::memory_order_relaxed);
            phase.store(ph + 1, std::memory_order_release);
        } else {
            while (phase.load(std::memory_order_acquire) == ph) rte_pause();
        }
    }
};

struct Job {
    BenchWorker* w;
    Traffic* t;
    Mode mode;
    Zone floor_out;
    uint64_t iters;
    Barrier* barrier;
    Totals totals;
};

void one_iteration(Job& j, unsigned rounds, unsigned ppi) {
    j.w->load(*j.t, rounds);
    j.barrier->wait();
    j.w->stage_cycles = {};
    const uint64_t c = j.w->run(*j.t, rounds, j.mode, j.floor_out);
    j.totals.lost += j.w->collect();
    j.totals.cycles += c;
    j.totals.packets += ppi;
    j.totals.ppi = ppi;
    j.totals.iter_cycles.push_back(c);
    if (j.mode == Mode::stages) j.totals.iter_stages.push_back(j.w->stage_cycles);
}

void warm_up(Job& j, unsigned rounds) {
    for (unsigned i = 0; i < kWarmupIterations; ++i) {
        j.w->load(*j.t, rounds);
        j.barrier->wait();
        j.w->run(*j.t, rounds, j.mode, j.floor_out);
        j.w->collect();
    }
    j.w->stage_cycles = {};
}

int job_main(void* arg) {
    Job& j = *static_cast<Job*>(arg);
    const unsigned rounds = rounds_for(*j.t);
    const unsigned ppi = BenchWorker::packets(*j.t, rounds);
    warm_up(j, rounds);
    for (uint64_t i = 0; i < j.iters; ++i) one_iteration(j, rounds, ppi);
    return 0;
}

// Runs pattern `traffic` on every worker of the scenario; worker 0 on this
// thread (the main lcore), the others on EAL worker lcores (or threads).
void run_bench(benchmark::State& state, Scenario& s, const std::string& traffic, Mode mode,
               Zone floor_out = Zone::dmz) {
    if (!s.error.empty()) {
        state.SkipWithError(s.error.c_str());
        for (auto _ : state) {
        }
        return;
    }
    const size_t n = s.workers.size();
    Barrier barrier;
    barrier.parties = static_cast<unsigned>(n);
    std::vector<Job> jobs(n);
    for (size_t i = 0; i < n; ++i) {
        auto it = s.traffic[i].find(traffic);
        if (it == s.traffic[i].end()) std::abort();
        jobs[i] = Job{s.workers[i].get(), &it->second, mode, floor_out, static_cast<uint64_t>(state.max_iterations),
                      &barrier, {}};
        s.workers[i]->stage_cycles = {};
    }
    // The others first: they wait at the barrier for worker 0.
    std::vector<unsigned> lcores;
    std::vector<std::thread> threads;
    unsigned lc = rte_get_next_lcore(-1, 1, 0);
    for (size_t i = 1; i < n; ++i) {
        if (lc < RTE_MAX_LCORE && rte_eal_remote_launch(job_main, &jobs[i], lc) == 0) {
            lcores.push_back(lc);
            lc = rte_get_next_lcore(lc, 1, 0);
        } else {
            threads.emplace_back([&jobs, i] { job_main(&jobs[i]); });
        }
    }
    Job& j0 = jobs[0];
    const unsigned rounds = rounds_for(*j0.t);
    const unsigned ppi = BenchWorker::packets(*j0.t, rounds);
    const bool creating = traffic == "create";
    warm_up(j0, rounds);
    if (creating) {
        remove_created(s);
        s.remove_cycles = s.removed = s.remove_misses = 0;
    }
    for (auto _ : state) {
        one_iteration(j0, rounds, ppi);
        state.SetIterationTime(double(j0.totals.iter_cycles.back()) / double(env().hz));
        if (creating) remove_created(s);
    }
    for (unsigned l : lcores) rte_eal_wait_lcore(l);
    for (auto& t : threads) t.join();
    std::vector<Totals> totals;
    for (auto& j : jobs) totals.push_back(j.totals);
    state.counters["eal_lcores_used"] = double(1 + lcores.size());
    if (creating && s.remove_misses) state.counters["create_failed"] = double(s.remove_misses);
    report(state, s, totals, mode);
}

// ---------------------------------------------------------------- registration

int64_t iterations_for(uint64_t packets) { return static_cast<int64_t>(packets / kPacketsPerIteration); }

void reg(const std::string& name, int64_t iters, std::function<void(benchmark::State&)> fn) {
    benchmark::RegisterBenchmark(name.c_str(), [fn](benchmark::State& st) { fn(st); })
        ->UseManualTime()
        ->Iterations(iters)
        ->Unit(benchmark::kMicrosecond);
}

}  // namespace

void register_benchmarks(const Options& o) {
    const int64_t iters = iterations_for(o.packets);
    const std::vector<std::pair<std::string, Mode>> modes = {{"", Mode::walk}, {"/stages", Mode::stages}};

    auto pass = [] { return scenario("pass", [](Scenario& s) { build_pass(s, 1); }); };
    reg("floor/wan_to_dmz", iters,
        [pass](benchmark::State& st) { run_bench(st, *pass(), "wan_to_dmz", Mode::floor, Zone::dmz); });
    reg("floor/dmz_to_wan", iters,
        [pass](benchmark::State& st) { run_bench(st, *pass(), "dmz_to_wan", Mode::floor, Zone::wan); });
    for (const char* dir : {"wan_to_dmz", "dmz_to_wan"})
        for (const auto& [sfx, mode] : modes)
            reg(std::string("pass/") + dir + sfx, iters,
                [pass, dir, mode](benchmark::State& st) { run_bench(st, *pass(), dir, mode); });

    for (uint32_t n : o.sessions) {
        const std::string key = "napt" + std::to_string(n);
        auto scn = [key, n, &o] {
            return scenario(key, [n, &o](Scenario& s) { build_napt(s, n, 1, o.capacity_full ? 0 : std::max(n, 1u << 20)); });
        };
        for (const auto& [sfx, mode] : modes)
            reg("napt/sessions:" + std::to_string(n) + sfx, iters,
                [scn, mode](benchmark::State& st) { run_bench(st, *scn(), "napt", mode); });
        reg("napt_pass/sessions:" + std::to_string(n), iters,
            [scn](benchmark::State& st) { run_bench(st, *scn(), "wan_to_dmz", Mode::walk); });
    }

    for (bool new_mapping : {true, false}) {
        const std::string name = new_mapping ? "create/new_mapping" : "create/existing_mapping";
        auto scn = [name, new_mapping] { return scenario(name, [new_mapping](Scenario& s) { build_create(s, new_mapping); }); };
        // Fewer packets: each iteration creates and removes 2048 sessions.
        for (const auto& [sfx, mode] : modes)
            reg(name + sfx, std::max<int64_t>(iters / 4, 16),
                [scn, mode](benchmark::State& st) { run_bench(st, *scn(), "create", mode); });
    }

    if (o.workers >= 2) {
        reg("workers:2/pass/wan_to_dmz", iters, [](benchmark::State& st) {
            run_bench(st, *scenario("pass2", [](Scenario& s) { build_pass(s, 2); }), "wan_to_dmz", Mode::walk);
        });
        reg("workers:2/napt/sessions:65536", iters, [&o](benchmark::State& st) {
            run_bench(st,
                      *scenario("napt2",
                                [&o](Scenario& s) { build_napt(s, 1u << 16, 2, o.capacity_full ? 0 : (1u << 20) / 2); }),
                      "napt", Mode::walk);
        });
    }
}

void release_scenarios() { g_scenario.reset(); }

}  // namespace ipshare::bench
