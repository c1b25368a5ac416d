// The dataplane benchmarks: the real stages (process_burst) over mbufs on
// ring-backed ports, one worker unless named otherwise (harness.h).
//
//   floor/wan_to_dmz, dmz_to_wan rx burst + tx burst only, no stage
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
//   micro/...                    the lookups alone, memory latency (bench_micro.cc)
//
// Counters (per packet unless said): cycles_per_packet (TSC cycles of the
// timed poll rounds: the lower quartile over the iterations, see quantile()),
// cycles_per_packet_median and _mean (all iterations, noise included), Mpps
// (TSC Hz / cycles_per_packet; with two workers their aggregate, and
// cycles_per_packet the sum of both workers' cycles per packet),
// not_forwarded (packets the router dropped or held: must be 0), sessions,
// capacity; for /stages one c_<stage> per stage. Google Benchmark's time is
// the timed loop's (manual time) per iteration (2048 packets; 512 for create/).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
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

// Under valgrind --tool=callgrind --collect-atstart=no, only the timed part
// of the measured iterations of worker 0 is collected (docs/performance.md).
#ifdef IPSHARE_BENCH_CALLGRIND
#include <valgrind/callgrind.h>
#define BENCH_COLLECT_TOGGLE() CALLGRIND_TOGGLE_COLLECT
#else
#define BENCH_COLLECT_TOGGLE() \
    do {                       \
    } while (0)
#endif

#include "bench_registry.h"
#include "harness.h"
#include "headers.h"

namespace ipshare::bench {
namespace {

constexpr unsigned kPacketsPerIteration = 2048;  // the default; Traffic::per_iteration
constexpr unsigned kCreatePerIteration = 512;
constexpr unsigned kWarmupIterations = 32;
constexpr uint16_t kRemotePort = 443;  // QUIC: UDP to 443
constexpr uint16_t kServerPort = 80;
constexpr uint32_t kMappings = 4096;   // client endpoints (fits the 4536 ports of 61000-65535)

unsigned rounds_for(const Traffic& t) {
    return std::max(1u, t.per_iteration / (static_cast<unsigned>(t.busy.size()) * kBurst));
}

// ---------------------------------------------------------------- flows

// N UDP flows from kMappings client endpoints (200 LAN hosts, a few ports
// each) to remotes in 198.18.0.0/15, port 443. Flow j uses endpoint j % M and
// the (j / M)-th remote of that endpoint.
struct NaptFlows {
    uint32_t n = 0;
    uint32_t mappings = kMappings;
    std::vector<uint16_t> outside;  // outside port of flow j, after prefill
    std::vector<uint8_t> owner;     // the worker whose Nat holds flow j

    uint32_t endpoint(uint32_t j) const { return j % mappings; }
    uint32_t client(uint32_t j) const { return kFirstClient + endpoint(j) % kClients; }
    uint16_t cport(uint32_t j) const { return static_cast<uint16_t>(1024 + endpoint(j) / kClients); }
    uint32_t remote(uint32_t j) const {
        return kRemoteBase + ((j / mappings + endpoint(j) * 7919u) % kRemoteCount);
    }

