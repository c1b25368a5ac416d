// fuzz_pipeline: the whole packet walk (process_burst) over one arbitrary
// frame per input, with real mbufs from a real mempool, sent out through
// real ethdev ports backed by rte_rings (as tests/unit/test_walk_*.cc do).
//
// Before each input the NAT state is put back to the same starting point: every
// session removed, then the legitimate packets of pipeline_world.h replayed,
// which open a TCP, UDP, ICMP and GRE session for a LAN client, a forward
// session and a tracked flow to the server. Time stands still (the NAPT ports
// do not rest) and the rate limits never bite, so an input always meets the
// same router. The input's checksums are made right before it is sent (unless
// bit 7 of its first byte says not to: pipeline_world.h), so that mutations
// get past the header checks.
//
// After each input, every frame that left (or waits for ARP) is checked:
//   l2         one segment per frame unless fragmented, Ethernet source = the port's MAC
//   ip-header  IPv4: IHL >= 5, total length = the frame, header checksum right
//   ttl        forwarded: TTL one less than received; originated: 64
//   l4-checksum a right TCP/UDP/ICMP checksum stays right (and UDP's "none" stays none)
//   wan-source every IPv4 frame leaving wan is from wan-ip
//   wan-lan-address no LAN address (LAN subnet or a route to lan) in a frame
//              leaving wan, nor in the datagram an ICMP error quotes (unless
//              the server sent it: dmz -> wan is forwarded unchanged)
//   wan-lan-arp nor in an ARP frame leaving wan
//   wan-to-lan nothing from wan reaches lan but what a session or forward translated
//   lan-to-wan what a LAN client sends out is translated so that the reply
//              finds its session (the outside key of what left exists)
//   dmz-to-lan nothing from the server reaches lan but replies to tracked LAN flows
//   originated what the router sends itself (ARP reply, ICMP, RST) is one
//              frame, well formed, from the right address
//   echo-reply-checksum  the ICMP checksum of an echo reply from lan-ip
//   accounted  an IPv4 frame leaves, waits, or is counted as a drop
//   learn      ARP learning only of on-link senders of the ingress port, with a
//              unicast MAC, never of lan-ip, of wan-ip off dmz or of the
//              gateway off wan
//   leak       every mbuf is back in its pool (frames waiting for ARP or for
//              their first fragment are the router's: drained and freed)
// A violation prints the input, what left, and aborts (libFuzzer saves it).
// IPSHARE_FUZZ_SKIP=name,name disables checks by name (for a known, reported
// bug while it is being fixed; never in CI). IPSHARE_FUZZ_TRACE=1 prints
// every input, the drops it was counted under and what left.
//
// With ASan, the bytes of the input buffer beyond the datagram (past the IPv4
// total length, or past the frame) are poisoned: the router reading anything
// that is not part of the packet is reported even though mbufs live in DPDK
// memory that ASan does not otherwise watch (IPSHARE_FUZZ_SKIP=poison: not).
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include "config_parse.h"
#include "frag.h"
#include "nat.h"
#include "nat_rewrite.h"
#include "neighbour.h"
#include "pipeline_world.h"
#include "ring_router.h"
#include "stages.h"
#include "tables_build.h"
#include "worker.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#define FUZZ_ASAN 1
#endif
#endif
#ifndef FUZZ_ASAN
#define ASAN_POISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#endif

namespace ipshare::fuzz {
namespace {

constexpr uint32_t kNow = 1000;  // seconds; never moves but to let fragments expire

// The router on ring ports (tests/support/ring_router.h), with the tables of
// both configuration variants and what the harness needs between inputs.
struct Router : test::RingRouter {
    std::array<std::unique_ptr<Tables>, kVariants> tables;
    std::vector<Seed> setup;
    uint32_t setup_sessions = 0;
    std::set<std::string> skip;
    bool trace = false;  // IPSHARE_FUZZ_TRACE: print every input and what left
};

Router* R = nullptr;

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "fuzz_pipeline: set-up failed: %s\n", what.c_str());
    std::exit(1);
}

std::unique_ptr<Tables> tables_from(const std::string& text, uint64_t generation) {
    Config c;
    if (auto err = parse_config(text, "fuzz.conf", c)) die(err->str());
    ForwardIds ids;
    std::string err;
    auto t = build_tables(c, generation, ids, &err);  // the generation names the route table
    if (!t) die("build_tables: " + err);
    return t;
}

