#include "tx.h"

#include <rte_ethdev.h>
#include <rte_mbuf.h>

namespace ipshare {

void TxQueues::flush(Zone z, Counters& c) {
    TxQueue& t = q[idx(z)];
    const uint16_t sent = rte_eth_tx_burst(t.port_id, t.queue_id, t.m, t.n);
    c.port[idx(z)].tx.add(sent);
    if (sent < t.n) {
        rte_pktmbuf_free_bulk(t.m + sent, t.n - sent);
        c.drop(z, Drop::tx_full, t.n - sent);
    }
    t.n = 0;
}

}  // namespace ipshare