    void write_out(uint32_t j, uint8_t* frame) const {
        const uint32_t c = client(j);
        write_udp_frame(frame, env().ports[idx(Zone::lan)].mac, client_mac(c).data(), c, remote(j), cport(j),
                        kRemotePort);
    }
    void write_in(uint32_t j, uint8_t* frame) const {
        write_udp_frame(frame, env().ports[idx(Zone::wan)].mac, kGatewayMac.data(), remote(j), kWanIp, kRemotePort,
                        outside[j]);
    }
    FlowKey inside(uint32_t j) const { return inside_key(kIpProtoUdp, client(j), cport(j), remote(j), kRemotePort); }
};

std::vector<uint32_t> shuffled(std::vector<uint32_t> v, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::shuffle(v.begin(), v.end(), rng);
    return v;
}

std::vector<uint32_t> iota(uint32_t n) {
    std::vector<uint32_t> v(n);
    std::iota(v.begin(), v.end(), 0u);
    return v;
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
    NaptFlows flows;
    // Named traffic patterns, one per worker.
    std::map<std::string, std::vector<Traffic>> traffic;
    std::map<std::string, double> handoff_share;  // of the packets, by traffic (several workers)
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
    release_micro();  // memory
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

// `nworkers` workers; each NAT table `capacity` sessions.
bool add_workers(Scenario& s, unsigned nworkers, uint32_t capacity, uint32_t rest_seconds = 120) {
    for (unsigned i = 0; i < nworkers; ++i) {
        NatConfig nc;
        nc.capacity = capacity;
        nc.rest_seconds = rest_seconds;
        nc.stride = nworkers;  // as the daemon: worker i owns its slice of the port range
        nc.offset = i;
        std::string err;
        auto w = BenchWorker::create(i, nworkers, nc, &err);
        if (!w) {
            s.error = "worker " + std::to_string(i) + ": " + err;
            return false;
        }
        s.workers.push_back(std::move(w));
        s.capacity += capacity;
    }
    return true;
}

// Pass-through patterns (flows in random order), one per worker.
void add_pass_traffic(Scenario& s) {
    for (unsigned i = 0; i < s.workers.size(); ++i) {
        auto order = std::make_shared<std::vector<uint32_t>>(shuffled(iota(kPassFlows), 7 + i));
        auto cur = std::make_shared<uint32_t>(i * kPassFlows / 2);
        s.traffic["wan_to_dmz"].push_back(Traffic{{Zone::wan}, [order, cur](Zone, uint8_t* f) {
                                                      write_pass_in((*order)[(*cur)++ % kPassFlows], f);
                                                  }});
        s.traffic["dmz_to_wan"].push_back(Traffic{{Zone::dmz}, [order, cur](Zone, uint8_t* f) {
                                                      write_pass_out((*order)[(*cur)++ % kPassFlows], f);
                                                  }});
    }
}

void build_pass(Scenario& s, unsigned nworkers) {
    if (!add_workers(s, nworkers, (1u << 20) / nworkers)) return;
    add_pass_traffic(s);
}

// Sends one packet of every flow through the real slow path (process_burst on
// worker 0's lan port; with several workers the owners take theirs through
// the handoff rings), then reads back each flow's owner and outside port.
bool prefill(Scenario& s) {
    BenchWorker& w0 = *s.workers[0];
    NaptFlows& fl = s.flows;
    uint32_t seq = 0;
    Traffic t{{Zone::lan}, [&](Zone, uint8_t* f) { fl.write_out(seq++ % fl.n, f); }};
    const unsigned rounds = std::max(1u, rounds_for(t));
    uint64_t cycles = 0, packets = 0;
    while (seq < fl.n) {
        const unsigned loaded = w0.load(t, rounds);
        cycles += w0.run(rounds, Mode::walk);
        packets += loaded;
        for (auto& w : s.workers) w->drain_tail([] { return true; });
        unsigned back = 0;
        for (auto& w : s.workers) back += w->collect();
        if (back != loaded) {
            s.error = "prefill: packets not forwarded (table full? ports exhausted?) at " +
                      std::to_string(seq) + " flows";
            return false;
        }
    }
    s.prefill_cycles_per_packet = double(cycles) / double(packets);
    for (auto& w : s.workers) s.sessions += w->nat().active();
    if (s.sessions != fl.n) {
        s.error = "prefill: " + std::to_string(s.sessions) + " sessions, wanted " + std::to_string(fl.n);
        return false;
    }
    fl.outside.resize(fl.n);
    fl.owner.resize(fl.n);
    for (uint32_t j = 0; j < fl.n; ++j) {
        uint32_t id = kNone;
        for (unsigned i = 0; i < s.workers.size() && id == kNone; ++i) {
            id = s.workers[i]->nat().lookup(fl.inside(j));
            if (id != kNone) {
                fl.owner[j] = static_cast<uint8_t>(i);
                fl.outside[j] = s.workers[i]->nat().at(id).outside_port;
            }
        }
        if (id == kNone) {
            s.error = "prefill: flow " + std::to_string(j) + " has no session";
            return false;
        }
    }
    return true;
}

// Both directions of `flows`, each from its own cursor over them, half the
// list apart: every flow is visited in both directions, never twice in a row.
Traffic napt_traffic(const NaptFlows* f, std::vector<uint32_t> flows) {
    auto order = std::make_shared<std::vector<uint32_t>>(std::move(flows));
    const uint64_t n = order->size();
    auto out = std::make_shared<uint64_t>(0), in = std::make_shared<uint64_t>(n / 2);
    return Traffic{{Zone::wan, Zone::lan}, [f, order, out, in, n](Zone z, uint8_t* frame) {
                       if (z == Zone::lan)
                           f->write_out((*order)[(*out)++ % n], frame);
                       else
                           f->write_in((*order)[(*in)++ % n], frame);
                   }};
}

// N established sessions over `nworkers` workers, each with a table of
// `capacity` sessions (0: the table sized to exactly its share of N).
void build_napt(Scenario& s, uint32_t n, unsigned nworkers, uint32_t capacity) {
    if (!add_workers(s, nworkers, capacity ? capacity : n / nworkers)) return;
    s.flows.n = n;
    s.flows.mappings = std::min(kMappings, n);
    if (!prefill(s)) return;
    if (nworkers == 1) {
        s.traffic["napt"].push_back(napt_traffic(&s.flows, shuffled(iota(n), 42)));
    } else {
        // rss: flow j (both directions) arrives on queue j % n, as a symmetric
        // hash would spread it, whoever owns it: about half is handed off.
        // steered: each flow arrives on its owner's queue: no handoff.
        std::vector<std::vector<uint32_t>> rss(nworkers), steered(nworkers);
        uint32_t foreign = 0;
        for (uint32_t j = 0; j < n; ++j) {
            rss[j % nworkers].push_back(j);
            steered[s.flows.owner[j]].push_back(j);
            foreign += s.flows.owner[j] != j % nworkers;
        }
        s.handoff_share["rss"] = double(foreign) / n;
        s.handoff_share["steered"] = 0;
        for (unsigned i = 0; i < nworkers; ++i) {
            s.traffic["rss"].push_back(napt_traffic(&s.flows, shuffled(rss[i], 42 + i)));
            s.traffic["steered"].push_back(napt_traffic(&s.flows, shuffled(steered[i], 42 + i)));
        }
    }
    add_pass_traffic(s);
}

// Session creation: a background of 64K established sessions (1024 endpoints)
// in the default 1M table; each iteration brings 512 new flows, removed
// after it (untimed, measured apart) so that the table and the port range
// stay as they were. Released ports rest 0 s here so they can be reused.
constexpr uint32_t kCreateBackground = 1u << 16;
constexpr uint32_t kCreateBackgroundEndpoints = 1024;

void build_create(Scenario& s, bool new_mapping) {
    if (!add_workers(s, 1, 1u << 20, /*rest_seconds=*/0)) return;
    s.flows.n = kCreateBackground;
    s.flows.mappings = kCreateBackgroundEndpoints;
    if (!prefill(s)) return;
    Scenario* sp = &s;
    s.traffic["create"].push_back(Traffic{{Zone::lan}, [sp, new_mapping](Zone, uint8_t* frame) {
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
    }, kCreatePerIteration});
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

// The machine is shared: an iteration during which the worker was
// descheduled, or shared its core with another process, counts the other's
// time. Such noise only ever adds cycles, and an iteration (512-2048 packets)
// averages out the variation between packets, so the lower quartile of the
// iterations estimates the undisturbed cost; the median and the mean over
// all iterations are reported beside it.
double quantile(std::vector<uint64_t> v, double q) {
    if (v.empty()) return 0;
    const size_t k = static_cast<size_t>(q * double(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return double(v[k]);
}
double median(std::vector<uint64_t> v) { return quantile(std::move(v), 0.5); }
constexpr double kQuantile = 0.25;

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

// One worker's part of a benchmark: `iters` iterations, the timed part of
// each between two barriers so that the workers overlap.
struct Job {
    unsigned index = 0;
    BenchWorker* w = nullptr;
    Traffic* t = nullptr;
    Mode mode = Mode::walk;
    Zone floor_out = Zone::dmz;
    uint64_t iters = 0;
    Barrier* barrier = nullptr;
    std::vector<Job>* all = nullptr;
    std::atomic<uint64_t> done{0};  // iterations whose rounds this worker finished
    bool measured = false;          // past the warm-up (callgrind collects then)

    uint64_t loaded = 0, returned = 0;
    std::vector<uint64_t> iter_cycles;
    std::vector<std::array<uint64_t, kSlots>> iter_stages;

    Job() = default;
    Job(const Job&) = delete;
};

void one_iteration(Job& j, unsigned rounds, uint64_t iter) {
    j.loaded += j.w->load(*j.t, rounds);
    j.barrier->wait();
    j.w->stage_cycles = {};
    const bool collect = j.measured && j.index == 0;
    if (collect) BENCH_COLLECT_TOGGLE();
    uint64_t c = j.w->run(rounds, j.mode, j.floor_out);
    j.done.store(iter + 1, std::memory_order_release);
    c += j.w->drain_tail([&j, iter] {
        for (const Job& o : *j.all)
            if (o.done.load(std::memory_order_acquire) <= iter) return false;
        return true;
    });
    if (collect) BENCH_COLLECT_TOGGLE();
    j.barrier->wait();  // every handoff ring drained: the mbufs are all on TX rings
    j.returned += j.w->collect();
    j.iter_cycles.push_back(c);
    if (j.mode == Mode::stages) j.iter_stages.push_back(j.w->stage_cycles);
}

int job_main(void* arg) {
    Job& j = *static_cast<Job*>(arg);
    const unsigned rounds = rounds_for(*j.t);
    for (uint64_t i = 0; i < j.iters; ++i) one_iteration(j, rounds, i);
    return 0;
}

// Runs pattern `traffic` on every worker of the scenario; worker 0 on this
// thread (the main lcore), the others on EAL worker lcores (or threads).
void run_bench(benchmark::State& state, Scenario& s, const std::string& traffic, Mode mode,
               Zone floor_out = Zone::dmz) {
    auto it = s.traffic.find(traffic);
    if (s.error.empty() && it == s.traffic.end()) s.error = "no traffic " + traffic;
    if (!s.error.empty()) {
        state.SkipWithError(s.error.c_str());
        for (auto _ : state) {
        }
        return;
    }
    const size_t n = s.workers.size();
    const bool creating = traffic == "create";
    Barrier barrier;
    barrier.parties = static_cast<unsigned>(n);
    std::vector<Job> jobs(n);
    const uint64_t iters = kWarmupIterations + static_cast<uint64_t>(state.max_iterations);
    for (size_t i = 0; i < n; ++i) {
        Job& j = jobs[i];
        j.index = static_cast<unsigned>(i);
        j.w = s.workers[i].get();
        j.t = &it->second[i];
        j.mode = mode;
        j.floor_out = floor_out;
        j.iters = iters;
        j.barrier = &barrier;
        j.all = &jobs;
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
    for (uint64_t i = 0; i < kWarmupIterations; ++i) {
        one_iteration(j0, rounds, i);
        if (creating) remove_created(s);
    }
    s.remove_cycles = s.removed = s.remove_misses = 0;
    j0.measured = true;
    uint64_t i = kWarmupIterations;
    for (auto _ : state) {
        one_iteration(j0, rounds, i++);
        state.SetIterationTime(double(j0.iter_cycles.back()) / double(env().hz));
        if (creating) remove_created(s);
    }
    for (unsigned l : lcores) rte_eal_wait_lcore(l);
    for (auto& t : threads) t.join();

    // Per iteration: the slowest worker's cycles (they started together).
    const unsigned ppi = BenchWorker::packets(*j0.t, rounds);
    std::vector<uint64_t> slowest;
    uint64_t loaded = 0, returned = 0;
    for (uint64_t k = kWarmupIterations; k < iters; ++k) {
        uint64_t m = 0;
        for (const Job& j : jobs) m = std::max(m, j.iter_cycles[k]);
        slowest.push_back(m);
    }
    std::vector<unsigned> pkts(n);
    unsigned total_ppi = 0;
    for (size_t w = 0; w < n; ++w) {
        pkts[w] = BenchWorker::packets(*jobs[w].t, rounds_for(*jobs[w].t));
        total_ppi += pkts[w];
        loaded += jobs[w].loaded;
        returned += jobs[w].returned;
    }
    if (std::getenv("BENCH_DUMP_ITERATIONS")) {
        std::vector<uint64_t> v = slowest;
        std::sort(v.begin(), v.end());
        std::fprintf(stderr, "bench: %s %s cycles/packet percentiles:", s.key.c_str(), traffic.c_str());
        for (double q : {0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0})
            std::fprintf(stderr, " p%.0f=%.0f", q * 100, double(v[size_t(q * double(v.size() - 1))]) * double(n) / total_ppi);
        std::fprintf(stderr, "\n");
        if (std::getenv("BENCH_DUMP_ITERATIONS")[0] == '2') {
            for (size_t k = 0; k < slowest.size() && k < 64; ++k)
                std::fprintf(stderr, " %.0f", double(slowest[k]) * double(n) / total_ppi);
            std::fprintf(stderr, "\n");
        }
    }
    const double hz = double(env().hz);
    const double q = quantile(slowest, kQuantile);
    // Cycles of all workers per packet: with several, their sum.
    state.counters["cycles_per_packet"] = q * double(n) / double(total_ppi);
    state.counters["Mpps"] = hz / (q / double(total_ppi)) / 1e6;
    state.counters["cycles_per_packet_median"] = median(slowest) * double(n) / double(total_ppi);
    uint64_t all = 0;
    for (uint64_t c : slowest) all += c;
    // Over all iterations, those disturbed by other processes included.
    state.counters["cycles_per_packet_mean"] = double(all) * double(n) / double(total_ppi) / double(slowest.size());
    if (auto h = s.handoff_share.find(traffic); h != s.handoff_share.end())
        state.counters["handed_off_share"] = h->second;
    if (n > 1)
        for (size_t w = 0; w < n; ++w) {
            std::vector<uint64_t> mine(jobs[w].iter_cycles.begin() + kWarmupIterations, jobs[w].iter_cycles.end());
            state.counters["cycles_per_packet_w" + std::to_string(w)] = quantile(mine, kQuantile) / double(pkts[w]);
        }
    const double lost = double(loaded - std::min(loaded, returned));
    state.counters["not_forwarded"] = lost;
    state.counters["sessions"] = double(s.sessions);
    state.counters["capacity"] = double(s.capacity);
    state.counters["workers"] = double(n);
    state.counters["eal_lcores_used"] = double(1 + lcores.size());
    state.counters["tsc_mhz"] = hz / 1e6;
    if (s.prefill_cycles_per_packet > 0) state.counters["prefill_cycles_per_packet"] = s.prefill_cycles_per_packet;
    if (s.removed) state.counters["remove_cycles_per_session"] = double(s.remove_cycles) / double(s.removed);
    if (creating && s.remove_misses) state.counters["create_failed"] = double(s.remove_misses);
    if (mode == Mode::stages) {
        // Per stage, averaged over the iterations no slower than the lower quartile.
        const double med = quantile(std::vector<uint64_t>(j0.iter_cycles.begin() + kWarmupIterations, j0.iter_cycles.end()), kQuantile);
        std::array<double, kSlots> st{};
        unsigned used = 0;
        for (uint64_t k = kWarmupIterations; k < iters; ++k) {
            if (double(j0.iter_cycles[k]) > med) continue;
            for (unsigned x = 0; x < kSlots; ++x) st[x] += double(j0.iter_stages[k][x]);
            ++used;
        }
        double sum = 0;
        for (unsigned x = 0; x < kSlots; ++x) {
            st[x] /= double(used) * ppi;
            state.counters[std::string("c_") + kStageNames[x]] = st[x];
            sum += st[x];
        }
        state.counters["c_stages_sum"] = sum;
        state.counters["c_rdtsc"] = double(rdtsc_overhead());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * total_ppi);
    if (lost > 0) state.SkipWithError("packets were not forwarded: the path under test is not the one measured");
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
        // A quarter of the packets, in iterations of 512: each creates and removes 512 sessions.
        for (const auto& [sfx, mode] : modes)
            reg(name + sfx, std::max<int64_t>(iters * kPacketsPerIteration / kCreatePerIteration / 4, 16),
                [scn, mode](benchmark::State& st) { run_bench(st, *scn(), "create", mode); });
    }

    if (o.workers >= 2) {
        reg("workers:2/pass/wan_to_dmz", iters, [](benchmark::State& st) {
            run_bench(st, *scenario("pass2", [](Scenario& s) { build_pass(s, 2); }), "wan_to_dmz", Mode::walk);
        });
        for (const char* spread : {"steered", "rss"})
            reg(std::string("workers:2/napt/sessions:65536/") + spread, iters, [&o, spread](benchmark::State& st) {
                run_bench(st,
                          *scenario("napt2",
                                    [&o](Scenario& s) {
                                        build_napt(s, 1u << 16, 2, o.capacity_full ? (1u << 15) + (1u << 13) : (1u << 20) / 2);
                                    }),
                          spread, Mode::walk);
            });
    }
}

void release_scenarios() { g_scenario.reset(); }

}  // namespace ipshare::bench
