// ipshare's counters as DPDK telemetry commands, so `dpdk-telemetry.py -f
// PREFIX` reads them next to DPDK's own (/ethdev/stats...):
//   /ipshare/counters  ports (rx, tx, dropped) and NAT activity
//   /ipshare/drops     every drop reason with its count
//   /ipshare/sessions  active NAT sessions by protocol
#pragma once

namespace ipshare {

class Daemon;

// DPDK's telemetry callbacks carry no context pointer, so the daemon they
// read is held in one file-local pointer: set here, cleared by
// unregister_telemetry() before the daemon goes away. Callbacks run on
// DPDK's telemetry thread and only read single-writer counters.
void register_telemetry(const Daemon& d);
void unregister_telemetry();

}  // namespace ipshare
