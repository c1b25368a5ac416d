// Port set-up: the thin DPDK shell around an ethdev.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "worker.h"

struct rte_mempool;

namespace ipshare {

// Configures `queues` RX and TX queue pairs (RSS across them when more than
// one), starts the port and reads its MAC. With `reta` and a NIC that hashes
// IPv4 TCP and UDP with a 40-byte Toeplitz key and has a redirection table,
// the port gets rss.h's kRssKey and a round-robin table, and `reta` that
// table, so replies can be steered (rss.h); otherwise `reta` stays empty
// (af_packet, memif, one queue).
bool port_start(uint16_t port_id, uint16_t queues, rte_mempool* pool, PortInfo* info, std::string* err,
                std::vector<uint16_t>* reta = nullptr);
void port_stop(uint16_t port_id);

// "up 10000 Mbps full-duplex" / "down".
std::string port_link_text(uint16_t port_id);

}  // namespace ipshare
