// Micro-benchmarks of the lookups the stages make, alone, to explain where a
// stage's cycles go (this machine's perf has no hardware counters):
//
//   micro/neigh_lookup_bulk     NeighbourTable::lookup_bulk of 32 keys (rte_hash, lock-free readers)
//   micro/nat_lookup_bulk/N     Nat::lookup_bulk of 32 keys among N sessions (random keys;
//                               the table holds max(N, 1M))
//   micro/route_lookup          RouteTable::lookup (rte_lpm), one address
//   micro/parse_frame           parse_frame of a 60-byte UDP frame (IPv4 header checksum)
//   micro/memory_latency/KB:N   one dependent load at a random cache line of an N KB
//                               block of DPDK memory (rte_malloc): what a cache or TLB
//                               miss costs on this machine
//
// Counter: cycles_per_key (TSC cycles per lookup, or per frame).
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include "bench_registry.h"
#include "harness.h"
#include "parse.h"

namespace ipshare::bench {
namespace {

// The median over iterations of one batch (of 32): an iteration during which
// the process was descheduled (the machine is shared) does not count.
struct Samples {
    std::vector<uint64_t> v;
    void add(uint64_t c) { v.push_back(c); }
};

void report(benchmark::State& st, Samples& s, uint64_t keys) {
    if (s.v.empty()) return;
    std::nth_element(s.v.begin(), s.v.begin() + s.v.size() / 2, s.v.end());
    st.counters["cycles_per_key"] = double(s.v[s.v.size() / 2]) / kBurst;
    st.SetItemsProcessed(static_cast<int64_t>(keys));
}

void neigh_lookup_bulk(benchmark::State& st) {
    Env& e = env();
    std::vector<NeighKey> keys;
    for (uint32_t c = 0; c < kClients; ++c) keys.push_back({kFirstClient + c, static_cast<uint32_t>(Zone::lan)});
    keys.push_back({kGateway, static_cast<uint32_t>(Zone::wan)});
    keys.push_back({kWanIp, static_cast<uint32_t>(Zone::dmz)});
    std::shuffle(keys.begin(), keys.end(), std::mt19937_64(1));
    std::vector<const void*> ptrs;
    for (const auto& k : keys) ptrs.push_back(&k);
    uint64_t macs[kBurst];
    Samples cycles;
    uint64_t n = 0;
    size_t off = 0;
    for (auto _ : st) {
        if (off + kBurst > ptrs.size()) off = 0;
        const uint64_t t0 = rte_rdtsc();
        const uint64_t hits = e.neigh->lookup_bulk(ptrs.data() + off, kBurst, macs);
        cycles.add(rte_rdtsc() - t0);
        benchmark::DoNotOptimize(hits);
        if (hits != (uint64_t{1} << kBurst) - 1) st.SkipWithError("neighbour miss");
        off += kBurst;
        n += kBurst;
    }
    report(st, cycles, n);
}

// A Nat with `n` UDP sessions (created directly, not through the stages).
struct MicroNat {
    std::unique_ptr<Nat> nat;
    std::vector<FlowKey> keys;
    uint32_t n = 0;
};
std::unique_ptr<MicroNat> g_micro;

MicroNat* micro_nat(uint32_t n, std::string* err) {
    if (g_micro && g_micro->n == n) return g_micro.get();
    g_micro.reset();
    release_scenarios();  // memory
    auto m = std::make_unique<MicroNat>();
    m->n = n;
    NatParams p;
    p.wan_ip = kWanIp;
    p.capacity = std::max(n, 1u << 20);
    static unsigned serial = 0;
    m->nat = Nat::create("bmicro" + std::to_string(++serial), p, err);
    if (!m->nat) return nullptr;
    for (uint32_t j = 0; j < n; ++j) {
        const uint32_t e = j % 4096;
        Flow f;
        f.proto = kIpProtoUdp;
        f.src = kFirstClient + e % kClients;
        f.sport = static_cast<uint16_t>(1024 + e / kClients);
        f.dst = kRemoteBase + ((j / 4096 + e * 7919u) % kRemoteCount);
        f.dport = 443;
        NatFail why;
        if (m->nat->create_outbound(f, kWanIp, 0, &why) == kNone) {
            *err = "cannot create session " + std::to_string(j);
            return nullptr;
        }
        m->keys.push_back(inside_key(f.proto, f.src, f.sport, f.dst, f.dport));
    }
    std::shuffle(m->keys.begin(), m->keys.end(), std::mt19937_64(3));
    g_micro = std::move(m);
    return g_micro.get();
}

void nat_lookup_bulk(benchmark::State& st, uint32_t n) {
    std::string err;
    MicroNat* m = micro_nat(n, &err);
    if (!m) {
        st.SkipWithError(err.c_str());
        for (auto _ : st) {
        }
        return;
    }
    std::vector<const void*> ptrs;
    for (const auto& k : m->keys) ptrs.push_back(&k);
    uint32_t ids[kBurst];
    Samples cycles;
    uint64_t keys = 0;
    size_t off = 0;
    for (auto _ : st) {
        if (off + kBurst > ptrs.size()) off = 0;
        const uint64_t t0 = rte_rdtsc();
        const uint64_t hits = m->nat->lookup_bulk(ptrs.data() + off, kBurst, ids);
        cycles.add(rte_rdtsc() - t0);
        benchmark::DoNotOptimize(hits);
        off += kBurst;
        keys += kBurst;
    }
    report(st, cycles, keys);
}

void route_lookup(benchmark::State& st) {
    const RouteTable& r = *env().tables->routes;
    std::vector<uint32_t> dsts;
    for (uint32_t i = 0; i < 4096; ++i) dsts.push_back(kRemoteBase + i * 40503u % kRemoteCount);
    Samples cycles;
    uint64_t n = 0;
    size_t i = 0;
    for (auto _ : st) {
        const uint64_t t0 = rte_rdtsc();
        for (unsigned k = 0; k < kBurst; ++k) benchmark::DoNotOptimize(r.lookup(dsts[(i + k) & 4095]));
        cycles.add(rte_rdtsc() - t0);
        i += kBurst;
        n += kBurst;
    }
    report(st, cycles, n);
}

void parse(benchmark::State& st) {
    uint8_t frames[kBurst][64];
    for (unsigned k = 0; k < kBurst; ++k)
        write_udp_frame(frames[k], env().ports[idx(Zone::lan)].mac, client_mac(kFirstClient).data(), kFirstClient,
                        kRemoteBase + k, 1024, 443);
    Samples cycles;
    uint64_t n = 0;
    for (auto _ : st) {
        const uint64_t t0 = rte_rdtsc();
        for (unsigned k = 0; k < kBurst; ++k) benchmark::DoNotOptimize(parse_frame(frames[k], kFrameLen));
        cycles.add(rte_rdtsc() - t0);
        n += kBurst;
    }
    report(st, cycles, n);
}

// A random cyclic chain through the cache lines of `bytes` of rte_malloc'd memory.
void memory_latency(benchmark::State& st, size_t kb) {
    const size_t lines = kb * 1024 / 64;
    auto* mem = static_cast<uint64_t*>(rte_malloc("bench_chase", lines * 64, 64));
    if (!mem) {
        st.SkipWithError("rte_malloc");
        for (auto _ : st) {
        }
        return;
    }
    std::vector<uint32_t> order(lines);
    for (uint32_t i = 0; i < lines; ++i) order[i] = i;
    std::shuffle(order.begin(), order.end(), std::mt19937_64(5));
    for (size_t i = 0; i < lines; ++i) mem[size_t{order[i]} * 8] = size_t{order[(i + 1) % lines]} * 8;
    constexpr unsigned kLoads = 1024;
    Samples cycles;
    uint64_t at = size_t{order[0]} * 8, loads = 0;
    for (size_t i = 0; i < lines; ++i) at = mem[at];  // warm (as warm as it gets)
    for (auto _ : st) {
        const uint64_t t0 = rte_rdtsc();
        for (unsigned k = 0; k < kLoads; ++k) at = mem[at];
        cycles.add((rte_rdtsc() - t0) * kBurst / kLoads);  // report() divides by kBurst
        loads += kLoads;
    }
    benchmark::DoNotOptimize(at);
    report(st, cycles, loads);
    rte_free(mem);
}

}  // namespace

void register_micro(const Options& o) {
    benchmark::RegisterBenchmark("micro/neigh_lookup_bulk", neigh_lookup_bulk)->Iterations(1 << 16);
    for (uint32_t n : o.micro_sessions)
        benchmark::RegisterBenchmark(("micro/nat_lookup_bulk/sessions:" + std::to_string(n)).c_str(),
                                     [n](benchmark::State& st) { nat_lookup_bulk(st, n); })
            ->Iterations(1 << 16);
    benchmark::RegisterBenchmark("micro/route_lookup", route_lookup)->Iterations(1 << 16);
    benchmark::RegisterBenchmark("micro/parse_frame", parse)->Iterations(1 << 16);
    for (size_t kb : {16, 256, 8192, 262144})
        benchmark::RegisterBenchmark(("micro/memory_latency/KB:" + std::to_string(kb)).c_str(),
                                     [kb](benchmark::State& st) { memory_latency(st, kb); })
            ->Iterations(4096);
}

void release_micro() { g_micro.reset(); }

}  // namespace ipshare::bench
