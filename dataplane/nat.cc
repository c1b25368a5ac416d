#include "nat.h"

#include "rss.h"

#include <cstring>

#include <rte_malloc.h>

#include "hash_table.h"

namespace ipshare {
namespace {

struct MappingKey {
    uint32_t client_ip;
    uint16_t client_port;
    uint8_t proto;
    uint8_t zero;
};
static_assert(sizeof(MappingKey) == 8);

int proto_slot(uint8_t proto) {
    switch (proto) {
    case kIpProtoTcp: return 0;
    case kIpProtoUdp: return 1;
    case kIpProtoIcmp: return 2;
    default: return 3;
    }
}

}  // namespace

std::unique_ptr<Nat> Nat::create(const std::string& name, const NatParams& p, std::string* err) {
    std::unique_ptr<Nat> n(new Nat());
    n->params_ = p;
    const uint32_t cap = p.capacity;
    if (!(n->sessions_hash_ = make_hash(name + "_s", 2 * cap, sizeof(FlowKey), RTE_HASH_EXTRA_FLAGS_EXT_TABLE, err))) return nullptr;
    if (!(n->mappings_hash_ = make_hash(name + "_m", cap, sizeof(MappingKey), RTE_HASH_EXTRA_FLAGS_EXT_TABLE, err))) return nullptr;
    if (!(n->clients_hash_ = make_hash(name + "_c", cap, sizeof(uint32_t), RTE_HASH_EXTRA_FLAGS_EXT_TABLE, err))) return nullptr;
    n->client_counts_ = static_cast<uint32_t*>(rte_zmalloc((name + "_cc").c_str(), sizeof(uint32_t) * (cap ? cap : 1), 64));
    if (!n->client_counts_) {
        *err = "cannot allocate " + std::to_string(cap) + " NAT client counts";
        return nullptr;
    }
    n->sessions_ = static_cast<Session*>(rte_zmalloc((name + "_sa").c_str(), sizeof(Session) * cap, 64));
    n->mappings_ = static_cast<Mapping*>(rte_zmalloc((name + "_ma").c_str(), sizeof(Mapping) * cap, 64));
    if (!n->sessions_ || !n->mappings_) {
        *err = "cannot allocate " + std::to_string(cap) + " NAT sessions";
        return nullptr;
    }
    for (uint32_t i = 0; i < cap; ++i) {
        n->sessions_[i].next = i + 1 < cap ? i + 1 : kNone;
        n->mappings_[i].next_free = i + 1 < cap ? i + 1 : kNone;
        n->client_counts_[i] = i + 1 < cap ? i + 1 : kNone;  // the free list, while free
    }
    n->free_session_ = cap ? 0 : kNone;
    n->free_mapping_ = cap ? 0 : kNone;
    n->free_client_ = cap ? 0 : kNone;
    n->head_.fill(kNone);
    n->tail_.fill(kNone);
    n->tcp_ports_ = std::make_unique<PortAllocator>(p.port_lo, p.port_hi, p.rest_seconds, p.seed, p.stride, p.offset);
    n->udp_ports_ = std::make_unique<PortAllocator>(p.port_lo, p.port_hi, p.rest_seconds, p.seed * 3 + 1, p.stride,
                                                    p.offset);
    n->icmp_ids_ = std::make_unique<PortAllocator>(p.port_lo, p.port_hi, p.rest_seconds, p.seed * 7 + 5, p.stride,
                                                   p.offset);
    return n;
}

Nat::~Nat() {
    rte_hash_free(sessions_hash_);
    rte_hash_free(mappings_hash_);
    rte_hash_free(clients_hash_);
    rte_free(client_counts_);
    rte_free(sessions_);
    rte_free(mappings_);
}

// The table's own hash (make_hash: rte_hash_crc, initial value 0), inlined:
// rte_hash would call it through a pointer, once per key.
hash_sig_t Nat::hash_of(const FlowKey& k) { return rte_hash_crc(&k, sizeof k, 0); }

uint64_t Nat::lookup_bulk(const void** keys, unsigned n, uint32_t* ids) const {
    void* data[kBurst];
    hash_sig_t sigs[kBurst];
    for (unsigned i = 0; i < n; ++i) sigs[i] = hash_of(*static_cast<const FlowKey*>(keys[i]));
    uint64_t hits = 0;
    rte_hash_lookup_with_hash_bulk_data(sessions_hash_, keys, sigs, n, &hits, data);
    for (unsigned i = 0; i < n; ++i)
        if (hits & (uint64_t{1} << i)) ids[i] = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(data[i]));
    return hits;
}

