// FilterTable (filter.h): the firewall's rule table, pure.
//
// Rules belong to a zone pair and are tried in the order added; the first
// that matches decides, and its counter slot is reported; when none matches,
// the pair's policy decides (counted in the pair's policy slot), or, for
// forwarded flows (with_policy = false), the flow is allowed and not counted.
// Rules are built here as tables_build.cc compiles them from `filter`
// statements: no option means "any" (proto -1, prefix mask 0, ports 0-65535),
// and `ports` is set when the rule names `port` or `orig-port`.
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <string>

#include "filter.h"
#include "headers.h"
#include "packet_builder.h"

namespace ipshare {
namespace {

using test::dotted;
using test::ipv4;

constexpr uint32_t kWanIp = test::kWanIp;
constexpr uint32_t kInternet = test::kInternetHost;  // 198.51.100.20
constexpr uint32_t kOtherNet = ipv4(192, 0, 2, 7);   // another internet host, outside 198.51.100.0/24
constexpr uint32_t kTarget = ipv4(192, 168, 1, 101); // a forward's LAN target
constexpr uint32_t kClient = test::kClient1;

const char* verdict_name(FilterVerdict v) {
    switch (v) {
    case FilterVerdict::allow: return "allow";
    case FilterVerdict::deny: return "deny";
    case FilterVerdict::reject: return "reject";
    }
    return "?";
}

Subnet prefix(uint32_t addr, unsigned len) {
    const uint32_t mask = len == 0 ? 0 : ~uint32_t{0} << (32 - len);
    return Subnet{addr & mask, mask};
}

// A rule as tables_build.cc compiles it; options are set on the result.
CompiledRule rule(FilterVerdict action, uint16_t slot) {
    CompiledRule r;
    r.action = action;
    r.slot = slot;
    return r;
}

CompiledRule& with_port(CompiledRule& r, uint16_t lo, uint16_t hi) {
    r.port_lo = lo;
    r.port_hi = hi;
    r.ports = true;
    return r;
}

CompiledRule& with_orig_port(CompiledRule& r, uint16_t lo, uint16_t hi) {
    r.orig_port_lo = lo;
    r.orig_port_hi = hi;
    r.ports = true;
    return r;
}

// A packet of a flow that no forward translates: orig-dst/orig-port equal dst/port.
FilterPacket plain(uint8_t proto, uint32_t src, uint32_t dst, uint16_t dport = 0) {
    return FilterPacket{proto, src, dst, dst, dport, dport};
}

// A forwarded flow: sent to wan-ip:orig_port, going to target:port.
FilterPacket forwarded(uint8_t proto, uint32_t src, uint32_t target, uint16_t port, uint16_t orig_port) {
    return FilterPacket{proto, src, target, kWanIp, port, orig_port};
}

std::string describe(const FilterPacket& p) {
    return "proto " + std::to_string(p.proto) + " " + dotted(p.src) + " -> " + dotted(p.dst) + ":" +
           std::to_string(p.dport) + " (orig " + dotted(p.orig_dst) + ":" + std::to_string(p.orig_dport) + ")";
}

// evaluate() gave `action` from `slot`.
void expect_result(const FilterTable& t, Zone from, Zone to, const FilterPacket& p, FilterVerdict action,
                   uint16_t slot, bool with_policy = true) {
    const FilterTable::Result r = t.evaluate(from, to, p, with_policy);
    EXPECT_EQ(verdict_name(r.action), std::string(verdict_name(action))) << describe(p);
    EXPECT_EQ(r.slot, slot) << describe(p);
}

// ---------------------------------------------------------------- policies

TEST(FilterTable, EmptyTableAllowsEveryPairThroughItsPolicySlot) {
    FilterTable t;
    for (Zone from : kAllZones)
        for (Zone to : kAllZones) {
            if (from == to) continue;
            EXPECT_TRUE(t.pass_all(from, to)) << kZoneNames[idx(from)] << " -> " << kZoneNames[idx(to)];
            EXPECT_FALSE(t.has_rules(from, to));
            expect_result(t, from, to, plain(kIpProtoTcp, kInternet, kWanIp, 80), FilterVerdict::allow,
                          FilterTable::policy_slot(from, to));
        }
}

TEST(FilterTable, PolicyDecidesWhenNoRuleMatches) {
    FilterTable t;
    t.set_policy(Zone::wan, Zone::lan, FilterVerdict::deny);
    t.set_policy(Zone::dmz, Zone::lan, FilterVerdict::reject);
    CompiledRule r = rule(FilterVerdict::allow, 0);
    r.proto = kIpProtoUdp;
    t.add_rule(Zone::wan, Zone::lan, r);

    const uint16_t wl = FilterTable::policy_slot(Zone::wan, Zone::lan);
    const uint16_t dl = FilterTable::policy_slot(Zone::dmz, Zone::lan);
    expect_result(t, Zone::wan, Zone::lan, plain(kIpProtoTcp, kInternet, kClient, 22), FilterVerdict::deny, wl);
    expect_result(t, Zone::wan, Zone::lan, plain(kIpProtoUdp, kInternet, kClient, 53), FilterVerdict::allow, 0);
    expect_result(t, Zone::dmz, Zone::lan, plain(kIpProtoTcp, kWanIp, kClient, 22), FilterVerdict::reject, dl);
    EXPECT_EQ(verdict_name(t.policy(Zone::wan, Zone::lan)), std::string("deny"));
    EXPECT_EQ(verdict_name(t.policy(Zone::dmz, Zone::lan)), std::string("reject"));
    EXPECT_EQ(verdict_name(t.policy(Zone::lan, Zone::wan)), std::string("allow"));
}

TEST(FilterTable, PassAllOnlyWithoutRulesAndWithAnAllowPolicy) {
    FilterTable t;
    t.set_policy(Zone::dmz, Zone::lan, FilterVerdict::deny);
    t.add_rule(Zone::lan, Zone::wan, rule(FilterVerdict::allow, 0));  // even an allow rule counts
    EXPECT_FALSE(t.pass_all(Zone::dmz, Zone::lan)) << "deny policy";
    EXPECT_FALSE(t.pass_all(Zone::lan, Zone::wan)) << "a rule: it must be counted";
    EXPECT_TRUE(t.pass_all(Zone::lan, Zone::dmz));
    EXPECT_TRUE(t.pass_all(Zone::wan, Zone::dmz));
    EXPECT_TRUE(t.pass_all(Zone::lan, Zone::dmz));
    t.set_policy(Zone::dmz, Zone::lan, FilterVerdict::allow);
    EXPECT_TRUE(t.pass_all(Zone::dmz, Zone::lan)) << "the policy back to allow";
    t.set_policy(Zone::wan, Zone::dmz, FilterVerdict::reject);
    EXPECT_FALSE(t.pass_all(Zone::wan, Zone::dmz));
}

TEST(FilterTable, RulesBelongToTheirZonePair) {
    FilterTable t;
    t.add_rule(Zone::wan, Zone::dmz, rule(FilterVerdict::deny, 0));
    EXPECT_TRUE(t.has_rules(Zone::wan, Zone::dmz));
    EXPECT_FALSE(t.has_rules(Zone::dmz, Zone::wan)) << "the reverse pair";
    EXPECT_FALSE(t.has_rules(Zone::wan, Zone::lan));
    const FilterPacket p = plain(kIpProtoTcp, kInternet, kWanIp, 22);
    expect_result(t, Zone::wan, Zone::dmz, p, FilterVerdict::deny, 0);
    expect_result(t, Zone::wan, Zone::lan, p, FilterVerdict::allow, FilterTable::policy_slot(Zone::wan, Zone::lan));
    expect_result(t, Zone::dmz, Zone::wan, p, FilterVerdict::allow, FilterTable::policy_slot(Zone::dmz, Zone::wan));
}

// ---------------------------------------------------------------- order

TEST(FilterTable, FirstMatchWinsInOrder) {
    // filter deny   from wan to dmz proto tcp port 23      (slot 0)
    // filter reject from wan to dmz proto tcp port 20-24   (slot 1)
    // filter allow  from wan to dmz proto tcp              (slot 2)
    // filter deny   from wan to dmz                        (slot 3)
    FilterTable t;
    CompiledRule r0 = rule(FilterVerdict::deny, 0);
    r0.proto = kIpProtoTcp;
    t.add_rule(Zone::wan, Zone::dmz, with_port(r0, 23, 23));
    CompiledRule r1 = rule(FilterVerdict::reject, 1);
    r1.proto = kIpProtoTcp;
    t.add_rule(Zone::wan, Zone::dmz, with_port(r1, 20, 24));
    CompiledRule r2 = rule(FilterVerdict::allow, 2);
    r2.proto = kIpProtoTcp;
    t.add_rule(Zone::wan, Zone::dmz, r2);
    t.add_rule(Zone::wan, Zone::dmz, rule(FilterVerdict::deny, 3));

    expect_result(t, Zone::wan, Zone::dmz, plain(kIpProtoTcp, kInternet, kWanIp, 23), FilterVerdict::deny, 0);
    expect_result(t, Zone::wan, Zone::dmz, plain(kIpProtoTcp, kInternet, kWanIp, 24), FilterVerdict::reject, 1);
    expect_result(t, Zone::wan, Zone::dmz, plain(kIpProtoTcp, kInternet, kWanIp, 20), FilterVerdict::reject, 1);
    expect_result(t, Zone::wan, Zone::dmz, plain(kIpProtoTcp, kInternet, kWanIp, 25), FilterVerdict::allow, 2);
    expect_result(t, Zone::wan, Zone::dmz, plain(kIpProtoTcp, kInternet, kWanIp, 19), FilterVerdict::allow, 2);
    expect_result(t, Zone::wan, Zone::dmz, plain(kIpProtoUdp, kInternet, kWanIp, 23), FilterVerdict::deny, 3);
    expect_result(t, Zone::wan, Zone::dmz, plain(kIpProtoIcmp, kInternet, kWanIp), FilterVerdict::deny, 3);
}

TEST(FilterTable, ALaterRuleNeverOverridesAnEarlierMatch) {
    // The same two rules in both orders: the order alone decides.
    CompiledRule allow_net = rule(FilterVerdict::allow, 0);
    allow_net.proto = kIpProtoTcp;
    allow_net.src = prefix(ipv4(198, 51, 100, 0), 24);
    with_orig_port(allow_net, 8080, 8080);
    CompiledRule deny_port = rule(FilterVerdict::deny, 1);
    deny_port.proto = kIpProtoTcp;
    with_orig_port(deny_port, 8080, 8080);

    FilterTable a;
    a.add_rule(Zone::wan, Zone::lan, allow_net);
    a.add_rule(Zone::wan, Zone::lan, deny_port);
    expect_result(a, Zone::wan, Zone::lan, forwarded(kIpProtoTcp, kInternet, kTarget, 80, 8080),
                  FilterVerdict::allow, 0, false);
    expect_result(a, Zone::wan, Zone::lan, forwarded(kIpProtoTcp, kOtherNet, kTarget, 80, 8080),
                  FilterVerdict::deny, 1, false);

    FilterTable b;
    deny_port.slot = 0;
    allow_net.slot = 1;
    b.add_rule(Zone::wan, Zone::lan, deny_port);
    b.add_rule(Zone::wan, Zone::lan, allow_net);
    expect_result(b, Zone::wan, Zone::lan, forwarded(kIpProtoTcp, kInternet, kTarget, 80, 8080),
                  FilterVerdict::deny, 0, false);
    expect_result(b, Zone::wan, Zone::lan, forwarded(kIpProtoTcp, kOtherNet, kTarget, 80, 8080),
                  FilterVerdict::deny, 0, false);
}

TEST(FilterTable, RepeatedRulesAreKeptAndTheFirstCounts) {
    FilterTable t;
    CompiledRule r = rule(FilterVerdict::reject, 0);
    r.proto = kIpProtoTcp;
    with_port(r, 25, 25);
    t.add_rule(Zone::lan, Zone::wan, r);
    r.slot = 1;
    t.add_rule(Zone::lan, Zone::wan, r);
    expect_result(t, Zone::lan, Zone::wan, plain(kIpProtoTcp, kClient, kInternet, 25), FilterVerdict::reject, 0);
}

// ---------------------------------------------------------------- with_policy = false (forwards)

TEST(FilterTable, WithoutPolicyNoMatchAllowsAndIsNotCounted) {
    // `filter policy from wan to lan deny` does not apply to forwarded flows:
    // the forward statement admits them; only the rules may refuse them.
    FilterTable t;
    t.set_policy(Zone::wan, Zone::lan, FilterVerdict::deny);
    const FilterPacket p = forwarded(kIpProtoTcp, kInternet, kTarget, 80, 8080);
    expect_result(t, Zone::wan, Zone::lan, p, FilterVerdict::allow, FilterTable::kNoSlot, false);
    expect_result(t, Zone::wan, Zone::lan, p, FilterVerdict::deny, FilterTable::policy_slot(Zone::wan, Zone::lan));

    CompiledRule r = rule(FilterVerdict::deny, 0);
    r.proto = kIpProtoTcp;
    t.add_rule(Zone::wan, Zone::lan, with_orig_port(r, 8080, 8080));
    expect_result(t, Zone::wan, Zone::lan, p, FilterVerdict::deny, 0, false);
    expect_result(t, Zone::wan, Zone::lan, forwarded(kIpProtoTcp, kInternet, kTarget, 80, 8081),
                  FilterVerdict::allow, FilterTable::kNoSlot, false);
    CompiledRule rej = rule(FilterVerdict::reject, 1);
    rej.proto = kIpProtoUdp;
    t.add_rule(Zone::wan, Zone::lan, rej);
    expect_result(t, Zone::wan, Zone::lan, forwarded(kIpProtoUdp, kInternet, kTarget, 27015, 27015),
                  FilterVerdict::reject, 1, false);
}

// ---------------------------------------------------------------- ports

TEST(FilterTable, PortRangeIsInclusive) {
    FilterTable t;
    CompiledRule r = rule(FilterVerdict::deny, 0);
    r.proto = kIpProtoUdp;
    t.add_rule(Zone::lan, Zone::wan, with_port(r, 27015, 27020));
    const uint16_t policy = FilterTable::policy_slot(Zone::lan, Zone::wan);
    for (uint16_t p : {27015, 27016, 27019, 27020})
        expect_result(t, Zone::lan, Zone::wan, plain(kIpProtoUdp, kClient, kInternet, p), FilterVerdict::deny, 0);
    for (uint16_t p : {0, 27014, 27021, 65535})
        expect_result(t, Zone::lan, Zone::wan, plain(kIpProtoUdp, kClient, kInternet, p), FilterVerdict::allow,
                      policy);
}

TEST(FilterTable, PortMatchesAfterDnatOrigPortBefore) {
    // forward tcp 8080 to 192.168.1.101 port 80: dport 80, orig_dport 8080.
    FilterTable by_port, by_orig;
    CompiledRule r = rule(FilterVerdict::deny, 0);
    r.proto = kIpProtoTcp;
    CompiledRule port80 = r, orig80 = r, port8080 = r, orig8080 = r;
    with_port(port80, 80, 80);
    with_orig_port(orig80, 80, 80);
    with_port(port8080, 8080, 8080);
    with_orig_port(orig8080, 8080, 8080);
    const FilterPacket p = forwarded(kIpProtoTcp, kInternet, kTarget, 80, 8080);
    const struct {
        const char* name;
        CompiledRule rule;
        bool matches;
    } cases[] = {{"port 80", port80, true},
                 {"orig-port 80", orig80, false},
                 {"port 8080", port8080, false},
                 {"orig-port 8080", orig8080, true}};
    for (const auto& c : cases) {
        FilterTable t;
        t.add_rule(Zone::wan, Zone::lan, c.rule);
        const FilterTable::Result res = t.evaluate(Zone::wan, Zone::lan, p, false);
        EXPECT_EQ(res.action == FilterVerdict::deny, c.matches) << c.name;
        EXPECT_EQ(res.slot, c.matches ? 0 : FilterTable::kNoSlot) << c.name;
    }
}

TEST(FilterTable, PortAndOrigPortTogetherMustBothMatch) {
    FilterTable t;
    CompiledRule r = rule(FilterVerdict::deny, 0);
    r.proto = kIpProtoTcp;
    with_port(r, 6000, 6009);
    with_orig_port(r, 5000, 5004);
    t.add_rule(Zone::wan, Zone::lan, r);
    const auto v = [&](uint16_t port, uint16_t orig) {
        return t.evaluate(Zone::wan, Zone::lan, forwarded(kIpProtoTcp, kInternet, kTarget, port, orig), false).action;
    };
    EXPECT_EQ(v(6000, 5000), FilterVerdict::deny);
    EXPECT_EQ(v(6004, 5004), FilterVerdict::deny);
    EXPECT_EQ(v(6005, 5005), FilterVerdict::allow) << "orig-port outside 5000-5004";
    EXPECT_EQ(v(7000, 5000), FilterVerdict::allow) << "port outside 6000-6009";
}

TEST(FilterTable, OrigPortRangeOnAPlainFlowEqualsPort) {
    // Without a forward, orig-port is the destination port itself.
    FilterTable t;
    CompiledRule r = rule(FilterVerdict::reject, 0);
    r.proto = kIpProtoTcp;
    t.add_rule(Zone::wan, Zone::dmz, with_orig_port(r, 20, 25));
    EXPECT_EQ(t.evaluate(Zone::wan, Zone::dmz, plain(kIpProtoTcp, kInternet, kWanIp, 22)).action,
              FilterVerdict::reject);
    EXPECT_EQ(t.evaluate(Zone::wan, Zone::dmz, plain(kIpProtoTcp, kInternet, kWanIp, 26)).action,
              FilterVerdict::allow);
}

// ---------------------------------------------------------------- protocols

TEST(FilterTable, ProtoAnyMatchesEveryProtocol) {
    FilterTable t;
    t.add_rule(Zone::dmz, Zone::wan, rule(FilterVerdict::deny, 0));
    for (uint8_t proto : {kIpProtoIcmp, kIpProtoTcp, kIpProtoUdp, kIpProtoGre, kIpProtoEsp, kIpProtoSctp,
                          uint8_t{0}, uint8_t{255}})
        expect_result(t, Zone::dmz, Zone::wan, plain(proto, kWanIp, kInternet), FilterVerdict::deny, 0);
}

TEST(FilterTable, ProtoGivenMatchesOnlyThatProtocol) {
    for (uint8_t want : {kIpProtoIcmp, kIpProtoTcp, kIpProtoUdp, kIpProtoGre, uint8_t{0}}) {
        FilterTable t;
        CompiledRule r = rule(FilterVerdict::deny, 0);
        r.proto = want;
        t.add_rule(Zone::dmz, Zone::wan, r);
        for (uint8_t proto : {kIpProtoIcmp, kIpProtoTcp, kIpProtoUdp, kIpProtoGre, kIpProtoEsp, uint8_t{0}}) {
            const FilterTable::Result res = t.evaluate(Zone::dmz, Zone::wan, plain(proto, kWanIp, kInternet, 80));
            EXPECT_EQ(res.action == FilterVerdict::deny, proto == want)
                << "rule proto " << int{want} << ", packet proto " << int{proto};
        }
    }
}

// ---------------------------------------------------------------- prefixes

TEST(FilterTable, SourcePrefix) {
    FilterTable t;
    CompiledRule r = rule(FilterVerdict::deny, 0);
    r.src = prefix(ipv4(198, 51, 100, 0), 24);
    t.add_rule(Zone::wan, Zone::dmz, r);
    for (uint32_t src : {ipv4(198, 51, 100, 0), kInternet, ipv4(198, 51, 100, 255)})
        EXPECT_EQ(t.evaluate(Zone::wan, Zone::dmz, plain(kIpProtoTcp, src, kWanIp, 22)).action,
                  FilterVerdict::deny)
            << dotted(src);
    for (uint32_t src : {ipv4(198, 51, 99, 255), ipv4(198, 51, 101, 0), kOtherNet})
        EXPECT_EQ(t.evaluate(Zone::wan, Zone::dmz, plain(kIpProtoTcp, src, kWanIp, 22)).action,
                  FilterVerdict::allow)
            << dotted(src);
}

TEST(FilterTable, HostPrefixAndAnyPrefix) {
    FilterTable host, any;
    CompiledRule r = rule(FilterVerdict::deny, 0);
    r.dst = prefix(ipv4(192, 168, 1, 50), 32);
    host.add_rule(Zone::dmz, Zone::lan, r);
    r.dst = prefix(0, 0);  // 0.0.0.0/0
    any.add_rule(Zone::dmz, Zone::lan, r);
    EXPECT_EQ(host.evaluate(Zone::dmz, Zone::lan, plain(kIpProtoTcp, kWanIp, ipv4(192, 168, 1, 50), 5432)).action,
              FilterVerdict::deny);
    EXPECT_EQ(host.evaluate(Zone::dmz, Zone::lan, plain(kIpProtoTcp, kWanIp, ipv4(192, 168, 1, 51), 5432)).action,
              FilterVerdict::allow);
    for (uint32_t dst : {0u, ipv4(192, 168, 1, 51), ~0u})
        EXPECT_EQ(any.evaluate(Zone::dmz, Zone::lan, plain(kIpProtoTcp, kWanIp, dst, 1)).action,
                  FilterVerdict::deny)
            << dotted(dst);
}

TEST(FilterTable, DstMatchesAfterDnatOrigDstBefore) {
    // A forwarded flow goes to the target; its sender used wan-ip.
    const FilterPacket p = forwarded(kIpProtoTcp, kInternet, kTarget, 80, 8080);
    const Subnet target = prefix(kTarget, 32), wan_ip = prefix(kWanIp, 32);
    const struct {
        const char* name;
        bool use_dst;
        Subnet s;
        bool matches;
    } cases[] = {{"dst target", true, target, true},
                 {"dst wan-ip", true, wan_ip, false},
                 {"orig-dst wan-ip", false, wan_ip, true},
                 {"orig-dst target", false, target, false}};
    for (const auto& c : cases) {
        FilterTable t;
        CompiledRule r = rule(FilterVerdict::deny, 0);
        (c.use_dst ? r.dst : r.orig_dst) = c.s;
        t.add_rule(Zone::wan, Zone::lan, r);
        EXPECT_EQ(t.evaluate(Zone::wan, Zone::lan, p, false).action == FilterVerdict::deny, c.matches) << c.name;
    }
}

TEST(FilterTable, EveryOptionMustMatch) {
    // filter deny from wan to lan proto tcp src 198.51.100.0/24 dst 192.168.1.101/32 port 80
    //     orig-dst 203.0.113.10/32 orig-port 8080
    FilterTable t;
    CompiledRule r = rule(FilterVerdict::deny, 0);
    r.proto = kIpProtoTcp;
    r.src = prefix(ipv4(198, 51, 100, 0), 24);
    r.dst = prefix(kTarget, 32);
    r.orig_dst = prefix(kWanIp, 32);
    with_port(r, 80, 80);
    with_orig_port(r, 8080, 8080);
    t.add_rule(Zone::wan, Zone::lan, r);
    const FilterPacket match = forwarded(kIpProtoTcp, kInternet, kTarget, 80, 8080);
    EXPECT_EQ(t.evaluate(Zone::wan, Zone::lan, match, false).action, FilterVerdict::deny);
    FilterPacket p = match;
    p.proto = kIpProtoUdp;
    EXPECT_EQ(t.evaluate(Zone::wan, Zone::lan, p, false).action, FilterVerdict::allow) << "proto";
    p = match;
    p.src = kOtherNet;
    EXPECT_EQ(t.evaluate(Zone::wan, Zone::lan, p, false).action, FilterVerdict::allow) << "src";
    p = match;
    p.dst = ipv4(192, 168, 1, 102);
    EXPECT_EQ(t.evaluate(Zone::wan, Zone::lan, p, false).action, FilterVerdict::allow) << "dst";
    p = match;
    p.dport = 81;
    EXPECT_EQ(t.evaluate(Zone::wan, Zone::lan, p, false).action, FilterVerdict::allow) << "port";
    p = match;
    p.orig_dst = ipv4(203, 0, 113, 11);
    EXPECT_EQ(t.evaluate(Zone::wan, Zone::lan, p, false).action, FilterVerdict::allow) << "orig-dst";
    p = match;
    p.orig_dport = 8081;
    EXPECT_EQ(t.evaluate(Zone::wan, Zone::lan, p, false).action, FilterVerdict::allow) << "orig-port";
}

// ---------------------------------------------------------------- counter slots

TEST(FilterTable, PolicySlotsAreDistinctAndAfterTheRules) {
    std::set<uint16_t> seen;
    for (Zone from : kAllZones)
        for (Zone to : kAllZones) {
            const uint16_t s = FilterTable::policy_slot(from, to);
            EXPECT_GE(s, FilterTable::kMaxRules);
            EXPECT_LT(s, FilterTable::kSlots);
            EXPECT_NE(s, FilterTable::kNoSlot);
            EXPECT_TRUE(seen.insert(s).second) << "slot " << s << " used twice";
        }
    EXPECT_EQ(seen.size(), static_cast<size_t>(kNumZones * kNumZones));
    EXPECT_GT(FilterTable::kNoSlot, FilterTable::kSlots);
}

TEST(FilterTable, SlotsFollowTheConfigurationOrderAcrossPairs) {
    // Rules of several pairs, numbered in the order of the file: each match
    // reports its own slot, whatever pair it is in.
    FilterTable t;
    CompiledRule a = rule(FilterVerdict::deny, 0);
    a.proto = kIpProtoTcp;
    with_port(a, 23, 23);
    t.add_rule(Zone::wan, Zone::dmz, a);                       // line 1
    t.add_rule(Zone::dmz, Zone::lan, rule(FilterVerdict::allow, 1));  // line 2
    CompiledRule c = rule(FilterVerdict::reject, 2);
    c.proto = kIpProtoTcp;
    with_port(c, 24, 24);
    t.add_rule(Zone::wan, Zone::dmz, c);                       // line 3
    expect_result(t, Zone::wan, Zone::dmz, plain(kIpProtoTcp, kInternet, kWanIp, 23), FilterVerdict::deny, 0);
    expect_result(t, Zone::dmz, Zone::lan, plain(kIpProtoTcp, kWanIp, kClient, 22), FilterVerdict::allow, 1);
    expect_result(t, Zone::wan, Zone::dmz, plain(kIpProtoTcp, kInternet, kWanIp, 24), FilterVerdict::reject, 2);
    expect_result(t, Zone::wan, Zone::dmz, plain(kIpProtoTcp, kInternet, kWanIp, 22), FilterVerdict::allow,
                  FilterTable::policy_slot(Zone::wan, Zone::dmz));
}

}  // namespace
}  // namespace ipshare
