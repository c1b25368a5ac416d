// main() of bench_dataplane, as DPDK applications take their arguments:
//
//   bench_dataplane [EAL options] -- [--benchmark_* options] [bench options]
//
// Without EAL options (nothing before "--", or no "--" at all) the EAL gets
//   --no-huge -m 6144 --no-pci --no-shconf --file-prefix=ipshare_bench
//   --log-level=error -l <the first two CPUs this process may run on>
// (4M sessions need about 1.6 GB for the NAT tables; with --no-huge the EAL
// refuses --in-memory, so --no-shconf keeps it from writing runtime files).
//
// Bench options:
//   --packets=N          packets per repetition of each benchmark (default 1048576)
//   --sessions=A,B,...   the NAPT table sizes (default 1024,65536,1048576,4194304)
//   --capacity=default   NAT capacity max(sessions, 1M), the daemon's default table (default)
//   --capacity=full      NAT capacity = sessions: a table sized to exactly the sessions, full
#include <benchmark/benchmark.h>
#include <sched.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_version.h>

#include "bench_registry.h"
#include "harness.h"

namespace {

std::string default_lcores() {
    cpu_set_t set;
    CPU_ZERO(&set);
    std::string l;
    int found = 0;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        for (int c = 0; c < CPU_SETSIZE && found < 2; ++c) {
            if (!CPU_ISSET(c, &set)) continue;
            if (found) l += ',';
            l += std::to_string(c);
            ++found;
        }
    }
    return found ? l : "0";
}

bool starts_with(const char* s, const char* p) { return std::strncmp(s, p, std::strlen(p)) == 0; }

std::vector<uint32_t> parse_list(const char* s) {
    std::vector<uint32_t> v;
    while (*s) {
        char* end;
        const unsigned long x = std::strtoul(s, &end, 0);
        if (end == s) break;
        v.push_back(static_cast<uint32_t>(x));
        s = *end == ',' ? end + 1 : end;
    }
    return v;
}

}  // namespace

int main(int argc, char** argv) {
    int dd = -1;
    for (int i = 1; i < argc; ++i)
        if (std::strcmp(argv[i], "--") == 0) {
            dd = i;
            break;
        }
    std::vector<std::string> eal_strings;
    if (dd > 1) {
        for (int i = 1; i < dd; ++i) eal_strings.push_back(argv[i]);
    } else {
        eal_strings = {"--no-huge", "-m", "6144", "--no-pci", "--no-shconf", "--file-prefix=ipshare_bench",
                       "--log-level=error", "-l", default_lcores()};
    }
    std::vector<char*> eal_argv = {argv[0]};
    std::string eal_text;
    for (auto& s : eal_strings) {
        eal_argv.push_back(s.data());
        eal_text += (eal_text.empty() ? "" : " ") + s;
    }
    if (rte_eal_init(static_cast<int>(eal_argv.size()), eal_argv.data()) < 0) {
        std::fprintf(stderr, "bench_dataplane: cannot initialise the EAL (%s): %s\n", eal_text.c_str(),
                     rte_strerror(rte_errno));
        return 1;
    }

    std::vector<char*> app = {argv[0]};
    for (int i = dd < 0 ? 1 : dd + 1; i < argc; ++i) app.push_back(argv[i]);
    int app_argc = static_cast<int>(app.size());
    benchmark::Initialize(&app_argc, app.data());

    ipshare::bench::Options o;
    std::vector<char*> rest = {app[0]};
    for (int i = 1; i < app_argc; ++i) {
        const char* a = app[i];
        if (starts_with(a, "--packets=")) {
            o.packets = std::strtoull(a + 10, nullptr, 0);
        } else if (starts_with(a, "--sessions=")) {
            o.sessions = parse_list(a + 11);
        } else if (std::strcmp(a, "--capacity=full") == 0) {
            o.capacity_full = true;
        } else if (std::strcmp(a, "--capacity=default") == 0) {
            o.capacity_full = false;
        } else {
            rest.push_back(app[i]);
        }
    }
    int rest_argc = static_cast<int>(rest.size());
    if (benchmark::ReportUnrecognizedArguments(rest_argc, rest.data())) return 1;

    o.workers = std::min<unsigned>(rte_lcore_count(), ipshare::bench::kMaxWorkers);
    std::string err;
    if (!ipshare::bench::env_init(o.workers, &err)) {
        std::fprintf(stderr, "bench_dataplane: %s\n", err.c_str());
        return 1;
    }
    benchmark::AddCustomContext("dpdk", rte_version());
    benchmark::AddCustomContext("eal", eal_text);
    benchmark::AddCustomContext("eal_lcores", std::to_string(rte_lcore_count()));
    benchmark::AddCustomContext("tsc_hz", std::to_string(rte_get_tsc_hz()));
    benchmark::AddCustomContext("nat_capacity", o.capacity_full ? "sessions" : "max(sessions, 1048576)");
    benchmark::AddCustomContext("packets_per_repetition", std::to_string(o.packets));

    ipshare::bench::register_benchmarks(o);
    ipshare::bench::register_micro(o);
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    ipshare::bench::release_scenarios();
    ipshare::bench::release_micro();
    ipshare::bench::env_cleanup();
    rte_eal_cleanup();
    return 0;
}