uint32_t Nat::lookup(const FlowKey& k) const {
    void* data;
    if (rte_hash_lookup_with_hash_data(sessions_hash_, &k, hash_of(k), &data) < 0) return kNone;
    return static_cast<uint32_t>(reinterpret_cast<uintptr_t>(data));
}

PortAllocator* Nat::allocator(uint8_t proto) {
    switch (proto) {
    case kIpProtoTcp: return tcp_ports_.get();
    case kIpProtoUdp: return udp_ports_.get();
    case kIpProtoIcmp: return icmp_ids_.get();
    default: return nullptr;
    }
}

// The outside port of a new mapping for flow `f`: with predictable RSS, one
// whose reply (remote -> wan-ip:port) the NIC puts on this worker's queue
// when the slice has one among the candidates (ICMP replies hash by address
// only: nothing to choose).
uint16_t Nat::allocate_port(const Flow& f, uint32_t mapping, uint32_t now) {
    PortAllocator* a = allocator(f.proto);
    const RssPredictor* rss = params_.reply_rss;
    if (!rss || f.proto == kIpProtoIcmp) return a->allocate(f.sport, mapping, now);
    return a->allocate_preferring(f.sport, mapping, now, [&](uint16_t port) {
        return rss->queue_of(f.dst, params_.wan_ip, f.dport, port) == params_.rx_queue;
    });
}

uint16_t Nat::mapping_port(uint32_t mapping) const { return mappings_[mapping].outside_port; }

TimeoutClass Nat::class_of(uint8_t proto, TcpState st) {
    switch (proto) {
    case kIpProtoTcp:
        if (tcp_is_established(st)) return TimeoutClass::tcp_established;
        return tcp_is_half_open_inbound(st) ? TimeoutClass::tcp_syn_in : TimeoutClass::tcp_transitory;
    case kIpProtoUdp: return TimeoutClass::udp;
    case kIpProtoIcmp: return TimeoutClass::icmp;
    default: return TimeoutClass::other;
    }
}

// The hash maps a client address to its slot in client_counts_, so only a
// client's first mapping adds a key and its last one deletes it; the others
// change the count in place.
bool Nat::client_count_add(uint32_t client, int delta) {
    void* data = nullptr;
    if (rte_hash_lookup_data(clients_hash_, &client, &data) < 0) {
        if (delta <= 0) return true;
        if (params_.per_client == 0 || free_client_ == kNone) return false;
        const uint32_t slot = free_client_;
        if (rte_hash_add_key_data(clients_hash_, &client, reinterpret_cast<void*>(uintptr_t{slot})) != 0) return false;
        free_client_ = client_counts_[slot];
        client_counts_[slot] = static_cast<uint32_t>(delta);
        return true;
    }
    const auto slot = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(data));
    uint32_t& count = client_counts_[slot];
    if (delta > 0 && count >= params_.per_client) return false;
    count = static_cast<uint32_t>(static_cast<int64_t>(count) + delta);
    if (count == 0) {
        rte_hash_del_key(clients_hash_, &client);
        count = free_client_;
        free_client_ = slot;
    }
    return true;
}

