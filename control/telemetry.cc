#include "telemetry.h"

#include <atomic>
#include <string>

#include <rte_telemetry.h>

#include "daemon.h"

namespace ipshare {
namespace {

std::atomic<const Daemon*> g_daemon{nullptr};  // see telemetry.h: DPDK's callbacks take no context

int counters_cb(const char*, const char*, rte_tel_data* d) {
    const Daemon* daemon = g_daemon.load();
    if (!daemon) return -1;
    const CounterTotals t = daemon->totals();
    rte_tel_data_start_dict(d);
    for (int z = 0; z < kNumZones; ++z) {
        const std::string zone = kZoneNames[z];
        rte_tel_data_add_dict_u64(d, (zone + "_rx").c_str(), t.rx[z]);
        rte_tel_data_add_dict_u64(d, (zone + "_tx").c_str(), t.tx[z]);
        rte_tel_data_add_dict_u64(d, (zone + "_dropped").c_str(), t.dropped[z]);
    }
    rte_tel_data_add_dict_u64(d, "nat_created", t.nat_created);
    rte_tel_data_add_dict_u64(d, "nat_expired", t.nat_expired);
    rte_tel_data_add_dict_u64(d, "nat_translated_out", t.nat_out);
    rte_tel_data_add_dict_u64(d, "nat_translated_in", t.nat_in);
    rte_tel_data_add_dict_u64(d, "arp_replies_sent", t.arp_replies_sent);
    rte_tel_data_add_dict_u64(d, "icmp_sent", t.icmp_sent);
    return 0;
}

int drops_cb(const char*, const char*, rte_tel_data* d) {
    const Daemon* daemon = g_daemon.load();
    if (!daemon) return -1;
    const CounterTotals t = daemon->totals();
    rte_tel_data_start_dict(d);
    for (int i = 0; i < kNumDrops; ++i) rte_tel_data_add_dict_u64(d, kDropNames[i], t.drops[i]);
    return 0;
}

int sessions_cb(const char*, const char*, rte_tel_data* d) {
    const Daemon* daemon = g_daemon.load();
    if (!daemon) return -1;
    const CounterTotals t = daemon->totals();
    static constexpr const char* kProto[] = {"tcp", "udp", "icmp", "other"};
    rte_tel_data_start_dict(d);
    uint64_t total = 0;
    for (int p = 0; p < 4; ++p) {
        rte_tel_data_add_dict_u64(d, kProto[p], t.nat_active[p]);
        total += t.nat_active[p];
    }
    rte_tel_data_add_dict_u64(d, "total", total);
    return 0;
}

}  // namespace

void register_telemetry(const Daemon& d) {
    // Registration is once per process; a second call only re-points.
    const bool first = g_daemon.exchange(&d) == nullptr;
    static bool registered = false;
    if (!first || registered) return;
    registered = true;
    rte_telemetry_register_cmd("/ipshare/counters", counters_cb, "ipshare port and NAT counters. No parameters");
    rte_telemetry_register_cmd("/ipshare/drops", drops_cb, "ipshare drop reasons and counts. No parameters");
    rte_telemetry_register_cmd("/ipshare/sessions", sessions_cb, "ipshare active NAT sessions. No parameters");
}

void unregister_telemetry() { g_daemon.store(nullptr); }

}  // namespace ipshare
