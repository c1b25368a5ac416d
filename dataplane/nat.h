// NAPT: theory of operation
// =========================
// LAN clients share wan-ip. Each flow from a client gets a *session*; each
// client endpoint (protocol, client address, client port or ICMP id) gets a
// *mapping* to one outside port of the reserved range, shared by all of that
// endpoint's sessions: endpoint-independent mapping (RFC 4787 REQ-1, RFC 5382
// REQ-1, RFC 5508 REQ-1). A port belongs to at most one live mapping (RFC 4787
// REQ-3) and rests after release (RFC 6888 REQ-8).
//
// A session is found by either of two keys in one rte_hash, inserted together
// or not at all:
//   inside  (dir 0): client, remote, client port, remote port, proto
//   outside (dir 1): remote, outside address, remote port, outside port, proto
// (the outside address is wan-ip, or lan-ip for `hairpin source lan`).
// ICMP queries put the identifier where the port is; protocols without ports
// (GRE, ESP, SCTP...) are translated by address only, keyed on (client,
// remote, proto), so one client per remote and protocol at a time.
//
// Filtering (RFC 4787 section 5): address-and-port-dependent by default, an
// inbound packet matches only the outside key of a session the client opened;
// with endpoint-independent filtering a packet to a live mapping's port from
// any remote creates a session. Whatever matches nothing goes to the server.
//
// Sessions expire on per-class lists (tcp-established, tcp-transitory, udp,
// icmp, other), each in order of queueing. A refresh sets last_seen; the
// session moves to the tail only when it was queued at least
// requeue_interval(timeout) ago (1/16 of its class's timeout, 1 to 60 s), so
// a busy flow costs one list move per interval, not one per packet (a move
// writes two other random sessions). Expiry only ever looks at list heads and
// never scans the table; a session is never removed before it has been idle
// for its timeout, and at most one interval after (see expire()).
//
// One Nat per worker, used only by that worker: no locks. With several
// workers each owns a slice of the port range (see port_alloc.h).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "burst.h"
#include "counters.h"
#include "nat_rewrite.h"
#include "port_alloc.h"
#include "tcp_state.h"

struct rte_hash;