uint32_t Nat::get_mapping(const Flow& f, uint32_t now, NatFail* why) {
    const MappingKey mk{f.src, f.sport, f.proto, 0};
    void* data;
    if (rte_hash_lookup_data(mappings_hash_, &mk, &data) >= 0) {
        const auto m = static_cast<uint32_t>(reinterpret_cast<uintptr_t>(data));
        ++mappings_[m].refs;
        return m;
    }
    if (free_mapping_ == kNone) return *why = NatFail::table_full, kNone;
    if (!client_count_add(f.src, +1)) return *why = NatFail::client_cap, kNone;
    const uint32_t m = free_mapping_;
    const uint16_t port = allocate_port(f, m, now);
    if (port == 0) {
        client_count_add(f.src, -1);
        return *why = NatFail::ports_exhausted, kNone;
    }
    if (rte_hash_add_key_data(mappings_hash_, &mk, reinterpret_cast<void*>(uintptr_t{m})) != 0) {
        allocator(f.proto)->release(port, now);
        client_count_add(f.src, -1);
        return *why = NatFail::table_full, kNone;
    }
    free_mapping_ = mappings_[m].next_free;
    mappings_[m] = Mapping{f.src, f.sport, port, f.proto, 1, kNone};
    return m;
}

void Nat::put_mapping(uint32_t m, uint32_t now) {
    Mapping& mp = mappings_[m];
    if (--mp.refs) return;
    const MappingKey mk{mp.client_ip, mp.client_port, mp.proto, 0};
    rte_hash_del_key(mappings_hash_, &mk);
    allocator(mp.proto)->release(mp.outside_port, now);
    client_count_add(mp.client_ip, -1);
    mp.next_free = free_mapping_;
    free_mapping_ = m;
}

uint32_t Nat::insert(const Session& proto_session, NatFail* why, unsigned absent) {
    if (free_session_ == kNone) return *why = NatFail::table_full, kNone;
    const uint32_t id = free_session_;
    const Session& s = proto_session;
    const FlowKey in = inside_key(s.proto, s.client_ip, s.client_port, s.remote_ip, s.remote_port);
    const FlowKey out = outside_key(s.proto, s.remote_ip, s.remote_port, s.outside_port, s.outside_ip);
    // Each key hashed once, for the check and the add.
    const hash_sig_t sig_in = hash_of(in);
    const hash_sig_t sig_out = hash_of(out);
    // rte_hash_add_key_data would silently re-point a key another session
    // holds: a key in use is a collision, never overwritten.
    if ((!(absent & kInsideAbsent) && rte_hash_lookup_with_hash(sessions_hash_, &in, sig_in) >= 0) ||
        (!(absent & kOutsideAbsent) && rte_hash_lookup_with_hash(sessions_hash_, &out, sig_out) >= 0))
        return *why = NatFail::collision, kNone;
    void* data = reinterpret_cast<void*>(uintptr_t{id});
    if (rte_hash_add_key_with_hash_data(sessions_hash_, &in, sig_in, data) != 0)
        return *why = NatFail::table_full, kNone;
    if (rte_hash_add_key_with_hash_data(sessions_hash_, &out, sig_out, data) != 0) {
        rte_hash_del_key_with_hash(sessions_hash_, &in, sig_in);
        return *why = NatFail::table_full, kNone;
    }
    recent_inside_[created_total_ % kRecent] = sig_in;
    ++created_total_;
    free_session_ = sessions_[id].next;
    sessions_[id] = s;
    sessions_[id].in_use = 1;
    ++active_;
    ++active_proto_[proto_slot(s.proto)];
    if (counters_) {
        counters_->nat_created.add();
        counters_->nat_active[proto_slot(s.proto)].add();
    }
    list_push(id, s.last_seen);
    return id;
}

// The common part of every new session.
static Session new_session(const Flow& f, SessionKind kind, uint32_t now) {
    Session s{};
    s.proto = f.proto;
    s.tcp = TcpState::closed;
    s.kind = kind;
    s.last_seen = now;
    s.mapping = kNone;
    return s;
}

uint32_t Nat::finish(Session& s, uint32_t now, NatFail* why, unsigned absent) {
    if (s.tcp == TcpState::syn_in && half_open() >= half_open_limit()) {
        if (s.mapping != kNone) put_mapping(s.mapping, now);
        return *why = NatFail::half_open_limit, kNone;
    }
    s.delta_out = nat_delta(s.proto, s.client_ip, s.client_port, s.outside_ip, s.outside_port);
    s.tclass = class_of(s.proto, s.tcp);
    const uint32_t id = insert(s, why, absent);
    if (id == kNone && s.mapping != kNone) put_mapping(s.mapping, now);
    return id;
}

