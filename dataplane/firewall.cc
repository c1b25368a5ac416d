// The firewall's admission check (rule table: filter.h), and the filter
// stage: per-packet checks for routed zone pairs that have no sessions
// (server -> internet, when that pair has rules or a non-allow policy).
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include "headers.h"
#include "stages.h"
#include "worker.h"

namespace ipshare {

FilterPacket filter_packet_of(const uint8_t* ip_bytes) {
    const auto* ip = reinterpret_cast<const Ipv4Hdr*>(ip_bytes);
    FilterPacket p;
    p.proto = ip->proto;
    p.src = ip->src.host();
    p.dst = p.orig_dst = ip->dst.host();
    const unsigned hl = ip->header_len();
    if ((p.proto == kIpProtoTcp || p.proto == kIpProtoUdp) && ip->frag_offset() == 0 &&
        ip->total_length.host() >= hl + 4) {
        be16 port;
        std::memcpy(&port, ip_bytes + hl + 2, 2);
        p.dport = p.orig_dport = port.host();
    }
    return p;
}

bool filter_admit(Burst& b, uint16_t i, Zone from, Zone to, const FilterPacket& p, const Tables& t, WorkerCtx& w,
                  bool with_policy) {
    const FilterTable::Result r = t.filter.evaluate(from, to, p, with_policy);
    if (r.slot != FilterTable::kNoSlot) {
        w.counters->filter_packets[r.slot].add();
        w.counters->filter_bytes[r.slot].add(rte_pktmbuf_data_len(b.m[i]) - sizeof(EthHdr));
    }
    if (r.action == FilterVerdict::allow) return true;
    if (r.action == FilterVerdict::deny) {
        b.set_drop(i, Drop::filter_denied);
        return false;
    }
    const uint64_t now = rte_rdtsc();
    const bool sent = p.proto == kIpProtoTcp
                          ? reply_tcp_rst(b, i, w, now)
                          : reply_icmp_error(b, i, t, w, kIcmpDestUnreach, kIcmpCodeAdminProhibited, now);
    if (sent)
        w.counters->drop(b.in, Drop::filter_rejected);
    else
        b.set_drop(i, Drop::filter_rejected);
    return false;
}


bool PolicyTally::admit(Burst& b, uint16_t i, Zone from, Zone to, const Tables& t) {
    if (t.filter.has_rules(from, to) || t.filter.policy(from, to) != FilterVerdict::allow) return false;
    ++packets_[idx(to)];
    bytes_[idx(to)] += rte_pktmbuf_data_len(b.m[i]) - sizeof(EthHdr);
    return true;
}

void PolicyTally::flush(Zone from, WorkerCtx& w) {
    for (Zone to : kAllZones) {
        if (!packets_[idx(to)]) continue;
        const uint16_t slot = FilterTable::policy_slot(from, to);
        w.counters->filter_packets[slot].add(packets_[idx(to)]);
        w.counters->filter_bytes[slot].add(bytes_[idx(to)]);
        packets_[idx(to)] = 0;
        bytes_[idx(to)] = 0;
    }
}

void stage_filter(Burst& b, const Tables& t, WorkerCtx& w) {
    if (!b.has(Action::checked)) return;
    PolicyTally allowed;
    for (uint16_t i = 0; i < b.n; ++i) {
        if (b.st[i].action != Action::checked) continue;
        const Zone to = b.st[i].out;
        if (allowed.admit(b, i, b.in, to, t)) {
            b.set(i, Action::forward);
            continue;
        }
        const auto* ip = rte_pktmbuf_mtod_offset(b.m[i], const uint8_t*, sizeof(EthHdr));
        if (filter_admit(b, i, b.in, to, filter_packet_of(ip), t, w)) b.set(i, Action::forward);
    }
    allowed.flush(b.in, w);
}

}  // namespace ipshare
