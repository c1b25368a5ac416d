// Packet capture tap: while `capture` runs on a port, workers copy the
// frames that port receives and sends into a ring; the control thread
// filters them (BPF, libpcap) and writes the pcap file. When no capture runs
// the cost is one relaxed load per burst.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "zone.h"

struct rte_mbuf;
struct rte_ring;

namespace ipshare {

using CaptureRings = std::array<std::atomic<rte_ring*>, kNumZones>;

// Copies the frames (their pool must have room) into `ring`; copies that do
// not fit are freed. The originals are untouched.
void capture_copy(rte_ring* ring, rte_mbuf* const* pkts, unsigned n);

}  // namespace ipshare