rte_mbuf* mbuf_of(const uint8_t* p, size_t n) {
    rte_mbuf* m = rte_pktmbuf_alloc(R->pool_);
    if (!m) return nullptr;
    ASAN_UNPOISON_MEMORY_REGION(m->buf_addr, m->buf_len);
    if (n > rte_pktmbuf_tailroom(m)) n = rte_pktmbuf_tailroom(m);
    char* d = rte_pktmbuf_append(m, static_cast<uint16_t>(n));
    if (n) std::memcpy(d, p, n);
    return m;
}

// One frame in on `in`, through the router as the worker loop runs it.
void run(Zone in, const Tables& t, rte_mbuf* m) {
    R->published_.store(&t);
    std::string err;
    if (!R->run_burst(in, &m, 1, &err)) die(err);
}

// Fragments that wait for their first one are given up, as the worker does
// when they expire: inbound ones go to the server, outbound ones are dropped.
void give_up_fragments(const Tables& t) {
    WorkerCtx& w = R->w_;
    w.now_s = kNow + FragTable::kLifetimeSeconds;
    expire_sessions(w, t, 1u << 20);
    drain_refeed(w);
    w.tx.flush_all(R->counters_);
    w.now_s = kNow;
}

void drain_learn(std::vector<ArpLearnMsg>* out) {
    ArpLearnMsg msg;
    while (rte_ring_dequeue_elem(R->learn_, &msg, sizeof msg) == 0)
        if (out) out->push_back(msg);
}

// Back to the starting point: no session, then the set-up packets.
void reset(const Tables& t) {
    Nat& nat = *R->nat_;
    for (uint32_t id = 0; id < nat.capacity(); ++id)
        if (nat.in_use(id)) nat.remove(id, kNow);
    give_up_fragments(t);
    for (const Seed& s : R->setup) {
        rte_mbuf* m = mbuf_of(s.frame.data(), s.frame.size());
        if (!m) die("no mbuf for the set-up");
        run(static_cast<Zone>(s.zone), t, m);
    }
    for (Zone z : kAllZones) R->free_ring_mbufs(R->tx_[idx(z)]);
    R->free_ring_mbufs(R->pending_);
    drain_learn(nullptr);
    if (nat.active() != R->setup_sessions) {
        std::fprintf(stderr, "fuzz_pipeline: the set-up packets opened %u sessions, expected %u\n", nat.active(),
                     R->setup_sessions);
        std::abort();
    }
}

// ---------------------------------------------------------------- checks

struct Out {
    Zone zone;
    bool pending;  // waits for ARP: Ethernet not rewritten yet
    uint16_t segs;
    Bytes f;
};

std::string hex(const Bytes& b) {
    std::string s;
    char buf[4];
    for (size_t i = 0; i < b.size(); ++i) {
        std::snprintf(buf, sizeof buf, "%02x", b[i]);
        s += buf;
        if (i + 1 < b.size()) s += (i % 16 == 15) ? "\n    " : " ";
    }
    return s;
}

struct Checker {
    Zone in;
    int variant;
    const Tables& t;
    const Bytes& frame;
    const std::vector<Out>& outs;

    [[noreturn]] void fail(const char* name, const std::string& why) const {
        std::fprintf(stderr, "\n==== fuzz_pipeline: invariant '%s' violated: %s\n", name, why.c_str());
        std::fprintf(stderr, "input: port %s, variant %d, %zu bytes\n    %s\n", kZoneNames[idx(in)], variant,
                     frame.size(), hex(frame).c_str());
        for (const Out& o : outs)
            std::fprintf(stderr, "out %s%s (%u seg): %zu bytes\n    %s\n", kZoneNames[idx(o.zone)],
                         o.pending ? " (waiting for ARP)" : "", o.segs, o.f.size(), hex(o.f).c_str());
        std::abort();
    }
    bool on(const char* name) const { return !R->skip.count(name); }
    void expect(bool ok, const char* name, const std::string& why) const {
        if (!ok && on(name)) fail(name, why);
    }

    bool lan_address(uint32_t a) const {
        return t.addr.lan.contains(a) || t.routes->lookup(a).zone == Zone::lan;
    }
};

