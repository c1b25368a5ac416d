// The nat stage: every datagram whose fate depends on a session. Theory of
// operation: nat.h. Entry actions, set by classify:
//   nat_out     LAN -> internet: NAPT; a new flow gets a session (lan->wan filter)
//   nat_in      internet -> wan-ip: a session's client, else a forward's target
//               (a new forward session), else the server (wan->dmz filter)
//   hairpin     LAN -> wan-ip (or lan-ip): a forwarded port or another client's
//               mapping is hairpinned: SNAT as an outbound flow, then turned
//               around as an inbound one (RFC 4787 REQ-9, RFC 5382 REQ-8,
//               RFC 5508 REQ-7); otherwise the server, untranslated
//   dmz_to_lan  server -> LAN when that pair is filtered: replies to flows the
//               LAN opened pass (their tracking session), new flows are filtered
//
// Fast path: one bulk lookup for the burst, then the precomputed rewrite of
// each hit. Everything that creates a session is the slow path below it.
#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "checksum.h"
#include "frag.h"
#include "headers.h"
#include "nat.h"
#include "stages.h"
#include "worker.h"

namespace ipshare {
namespace {

struct Pending {
    uint16_t i;
    Action action;             // the entry action
    Dir dir;                   // which side the packet came from, for the NAT
    FlowKind kind;
    Flow flow;                 // as received, before translation
    uint32_t session = kNone;  // set when translated
    bool known_new = false;    // its key missed, and no session created since has it: no need to look again
};

Ipv4Hdr* ip_of(rte_mbuf* m) { return rte_pktmbuf_mtod_offset(m, Ipv4Hdr*, sizeof(EthHdr)); }
uint8_t l4_byte(const Ipv4Hdr* ip, unsigned off) { return reinterpret_cast<const uint8_t*>(ip)[ip->header_len() + off]; }

// The session key of a datagram seen from `dir`'s side, or false when it
// cannot have one. Outside keys carry the address the packet was sent to
// (wan-ip, or lan-ip for `hairpin source lan`).
bool key_for(Dir dir, FlowKind kind, const Ipv4Hdr* ip, uint16_t len, const Flow& f, FlowKey* k) {
    Flow in;
    switch (kind) {
    case FlowKind::ports:
    case FlowKind::portless:
        *k = dir == Dir::out ? inside_key(f.proto, f.src, f.sport, f.dst, f.dport)
                             : outside_key(f.proto, f.src, f.sport, f.dport, f.dst);
        return true;
    case FlowKind::icmp_query: {  // clients ask (echo request), remotes answer (echo reply)
        const uint8_t type = l4_byte(ip, 0);
        if (dir == Dir::out) {
            if (type != kIcmpEchoRequest) return false;
            *k = inside_key(f.proto, f.src, f.sport, f.dst, 0);
            return true;
        }
        if (type != kIcmpEchoReply) return false;  // an echo request from the internet: the server's
        *k = outside_key(f.proto, f.src, 0, f.dport, f.dst);
        return true;
    }
    case FlowKind::icmp_error:
        if (!icmp_error_inner_flow(ip, len, &in) || !icmp_checksum_ok(ip, len)) return false;
        if (dir == Dir::in) {  // about a datagram we sent: its source is our outside address
            if (in.src != f.dst) return false;
            *k = outside_key(in.proto, in.dst, in.dport, in.sport, in.src);
        } else {  // a client's error about a datagram it received
            if (in.dst != f.src) return false;
            *k = inside_key(in.proto, in.dst, in.dport, in.src, in.sport);
        }
        return true;
    default:
        return false;
    }
}

// dmz_to_lan: the inside key of the LAN client's flow this packet answers.
bool reply_key_for(FlowKind kind, const Ipv4Hdr* ip, uint16_t len, const Flow& f, FlowKey* k) {
    Flow in;
    switch (kind) {
    case FlowKind::ports:
    case FlowKind::portless:
        *k = inside_key(f.proto, f.dst, f.dport, f.src, f.sport);
        return true;
    case FlowKind::icmp_query:
        if (l4_byte(ip, 0) != kIcmpEchoReply) return false;
        *k = inside_key(f.proto, f.dst, f.dport, f.src, 0);
        return true;
    case FlowKind::icmp_error:
        if (!icmp_error_inner_flow(ip, len, &in) || in.src != f.dst) return false;
        *k = inside_key(in.proto, in.src, in.sport, in.dst, in.dport);
        return true;
    default:
        return false;
    }
}

void route_via(Burst& b, uint16_t i, NextHop nh, uint32_t dst) {
    b.st[i] = PktState{Action::forward, nh.zone, Drop::count, RouteTable::next_hop_address(nh, dst)};
    b.actions |= bit(Action::forward);
}

// The forward stage checked the datagram against the MTU of the port
// classify chose (the server's); a client behind another port may have a
// smaller one. Then path MTU discovery gets its answer here (RFC 1191),
// quoting the datagram as its sender sent it, as the forward stage does.
inline bool too_big_for_client(Burst& b, const Pending& p, Ipv4Hdr* ip, Zone out, const Tables& t, WorkerCtx& w) {
    const uint16_t mtu = w.ports[idx(out)].mtu;
    if (!df_exceeds(ip, mtu) || out == b.st[p.i].out || out == b.in) return false;  // the usual case first
    ipv4_add_ttl(ip, +1);  // undo the forward stage's decrement
    refuse_too_big(b, p.i, t, w, mtu, rte_rdtsc());
    return true;
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
    case NatFail::half_open_limit: return Drop::napt_half_open_limit;
    case NatFail::collision: return Drop::napt_collision;
    default: return Drop::napt_table_full;
    }
}

// A session created by a forward that has since changed or gone ends at its
// next packet, so it never steers traffic to an old target.
uint32_t live(uint32_t id, const Tables& t, WorkerCtx& w) {
    if (id == kNone) return kNone;
    const Session& s = w.nat->at(id);
    if (s.kind != SessionKind::forward || t.forwards.live(s.forward_id)) return id;
    w.nat->remove(id, w.now_s);
    return kNone;
}

void tcp_state(Pending& p, uint32_t id, Dir d, const Ipv4Hdr* ip, WorkerCtx& w) {
    if (p.flow.proto != kIpProtoTcp || p.kind != FlowKind::ports) return;
    const auto* tcp = reinterpret_cast<const TcpHdr*>(reinterpret_cast<const uint8_t*>(ip) + ip->header_len());
    w.nat->update_tcp(id, d, TcpSegment{tcp->flags, tcp->seq.host(), tcp->ack.host()}, w.now_s);
}

// SNAT: a LAN-side packet of session `id` leaves with its outside address.
void translate_out(Burst& b, Pending& p, uint32_t id, const Tables& t, WorkerCtx& w) {
    Session& s = w.nat->at(id);
    Ipv4Hdr* ip = ip_of(b.m[p.i]);
    const uint16_t len = ip->total_length.host();
    p.session = id;
    if (p.kind == FlowKind::icmp_error) {  // never refreshes nor changes state (RFC 4787 REQ-12, RFC 5508 REQ-6)
        nat_rewrite_icmp_error(ip, len, Dir::out, s.outside_ip, s.outside_ip, s.outside_port);
    } else {
        nat_rewrite(ip, len, Dir::out, s.outside_ip, s.outside_port, s.delta_out);
        ++s.packets_out;
        w.nat->touch(id, w.now_s, t.nat.timeouts);
        tcp_state(p, id, Dir::out, ip, w);
    }
    w.counters->nat_out.add();
    b.set(p.i, Action::forward);  // toward the next hop classify chose
}

// DNAT: an outside packet of session `id` goes to its client.
void translate_in(Burst& b, Pending& p, uint32_t id, const Tables& t, WorkerCtx& w) {
    Session& s = w.nat->at(id);
    Ipv4Hdr* ip = ip_of(b.m[p.i]);
    const NextHop nh = t.routes->lookup(s.client_ip);
    if (too_big_for_client(b, p, ip, nh.zone, t, w)) return;
    const uint16_t len = ip->total_length.host();
    p.session = id;
    if (p.kind == FlowKind::icmp_error) {
        nat_rewrite_icmp_error(ip, len, Dir::in, s.client_ip, s.client_ip, s.client_port);
    } else {
        nat_rewrite(ip, len, Dir::in, s.client_ip, s.client_port, nat_delta_inverse(s.delta_out));
        ++s.packets_in;
        tcp_state(p, id, Dir::in, ip, w);
    }
    w.counters->nat_in.add();
    route_via(b, p.i, nh, s.client_ip);
}

enum class Created : uint8_t { none, created, refused };

// An outside flow without a session: a forward's, or, with endpoint-independent
// filtering, a mapping's. `hairpin`: it comes from the LAN (no wan->lan rules).
Created create_inbound(Burst& b, Pending& q, const Tables& t, WorkerCtx& w, bool hairpin, uint32_t* id) {
    if (q.kind != FlowKind::ports) return Created::none;
    NatFail why = NatFail::none;
    const uint8_t tcp_flags = q.flow.proto == kIpProtoTcp ? l4_byte(ip_of(b.m[q.i]), 13) : 0;
    const ForwardEntry* fwd = q.flow.dst == t.addr.wan_ip ? t.forwards.lookup(q.flow.proto, q.flow.dport) : nullptr;
    if (fwd) {
        const uint16_t tport = fwd->target_port(q.flow.dport);
        if (!hairpin && t.filter.has_rules(Zone::wan, Zone::lan)) {
            FilterPacket fp{q.flow.proto, q.flow.src, fwd->target, t.addr.wan_ip, tport, q.flow.dport};
            if (!filter_admit(b, q.i, Zone::wan, Zone::lan, fp, t, w, /*with_policy=*/false)) return Created::refused;
        }
        *id = w.nat->create_forward(q.flow, fwd->target, tport, fwd->id, w.now_s, &why, tcp_flags);
    } else if (t.nat.endpoint_independent_filtering) {
        *id = w.nat->create_inbound_eif(q.flow, w.now_s, &why, tcp_flags);
    } else {
        return Created::none;
    }
    if (*id != kNone) return Created::created;
    if (why == NatFail::none) return Created::none;  // no mapping on that port
    b.set_drop(q.i, fail_drop(why));
    return Created::refused;
}

// After SNAT, a packet addressed to the router's own outside address turns
// around and enters again as an outside packet: hairpin.
void chain_in(Burst& b, const Pending& p, const Tables& t, WorkerCtx& w) {
    Ipv4Hdr* ip = ip_of(b.m[p.i]);
    const uint16_t len = ip->total_length.host();
    Pending q = p;
    q.dir = Dir::in;
    q.kind = flow_of(ip, len, &q.flow);
    q.session = kNone;
    FlowKey k;
    if (!key_for(Dir::in, q.kind, ip, len, q.flow, &k)) return b.set_drop(p.i, Drop::hairpin_filtered);
    uint32_t id = live(w.nat->lookup(k), t, w);
    if (id == kNone) {
        const Created c = create_inbound(b, q, t, w, /*hairpin=*/true, &id);
        if (c == Created::refused) return;
        if (c == Created::none) return b.set_drop(p.i, Drop::hairpin_filtered);
    }
    translate_in(b, q, id, t, w);
}

// Untranslated to the server: from wan (wan->dmz) or the LAN (lan->dmz),
// tracked when the dmz->lan policy needs to recognise the replies.
void pass_to_server(Burst& b, Pending& p, const Tables& t, WorkerCtx& w) {
    const Ipv4Hdr* ip = ip_of(b.m[p.i]);
    if (!filter_admit(b, p.i, b.in, Zone::dmz, filter_packet_of(reinterpret_cast<const uint8_t*>(ip)), t, w))
        return;
    const bool trackable = p.kind == FlowKind::ports || p.kind == FlowKind::portless ||
                           (p.kind == FlowKind::icmp_query && l4_byte(ip, 0) == kIcmpEchoRequest);
    if (b.in == Zone::lan && trackable && !t.filter.pass_all(Zone::dmz, Zone::lan)) {
        NatFail why;
        const uint32_t id = w.nat->create_track(p.flow, w.now_s, &why);
        if (id != kNone) tcp_state(p, id, Dir::out, ip, w);
    }
    to_server(b, p.i, t);
}

void on_nat_out(Burst& b, Pending& p, uint32_t id, const Tables& t, WorkerCtx& w) {
    if (id != kNone) return translate_out(b, p, id, t, w);
    if (p.kind == FlowKind::icmp_error) return b.set_drop(p.i, Drop::napt_icmp_error_unmatched);
    if (!filter_admit(b, p.i, Zone::lan, Zone::wan, filter_packet_of(reinterpret_cast<const uint8_t*>(ip_of(b.m[p.i]))),
                      t, w))
        return;
    NatFail why;
    id = w.nat->create_outbound(p.flow, t.addr.wan_ip, w.now_s, &why, p.known_new);
    if (id != kNone) return translate_out(b, p, id, t, w);
    // RFC 5508 REQ-8: tell the client, "communication administratively prohibited".
    if (reply_icmp_error(b, p.i, t, w, kIcmpDestUnreach, kIcmpCodeAdminProhibited, rte_rdtsc()))
        w.counters->drop(b.in, fail_drop(why));
    else
        b.set_drop(p.i, fail_drop(why));
}

void on_nat_in(Burst& b, Pending& p, uint32_t id, const Tables& t, WorkerCtx& w) {
    if (id == kNone) {
        const Created c = create_inbound(b, p, t, w, /*hairpin=*/false, &id);
        if (c == Created::refused) return;
        if (c == Created::none) return pass_to_server(b, p, t, w);
    }
    translate_in(b, p, id, t, w);
}

// Whether a LAN packet to wan-ip:port still has somewhere to hairpin to.
bool hairpin_target(const Pending& p, const Tables& t, const WorkerCtx& w) {
    return p.kind == FlowKind::ports &&
           (t.forwards.lookup(p.flow.proto, p.flow.dport) || w.nat->port_mapped(p.flow.proto, p.flow.dport));
}

void on_hairpin(Burst& b, Pending& p, uint32_t id, const Tables& t, WorkerCtx& w) {
    // A client's hairpin session outlives nothing it pointed at: when the
    // forward or the mapping is gone, the flow goes to the server again.
    if (id != kNone && w.nat->at(id).kind == SessionKind::napt && p.kind == FlowKind::ports &&
        p.flow.dst == t.addr.wan_ip && !hairpin_target(p, t, w)) {
        w.nat->remove(id, w.now_s);
        id = kNone;
    }
    if (id != kNone && w.nat->at(id).kind == SessionKind::track) {
        const Ipv4Hdr* ip = ip_of(b.m[p.i]);
        w.nat->touch(id, w.now_s, t.nat.timeouts);
        tcp_state(p, id, Dir::out, ip, w);
        return to_server(b, p.i, t);
    }
    if (id == kNone) {
        if (p.flow.dst == t.addr.lan_ip) return b.set_drop(p.i, Drop::to_router_unhandled);
        if (!hairpin_target(p, t, w)) return pass_to_server(b, p, t, w);
        const ForwardEntry* fwd = t.forwards.lookup(p.flow.proto, p.flow.dport);
        const uint32_t outside = fwd && t.nat.hairpin_source_lan ? t.addr.lan_ip : t.addr.wan_ip;
        NatFail why;
        id = w.nat->create_outbound(p.flow, outside, w.now_s, &why);
        if (id == kNone) return b.set_drop(p.i, fail_drop(why));
    }
    translate_out(b, p, id, t, w);
    chain_in(b, p, t, w);
}

void on_dmz_to_lan(Burst& b, Pending& p, uint32_t id, const Tables& t, WorkerCtx& w) {
    const Ipv4Hdr* ip = ip_of(b.m[p.i]);
    if (id != kNone) {
        tcp_state(p, id, Dir::in, ip, w);
    } else if (!filter_admit(b, p.i, Zone::dmz, Zone::lan, filter_packet_of(reinterpret_cast<const uint8_t*>(ip)), t,
                             w)) {
        return;
    }
    b.set(p.i, Action::forward);  // untranslated, toward the next hop classify chose
}

// ---- ownership (several workers) ------------------------------------------
// Every NAT flow has one owner worker, computed alike from both directions:
//  - a LAN endpoint (client address, port, protocol) is owned by a hash of
//    it: its outbound packets, the forwards targeting it, its tracked flows;
//  - an outside port of the NAPT range by its slice (port_alloc.h), which is
//    where the owner of the client endpoint took it from;
//  - a forwarded port by the owner of the forward's target endpoint;
//  - a portless flow by a hash of the remote address.
// A packet received by another worker is handed to the owner's ring.

constexpr unsigned kAnyWorker = ~0u;

unsigned endpoint_owner(uint32_t ip, uint16_t port, uint8_t proto, unsigned n) {
    uint64_t x = (uint64_t{ip} << 24) ^ (uint64_t{port} << 8) ^ proto;
    x *= 0x9e3779b97f4a7c15ull;
    return static_cast<unsigned>((x >> 32) % n);
}

// The owner of an outside port on wan-ip, or kAnyWorker when none (the server's).
unsigned outside_port_owner(uint8_t proto, uint16_t port, const Tables& t, const WorkerCtx& w) {
    const unsigned n = w.nworkers;
    if (const ForwardEntry* fwd = t.forwards.lookup(proto, port))
        return endpoint_owner(fwd->target, fwd->target_port(port), proto, n);
    const NatParams& np = w.nat->params();
    if (port >= np.port_lo && port <= np.port_hi) return (port - np.port_lo) % n;
    return kAnyWorker;
}

unsigned owner_of(const Pending& p, const Ipv4Hdr* ip, uint16_t len, const Tables& t, const WorkerCtx& w) {
    const unsigned n = w.nworkers;
    const Flow& f = p.flow;
    if (p.kind == FlowKind::fragment) return kAnyWorker;  // no ports: its verdict is where it lands (frag.h)
    Flow in;
    const bool error = p.kind == FlowKind::icmp_error;
    if (error && !icmp_error_inner_flow(ip, len, &in)) return kAnyWorker;
    const bool portless = error ? (in.proto != kIpProtoTcp && in.proto != kIpProtoUdp && in.proto != kIpProtoIcmp)
                                : p.kind == FlowKind::portless;
    switch (p.action) {
    case Action::nat_out:  // from a LAN endpoint; an error quotes what the endpoint received
        if (portless) return endpoint_owner(error ? in.src : f.dst, 0, error ? in.proto : f.proto, n);
        return error ? endpoint_owner(in.dst, in.dport, in.proto, n) : endpoint_owner(f.src, f.sport, f.proto, n);
    case Action::nat_in:  // to an outside port; an error quotes what we sent from it
        if (portless) return endpoint_owner(error ? in.dst : f.src, 0, error ? in.proto : f.proto, n);
        if (error) return outside_port_owner(in.proto, in.sport, t, w);
        return outside_port_owner(f.proto, f.dport, t, w);
    case Action::hairpin: {
        const unsigned o = p.kind == FlowKind::ports ? outside_port_owner(f.proto, f.dport, t, w) : kAnyWorker;
        return o != kAnyWorker ? o : endpoint_owner(f.src, f.sport, f.proto, n);  // else a tracked flow
    }
    default:  // dmz_to_lan: a reply to a LAN endpoint's tracked flow
        return error ? endpoint_owner(in.src, in.sport, in.proto, n) : endpoint_owner(f.dst, f.dport, f.proto, n);
    }
}

// Hands packet i to its owner; false when the owner's ring is full.
void hand_off(Burst& b, uint16_t i, unsigned owner, WorkerCtx& w) {
    rte_mbuf* m = b.m[i];
    auto* meta = static_cast<MbufMeta*>(rte_mbuf_to_priv(m));
    meta->nexthop = b.st[i].nexthop;
    meta->zone = static_cast<uint8_t>(b.st[i].out);
    meta->in_zone = static_cast<uint8_t>(b.in);
    meta->action = static_cast<uint8_t>(b.st[i].action);
    if (rte_ring_mp_enqueue(w.handoff_rings[owner], m) == 0)
        b.set(i, Action::handed_off);
    else
        b.set_drop(i, Drop::handoff_full);
}

// ---- fragments (frag.h) -------------------------------------------------

void apply_fragment_verdict(Ipv4Hdr* ip, Dir dir, const FragVerdict& v, WorkerCtx& w) {
    if (v.session == kNone) return;  // the server's: unchanged
    const Session& s = w.nat->at(v.session);
    const uint16_t len = ip->total_length.host();
    if (dir == Dir::out) {
        nat_rewrite(ip, len, Dir::out, s.outside_ip, s.outside_port, s.delta_out);
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
void nat_fragment(Burst& b, const Pending& p, const Tables& t, WorkerCtx& w) {
    Ipv4Hdr* ip = ip_of(b.m[p.i]);
    FragVerdict v;
    switch (w.frags->lookup_or_wait(frag_key(p.flow, ip, p.dir), b.m[p.i], w.now_s, &v)) {
    case FragTable::Result::known:
        apply_fragment_verdict(ip, p.dir, v, w);
        b.st[p.i] = PktState{Action::forward, v.out, Drop::count, v.nexthop};
        b.actions |= bit(Action::forward);
        return;
    case FragTable::Result::waiting:
        b.set(p.i, Action::handed_off);
        return;
    case FragTable::Result::full:
        if (p.dir == Dir::in) return to_server(b, p.i, t);
        return b.set_drop(p.i, Drop::napt_fragment_unmatched);
    }
}

// A first fragment went somewhere: its later fragments follow it.
void record_first_fragment(Burst& b, const Pending& p, WorkerCtx& w) {
    const Ipv4Hdr* ip = ip_of(b.m[p.i]);
    const PktState& st = b.st[p.i];
    if (!ip->more_fragments() || st.action != Action::forward) return;
    const FragVerdict v{p.session, st.out, st.nexthop};
    rte_mbuf* released[FragTable::kMaxWaitingPerDatagram];
    unsigned n = 0;
    w.frags->record(frag_key(p.flow, ip, p.dir), v, w.now_s, released, &n);
    for (unsigned r = 0; r < n; ++r) {
        apply_fragment_verdict(ip_of(released[r]), p.dir, v, w);
        refeed(w, released[r], b.in, v.out, v.nexthop);
    }
}

}  // namespace

void stage_nat(Burst& b, const Tables& t, WorkerCtx& w) {
    if (!(b.actions & kNatActions)) return;
    FlowKey keys[kBurst];
    const void* key_ptrs[kBurst];
    Pending pend[kBurst];
    unsigned k = 0;
    for (uint16_t i = 0; i < b.n; ++i) {
        const Action a = b.st[i].action;
        if (!(bit(a) & kNatActions)) continue;
        const Ipv4Hdr* ip = ip_of(b.m[i]);
        const uint16_t len = ip->total_length.host();
        Pending& p = pend[k];
        p.i = i;
        p.action = a;
        p.dir = (a == Action::nat_in || a == Action::dmz_to_lan) ? Dir::in : Dir::out;
        p.session = kNone;
        p.kind = flow_of(ip, len, &p.flow);
        if (w.nworkers > 1 && !b.owned) {
            const unsigned owner = owner_of(p, ip, len, t, w);
            if (owner != kAnyWorker && owner != w.index) {
                hand_off(b, i, owner, w);
                continue;
            }
        }
        if (p.kind == FlowKind::fragment && (a == Action::nat_out || a == Action::nat_in) && w.frags) {
            nat_fragment(b, p, t, w);
            continue;
        }
        const bool keyed = a == Action::dmz_to_lan ? reply_key_for(p.kind, ip, len, p.flow, &keys[k])
                                                   : key_for(p.dir, p.kind, ip, len, p.flow, &keys[k]);
        if (!keyed) {
            switch (a) {
            case Action::nat_out: b.set_drop(i, unmatched_drop(p.kind)); break;
            case Action::dmz_to_lan: on_dmz_to_lan(b, p, kNone, t, w); break;
            case Action::hairpin:  // to lan-ip: nothing to turn around; to wan-ip: the server's
                if (p.flow.dst == t.addr.lan_ip) b.set_drop(i, Drop::to_router_unhandled);
                else pass_to_server(b, p, t, w);
                break;
            default: pass_to_server(b, p, t, w); break;  // nat_in
            }
            continue;
        }
        key_ptrs[k] = &keys[k];
        ++k;
    }
    if (k == 0) return;
    uint32_t ids[kBurst];
    const uint64_t hits = w.nat->lookup_bulk(key_ptrs, k, ids);
    for (unsigned j = 0; j < k; ++j)  // every session's line in flight before the first is read
        if (hits & (uint64_t{1} << j)) w.nat->prefetch(ids[j]);
    const uint64_t created_before = w.nat->created_total();
    for (unsigned j = 0; j < k; ++j) {
        Pending& p = pend[j];
        const bool hit = hits & (uint64_t{1} << j);
        const uint32_t id = hit ? live(ids[j], t, w) : kNone;
        p.known_new = !hit && !w.nat->may_exist_since(created_before, keys[j]);
        switch (p.action) {
        case Action::nat_out: on_nat_out(b, p, id, t, w); break;
        case Action::nat_in: on_nat_in(b, p, id, t, w); break;
        case Action::hairpin: on_hairpin(b, p, id, t, w); break;
        default: on_dmz_to_lan(b, p, id, t, w); break;
        }
        if (w.frags && (p.action == Action::nat_out || p.action == Action::nat_in)) record_first_fragment(b, p, w);
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
