#include "capture_tap.h"

#include <rte_mbuf.h>
#include <rte_ring.h>

namespace ipshare {

void capture_copy(rte_ring* ring, rte_mbuf* const* pkts, unsigned n) {
    for (unsigned i = 0; i < n; ++i) {
        rte_mbuf* c = rte_pktmbuf_copy(pkts[i], pkts[i]->pool, 0, UINT32_MAX);
        if (c && rte_ring_mp_enqueue(ring, c) != 0) rte_pktmbuf_free(c);
    }
}

}  // namespace ipshare