uint32_t Nat::create_outbound(const Flow& f, uint32_t outside_ip, uint32_t now, NatFail* why, bool known_new) {
    *why = NatFail::none;
    if (!known_new) {
        const uint32_t existing = lookup(inside_key(f.proto, f.src, f.sport, f.dst, f.dport));
        if (existing != kNone) return existing;
    }
    unsigned absent = kInsideAbsent;

    Session s = new_session(f, SessionKind::napt, now);
    s.client_ip = f.src;
    s.client_port = f.sport;
    s.remote_ip = f.dst;
    s.remote_port = f.dport;
    s.outside_ip = outside_ip;
    if (allocator(f.proto)) {
        s.mapping = get_mapping(f, now, why);
        if (s.mapping == kNone) return kNone;
        s.outside_port = mappings_[s.mapping].outside_port;
    } else if (lookup(outside_key(f.proto, f.dst, 0, 0, outside_ip)) != kNone) {
        return *why = NatFail::portless_busy, kNone;  // another client holds (remote, proto)
    } else {
        absent |= kOutsideAbsent;
    }
    return finish(s, now, why, absent);
}

uint32_t Nat::create_inbound_eif(const Flow& f, uint32_t now, NatFail* why, uint8_t tcp_flags) {
    *why = NatFail::none;
    const uint32_t existing = lookup(outside_key(f.proto, f.src, f.sport, f.dport, f.dst));
    if (existing != kNone) return existing;
    PortAllocator* a = allocator(f.proto);
    if (!a) return kNone;
    const uint32_t m = a->owner(f.dport);
    if (m == PortAllocator::kFree) return kNone;
    Mapping& mp = mappings_[m];
    Session s = new_session(f, SessionKind::napt, now);
    s.client_ip = mp.client_ip;
    s.client_port = mp.client_port;
    s.remote_ip = f.src;
    s.remote_port = f.sport;
    s.outside_ip = f.dst;
    s.outside_port = f.dport;
    s.mapping = m;
    if (s.proto == kIpProtoTcp) s.tcp = tcp_next(TcpState::closed, Dir::in, tcp_flags);
    ++mp.refs;
    return finish(s, now, why, kOutsideAbsent);
}

uint32_t Nat::create_forward(const Flow& f, uint32_t target, uint16_t target_port, uint16_t forward_id,
                             uint32_t now, NatFail* why, uint8_t tcp_flags) {
    *why = NatFail::none;
    const uint32_t existing = lookup(outside_key(f.proto, f.src, f.sport, f.dport, f.dst));
    if (existing != kNone) return existing;
    Session s = new_session(f, SessionKind::forward, now);
    s.client_ip = target;
    s.client_port = target_port;
    s.remote_ip = f.src;
    s.remote_port = f.sport;
    s.outside_ip = f.dst;
    s.outside_port = f.dport;
    s.forward_id = forward_id;
    if (s.proto == kIpProtoTcp) s.tcp = tcp_next(TcpState::closed, Dir::in, tcp_flags);
    return finish(s, now, why, kOutsideAbsent);
}

uint32_t Nat::create_track(const Flow& f, uint32_t now, NatFail* why) {
    *why = NatFail::none;
    const uint32_t existing = lookup(inside_key(f.proto, f.src, f.sport, f.dst, f.dport));
    if (existing != kNone) return existing;
    Session s = new_session(f, SessionKind::track, now);
    s.client_ip = f.src;
    s.client_port = f.sport;
    s.remote_ip = f.dst;
    s.remote_port = f.dport;
    s.outside_ip = f.src;  // a LAN address: its outside key can never match a packet, nor collide
    s.outside_port = f.sport;
    s.tclass = class_of(s.proto, s.tcp);
    s.delta_out = NatDelta{0, 0};
    return insert(s, why, kInsideAbsent);
}