namespace ipshare {

class RssPredictor;

struct FlowKey {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint8_t proto;
    uint8_t dir;  // 0 inside, 1 outside
    uint16_t zero;
};
static_assert(sizeof(FlowKey) == 16);

inline FlowKey inside_key(uint8_t proto, uint32_t client, uint16_t cport, uint32_t remote, uint16_t rport) {
    return FlowKey{client, remote, cport, rport, proto, 0, 0};
}
inline FlowKey outside_key(uint8_t proto, uint32_t remote, uint16_t rport, uint16_t outside_port,
                           uint32_t outside_ip) {
    return FlowKey{remote, outside_ip, rport, outside_port, proto, 1, 0};
}

// What created a session.
enum class SessionKind : uint8_t {
    napt,     // a LAN client's outbound flow (or an inbound one under endpoint-independent filtering)
    forward,  // an inbound flow to a `forward`ed port: the client is the forward's target
    track,    // no translation: a LAN client's flow to the server, tracked for the dmz->lan policy
};
inline constexpr const char* kSessionKindNames[] = {"napt", "forward", "track"};

// tcp_syn_in: a TCP session opened from outside (a forward, or endpoint-
// independent filtering) whose client has not answered yet: half-open, the
// kind a SYN flood creates; short-lived (RFC 6146 TCP_INCOMING_SYN, 6 s) and
// bounded in number (RFC 5382 REQ-4).
enum class TimeoutClass : uint8_t { tcp_established, tcp_transitory, udp, icmp, other, tcp_syn_in, count };
inline constexpr uint32_t kTcpIncomingSynSeconds = 6;
inline constexpr int kNumTimeoutClasses = static_cast<int>(TimeoutClass::count);
using ClassTimeouts = std::array<uint32_t, kNumTimeoutClasses>;  // seconds

inline constexpr uint32_t kNone = 0xffffffff;

// How long a refreshed session may stay where it was queued (seconds): also
// how late, at most, expiry can be.
inline constexpr uint32_t requeue_interval(uint32_t timeout) {
    const uint32_t i = timeout / 16;
    return i < 1 ? 1 : i > 60 ? 60 : i;
}

struct alignas(64) Session {
    uint32_t client_ip, remote_ip;
    uint16_t client_port, remote_port;
    uint16_t outside_port;
    uint8_t proto;
    TcpState tcp;
    TimeoutClass tclass;
    uint8_t in_use;
    NatDelta delta_out;  // client -> outside rewrite; the inbound one is its inverse
    SessionKind kind;
    uint8_t pad;
    uint16_t forward_id;  // the forward that created it (kind forward), else 0
    uint32_t outside_ip;  // wan-ip; lan-ip for `hairpin source lan`; the client's for track
    uint32_t last_seen;  // seconds
    uint32_t queued_at;  // when put on its expiry list (lists are sorted by it)
    uint32_t prev, next; // expiry list
    uint32_t mapping;    // kNone for portless, forward and track sessions
    uint32_t tcp_expect_ack;  // syn-in/syn-recv: the ACK that completes an inbound handshake (tcp_track)
    uint32_t packets_out, packets_in;
};
static_assert(sizeof(Session) == 64);

struct NatParams {
    uint32_t wan_ip = 0;
    uint16_t port_lo = 61000, port_hi = 65535;
    uint32_t capacity = 1u << 16;    // sessions (this worker's share)
    uint32_t per_client = 4096;      // mappings per client address (RFC 6888 REQ-4)
    uint32_t rest_seconds = 120;     // RFC 6888 REQ-8
    unsigned stride = 1, offset = 0; // this worker's slice of the port range
    uint64_t seed = 1;
    // Predictable RSS on the wan port (rss.h), or null: a new mapping's port
    // is chosen so that the reply of its first flow lands on `rx_queue`.
    const RssPredictor* reply_rss = nullptr;
    uint16_t rx_queue = 0;
};

enum class NatFail : uint8_t { none, table_full, client_cap, ports_exhausted, portless_busy, collision, half_open_limit };

class Nat {
public:
    static std::unique_ptr<Nat> create(const std::string& name, const NatParams& p, std::string* err);
    ~Nat();
    Nat(const Nat&) = delete;
    Nat& operator=(const Nat&) = delete;

    // Fast path: bit i of the result set when keys[i] hit; ids[i] the session.
    uint64_t lookup_bulk(const void** keys, unsigned n, uint32_t* ids) const;
    uint32_t lookup(const FlowKey& k) const;
    Session& at(uint32_t id) { return sessions_[id]; }
    void prefetch(uint32_t id) const { __builtin_prefetch(&sessions_[id], 1); }
    const Session& at(uint32_t id) const { return sessions_[id]; }

    // Slow path. An outbound flow (client -> remote) without a session,
    // translated to `outside_ip` (wan-ip, or lan-ip for `hairpin source lan`).
    // `known_new`: the caller has just looked the inside key up and missed
    // (and created nothing since), so it is not looked up again.
    uint32_t create_outbound(const Flow& f, uint32_t outside_ip, uint32_t now, NatFail* why, bool known_new = false);
    // An inbound flow (remote -> wan-ip:port) to a live mapping's port, for
    // endpoint-independent filtering. kNone when the port has no mapping.
    // `tcp_flags`: of the first packet (TCP): a SYN opens a half-open session.
    uint32_t create_inbound_eif(const Flow& f, uint32_t now, NatFail* why, uint8_t tcp_flags = 0);
    // An inbound flow (remote -> wan-ip:port) to a forwarded port: the session's
    // client is (target, target_port).
    uint32_t create_forward(const Flow& f, uint32_t target, uint16_t target_port, uint16_t forward_id,
                            uint32_t now, NatFail* why, uint8_t tcp_flags = 0);
    // A LAN client's flow that passes untranslated (to the server), tracked so
    // that the replies pass the dmz->lan policy.
    uint32_t create_track(const Flow& f, uint32_t now, NatFail* why);
    // Whether `port` is the outside port of a live mapping.
    bool port_mapped(uint8_t proto, uint16_t port) const;

