// The local stage: datagrams addressed to the router itself (lan-ip). It
// answers ICMP echo, rate-limited; everything else is dropped and counted.
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "icmp.h"
#include "parse.h"
#include "stages.h"
#include "worker.h"

namespace ipshare {

void stage_local(Burst& b, const Tables& /*t*/, WorkerCtx& w) {
    if (!b.has(Action::local)) return;
    const uint64_t now = rte_rdtsc();
    for (uint16_t i = 0; i < b.n; ++i) {
        if (b.st[i].action != Action::local) continue;
        auto* eth = rte_pktmbuf_mtod(b.m[i], EthHdr*);
        auto* ip = reinterpret_cast<Ipv4Hdr*>(eth + 1);
        switch (icmp_check_echo_request(ip, ip->total_length.host())) {
        case EchoCheck::not_echo: b.set_drop(i, Drop::to_router_unhandled); continue;
        case EchoCheck::bad_checksum: b.set_drop(i, Drop::icmp_bad_checksum); continue;
        case EchoCheck::ok: break;
        }
        if (!w.icmp_echo.take(now)) {
            b.set_drop(i, Drop::ratelimited);
            continue;
        }
        icmp_echo_to_reply(ip);
        std::memcpy(eth->dst, eth->src, 6);
        std::memcpy(eth->src, w.ports[idx(b.in)].mac, 6);
        b.set(i, Action::reply);
        w.counters->icmp_sent.add();
    }
}

}  // namespace ipshare