bool Nat::port_mapped(uint8_t proto, uint16_t port) const {
    const PortAllocator* a = proto == kIpProtoTcp ? tcp_ports_.get()
                             : proto == kIpProtoUdp ? udp_ports_.get()
                             : proto == kIpProtoIcmp ? icmp_ids_.get() : nullptr;
    return a && a->owner(port) != PortAllocator::kFree;
}

void Nat::update_tcp(uint32_t id, Dir d, const TcpSegment& seg, uint32_t now) {
    Session& s = sessions_[id];
    const TcpState next = tcp_track(s.tcp, d, seg, &s.tcp_expect_ack);
    if (next == s.tcp) return;
    s.tcp = next;
    const TimeoutClass c = class_of(s.proto, next);
    if (c != s.tclass) {
        list_unlink(id);
        s.tclass = c;
        s.last_seen = now;  // a state change counts as activity, and keeps the list sorted
        list_push(id, now);
    }
}

void Nat::list_push(uint32_t id, uint32_t now) {
    Session& s = sessions_[id];
    const int c = static_cast<int>(s.tclass);
    s.queued_at = now;
    s.next = kNone;
    s.prev = tail_[c];
    if (tail_[c] != kNone) sessions_[tail_[c]].next = id; else head_[c] = id;
    tail_[c] = id;
    ++class_count_[c];
}

void Nat::list_unlink(uint32_t id) {
    Session& s = sessions_[id];
    const int c = static_cast<int>(s.tclass);
    if (s.prev != kNone) sessions_[s.prev].next = s.next; else head_[c] = s.next;
    if (s.next != kNone) sessions_[s.next].prev = s.prev; else tail_[c] = s.prev;
    --class_count_[c];
}

void Nat::remove(uint32_t id, uint32_t now) {
    Session& s = sessions_[id];
    if (!s.in_use) return;
    list_unlink(id);
    const FlowKey in = inside_key(s.proto, s.client_ip, s.client_port, s.remote_ip, s.remote_port);
    const FlowKey out = outside_key(s.proto, s.remote_ip, s.remote_port, s.outside_port, s.outside_ip);
    rte_hash_del_key(sessions_hash_, &in);
    rte_hash_del_key(sessions_hash_, &out);
    if (s.mapping != kNone) put_mapping(s.mapping, now);
    --active_;
    --active_proto_[proto_slot(s.proto)];
    if (counters_) counters_->nat_active[proto_slot(s.proto)].sub();
    s.in_use = 0;
    s.next = free_session_;
    free_session_ = id;
}

unsigned Nat::expire(uint32_t now, const ClassTimeouts& timeouts, unsigned budget) {
    // Each list is in queueing order, and a session touched at least one
    // requeue interval I after it was queued is re-queued, so for every
    // session last_seen - queued_at < I. When the head H is not due, a session
    // X behind it has last_seen(X) >= queued_at(X) >= queued_at(H) >
    // last_seen(H) - I: X is overdue by less than I. Never early, since only
    // a head whose own last_seen is past its timeout is removed.
    unsigned removed = 0;
    for (int c = 0; c < kNumTimeoutClasses && removed < budget; ++c) {
        while (removed < budget && head_[c] != kNone) {
            const uint32_t id = head_[c];
            if (sessions_[id].last_seen + timeouts[c] > now) break;
            remove(id, now);
            if (counters_) counters_->nat_expired.add();
            ++removed;
        }
    }
    return removed;
}

void Nat::requeue(uint32_t id, uint32_t now) {
    list_unlink(id);
    list_push(id, now);
}

bool Nat::may_exist_since(uint64_t since, const FlowKey& inside) const {
    const uint64_t n = created_total_ - since;
    if (n == 0) return false;
    if (n > kRecent) return true;
    const uint32_t h = hash_of(inside);
    for (uint64_t c = since; c < created_total_; ++c)
        if (recent_inside_[c % kRecent] == h) return true;  // the same hash: maybe the same key
    return false;
}

uint32_t Nat::active_by_proto(uint8_t proto) const { return active_proto_[proto_slot(proto)]; }

}  // namespace ipshare