uint16_t rd16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t rd32(const uint8_t* p) { return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3]; }

const uint8_t* ip_bytes(const Bytes& f) { return f.data() + sizeof(EthHdr); }
bool is_ipv4(const Bytes& f) { return f.size() >= 34 && rd16(f.data() + 12) == kEtherTypeIpv4; }
bool is_arp(const Bytes& f) { return f.size() >= 42 && rd16(f.data() + 12) == kEtherTypeArp; }

// The datagram an ICMP error quotes (at least its 20-byte header), or null.
const uint8_t* quoted(const uint8_t* ip, size_t ip_len, size_t* qlen) {
    const size_t hl = (ip[0] & 15u) * 4u;
    if (ip[9] != kIpProtoIcmp || ip_len < hl + 8 + 20 || !icmp_is_error(ip[hl])) return nullptr;
    *qlen = ip_len - hl - 8;
    return ip + hl + 8;
}

uint64_t sum_drops(const CounterTotals& c) {
    uint64_t n = 0;
    for (uint64_t d : c.drops) n += d;
    return n;
}

void check(const Checker& c, const CounterTotals& before, const CounterTotals& after,
           const std::vector<ArpLearnMsg>& learnt) {
    const Bytes& in = c.frame;
    const bool in_ipv4 = is_ipv4(in) && (in[14] >> 4) == 4;
    const uint8_t in_ttl = in_ipv4 ? in[14 + 8] : 0;
    const size_t in_ip_len = in_ipv4 ? rd16(in.data() + 16) : 0;
    const L4Sum in_sum =
        in_ipv4 && in_ip_len + 14 <= in.size() ? l4_checksum(ip_bytes(in), in_ip_len) : L4Sum::none;

    const uint64_t icmp_sent = after.icmp_sent - before.icmp_sent;
    const uint64_t arp_sent = after.arp_replies_sent - before.arp_replies_sent;
    const uint64_t rejected = after.drops[static_cast<int>(Drop::filter_rejected)] -
                              before.drops[static_cast<int>(Drop::filter_rejected)];
    const bool originated = !c.outs.empty() && (icmp_sent || arp_sent || rejected);

    c.expect(after.rx[idx(c.in)] == before.rx[idx(c.in)] + 1, "accounted", "rx counter did not count the frame");
    if (in_ipv4 || c.outs.size() > 0) {
        uint64_t tx = 0;
        for (int z = 0; z < kNumZones; ++z) tx += after.tx[z] - before.tx[z];
        bool pending = false;
        for (const Out& o : c.outs) pending |= o.pending;
        c.expect(tx > 0 || pending || sum_drops(after) > sum_drops(before) || !in_ipv4, "accounted",
                 "an IPv4 frame neither left, nor waits for ARP, nor was counted as a drop");
    }
    if (originated) c.expect(c.outs.size() == 1, "originated", "the router answered with more than one frame");

    Zone out_zone = Zone::wan;
    for (size_t k = 0; k < c.outs.size(); ++k) {
        const Out& o = c.outs[k];
        const Bytes& f = o.f;
        const std::string which = "frame " + std::to_string(k) + " out " + kZoneNames[idx(o.zone)];
        if (k == 0) out_zone = o.zone;
        c.expect(o.zone == out_zone, "l2", "one input left on several ports");
        c.expect(f.size() >= sizeof(EthHdr), "l2", which + ": shorter than Ethernet");
        if (f.size() < sizeof(EthHdr)) continue;
        if (!o.pending) {
            c.expect(std::memcmp(f.data() + 6, R->ports_[idx(o.zone)].mac, 6) == 0, "l2",
                     which + ": Ethernet source is not the port's MAC");
            c.expect(!(f[0] & 1), "l2", which + ": Ethernet destination is multicast");
        }

        if (is_arp(f)) {
            const uint8_t* a = f.data() + 14;
            c.expect(arp_sent > 0 && o.zone == c.in, "originated", which + ": an ARP frame the router did not answer");
            c.expect(rd16(a + 6) == kArpOpReply && std::memcmp(a + 8, R->ports_[idx(o.zone)].mac, 6) == 0 &&
                         std::memcmp(a + 18, f.data(), 6) == 0,
                     "originated", which + ": malformed ARP reply");
            if (o.zone == Zone::wan)
                c.expect(!c.lan_address(rd32(a + 14)) && !c.lan_address(rd32(a + 24)), "wan-lan-arp",
                         which + ": ARP with a LAN address");
            continue;
        }
        c.expect(is_ipv4(f), "l2", which + ": neither IPv4 nor ARP");
        if (!is_ipv4(f)) continue;
        const uint8_t* ip = ip_bytes(f);
        const size_t hl = (ip[0] & 15u) * 4u;
        const size_t ip_len = rd16(ip + 2);
        c.expect((ip[0] >> 4) == 4 && hl >= 20 && hl <= ip_len, "ip-header", which + ": bad version or IHL");
        c.expect(ip_len + 14 == f.size(), "ip-header",
                 which + ": total length " + std::to_string(ip_len) + " but " + std::to_string(f.size() - 14) +
                     " bytes after Ethernet");
        if (hl < 20 || hl > f.size() - 14 || ip_len + 14 > f.size()) continue;
        c.expect(ref_verify(ip, hl), "ip-header", which + ": IPv4 header checksum wrong");
        const uint32_t src = rd32(ip + 12), dst = rd32(ip + 16);
        const uint8_t ttl = ip[8];
        const bool fragmented = c.outs.size() > 1 || o.segs > 1;
        c.expect(o.segs == 1 || fragmented, "l2", which + ": several segments");

        if (originated) {
            c.expect(ttl == 64, "originated", which + ": TTL " + std::to_string(ttl) + " in a frame the router made");
            c.expect(o.zone == c.in, "originated", which + ": the router's answer left on another port");
            if (ip[9] == kIpProtoIcmp) {
                const uint32_t own = o.zone == Zone::wan ? c.t.addr.wan_ip : c.t.addr.lan_ip;
                c.expect(src == own, "originated", which + ": ICMP from " + dotted(src));
                c.expect(ref_verify(ip + hl, ip_len - hl), ip[hl] == kIcmpEchoReply ? "echo-reply-checksum" : "originated",
                         which + ": ICMP checksum wrong");
                c.expect(in_ipv4 && dst == rd32(in.data() + 14 + 12), "originated",
                         which + ": ICMP not sent back to the sender");
            } else {
                c.expect(ip[9] == kIpProtoTcp && ip_len == 40 && (ip[hl + 13] & kTcpRst), "originated",
                         which + ": neither ICMP nor a TCP reset");
                c.expect(in_ipv4 && src == rd32(in.data() + 14 + 16) && dst == rd32(in.data() + 14 + 12),
                         "originated", which + ": reset not from the refused address to the sender");
                c.expect(l4_checksum(ip, ip_len) == L4Sum::ok, "originated", which + ": reset checksum wrong");
            }
        } else {
            c.expect(in_ipv4 && ttl + 1 == in_ttl, "ttl",
                     which + ": TTL " + std::to_string(ttl) + " forwarded from TTL " + std::to_string(in_ttl));
            if (!fragmented && (in_sum == L4Sum::ok || in_sum == L4Sum::zero)) {
                const L4Sum s = l4_checksum(ip, ip_len);
                c.expect(s == in_sum || (in_sum == L4Sum::ok && s == L4Sum::none), "l4-checksum",
                         which + (in_sum == L4Sum::ok ? ": the transport checksum was right, now wrong"
                                                      : ": UDP without checksum got one"));
            }
        }

        if (o.zone == Zone::wan) {
            c.expect(src == c.t.addr.wan_ip, "wan-source", which + ": leaves wan from " + dotted(src));
            c.expect(!c.lan_address(src) && !c.lan_address(dst), "wan-lan-address",
                     which + ": " + dotted(src) + " -> " + dotted(dst));
            size_t qlen = 0;
            if (c.in != Zone::dmz)
                if (const uint8_t* q = quoted(ip, ip_len, &qlen))
                    c.expect(!c.lan_address(rd32(q + 12)) && !c.lan_address(rd32(q + 16)), "wan-lan-address",
                             which + ": the quoted datagram is " + dotted(rd32(q + 12)) + " -> " +
                                 dotted(rd32(q + 16)));
        }

        if (o.zone == Zone::wan && !originated && c.in == Zone::lan) {
            // NAT'd: the reply to what left must find the session (its outside key).
            Flow fl;
            FlowKey key{};
            bool keyed = true;
            const FlowKind kind = flow_of(reinterpret_cast<const Ipv4Hdr*>(ip), static_cast<uint16_t>(ip_len), &fl);
            switch (kind) {
            case FlowKind::ports: key = outside_key(fl.proto, fl.dst, fl.dport, fl.sport, fl.src); break;
            case FlowKind::icmp_query:
                keyed = ip[hl] == kIcmpEchoRequest;
                key = outside_key(fl.proto, fl.dst, 0, fl.sport, fl.src);
                break;
            case FlowKind::icmp_error: {
                Flow q;
                keyed = icmp_error_inner_flow(reinterpret_cast<const Ipv4Hdr*>(ip), static_cast<uint16_t>(ip_len), &q);
                key = outside_key(q.proto, q.src, q.sport, q.dport, q.dst);
                break;
            }
            default: keyed = false; break;  // portless, fragments
            }
            c.expect(!keyed || R->nat_->lookup(key) != kNone, "lan-to-wan",
                     which + ": translated, but a reply would find no session");
        }

        if (o.zone == Zone::lan && !originated && (c.in == Zone::wan || c.in == Zone::dmz)) {
            // The inside key of the session this packet belongs to.
            Flow fl;
            FlowKey key{};
            bool keyed = true;
            const FlowKind kind = flow_of(reinterpret_cast<const Ipv4Hdr*>(ip), static_cast<uint16_t>(ip_len), &fl);
            switch (kind) {
            case FlowKind::ports: key = inside_key(fl.proto, fl.dst, fl.dport, fl.src, fl.sport); break;
            case FlowKind::portless: key = inside_key(fl.proto, fl.dst, 0, fl.src, 0); break;
            case FlowKind::icmp_query: key = inside_key(fl.proto, fl.dst, fl.dport, fl.src, 0); break;
            case FlowKind::icmp_error: {
                Flow q;
                if (icmp_error_inner_flow(reinterpret_cast<const Ipv4Hdr*>(ip), static_cast<uint16_t>(ip_len), &q))
                    key = inside_key(q.proto, q.src, q.sport, q.dst, q.dport);
                else
                    keyed = false;
                break;
            }
            default: keyed = false; break;  // fragments, truncated
            }
            const bool session = keyed && R->nat_->lookup(key) != kNone;
            if (c.in == Zone::wan) {
                c.expect(after.nat_in > before.nat_in, "wan-to-lan", which + ": reached lan untranslated");
                c.expect(!keyed || session, "wan-to-lan", which + ": reached lan without a session");
            } else {
                c.expect(!keyed || session, "dmz-to-lan",
                         which + ": a new flow from the server reached lan (no tracked flow)");
            }
        }
    }

    for (const ArpLearnMsg& m : learnt) {
        c.expect(m.zone == idx(c.in) && c.t.routes->host_on_link(m.ip, c.in), "learn",
                 "learnt " + dotted(m.ip) + " on " + kZoneNames[m.zone % 3] + " from a frame on " +
                     kZoneNames[idx(c.in)]);
        c.expect(!(m.mac[0] & 1), "learn", "learnt a multicast MAC for " + dotted(m.ip));
        // Spoofing (independently of the routes): the router's own address,
        // wan-ip off dmz, the gateway off wan, a zero MAC are never learnt.
        const Addresses& a = c.t.addr;
        const bool mine = m.ip == a.lan_ip || (m.ip == a.wan_ip && c.in != Zone::dmz) ||
                          (m.ip == a.gateway && c.in != Zone::wan);
        c.expect(!mine, "learn", "learnt " + dotted(m.ip) + " (claimed) from a frame on " + kZoneNames[idx(c.in)]);
        static constexpr uint8_t kNoMac[6] = {};
        c.expect(std::memcmp(m.mac, kNoMac, 6) != 0, "learn", "learnt MAC 00:00:00:00:00:00 for " + dotted(m.ip));
    }
}

