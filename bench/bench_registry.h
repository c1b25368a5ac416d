// What bench_main.cc tells bench_dataplane.cc.
#pragma once

#include <cstdint>
#include <vector>

namespace ipshare::bench {

struct Options {
    uint64_t packets = 1u << 20;  // per repetition of a benchmark (sessions: a quarter)
    std::vector<uint32_t> sessions = {1u << 10, 1u << 16, 1u << 20, 1u << 22};
    bool capacity_full = false;   // NAT capacity = the sessions (full table) instead of max(sessions, 1M)
    unsigned workers = 1;         // how many may run at once (EAL lcores)
    std::vector<uint32_t> micro_sessions = {1u << 10, 1u << 16, 1u << 20, 1u << 22};
};

void register_benchmarks(const Options& o);  // bench_dataplane.cc
void release_scenarios();
void register_micro(const Options& o);       // bench_micro.cc
void release_micro();

}  // namespace ipshare::bench
