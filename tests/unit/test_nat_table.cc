// The NAPT session table (nat.h) over real rte_hash tables: sessions and
// their two keys, endpoint-independent mappings (RFC 4787 REQ-1), port
// preservation, per-client caps, table limits, endpoint-independent
// filtering, expiry by class, port rest after release (RFC 6888 REQ-8) and
// the session counters. Runs in unit_dpdk (one EAL for the process).
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "counters.h"
#include "headers.h"
#include "nat.h"

namespace ipshare {
namespace {

constexpr uint32_t ip4(unsigned a, unsigned b, unsigned c, unsigned d) { return a << 24 | b << 16 | c << 8 | d; }

constexpr uint32_t kWan = ip4(203, 0, 113, 10);
constexpr uint32_t kClient1 = ip4(192, 168, 1, 11);
constexpr uint32_t kClient2 = ip4(192, 168, 1, 12);
constexpr uint32_t kRemote = ip4(198, 51, 100, 20);
constexpr uint32_t kRemote2 = ip4(198, 51, 100, 21);
constexpr uint16_t kLo = 61000, kHi = 61099;

// tcp-established, tcp-transitory, udp, icmp, other
constexpr ClassTimeouts kTimeouts = {100, 10, 5, 3, 5};
constexpr unsigned kBudget = 1000;

NatParams small_params() {
    NatParams p;
    p.wan_ip = kWan;
    p.port_lo = kLo;
    p.port_hi = kHi;
    p.capacity = 64;
    p.per_client = 64;
    p.rest_seconds = 120;
    p.seed = 12345;
    return p;
}

std::unique_ptr<Nat> make_nat(const NatParams& p = small_params()) {
    static unsigned serial = 0;
    std::string err;
    auto nat = Nat::create("nt" + std::to_string(serial++), p, &err);
    EXPECT_NE(nat, nullptr) << err;
    return nat;
}

Flow flow(uint8_t proto, uint32_t client, uint16_t cport, uint32_t remote, uint16_t rport) {
    return Flow{client, remote, cport, rport, proto};
}
Flow udp(uint32_t client, uint16_t cport, uint32_t remote = kRemote, uint16_t rport = 53) {
    return flow(kIpProtoUdp, client, cport, remote, rport);
}
Flow tcp(uint32_t client, uint16_t cport, uint32_t remote = kRemote, uint16_t rport = 443) {
    return flow(kIpProtoTcp, client, cport, remote, rport);
}
Flow echo(uint32_t client, uint16_t id, uint32_t remote = kRemote) {  // as flow_of gives an echo request
    return flow(kIpProtoIcmp, client, id, remote, 0);
}
Flow gre(uint32_t client, uint32_t remote = kRemote) { return flow(kIpProtoGre, client, 0, remote, 0); }

// An inbound datagram remote:rport -> wan-ip:outside, as flow_of gives it.
Flow inbound(uint8_t proto, uint32_t remote, uint16_t rport, uint16_t outside) {
    return Flow{remote, kWan, rport, outside, proto};
}

// The keys the nat stage looks sessions up by.
FlowKey key_in(const Flow& f) { return inside_key(f.proto, f.src, f.sport, f.dst, f.dport); }
FlowKey key_out(const Session& s) { return outside_key(s.proto, s.remote_ip, s.remote_port, s.outside_port, kWan); }

uint32_t create(Nat& nat, const Flow& f, uint32_t now, NatFail* why) { return nat.create_outbound(f, kWan, now, why); }

// Creates an outbound session that must succeed.
uint32_t must_create(Nat& nat, const Flow& f, uint32_t now = 0) {
    NatFail why = NatFail::table_full;
    const uint32_t id = create(nat, f, now, &why);
    EXPECT_NE(id, kNone) << "why " << int(why);
    EXPECT_EQ(why, NatFail::none);
    return id == kNone ? 0 : id;  // the failure is recorded; keep later at(id) in bounds
}

uint16_t port_of(Nat& nat, uint32_t id) { return nat.at(id).outside_port; }

class NatTable : public ::testing::Test {
protected:
    void SetUp() override {
        nat = make_nat();
        ASSERT_NE(nat, nullptr);
    }
    std::unique_ptr<Nat> nat;
};

TEST_F(NatTable, CreateOutboundUdp) {
    const Flow f = udp(kClient1, 5000);
    const uint32_t id = must_create(*nat, f, 7);
    ASSERT_NE(id, kNone);
    const Session& s = nat->at(id);
    EXPECT_EQ(s.client_ip, kClient1);
    EXPECT_EQ(s.client_port, 5000);
    EXPECT_EQ(s.remote_ip, kRemote);
    EXPECT_EQ(s.remote_port, 53);
    EXPECT_EQ(s.proto, kIpProtoUdp);
    EXPECT_EQ(s.outside_ip, kWan);
    EXPECT_GE(s.outside_port, kLo);
    EXPECT_LE(s.outside_port, kHi);
    EXPECT_EQ(s.in_use, 1);
    EXPECT_EQ(s.last_seen, 7u);
    EXPECT_EQ(s.tclass, TimeoutClass::udp);
    EXPECT_NE(s.mapping, kNone);
    EXPECT_EQ(nat->mapping_port(s.mapping), s.outside_port);
    const NatDelta d = nat_delta(kIpProtoUdp, kClient1, 5000, kWan, s.outside_port);
    EXPECT_EQ(s.delta_out.ip, d.ip);
    EXPECT_EQ(s.delta_out.l4, d.l4);
    EXPECT_TRUE(nat->port_mapped(kIpProtoUdp, s.outside_port));
    EXPECT_FALSE(nat->port_mapped(kIpProtoTcp, s.outside_port));

    // both keys find it
    EXPECT_EQ(nat->lookup(key_in(f)), id);
    EXPECT_EQ(nat->lookup(outside_key(kIpProtoUdp, kRemote, 53, s.outside_port, kWan)), id);
    // and nothing else does
    EXPECT_EQ(nat->lookup(outside_key(kIpProtoUdp, kRemote, 54, s.outside_port, kWan)), kNone);
    EXPECT_EQ(nat->lookup(outside_key(kIpProtoUdp, kRemote2, 53, s.outside_port, kWan)), kNone);
    EXPECT_EQ(nat->lookup(outside_key(kIpProtoTcp, kRemote, 53, s.outside_port, kWan)), kNone);
    EXPECT_EQ(nat->lookup(key_in(udp(kClient1, 5001))), kNone);
    EXPECT_EQ(nat->lookup(key_in(udp(kClient2, 5000))), kNone);

    EXPECT_EQ(nat->active(), 1u);
    EXPECT_EQ(nat->active_by_proto(kIpProtoUdp), 1u);
    EXPECT_EQ(nat->active_by_proto(kIpProtoTcp), 0u);

    // the same flow again: the same session, nothing new
    NatFail why = NatFail::table_full;
    EXPECT_EQ(create(*nat, f, 8, &why), id);
    EXPECT_EQ(why, NatFail::none);
    EXPECT_EQ(nat->active(), 1u);
}

TEST_F(NatTable, LookupBulk) {
    const uint32_t a = must_create(*nat, udp(kClient1, 5000));
    const uint32_t b = must_create(*nat, tcp(kClient2, 40000));
    const FlowKey keys[] = {key_in(udp(kClient1, 5000)), key_in(udp(kClient1, 5999)), key_out(nat->at(b)),
                            key_out(nat->at(a)), key_in(tcp(kClient2, 40000))};
    const void* ptrs[5];
    for (int i = 0; i < 5; ++i) ptrs[i] = &keys[i];
    uint32_t ids[5] = {kNone, kNone, kNone, kNone, kNone};
    const uint64_t hits = nat->lookup_bulk(ptrs, 5, ids);
    EXPECT_EQ(hits, 0b11101u);
    EXPECT_EQ(ids[0], a);
    EXPECT_EQ(ids[2], b);
    EXPECT_EQ(ids[3], a);
    EXPECT_EQ(ids[4], b);
}

TEST_F(NatTable, EndpointIndependentMapping) {
    const uint32_t a = must_create(*nat, udp(kClient1, 5000, kRemote, 53));
    const uint32_t b = must_create(*nat, udp(kClient1, 5000, kRemote2, 53));
    const uint32_t c = must_create(*nat, udp(kClient1, 5000, kRemote, 123));
    EXPECT_NE(a, b);
    EXPECT_NE(a, c);
    EXPECT_NE(b, c);
    EXPECT_EQ(port_of(*nat, b), port_of(*nat, a));
    EXPECT_EQ(port_of(*nat, c), port_of(*nat, a));
    EXPECT_EQ(nat->at(b).mapping, nat->at(a).mapping);
    EXPECT_EQ(nat->lookup(key_out(nat->at(b))), b);
    EXPECT_EQ(nat->lookup(key_out(nat->at(c))), c);
    EXPECT_EQ(nat->active(), 3u);

    // the same for TCP and ICMP
    const uint32_t t1 = must_create(*nat, tcp(kClient1, 40000, kRemote));
    const uint32_t t2 = must_create(*nat, tcp(kClient1, 40000, kRemote2));
    EXPECT_EQ(port_of(*nat, t1), port_of(*nat, t2));
    const uint32_t e1 = must_create(*nat, echo(kClient1, 0x1234, kRemote));
    const uint32_t e2 = must_create(*nat, echo(kClient1, 0x1234, kRemote2));
    EXPECT_EQ(port_of(*nat, e1), port_of(*nat, e2));
}

TEST_F(NatTable, SameClientPortOfTwoClientsGetsTwoOutsidePorts) {
    const uint32_t a = must_create(*nat, udp(kClient1, 5000));
    const uint32_t b = must_create(*nat, udp(kClient2, 5000));
    EXPECT_NE(port_of(*nat, a), port_of(*nat, b));
    EXPECT_EQ(nat->lookup(key_out(nat->at(a))), a);
    EXPECT_EQ(nat->lookup(key_out(nat->at(b))), b);
    // and two ports of one client, too
    const uint32_t c = must_create(*nat, udp(kClient1, 5001));
    EXPECT_NE(port_of(*nat, c), port_of(*nat, a));
    EXPECT_NE(port_of(*nat, c), port_of(*nat, b));
}

TEST_F(NatTable, PortPreservation) {
    const uint32_t a = must_create(*nat, udp(kClient1, 61050));
    EXPECT_EQ(port_of(*nat, a), 61050);
    // taken: the next client with that port gets another
    const uint32_t b = must_create(*nat, udp(kClient2, 61050));
    EXPECT_NE(port_of(*nat, b), 61050);
    // ports are per protocol: TCP 61050 is still free
    const uint32_t t = must_create(*nat, tcp(kClient2, 61050));
    EXPECT_EQ(port_of(*nat, t), 61050);
    // out of range: not preserved
    const uint32_t c = must_create(*nat, udp(kClient1, 5000));
    EXPECT_GE(port_of(*nat, c), kLo);
    EXPECT_LE(port_of(*nat, c), kHi);
}

TEST_F(NatTable, IcmpEchoIdentifier) {
    const Flow f = echo(kClient1, 0x1234);
    const uint32_t id = must_create(*nat, f);
    const Session& s = nat->at(id);
    EXPECT_EQ(s.proto, kIpProtoIcmp);
    EXPECT_EQ(s.client_port, 0x1234);
    EXPECT_EQ(s.remote_port, 0);
    EXPECT_GE(s.outside_port, kLo);
    EXPECT_LE(s.outside_port, kHi);
    EXPECT_EQ(s.tclass, TimeoutClass::icmp);
    EXPECT_EQ(s.delta_out.l4, nat_delta(kIpProtoIcmp, kClient1, 0x1234, kWan, s.outside_port).l4);
    // the echo request's key, and the echo reply's (identifier in dport, sport 0)
    EXPECT_EQ(nat->lookup(inside_key(kIpProtoIcmp, kClient1, 0x1234, kRemote, 0)), id);
    EXPECT_EQ(nat->lookup(outside_key(kIpProtoIcmp, kRemote, 0, s.outside_port, kWan)), id);
    // another client with the same identifier: another outside identifier
    const uint32_t other = must_create(*nat, echo(kClient2, 0x1234));
    EXPECT_NE(nat->at(other).outside_port, s.outside_port);
    // an identifier in the range is preserved
    EXPECT_EQ(port_of(*nat, must_create(*nat, echo(kClient2, 61077))), 61077);
    EXPECT_EQ(nat->active_by_proto(kIpProtoIcmp), 3u);
}

TEST_F(NatTable, PortlessOneClientPerRemoteAndProtocol) {
    const uint32_t a = must_create(*nat, gre(kClient1));
    const Session& s = nat->at(a);
    EXPECT_EQ(s.mapping, kNone);
    EXPECT_EQ(s.outside_port, 0);
    EXPECT_EQ(s.client_port, 0);
    EXPECT_EQ(s.tclass, TimeoutClass::other);
    EXPECT_EQ(s.delta_out.ip, nat_delta(kIpProtoGre, kClient1, 0, kWan, 0).ip);
    EXPECT_EQ(nat->lookup(inside_key(kIpProtoGre, kClient1, 0, kRemote, 0)), a);
    EXPECT_EQ(nat->lookup(outside_key(kIpProtoGre, kRemote, 0, 0, kWan)), a);

    // the same client again: its session
    NatFail why = NatFail::none;
    EXPECT_EQ(create(*nat, gre(kClient1), 1, &why), a);
    // another client to the same remote and protocol: refused
    EXPECT_EQ(create(*nat, gre(kClient2), 1, &why), kNone);
    EXPECT_EQ(why, NatFail::portless_busy);
    // to another remote, or with another protocol: fine
    must_create(*nat, gre(kClient2, kRemote2));
    must_create(*nat, flow(kIpProtoEsp, kClient2, 0, kRemote, 0));
    EXPECT_EQ(nat->active_by_proto(kIpProtoGre), 3u);  // "other": GRE and ESP together
    // once the first client's session is gone, the second may have it
    nat->remove(a, 2);
    const uint32_t b = must_create(*nat, gre(kClient2), 2);
    EXPECT_EQ(nat->lookup(outside_key(kIpProtoGre, kRemote, 0, 0, kWan)), b);
    EXPECT_EQ(nat->at(b).client_ip, kClient2);
}

TEST(NatTableLimits, PerClientCap) {
    NatParams p = small_params();
    p.per_client = 3;
    auto nat = make_nat(p);
    ASSERT_NE(nat, nullptr);
    const uint32_t first = must_create(*nat, udp(kClient1, 1001));
    must_create(*nat, udp(kClient1, 1002));
    must_create(*nat, tcp(kClient1, 1003));
    NatFail why = NatFail::none;
    EXPECT_EQ(create(*nat, udp(kClient1, 1004), 0, &why), kNone);
    EXPECT_EQ(why, NatFail::client_cap);
    EXPECT_EQ(create(*nat, echo(kClient1, 7), 0, &why), kNone);
    EXPECT_EQ(why, NatFail::client_cap);
    EXPECT_EQ(nat->active(), 3u);
    // a new session on an existing mapping is no new mapping
    must_create(*nat, udp(kClient1, 1001, kRemote2));
    // another client is not affected
    must_create(*nat, udp(kClient2, 1004));
    // releasing a mapping makes room again
    nat->remove(first, 1);
    EXPECT_EQ(create(*nat, udp(kClient1, 1004), 1, &why), kNone) << "mapping 1001 still has a session";
    nat->remove(nat->lookup(key_in(udp(kClient1, 1001, kRemote2))), 1);
    must_create(*nat, udp(kClient1, 1004), 1);
}

// A client's count lives in a slot that its last mapping gives back: many
// more clients than the table holds, one after the other, each still capped.
TEST(NatTableLimits, PerClientCapHoldsAcrossClientTurnover) {
    NatParams p = small_params();
    p.per_client = 2;
    p.rest_seconds = 0;  // released ports come back at once
    auto nat = make_nat(p);
    ASSERT_NE(nat, nullptr);
    for (uint32_t c = 0; c < 4 * p.capacity; ++c) {
        const uint32_t client = ip4(192, 168, 2, 0) + c % 250;
        const uint32_t a = must_create(*nat, udp(client, 1001), c);
        const uint32_t b = must_create(*nat, udp(client, 1002), c);
        NatFail why = NatFail::none;
        ASSERT_EQ(create(*nat, udp(client, 1003), c, &why), kNone) << c;
        ASSERT_EQ(why, NatFail::client_cap) << c;
        nat->remove(a, c + 1);
        nat->remove(b, c + 1);
    }
    EXPECT_EQ(nat->active(), 0u);
}

// What the nat stage asks before skipping the second look at a key that
// missed: whether a session created since may have it.
TEST(NatTableLimits, MayExistSinceTellsTheRecentCreations) {
    auto nat = make_nat();
    ASSERT_NE(nat, nullptr);
    const uint64_t since = nat->created_total();
    EXPECT_FALSE(nat->may_exist_since(since, key_in(udp(kClient1, 1001))));
    must_create(*nat, udp(kClient1, 1001));
    EXPECT_EQ(nat->created_total(), since + 1);
    EXPECT_TRUE(nat->may_exist_since(since, key_in(udp(kClient1, 1001))));
    EXPECT_FALSE(nat->may_exist_since(since, key_in(udp(kClient1, 1002))));
    EXPECT_FALSE(nat->may_exist_since(nat->created_total(), key_in(udp(kClient1, 1001))));
    for (uint16_t i = 0; i < 63; ++i) must_create(*nat, udp(kClient2, static_cast<uint16_t>(3000 + i)));
    EXPECT_TRUE(nat->may_exist_since(since, key_in(udp(kClient1, 1001))));  // 64 creations: still known
    EXPECT_FALSE(nat->may_exist_since(since, key_in(udp(kClient1, 1002))));
}

TEST(NatTableLimits, TableFull) {
    NatParams p = small_params();
    auto nat = make_nat(p);
    ASSERT_NE(nat, nullptr);
    std::vector<uint32_t> ids;
    std::set<uint16_t> ports;
    for (uint16_t i = 0; i < p.capacity; ++i) {
        ids.push_back(must_create(*nat, udp(kClient1, static_cast<uint16_t>(2000 + i))));
        ports.insert(port_of(*nat, ids.back()));
    }
    EXPECT_EQ(ports.size(), p.capacity);
    EXPECT_EQ(nat->active(), p.capacity);
    NatFail why = NatFail::none;
    // a new endpoint: no mapping left
    EXPECT_EQ(create(*nat, udp(kClient2, 9999), 1, &why), kNone);
    EXPECT_EQ(why, NatFail::table_full);
    // an existing endpoint to a new remote: no session left
    why = NatFail::none;
    EXPECT_EQ(create(*nat, udp(kClient1, 2000, kRemote2), 1, &why), kNone);
    EXPECT_EQ(why, NatFail::table_full);
    why = NatFail::none;
    EXPECT_EQ(create(*nat, gre(kClient2), 1, &why), kNone);
    EXPECT_EQ(why, NatFail::table_full);
    EXPECT_EQ(nat->active(), p.capacity);
    // everything that was there still is, with its port
    for (uint16_t i = 0; i < p.capacity; ++i) {
        const Flow f = udp(kClient1, static_cast<uint16_t>(2000 + i));
        ASSERT_EQ(nat->lookup(key_in(f)), ids[i]) << i;
        ASSERT_EQ(nat->lookup(key_out(nat->at(ids[i]))), ids[i]) << i;
        EXPECT_TRUE(nat->port_mapped(kIpProtoUdp, port_of(*nat, ids[i])));
    }
    nat->remove(ids[0], 2);
    EXPECT_EQ(nat->active(), p.capacity - 1);
    const uint32_t again = must_create(*nat, udp(kClient2, 9999), 2);
    EXPECT_EQ(nat->lookup(key_in(udp(kClient2, 9999))), again);
}

TEST(NatTableLimits, PortsExhausted) {
    NatParams p = small_params();
    p.port_hi = kLo + 9;  // 10 ports
    auto nat = make_nat(p);
    ASSERT_NE(nat, nullptr);
    for (uint16_t i = 0; i < 10; ++i) must_create(*nat, udp(kClient1, static_cast<uint16_t>(3000 + i)));
    NatFail why = NatFail::none;
    EXPECT_EQ(create(*nat, udp(kClient2, 3000), 0, &why), kNone);
    EXPECT_EQ(why, NatFail::ports_exhausted);
    // other protocols have their own ports
    must_create(*nat, tcp(kClient2, 3000));
    must_create(*nat, echo(kClient2, 3000));
    // existing mappings still take new sessions
    must_create(*nat, udp(kClient1, 3000, kRemote2));
    EXPECT_EQ(nat->active(), 13u);
    // a failed mapping does not count against the client: the cap is untouched
    EXPECT_EQ(create(*nat, udp(kClient2, 3001), 0, &why), kNone);
    EXPECT_EQ(why, NatFail::ports_exhausted);
}

TEST_F(NatTable, InboundEndpointIndependentFiltering) {
    const uint32_t a = must_create(*nat, udp(kClient1, 5000));
    const uint16_t port = port_of(*nat, a);
    NatFail why = NatFail::table_full;
    const Flow in = inbound(kIpProtoUdp, kRemote2, 7777, port);
    const uint32_t b = nat->create_inbound_eif(in, 3, &why);
    ASSERT_NE(b, kNone);
    EXPECT_EQ(why, NatFail::none);
    EXPECT_NE(b, a);
    const Session& s = nat->at(b);
    EXPECT_EQ(s.client_ip, kClient1);
    EXPECT_EQ(s.client_port, 5000);
    EXPECT_EQ(s.remote_ip, kRemote2);
    EXPECT_EQ(s.remote_port, 7777);
    EXPECT_EQ(s.outside_port, port);
    EXPECT_EQ(s.mapping, nat->at(a).mapping);
    EXPECT_EQ(s.last_seen, 3u);
    EXPECT_EQ(s.delta_out.l4, nat->at(a).delta_out.l4);
    EXPECT_EQ(nat->lookup(outside_key(kIpProtoUdp, kRemote2, 7777, port, kWan)), b);
    EXPECT_EQ(nat->lookup(inside_key(kIpProtoUdp, kClient1, 5000, kRemote2, 7777)), b);
    EXPECT_EQ(nat->active(), 2u);

    // no mapping on the port: nothing
    uint16_t unmapped = kLo;
    while (unmapped == port) ++unmapped;
    EXPECT_EQ(nat->create_inbound_eif(inbound(kIpProtoUdp, kRemote2, 7777, unmapped), 3, &why), kNone);
    EXPECT_EQ(nat->create_inbound_eif(inbound(kIpProtoUdp, kRemote2, 7777, 80), 3, &why), kNone);
    EXPECT_EQ(nat->create_inbound_eif(inbound(kIpProtoTcp, kRemote2, 7777, port), 3, &why), kNone);
    EXPECT_EQ(nat->create_inbound_eif(inbound(kIpProtoGre, kRemote2, 0, 0), 3, &why), kNone);
    EXPECT_EQ(nat->active(), 2u);

    // the EIF session holds the mapping: the client's own session may go
    nat->remove(a, 4);
    EXPECT_TRUE(nat->port_mapped(kIpProtoUdp, port));
    const uint32_t c = nat->create_inbound_eif(inbound(kIpProtoUdp, kRemote, 9, port), 4, &why);
    EXPECT_NE(c, kNone);
    nat->remove(b, 5);
    nat->remove(c, 5);
    EXPECT_FALSE(nat->port_mapped(kIpProtoUdp, port));
    EXPECT_EQ(nat->create_inbound_eif(inbound(kIpProtoUdp, kRemote2, 7778, port), 5, &why), kNone);
    EXPECT_EQ(nat->active(), 0u);
}

// Two packets of one new inbound flow in one burst both miss the bulk
// lookup of stage_nat, so on_nat_in -> create_inbound calls
// create_inbound_eif twice for the same flow. The second call must give the
// first session back, not a second one that takes over both keys in the hash
// (rte_hash_add_key_data replaces the data of a present key) and leaves the
// first one orphaned on its expiry list: when the orphan expires, remove()
// deletes the keys the live session uses.
TEST_F(NatTable, InboundEndpointIndependentFilteringTwiceGivesOneSession) {
    const uint32_t a = must_create(*nat, udp(kClient1, 5000));
    const uint16_t port = port_of(*nat, a);
    const Flow in = inbound(kIpProtoUdp, kRemote2, 7777, port);
    NatFail why = NatFail::none;
    const uint32_t b = nat->create_inbound_eif(in, 3, &why);
    ASSERT_NE(b, kNone);
    const uint32_t b2 = nat->create_inbound_eif(in, 3, &why);
    EXPECT_EQ(b2, b);
    EXPECT_EQ(nat->active(), 2u);
    // the consequence: the older of the two expires first and takes the keys with it
    nat->touch(b2, 4, kTimeouts);
    nat->touch(a, 4, kTimeouts);
    EXPECT_EQ(nat->expire(8, kTimeouts, kBudget), 0u);
    EXPECT_EQ(nat->lookup(outside_key(kIpProtoUdp, kRemote2, 7777, port, kWan)), b2);
}

// The same for a forward's session: two packets of a new flow to a forwarded
// port in one burst.
TEST_F(NatTable, ForwardSessionTwiceGivesOneSession) {
    const Flow in = inbound(kIpProtoUdp, kRemote, 40000, 5060);
    NatFail why = NatFail::none;
    const uint32_t a = nat->create_forward(in, kClient1, 5060, 1, 0, &why);
    ASSERT_NE(a, kNone);
    const uint32_t b = nat->create_forward(in, kClient1, 5060, 1, 0, &why);
    EXPECT_EQ(b, a);
    EXPECT_EQ(nat->active(), 1u);
}

// And for a tracked LAN -> server flow (create_track).
TEST_F(NatTable, TrackSessionTwiceGivesOneSession) {
    const Flow f = udp(kClient1, 5000, kWan, 53);
    NatFail why = NatFail::none;
    const uint32_t a = nat->create_track(f, 0, &why);
    ASSERT_NE(a, kNone);
    const uint32_t b = nat->create_track(f, 0, &why);
    EXPECT_EQ(b, a);
    EXPECT_EQ(nat->active(), 1u);
}

TEST_F(NatTable, ExpireUdp) {
    const uint32_t id = must_create(*nat, udp(kClient1, 5000), 0);
    const FlowKey out = key_out(nat->at(id));
    EXPECT_EQ(nat->expire(4, kTimeouts, kBudget), 0u);
    EXPECT_EQ(nat->lookup(key_in(udp(kClient1, 5000))), id);
    EXPECT_EQ(nat->expire(5, kTimeouts, kBudget), 1u);
    EXPECT_EQ(nat->lookup(key_in(udp(kClient1, 5000))), kNone);
    EXPECT_EQ(nat->lookup(out), kNone);
    EXPECT_EQ(nat->active(), 0u);
    EXPECT_EQ(nat->at(id).in_use, 0);
}

TEST_F(NatTable, TouchKeepsAlive) {
    const uint32_t id = must_create(*nat, udp(kClient1, 5000), 0);
    nat->touch(id, 3, kTimeouts);
    EXPECT_EQ(nat->at(id).last_seen, 3u);
    EXPECT_EQ(nat->expire(5, kTimeouts, kBudget), 0u);
    EXPECT_EQ(nat->expire(7, kTimeouts, kBudget), 0u);
    EXPECT_EQ(nat->lookup(key_in(udp(kClient1, 5000))), id);
    EXPECT_EQ(nat->expire(8, kTimeouts, kBudget), 1u);
    EXPECT_EQ(nat->lookup(key_in(udp(kClient1, 5000))), kNone);
}

TEST_F(NatTable, ExpiryOrderAfterTouch) {
    const uint32_t a = must_create(*nat, udp(kClient1, 5000), 0);
    const uint32_t b = must_create(*nat, udp(kClient1, 5001), 1);
    const uint32_t c = must_create(*nat, udp(kClient1, 5002), 2);
    nat->touch(a, 2, kTimeouts);  // a now behind c
    nat->touch(a, 2, kTimeouts);  // twice in one second: harmless
    EXPECT_EQ(nat->expire(6, kTimeouts, kBudget), 1u);  // b (1 + 5)
    EXPECT_EQ(nat->at(b).in_use, 0);
    EXPECT_EQ(nat->at(a).in_use, 1);
    EXPECT_EQ(nat->at(c).in_use, 1);
    EXPECT_EQ(nat->expire(7, kTimeouts, kBudget), 2u);  // c and a (2 + 5)
    EXPECT_EQ(nat->active(), 0u);
}

TEST_F(NatTable, ExpireBudget) {
    for (uint16_t i = 0; i < 5; ++i) must_create(*nat, udp(kClient1, static_cast<uint16_t>(5000 + i)), 0);
    EXPECT_EQ(nat->expire(10, kTimeouts, 2), 2u);
    EXPECT_EQ(nat->active(), 3u);
    EXPECT_EQ(nat->expire(10, kTimeouts, 2), 2u);
    EXPECT_EQ(nat->expire(10, kTimeouts, 2), 1u);
    EXPECT_EQ(nat->active(), 0u);
    EXPECT_EQ(nat->expire(10, kTimeouts, 2), 0u);
}

TEST_F(NatTable, ExpireByClass) {
    const uint32_t e = must_create(*nat, echo(kClient1, 1), 0);   // 3 s
    const uint32_t u = must_create(*nat, udp(kClient1, 1), 0);    // 5 s
    const uint32_t g = must_create(*nat, gre(kClient1), 0);       // 5 s
    const uint32_t t = must_create(*nat, tcp(kClient1, 1), 0);    // 10 s (transitory)
    EXPECT_EQ(nat->at(t).tclass, TimeoutClass::tcp_transitory);
    EXPECT_EQ(nat->expire(2, kTimeouts, kBudget), 0u);
    EXPECT_EQ(nat->expire(3, kTimeouts, kBudget), 1u);
    EXPECT_EQ(nat->at(e).in_use, 0);
    EXPECT_EQ(nat->expire(4, kTimeouts, kBudget), 0u);
    EXPECT_EQ(nat->expire(5, kTimeouts, kBudget), 2u);
    EXPECT_EQ(nat->at(u).in_use, 0);
    EXPECT_EQ(nat->at(g).in_use, 0);
    EXPECT_EQ(nat->expire(9, kTimeouts, kBudget), 0u);
    EXPECT_EQ(nat->at(t).in_use, 1);
    EXPECT_EQ(nat->expire(10, kTimeouts, kBudget), 1u);
    EXPECT_EQ(nat->active(), 0u);
}

TEST_F(NatTable, TcpEstablishedUsesTheEstablishedTimeout) {
    const uint32_t id = must_create(*nat, tcp(kClient1, 40000), 0);
    nat->update_tcp(id, Dir::out, TcpSegment{kTcpSyn, 0, 0}, 0);
    EXPECT_EQ(nat->at(id).tcp, TcpState::syn_out);
    EXPECT_EQ(nat->at(id).tclass, TimeoutClass::tcp_transitory);
    nat->update_tcp(id, Dir::in, TcpSegment{kTcpSyn | kTcpAck, 0, 0}, 1);
    EXPECT_EQ(nat->at(id).tcp, TcpState::established);
    EXPECT_EQ(nat->at(id).tclass, TimeoutClass::tcp_established);
    EXPECT_EQ(nat->expire(11, kTimeouts, kBudget), 0u);  // transitory would be gone
    EXPECT_EQ(nat->expire(100, kTimeouts, kBudget), 0u);
    EXPECT_EQ(nat->lookup(key_in(tcp(kClient1, 40000))), id);
    EXPECT_EQ(nat->expire(101, kTimeouts, kBudget), 1u);  // 1 + 100
    EXPECT_EQ(nat->lookup(key_in(tcp(kClient1, 40000))), kNone);
}

// Half-closed connections keep the established timeout (data may still flow
// the other way); time-wait goes back to transitory.
TEST_F(NatTable, TcpCloseTimeouts) {
    const uint32_t id = must_create(*nat, tcp(kClient1, 40000), 0);
    nat->update_tcp(id, Dir::out, TcpSegment{kTcpSyn, 0, 0}, 0);
    nat->update_tcp(id, Dir::in, TcpSegment{kTcpSyn | kTcpAck, 0, 0}, 0);
    nat->touch(id, 50, kTimeouts);
    nat->update_tcp(id, Dir::out, TcpSegment{kTcpFin | kTcpAck, 0, 0}, 50);
    EXPECT_EQ(nat->at(id).tcp, TcpState::fin_out);
    EXPECT_EQ(nat->at(id).tclass, TimeoutClass::tcp_established);
    EXPECT_EQ(nat->expire(149, kTimeouts, kBudget), 0u);  // 50 + 100 not yet
    nat->update_tcp(id, Dir::in, TcpSegment{kTcpFin | kTcpAck, 0, 0}, 140);
    EXPECT_EQ(nat->at(id).tcp, TcpState::fin_both);
    EXPECT_EQ(nat->at(id).tclass, TimeoutClass::tcp_transitory);
    EXPECT_EQ(nat->at(id).last_seen, 140u);
    EXPECT_EQ(nat->expire(149, kTimeouts, kBudget), 0u);
    EXPECT_EQ(nat->expire(150, kTimeouts, kBudget), 1u);  // 140 + 10
}

TEST_F(NatTable, TcpHalfClosedByRemoteKeepsEstablishedTimeout) {
    const uint32_t id = must_create(*nat, tcp(kClient1, 40000), 0);
    nat->update_tcp(id, Dir::out, TcpSegment{kTcpSyn, 0, 0}, 0);
    nat->update_tcp(id, Dir::in, TcpSegment{kTcpSyn | kTcpAck, 0, 0}, 0);
    nat->update_tcp(id, Dir::in, TcpSegment{kTcpFin | kTcpAck, 0, 0}, 5);
    EXPECT_EQ(nat->at(id).tcp, TcpState::fin_in);
    EXPECT_EQ(nat->at(id).tclass, TimeoutClass::tcp_established);
    EXPECT_EQ(nat->expire(99, kTimeouts, kBudget), 0u);
    EXPECT_EQ(nat->expire(100, kTimeouts, kBudget), 1u);  // 0 + 100: the class did not change at 5
}

TEST_F(NatTable, TcpResetGoesTransitory) {
    const uint32_t id = must_create(*nat, tcp(kClient1, 40000), 0);
    nat->update_tcp(id, Dir::out, TcpSegment{kTcpSyn, 0, 0}, 0);
    nat->update_tcp(id, Dir::in, TcpSegment{kTcpSyn | kTcpAck, 0, 0}, 0);
    nat->update_tcp(id, Dir::in, TcpSegment{kTcpRst, 0, 0}, 20);
    EXPECT_EQ(nat->at(id).tcp, TcpState::rst);
    EXPECT_EQ(nat->at(id).tclass, TimeoutClass::tcp_transitory);
    EXPECT_EQ(nat->expire(29, kTimeouts, kBudget), 0u);
    EXPECT_EQ(nat->expire(30, kTimeouts, kBudget), 1u);
}

TEST_F(NatTable, TcpNeverEstablishedExpiresTransitory) {
    const uint32_t id = must_create(*nat, tcp(kClient1, 40000), 0);
    nat->update_tcp(id, Dir::out, TcpSegment{kTcpSyn, 0, 0}, 0);
    EXPECT_EQ(nat->expire(9, kTimeouts, kBudget), 0u);
    EXPECT_EQ(nat->expire(10, kTimeouts, kBudget), 1u);
}

TEST_F(NatTable, ExpiredPortRests) {
    const uint32_t a = must_create(*nat, udp(kClient1, 5000), 0);
    const uint16_t old_port = port_of(*nat, a);
    ASSERT_EQ(nat->expire(5, kTimeouts, kBudget), 1u);
    EXPECT_FALSE(nat->port_mapped(kIpProtoUdp, old_port));
    const uint32_t b = must_create(*nat, udp(kClient1, 5000), 6);
    EXPECT_NE(port_of(*nat, b), old_port) << "a released port must rest 120 s";

    // port preservation waits for the rest too
    const uint32_t c = must_create(*nat, udp(kClient2, 61050), 6);
    ASSERT_EQ(port_of(*nat, c), 61050);
    nat->remove(c, 10);
    EXPECT_NE(port_of(*nat, must_create(*nat, udp(kClient2, 61050, kRemote2), 129)), 61050);
    nat->remove(nat->lookup(key_in(udp(kClient2, 61050, kRemote2))), 129);
    EXPECT_EQ(port_of(*nat, must_create(*nat, udp(kClient1, 61050), 130)), 61050);
}

TEST_F(NatTable, CountersGoBackToZero) {
    Counters c;
    nat->set_counters(&c);
    must_create(*nat, tcp(kClient1, 1), 0);
    must_create(*nat, udp(kClient1, 1), 0);
    must_create(*nat, udp(kClient1, 1, kRemote2), 0);
    must_create(*nat, echo(kClient1, 1), 0);
    must_create(*nat, gre(kClient1), 0);
    EXPECT_EQ(c.nat_created.get(), 5u);
    EXPECT_EQ(c.nat_active[0].get(), 1u);  // tcp
    EXPECT_EQ(c.nat_active[1].get(), 2u);  // udp
    EXPECT_EQ(c.nat_active[2].get(), 1u);  // icmp
    EXPECT_EQ(c.nat_active[3].get(), 1u);  // other
    EXPECT_EQ(nat->active_by_proto(kIpProtoTcp), 1u);
    EXPECT_EQ(nat->active_by_proto(kIpProtoUdp), 2u);
    EXPECT_EQ(nat->active_by_proto(kIpProtoIcmp), 1u);
    EXPECT_EQ(nat->active_by_proto(kIpProtoGre), 1u);
    // a refused creation counts nothing
    NatFail why = NatFail::none;
    EXPECT_EQ(create(*nat, gre(kClient2), 0, &why), kNone);
    EXPECT_EQ(c.nat_created.get(), 5u);

    EXPECT_EQ(nat->expire(10, kTimeouts, kBudget), 5u);
    EXPECT_EQ(c.nat_expired.get(), 5u);
    for (int p = 0; p < 4; ++p) EXPECT_EQ(c.nat_active[p].get(), 0u) << p;
    EXPECT_EQ(nat->active(), 0u);
    for (uint8_t proto : {kIpProtoTcp, kIpProtoUdp, kIpProtoIcmp, kIpProtoGre})
        EXPECT_EQ(nat->active_by_proto(proto), 0u) << int(proto);

    // remove() counts active down too, but not as expired
    const uint32_t id = must_create(*nat, udp(kClient2, 7), 20);
    EXPECT_EQ(c.nat_active[1].get(), 1u);
    nat->remove(id, 21);
    EXPECT_EQ(c.nat_active[1].get(), 0u);
    EXPECT_EQ(c.nat_expired.get(), 5u);
    EXPECT_EQ(c.nat_created.get(), 6u);
    nat->set_counters(nullptr);
}

TEST_F(NatTable, RemoveFreesBothKeysAndTheMapping) {
    const Flow f = udp(kClient1, 5000);
    const uint32_t a = must_create(*nat, f, 0);
    const uint32_t b = must_create(*nat, udp(kClient1, 5000, kRemote2), 0);
    const FlowKey out_a = key_out(nat->at(a));
    const uint16_t port = port_of(*nat, a);
    nat->remove(a, 1);
    EXPECT_EQ(nat->lookup(key_in(f)), kNone);
    EXPECT_EQ(nat->lookup(out_a), kNone);
    EXPECT_EQ(nat->lookup(key_out(nat->at(b))), b);
    EXPECT_EQ(nat->active(), 1u);
    // the mapping lives on with b: a new remote still gets the same port
    EXPECT_TRUE(nat->port_mapped(kIpProtoUdp, port));
    const uint32_t c = must_create(*nat, f, 1);
    EXPECT_EQ(port_of(*nat, c), port);
    nat->remove(b, 2);
    nat->remove(c, 2);
    nat->remove(c, 2);  // twice: harmless
    EXPECT_EQ(nat->active(), 0u);
    EXPECT_FALSE(nat->port_mapped(kIpProtoUdp, port));
    // a session slot is reused, and the new mapping does not get the resting port
    const uint32_t d = must_create(*nat, f, 3);
    EXPECT_NE(port_of(*nat, d), port);
    EXPECT_EQ(nat->lookup(key_in(f)), d);
    EXPECT_EQ(nat->active(), 1u);
}

TEST(NatTableSlices, WorkerGetsOnlyItsPorts) {
    for (unsigned k = 0; k < 3; ++k) {
        NatParams p = small_params();
        p.stride = 3;
        p.offset = k;
        auto nat = make_nat(p);
        ASSERT_NE(nat, nullptr);
        for (uint16_t i = 0; i < 30; ++i) {
            // client ports in the range, some of them another worker's
            const uint32_t id = must_create(*nat, udp(kClient1, static_cast<uint16_t>(kLo + i)));
            ASSERT_NE(id, kNone);
            EXPECT_EQ((port_of(*nat, id) - kLo) % 3, static_cast<int>(k)) << port_of(*nat, id);
        }
    }
}

}  // namespace
}  // namespace ipshare