// Unless bit 7 of byte 0 is set, the checksums a mutation broke are made
// right again, so that the fuzzer gets past the checks: the IPv4 header's,
// and the transport checksum of a whole datagram (TCP, UDP unless it has
// none, ICMP).
void fix_checksums(Bytes& f) {
    if (f.size() < 34 || rd16(f.data() + 12) != kEtherTypeIpv4) return;
    uint8_t* ip = f.data() + 14;
    const size_t hl = (ip[0] & 15u) * 4u;
    if (hl < 20 || 14 + hl > f.size()) return;
    ip[10] = ip[11] = 0;
    const uint16_t c = ref_checksum(ip, hl);
    ip[10] = static_cast<uint8_t>(c >> 8);
    ip[11] = static_cast<uint8_t>(c);
    const size_t len = rd16(ip + 2);
    if (len < hl || 14 + len > f.size() || (rd16(ip + 6) & 0x3fff)) return;
    uint8_t* l4 = ip + hl;
    const size_t n = len - hl;
    size_t at = 0;
    uint32_t sum = 0;
    switch (ip[9]) {
    case kIpProtoIcmp: at = 2; break;
    case kIpProtoTcp: at = 16; sum = pseudo_sum(ip, kIpProtoTcp, n); break;
    case kIpProtoUdp:
        if (n < 8 || (l4[6] == 0 && l4[7] == 0)) return;
        at = 6;
        sum = pseudo_sum(ip, kIpProtoUdp, n);
        break;
    default: return;
    }
    if (n < at + 2) return;
    l4[at] = l4[at + 1] = 0;
    uint16_t x = static_cast<uint16_t>(~fold(sum + ref_sum(l4, n)));
    if (x == 0 && ip[9] == kIpProtoUdp) x = 0xffff;
    l4[at] = static_cast<uint8_t>(x >> 8);
    l4[at + 1] = static_cast<uint8_t>(x);
}

