// Port set-up: the thin DPDK shell around an ethdev.
#pragma once

#include <cstdint>
#include <string>

#include "worker.h"

struct rte_mempool;

namespace ipshare {

// Configures `queues` RX and TX queue pairs (RSS across them when more than
// one), starts the port and reads its MAC.
bool port_start(uint16_t port_id, uint16_t queues, rte_mempool* pool, PortInfo* info, std::string* err);
void port_stop(uint16_t port_id);

// "up 10000 Mbps full-duplex" / "down".
std::string port_link_text(uint16_t port_id);

}  // namespace ipshare