    // TCP state (tcp_state.h); a change of timeout class moves the session.
    void update_tcp(uint32_t id, Dir d, const TcpSegment& seg, uint32_t now);
    // Outbound packets refresh (RFC 4787 REQ-6); at most one list move per
    // requeue_interval of the session's class timeout.
    void touch(uint32_t id, uint32_t now, const ClassTimeouts& timeouts) {
        Session& s = sessions_[id];
        s.last_seen = now;
        if (now - s.queued_at >= requeue_interval(timeouts[static_cast<int>(s.tclass)])) requeue(id, now);
    }

    // Removes sessions idle past their class timeout, at most `budget`.
    unsigned expire(uint32_t now, const ClassTimeouts& timeouts, unsigned budget);
    void remove(uint32_t id, uint32_t now);

    // Where to count sessions created, expired and active by protocol.
    void set_counters(Counters* c) { counters_ = c; }

    uint32_t active() const { return active_; }
    // Sessions created since start (never decreases).
    uint64_t created_total() const { return created_total_; }
    // Whether a session with inside key `inside` may have been created since
    // created_total() was `since`: false is certain (the hashes of the recent
    // creations' inside keys all differ from its hash).
    bool may_exist_since(uint64_t since, const FlowKey& inside) const;
    // Half-open inbound TCP sessions may take at most this share of the table.
    uint32_t half_open_limit() const { return params_.capacity / 4 ? params_.capacity / 4 : 1; }
    uint32_t half_open() const { return class_count_[static_cast<int>(TimeoutClass::tcp_syn_in)]; }
    uint32_t active_by_proto(uint8_t proto) const;
    uint32_t capacity() const { return params_.capacity; }
    bool in_use(uint32_t id) const { return sessions_[id].in_use; }
    const NatParams& params() const { return params_; }
    uint16_t mapping_port(uint32_t mapping) const;

private:
    struct Mapping {
        uint32_t client_ip;
        uint16_t client_port;
        uint16_t outside_port;
        uint8_t proto;
        uint32_t refs;
        uint32_t next_free;
    };
    Nat() = default;
    PortAllocator* allocator(uint8_t proto);
    static uint32_t hash_of(const FlowKey& k);  // the sessions table's hash of a key
    uint16_t allocate_port(const Flow& f, uint32_t mapping, uint32_t now);
    uint32_t get_mapping(const Flow& f, uint32_t now, NatFail* why);
    void put_mapping(uint32_t m, uint32_t now);
    // `absent`: kInsideAbsent / kOutsideAbsent, keys the caller has checked.
    static constexpr unsigned kInsideAbsent = 1, kOutsideAbsent = 2;
    uint32_t insert(const Session& s, NatFail* why, unsigned absent = 0);
    uint32_t finish(Session& s, uint32_t now, NatFail* why, unsigned absent);
    void list_push(uint32_t id, uint32_t now);
    void requeue(uint32_t id, uint32_t now);
    void list_unlink(uint32_t id);
    static TimeoutClass class_of(uint8_t proto, TcpState st);
    bool client_count_add(uint32_t client, int delta);  // false: cap reached

    NatParams params_;
    rte_hash* sessions_hash_ = nullptr;
    rte_hash* mappings_hash_ = nullptr;
    rte_hash* clients_hash_ = nullptr;  // client address -> slot in client_counts_
    uint32_t* client_counts_ = nullptr;  // mappings per client; the free list's links while free
    uint32_t free_client_ = kNone;
    static constexpr unsigned kRecent = 64;
    std::array<uint32_t, kRecent> recent_inside_{};  // hashes of the last creations' inside keys
    Session* sessions_ = nullptr;
    Mapping* mappings_ = nullptr;
    uint32_t free_session_ = kNone;
    uint32_t free_mapping_ = kNone;
    uint32_t active_ = 0;
    uint64_t created_total_ = 0;
    std::array<uint32_t, 4> active_proto_{};  // tcp, udp, icmp, other
    std::array<uint32_t, kNumTimeoutClasses> head_{}, tail_{}, class_count_{};
    std::unique_ptr<PortAllocator> tcp_ports_, udp_ports_, icmp_ids_;
    Counters* counters_ = nullptr;
};

}  // namespace ipshare