unsigned pools_avail() { return rte_mempool_avail_count(R->pool_) + rte_mempool_avail_count(R->indirect_); }

}  // namespace
}  // namespace ipshare::fuzz

using namespace ipshare;
using namespace ipshare::fuzz;

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
    // --in-memory is what we mean, but the EAL refuses it with --no-huge
    // ("legacy memory"): --no-shconf (no shared files, no multi-process
    // socket) and a file prefix of our own instead, so that no running
    // ipshare is ever met. Fuzzers running side by side share nothing but
    // the (empty) runtime directory, removed at exit.
    std::vector<const char*> eal = {"fuzz_pipeline",       "--no-huge",         "-m",  "512",
                                    "--no-pci",            "--no-shconf",       "--no-telemetry",
                                    "--file-prefix=fuzz_pipeline", "--log-level=error", "-l",  "0"};
    if (rte_eal_init(static_cast<int>(eal.size()), const_cast<char**>(eal.data())) < 0)
        die(std::string("rte_eal_init: ") + rte_strerror(rte_errno));
    std::atexit([] { rmdir(rte_eal_get_runtime_dir()); });
    R = new Router();
    R->trace = std::getenv("IPSHARE_FUZZ_TRACE") != nullptr;
    if (const char* s = std::getenv("IPSHARE_FUZZ_SKIP")) {
        std::string all = s;
        size_t b = 0;
        while (b <= all.size()) {
            size_t e = all.find(',', b);
            if (e == std::string::npos) e = all.size();
            if (e > b) R->skip.insert(all.substr(b, e - b));
            b = e + 1;
        }
    }
    test::RingRouterParams p;
    p.prefix = "fuzz";
    p.pool_size = 4095;
    p.ring_size = 1024;
    p.indirect_pool_size = 1023;
    p.mac_base = router_mac(0)[5];
    p.neighbours.clear();
    for (const Neighbour& n : neighbours()) p.neighbours.push_back({static_cast<Zone>(n.zone), n.ip, n.mac});
    p.nat.rest_seconds = 0;  // a removed session's port is free again at once
    // A token per TSC tick: the limits never bite, so an input always gets the same answer.
    const uint64_t hz = rte_get_tsc_hz();
    p.icmp_errors = p.icmp_echo = p.arp_replies = {hz, uint64_t{1} << 40};
    p.now_s = kNow;
    p.drain_after_burst = true;  // as the worker loop runs a burst
    std::string err;
    if (!R->start(p, &err)) die(err);
    R->tables[0] = tables_from(kBaseConfig, 1);
    R->tables[1] = tables_from(std::string(kBaseConfig) + kVariantConfig, 2);
    if (R->tables[0]->addr.wan_ip != p.nat.wan_ip) die("wan-ip is not the NAT's address");
    R->published_.store(R->tables[0].get());

    R->setup = setup_packets();
    R->setup_sessions = static_cast<uint32_t>(R->setup.size());
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const uint8_t sel = data[0] & 0x7f;
    const Zone in = static_cast<Zone>(sel % 3);
    const int variant = (sel / 3) % kVariants;
    const Tables& t = *R->tables[variant];
    reset(t);

    Bytes input(data + 1, data + size);
    if (!(data[0] & 0x80)) fix_checksums(input);

    const unsigned avail_before = pools_avail();
    CounterTotals before;
    before.add(R->counters_);

    rte_mbuf* m = mbuf_of(input.data(), input.size());
    if (!m) die("no mbuf for the input");
    const Bytes frame(rte_pktmbuf_mtod(m, const uint8_t*), rte_pktmbuf_mtod(m, const uint8_t*) + m->data_len);
    // Poison what is not the packet: past the frame, or past the IPv4 datagram.
    void* const buf = m->buf_addr;
    const uint16_t buf_len = m->buf_len;
    size_t keep = frame.size();
    if (frame.size() >= 18 && rd16(frame.data() + 12) == kEtherTypeIpv4)
        keep = std::min<size_t>(keep, 14 + std::max<size_t>(rd16(frame.data() + 16), 20));
    uint8_t* end = rte_pktmbuf_mtod(m, uint8_t*) + keep;
    if (!R->skip.count("poison")) ASAN_POISON_MEMORY_REGION(end, static_cast<uint8_t*>(buf) + buf_len - end);

    run(in, t, m);
    give_up_fragments(t);
    std::vector<Out> outs;
    for (Zone z : kAllZones) {
        void* obj;
        while (rte_ring_dequeue(R->tx_[idx(z)], &obj) == 0) {
            auto* mb = static_cast<rte_mbuf*>(obj);
            Bytes f(rte_pktmbuf_pkt_len(mb));
            const void* p = rte_pktmbuf_read(mb, 0, static_cast<uint32_t>(f.size()), f.data());
            if (p && p != f.data()) std::memcpy(f.data(), p, f.size());
            outs.push_back(Out{z, false, mb->nb_segs, std::move(f)});
            rte_pktmbuf_free(mb);
        }
    }
    void* obj;
    while (rte_ring_dequeue(R->pending_, &obj) == 0) {  // what the control thread would send after ARP
        auto* mb = static_cast<rte_mbuf*>(obj);
        const auto* meta = static_cast<const MbufMeta*>(rte_mbuf_to_priv(mb));
        Bytes f(rte_pktmbuf_mtod(mb, const uint8_t*), rte_pktmbuf_mtod(mb, const uint8_t*) + mb->data_len);
        outs.push_back(Out{static_cast<Zone>(meta->zone % kNumZones), true, mb->nb_segs, std::move(f)});
        rte_pktmbuf_free(mb);
    }
    CounterTotals after;
    after.add(R->counters_);
    std::vector<ArpLearnMsg> learnt;
    drain_learn(&learnt);
    const Checker c{in, variant, t, frame, outs};
    if (R->trace) {
        std::fprintf(stderr, "---- in %s (variant %d), %zu bytes:\n    %s\n", kZoneNames[idx(in)], variant,
                     frame.size(), hex(frame).c_str());
        for (int d = 0; d < kNumDrops; ++d)
            if (after.drops[d] != before.drops[d]) std::fprintf(stderr, "drop: %s\n", kDropNames[d]);
        for (const Out& o : outs)
            std::fprintf(stderr, "out %s%s: %zu bytes\n    %s\n", kZoneNames[idx(o.zone)],
                         o.pending ? " (waiting for ARP)" : "", o.f.size(), hex(o.f).c_str());
    }
    check(c, before, after, learnt);
    R->free_ring_mbufs(R->inject_);
    R->free_ring_mbufs(R->refeed_);
    ASAN_UNPOISON_MEMORY_REGION(buf, buf_len);

    if (pools_avail() != avail_before && c.on("leak")) {
        c.fail("leak", std::to_string(avail_before - pools_avail()) + " mbuf(s) not returned to the pool");
    }
    return 0;
}
