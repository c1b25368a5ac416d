// The nat stage: NAPT for datagrams classify marked nat_out (LAN -> internet)
// or nat_in (internet -> wan-ip). Theory of operation: nat.h.
//
// Fast path: one bulk lookup for the whole burst, then the precomputed
// rewrite of each hit. Slow path (nat_miss below): session creation for
// outbound flows (and inbound ones under endpoint-independent filtering).
// Whatever arrives on wan-ip and matches nothing goes to the server.
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "frag.h"
#include "headers.h"
#include "nat.h"
#include "stages.h"
#include "worker.h"

namespace ipshare {
namespace {

struct Pending {
    uint16_t i;
    Dir dir;
    FlowKind kind;
    Flow flow;                // as received, before translation
    uint32_t session = kNone; // set when translated
};

Ipv4Hdr* ip_of(rte_mbuf* m) { return rte_pktmbuf_mtod_offset(m, Ipv4Hdr*, sizeof(EthHdr)); }

// The session key of a datagram, or false when it cannot have one.
bool key_for(Dir dir, FlowKind kind, const Ipv4Hdr* ip, uint16_t len, const Flow& f, uint32_t wan_ip, FlowKey* k) {
    Flow in;
    switch (kind) {
    case FlowKind::ports:
    case FlowKind::portless:
        *k = dir == Dir::out ? inside_key(f.proto, f.src, f.sport, f.dst, f.dport)
                             : outside_key(f.proto, f.src, f.sport, f.dport);
        return true;
    case FlowKind::icmp_query: {  // LAN clients ask (echo request), the internet answers (echo reply)
        const uint8_t type = reinterpret_cast<const uint8_t*>(ip)[ip->header_len()];
        if (dir == Dir::out) {
            if (type != kIcmpEchoRequest) return false;
            *k = inside_key(f.proto, f.src, f.sport, f.dst, 0);
            return true;
        }
        if (type != kIcmpEchoReply) return false;  // an echo request from the internet: the server's
        *k = outside_key(f.proto, f.src, 0, f.dport);
        return true;
    }
    case FlowKind::icmp_error:
        if (!icmp_error_inner_flow(ip, len, &in)) return false;
        if (dir == Dir::in) {  // about a datagram we sent: its source is wan-ip:outside
            if (in.src != wan_ip) return false;
            *k = outside_key(in.proto, in.dst, in.dport, in.sport);
        } else {  // a client's error about a datagram it received from the remote
            if (in.dst != f.src) return false;
            *k = inside_key(in.proto, in.dst, in.dport, in.src, in.sport);
        }
        return true;
    default:
        return false;
    }
}

void to_server(Burst& b, uint16_t i, const Tables& t) {
    b.st[i] = PktState{Action::forward, Zone::dmz, Drop::count, t.addr.wan_ip};
    b.actions |= bit(Action::forward);
}

Drop unmatched_drop(FlowKind kind) {
    switch (kind) {
    case FlowKind::truncated: return Drop::l4_truncated;
    case FlowKind::fragment: return Drop::napt_fragment_unmatched;
    case FlowKind::icmp_error: return Drop::napt_icmp_error_unmatched;
    default: return Drop::napt_unsupported;
    }
}

Drop fail_drop(NatFail why) {
    switch (why) {
    case NatFail::client_cap: return Drop::napt_client_cap;
    case NatFail::ports_exhausted: return Drop::napt_ports_exhausted;
    case NatFail::portless_busy: return Drop::napt_portless_busy;
    default: return Drop::napt_table_full;
    }
}

void translate(Burst& b, Pending& p, uint32_t id, const Tables& t, WorkerCtx& w) {
    Nat& nat = *w.nat;
    p.session = id;
    Session& s = nat.at(id);
    Ipv4Hdr* ip = ip_of(b.m[p.i]);
    const uint16_t len = ip->total_length.host();
    const uint32_t wan_ip = t.addr.wan_ip;
    if (p.kind == FlowKind::icmp_error) {  // never refreshes nor changes state (RFC 4787 REQ-12, RFC 5508 REQ-6)
        if (p.dir == Dir::in)
            nat_rewrite_icmp_error(ip, len, Dir::in, s.client_ip, s.client_ip, s.client_port);
        else
            nat_rewrite_icmp_error(ip, len, Dir::out, wan_ip, wan_ip, s.outside_port);
    } else if (p.dir == Dir::out) {
        nat_rewrite(ip, len, Dir::out, wan_ip, s.outside_port, s.delta_out);
        ++s.packets_out;
        nat.touch(id, w.now_s);
    } else {
        nat_rewrite(ip, len, Dir::in, s.client_ip, s.client_port, nat_delta_inverse(s.delta_out));
        ++s.packets_in;
    }
    if (s.proto == kIpProtoTcp && p.kind == FlowKind::ports) {
        const uint8_t flags = reinterpret_cast<const uint8_t*>(ip)[ip->header_len() + 13];
        nat.update_tcp(id, p.dir, flags, w.now_s);
    }
    if (p.dir == Dir::out) {
        w.counters->nat_out.add();
        b.set(p.i, Action::forward);  // out wan toward the next hop classify chose
        return;
    }
    w.counters->nat_in.add();
    const NextHop nh = t.routes->lookup(s.client_ip);
    b.st[p.i] = PktState{Action::forward, nh.zone, Drop::count, RouteTable::next_hop_address(nh, s.client_ip)};
    b.actions |= bit(Action::forward);
}

// Slow path: no session matched.
void nat_miss(Burst& b, Pending& p, const Tables& t, WorkerCtx& w) {
    NatFail why = NatFail::none;
    uint32_t id = kNone;
    if (p.dir == Dir::in) {
        if (t.nat.endpoint_independent_filtering && p.kind == FlowKind::ports)
            id = w.nat->create_inbound_eif(p.flow, w.now_s, &why);
        if (id == kNone) return to_server(b, p.i, t);
        return translate(b, p, id, t, w);
    }
    if (p.kind == FlowKind::icmp_error) return b.set_drop(p.i, Drop::napt_icmp_error_unmatched);
    id = w.nat->create_outbound(p.flow, w.now_s, &why);
    if (id != kNone) return translate(b, p, id, t, w);
    // RFC 5508 REQ-8: tell the client, "communication administratively prohibited".
    if (reply_icmp_error(b, p.i, t, w, kIcmpDestUnreach, kIcmpCodeAdminProhibited, rte_rdtsc()))
        w.counters->drop(b.in, fail_drop(why));
    else
        b.set_drop(p.i, fail_drop(why));
}

// Sends a fragment the way its datagram's first fragment went (frag.h).
void apply_fragment_verdict(Ipv4Hdr* ip, Dir dir, const FragVerdict& v, const Tables& t, WorkerCtx& w) {
    if (v.session == kNone) return;  // the server's: unchanged
    const Session& s = w.nat->at(v.session);
    const uint16_t len = ip->total_length.host();
    if (dir == Dir::out) {
        nat_rewrite(ip, len, Dir::out, t.addr.wan_ip, s.outside_port, s.delta_out);
        w.counters->nat_out.add();
    } else {
        nat_rewrite(ip, len, Dir::in, s.client_ip, s.client_port, nat_delta_inverse(s.delta_out));
        w.counters->nat_in.add();
    }
}

FragKey frag_key(const Flow& f, const Ipv4Hdr* ip, Dir dir) {
    return FragKey{f.src, f.dst, ip->id.host(), f.proto, static_cast<uint8_t>(dir == Dir::out ? 0 : 1)};
}

void refeed(WorkerCtx& w, rte_mbuf* m, Zone in, Zone out, uint32_t nexthop) {
    auto* meta = static_cast<MbufMeta*>(rte_mbuf_to_priv(m));
    meta->nexthop = nexthop;
    meta->zone = static_cast<uint8_t>(out);
    meta->in_zone = static_cast<uint8_t>(in);
    if (rte_ring_sp_enqueue(w.refeed_ring, m) != 0) {
        rte_pktmbuf_free(m);
        w.counters->drop(in, Drop::tx_full);
    }
}

// A non-initial fragment: handled like its first fragment, or it waits.
void nat_fragment(Burst& b, uint16_t i, Dir dir, const Flow& f, const Tables& t, WorkerCtx& w) {
    Ipv4Hdr* ip = ip_of(b.m[i]);
    FragVerdict v;
    switch (w.frags->lookup_or_wait(frag_key(f, ip, dir), b.m[i], w.now_s, &v)) {
    case FragTable::Result::known:
        apply_fragment_verdict(ip, dir, v, t, w);
        b.st[i] = PktState{Action::forward, v.out, Drop::count, v.nexthop};
        b.actions |= bit(Action::forward);
        return;
    case FragTable::Result::waiting:
        b.set(i, Action::handed_off);
        return;
    case FragTable::Result::full:
        if (dir == Dir::in) return to_server(b, i, t);
        return b.set_drop(i, Drop::napt_fragment_unmatched);
    }
}

// A first fragment went somewhere: its later fragments follow it.
void record_first_fragment(Burst& b, const Pending& p, const Tables& t, WorkerCtx& w) {
    const Ipv4Hdr* ip = ip_of(b.m[p.i]);
    const PktState& st = b.st[p.i];
    if (!ip->more_fragments() || st.action != Action::forward) return;
    const FragVerdict v{p.session, st.out, st.nexthop};
    rte_mbuf* released[FragTable::kMaxWaitingPerDatagram];
    unsigned n = 0;
    w.frags->record(frag_key(p.flow, ip, p.dir), v, w.now_s, released, &n);
    for (unsigned r = 0; r < n; ++r) {
        apply_fragment_verdict(ip_of(released[r]), p.dir, v, t, w);
        refeed(w, released[r], b.in, v.out, v.nexthop);
    }
}

}  // namespace

void stage_nat(Burst& b, const Tables& t, WorkerCtx& w) {
    if (!b.has(Action::nat_out) && !b.has(Action::nat_in)) return;
    FlowKey keys[kBurst];
    const void* key_ptrs[kBurst];
    Pending pend[kBurst];
    unsigned k = 0;
    for (uint16_t i = 0; i < b.n; ++i) {
        const Action a = b.st[i].action;
        if (a != Action::nat_out && a != Action::nat_in) continue;
        const Dir dir = a == Action::nat_out ? Dir::out : Dir::in;
        const Ipv4Hdr* ip = ip_of(b.m[i]);
        const uint16_t len = ip->total_length.host();
        Pending& p = pend[k];
        p.i = i;
        p.dir = dir;
        p.kind = flow_of(ip, len, &p.flow);
        if (p.kind == FlowKind::fragment) {
            nat_fragment(b, i, dir, p.flow, t, w);
            continue;
        }
        if (!key_for(dir, p.kind, ip, len, p.flow, t.addr.wan_ip, &keys[k])) {
            if (dir == Dir::in)
                to_server(b, i, t);
            else
                b.set_drop(i, unmatched_drop(p.kind));
            continue;
        }
        key_ptrs[k] = &keys[k];
        ++k;
    }
    if (k == 0) return;
    uint32_t ids[kBurst];
    const uint64_t hits = w.nat->lookup_bulk(key_ptrs, k, ids);
    for (unsigned j = 0; j < k; ++j) {
        if (hits & (uint64_t{1} << j))
            translate(b, pend[j], ids[j], t, w);
        else
            nat_miss(b, pend[j], t, w);
        if (w.frags) record_first_fragment(b, pend[j], t, w);
    }
}

void expire_sessions(WorkerCtx& w, const Tables& t, unsigned budget) {
    w.nat->expire(w.now_s, t.nat.timeouts, budget);
    if (!w.frags) return;
    // Fragments whose first fragment never came: inbound ones are the
    // server's (unchanged), outbound ones are dropped.
    w.frags->expire(w.now_s, budget, [&](const FragKey& k, rte_mbuf* m) {
        if (k.dir == 1) {
            refeed(w, m, Zone::wan, Zone::dmz, t.addr.wan_ip);
        } else {
            rte_pktmbuf_free(m);
            w.counters->drop(Zone::lan, Drop::napt_fragment_unmatched);
        }
    });
}

}  // namespace ipshare
