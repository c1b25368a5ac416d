// The ARP stage: answers what this port answers (arp.h), tells the control
// thread what to learn, and drops the rest with a reason.
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "arp.h"
#include "parse.h"
#include "stages.h"
#include "worker.h"

namespace ipshare {

void stage_arp(Burst& b, const Tables& t, WorkerCtx& w) {
    if (!b.has(Action::arp)) return;
    const uint64_t now = rte_rdtsc();
    const uint8_t* my_mac = w.ports[idx(b.in)].mac;
    for (uint16_t i = 0; i < b.n; ++i) {
        if (b.st[i].action != Action::arp) continue;
        auto* eth = rte_pktmbuf_mtod(b.m[i], EthHdr*);
        auto* arp = reinterpret_cast<ArpHdr*>(eth + 1);
        if (mac_is_zero(arp->sha)) {  // (parse_frame refuses a multicast one)
            b.set_drop(i, Drop::arp_malformed);
            continue;
        }
        const uint32_t spa = arp->spa.host();
        const bool answered = arp->op.host() == kArpOpRequest && arp_answers(b.in, t.addr, spa, arp->tpa.host());
        const ArpLearn learn = arp_learn(b.in, t.addr, *arp, t.routes->host_on_link(spa, b.in), answered);
        if (learn != ArpLearn::no) {
            const uint64_t mac = mac_to_word(arp->sha);
            uint64_t known;
            const bool unchanged = w.neigh->lookup(b.in, spa, &known) && known == mac;
            if (learn == ArpLearn::create || !unchanged) {
                ArpLearnMsg msg{spa, static_cast<uint8_t>(b.in), learn == ArpLearn::create, {}, {}};
                std::memcpy(msg.mac, arp->sha, 6);
                rte_ring_mp_enqueue_elem(w.learn_ring, &msg, sizeof msg);
            }
        }
        if (answered) {
            if (w.arp_replies.take(now)) {
                arp_make_reply(eth, arp, my_mac);
                b.set(i, Action::reply);
                w.counters->arp_replies_sent.add();
            } else {
                b.set_drop(i, Drop::ratelimited);
            }
        } else if (learn != ArpLearn::no) {
            b.set(i, Action::consumed);
        } else {
            b.set_drop(i, Drop::arp_ignored);
        }
    }
}

}  // namespace ipshare
