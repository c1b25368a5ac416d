// Unit tests for the configuration grammar (control/config_parse.h): `no
// STATEMENT`, which removes an item or puts a setting back to its default.
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "config_test_support.h"

namespace ipshare {
namespace {

using namespace test;

// ---------------------------------------------------------------- no

Config with_forwards() {
    return must_parse(reference() +
                      "forward tcp 8080 to 192.168.1.101 port 80\n"
                      "forward udp 27015-27020 to 192.168.1.102\n"
                      "forward tcp+udp 5000-5009 to 192.168.1.103 port 6000-6009\n"
                      "forward tcp 443 to 192.168.1.101\n");
}

TEST(ConfigNo, ForwardByProtocolAndPorts) {
    Config c = with_forwards();
    apply_ok(c, "no forward tcp 8080");
    ASSERT_EQ(c.forwards.size(), 3u);
    EXPECT_EQ(c.forwards[0].ports, (PortRange{27015, 27020}));
    apply_ok(c, "no forward tcp+udp 5000-5009");
    ASSERT_EQ(c.forwards.size(), 2u);
    EXPECT_EQ(c.forwards[1].ports.lo, 443);
    EXPECT_FALSE(validate_config(c).has_value());
}

TEST(ConfigNo, ForwardWholeStatement) {
    Config c = with_forwards();
    apply_ok(c, "no forward udp 27015-27020 to 192.168.1.102");
    apply_ok(c, "no forward tcp+udp 5000-5009 to 192.168.1.103 port 6000");  // same as 6000-6009
    apply_ok(c, "no forward tcp 443 to 192.168.1.101 port 443");  // same as no port
    ASSERT_EQ(c.forwards.size(), 1u);
    EXPECT_EQ(c.forwards[0].ports.lo, 8080);
}

TEST(ConfigNo, ForwardNotThere) {
    Config c = with_forwards();
    apply_fails(c, "no forward tcp 9999", "no forward matches 'tcp 9999'");
    apply_fails(c, "no forward udp 8080", "no forward matches 'udp 8080'");  // protocols must be equal
    apply_fails(c, "no forward tcp 5000-5009", "no forward matches 'tcp 5000-5009'");  // tcp+udp is not tcp
    apply_fails(c, "no forward udp 27015", "no forward matches 'udp 27015'");  // ranges must be equal
    apply_fails(c, "no forward tcp 8080 to 192.168.1.102 port 80",
                "no forward matches 'tcp 8080 to 192.168.1.102 port 80'");
    apply_fails(c, "no forward tcp 8080 to 192.168.1.101", "no forward matches 'tcp 8080 to 192.168.1.101'");
    EXPECT_EQ(c.forwards.size(), 4u);
}

TEST(ConfigNo, ForwardSyntax) {
    Config c = with_forwards();
    apply_fails(c, "no forward", "missing argument after 'no forward'");
    apply_fails(c, "no forward tcp", "missing argument after 'no forward tcp'");
    apply_fails(c, "no forward icmp 8080", "unknown forward protocol 'icmp' (expected tcp, udp or tcp+udp)");
    apply_fails(c, "no forward tcp 80-", "bad port '80-' (expected PORT or LO-HI)");
    apply_fails(c, "no forward tcp 8080 192.168.1.101",
                "expected 'to' after 'no forward tcp 8080', got '192.168.1.101'");
    apply_fails(c, "no forward tcp 8080 to 192.168.1.101 port 80 extra", "unexpected 'extra' after statement");
}

TEST(ConfigNo, Route) {
    Config c = reference_config();
    apply_ok(c, "no route 10.20.0.0/16");
    ASSERT_EQ(c.routes.size(), 1u);
    EXPECT_EQ(c.routes[0].dev, Zone::wan);
    apply_fails(c, "no route 10.20.0.0/16", "no route matches '10.20.0.0/16'");
    apply_fails(c, "no route 203.0.113.128/26", "no route matches '203.0.113.128/26'");  // length must match
    apply_fails(c, "no route 203.0.113.128/25 dev lan", "no route matches '203.0.113.128/25 dev lan'");
    apply_fails(c, "no route 203.0.113.128/25 via 203.0.113.1", "no route matches '203.0.113.128/25 via 203.0.113.1'");
    apply_fails(c, "no route", "missing argument after 'no route'");
    apply_fails(c, "no route 10.0.0.0", "missing prefix length in '10.0.0.0' (expected A.B.C.D/LEN)");
    apply_fails(c, "no route 203.0.113.128/25 gw 203.0.113.1",
                "expected 'via' or 'dev' after 'no route 203.0.113.128/25', got 'gw'");
    apply_ok(c, "no route 203.0.113.128/25 dev wan");
    EXPECT_TRUE(c.routes.empty());
    apply_ok(c, "route 10.20.0.0/16 via 192.168.1.254");
    apply_ok(c, "no route 10.20.0.0/16 via 192.168.1.254");
    EXPECT_TRUE(c.routes.empty());
}

TEST(ConfigNo, FilterRemovesFirstEqualRule) {
    Config c = must_parse(reference() +
                          "filter deny from wan to lan proto tcp orig-port 8080\n"
                          "filter allow from wan to lan proto tcp\n"
                          "filter deny from wan to lan proto tcp orig-port 8080\n");
    apply_ok(c, "no filter deny from wan to lan orig-port 8080 proto tcp");  // options in another order
    ASSERT_EQ(c.filters.size(), 2u);
    EXPECT_EQ(c.filters[0].action, FilterAction::allow);
    EXPECT_EQ(c.filters[1].line, 12);  // the later copy stays
    apply_ok(c, "no filter deny from wan to lan proto 6 orig-port 8080");
    ASSERT_EQ(c.filters.size(), 1u);
    apply_fails(c, "no filter deny from wan to lan proto tcp orig-port 8080",
                "no filter matches 'deny from wan to lan proto tcp orig-port 8080'");
    apply_fails(c, "no filter allow from wan to lan", "no filter matches 'allow from wan to lan'");
    apply_fails(c, "no filter reject from wan to lan proto tcp",
                "no filter matches 'reject from wan to lan proto tcp'");
    apply_fails(c, "no filter allow from lan to lan", "filter from lan to lan: from and to must be different zones");
    apply_fails(c, "no filter", "missing argument after 'no filter'");
    apply_fails(c, "no filter drop from wan to lan",
                "unknown filter action 'drop' (expected allow, deny, reject or policy)");
    apply_ok(c, "no filter allow from wan to lan proto tcp");
    EXPECT_TRUE(c.filters.empty());
}

TEST(ConfigNo, FilterPolicy) {
    Config c = must_parse(ref_plus("filter policy from dmz to lan allow"));
    apply_fails(c, "no filter policy from dmz to lan deny", "no filter policy from dmz to lan matches 'deny'");
    apply_ok(c, "no filter policy from dmz to lan allow");
    EXPECT_EQ(c.policies[size_t(Zone::dmz)][size_t(Zone::lan)], FilterAction::deny);
    EXPECT_EQ(c.policy_line[size_t(Zone::dmz)][size_t(Zone::lan)], 0);
    apply_ok(c, "filter policy from wan to dmz deny");
    apply_ok(c, "no filter policy from wan to dmz");
    EXPECT_EQ(c.policies, kDefaultPolicies);
    apply_ok(c, "no filter policy from wan to dmz");  // already the default: still fine
    apply_fails(c, "no filter policy from lan to lan",
                "filter policy from lan to lan: from and to must be different zones");
    apply_fails(c, "no filter policy from wan to lan drop",
                "unknown filter action 'drop' (expected allow, deny or reject)");
    apply_fails(c, "no filter policy from wan", "missing argument after 'no filter policy from wan'");
}

TEST(ConfigNo, HairpinSource) {
    Config c = must_parse(ref_plus("hairpin source lan"));
    apply_fails(c, "no hairpin source wan", "no hairpin source matches 'wan'");
    apply_ok(c, "no hairpin source");
    EXPECT_EQ(c.hairpin_source, HairpinSource::wan);
    EXPECT_EQ(c.hairpin_line, 0);
    apply_fails(c, "no hairpin", "missing argument after 'no hairpin'");
    apply_fails(c, "no hairpin target", "expected 'source' after 'no hairpin', got 'target'");
    apply_fails(c, "no hairpin source dmz", "unknown hairpin source 'dmz' (expected wan or lan)");
}

TEST(ConfigNo, NaptAndTimeoutsBackToDefaults) {
    Config c = must_parse(ref_with(7, "napt ports 50000-59999") +
                          "napt sessions 2048\n"
                          "napt ports-per-client 64\n"
                          "napt filtering endpoint-independent\n"
                          "timeout udp 30\n"
                          "timeout port-rest 5\n");
    for (const char* s : {"no napt ports", "no napt sessions", "no napt ports-per-client", "no napt filtering",
                          "no timeout udp", "no timeout port-rest"})
        apply_ok(c, s);
    EXPECT_EQ(c, reference_config());
    EXPECT_EQ(c.napt_ports, (PortRange{61000, 65535}));
    EXPECT_EQ(c.napt_sessions, 1048576u);
    EXPECT_EQ(c.napt_ports_per_client, 4096u);
    EXPECT_EQ(c.napt_filtering, Filtering::address_and_port_dependent);
    EXPECT_EQ(c.timeouts, Timeouts{});
    EXPECT_EQ(c.napt_ports_line, 0);
    EXPECT_EQ(c.napt_sessions_line, 0);
    EXPECT_EQ(c.napt_ports_per_client_line, 0);
    EXPECT_EQ(c.napt_filtering_line, 0);
    EXPECT_EQ(c.timeout_line, (std::array<int, kNumTimeouts>{}));
}

TEST(ConfigNo, SettingWithItsValue) {
    Config c = must_parse(reference() + "timeout udp 30\nnapt filtering endpoint-independent\n");
    apply_fails(c, "no timeout udp 31", "no timeout udp matches '31'");
    apply_fails(c, "no timeout udp 0", "timeout udp '0' out of range (1..604800)");
    apply_fails(c, "no timeout udp 30 60", "unexpected '60' after statement");
    apply_fails(c, "no napt filtering address-and-port-dependent",
                "no napt filtering matches 'address-and-port-dependent'");
    apply_fails(c, "no napt ports 61000-65000", "no napt ports matches '61000-65000'");
    apply_ok(c, "no timeout udp 30");
    apply_ok(c, "no napt filtering endpoint-independent");
    apply_ok(c, "no napt ports 61000-65535");
    EXPECT_EQ(c, reference_config());
}

TEST(ConfigNo, NaptAndTimeoutErrors) {
    Config c = reference_config();
    apply_fails(c, "no napt", "missing argument after 'no napt'");
    apply_fails(c, "no napt foo",
                "unknown napt setting 'foo' (expected ports, sessions, ports-per-client or filtering)");
    apply_fails(c, "no timeout", "missing argument after 'no timeout'");
    apply_fails(c, "no timeout tcp",
                "unknown timeout 'tcp' (expected tcp-established, tcp-transitory, udp, icmp or port-rest)");
}

TEST(ConfigNo, RequiredStatementsCannotBeRemoved) {
    Config c = reference_config();
    apply_fails(c, "no port wan", "'port wan' cannot be removed, only changed");
    apply_fails(c, "no port dmz net_af_packet2", "'port dmz' cannot be removed, only changed");
    apply_fails(c, "no port eth0", "unknown zone 'eth0' (expected wan, lan or dmz)");
    apply_fails(c, "no port", "missing argument after 'no port'");
    apply_fails(c, "no lan address", "'lan address' cannot be removed, only changed");
    apply_fails(c, "no lan address 192.168.1.1/24", "'lan address' cannot be removed, only changed");
    apply_fails(c, "no wan network", "'wan network' cannot be removed, only changed");
    apply_fails(c, "no server address", "'server address' cannot be removed, only changed");
}

TEST(ConfigNo, Syntax) {
    Config c = reference_config();
    apply_fails(c, "no", "missing argument after 'no'");
    apply_fails(c, "no   # a comment", "missing argument after 'no'");
    apply_fails(c, "no frobnicate", "unknown statement 'frobnicate'");
    apply_fails(c, "no no route 10.20.0.0/16", "'no' cannot be removed");
}

TEST(ConfigNo, InAFile) {
    // `no` is meant for the CLI, but a file may use it too, with its line.
    const Config c =
        must_parse(reference() + "timeout udp 30\nno timeout udp\ntimeout udp 60\nno route 10.20.0.0/16\n");
    EXPECT_EQ(c.timeouts.udp, 60u);
    EXPECT_EQ(c.timeout_line[2], 12);
    EXPECT_EQ(c.routes.size(), 1u);
    expect_appended_errors({
        {"no forward tcp 8080", "no forward matches 'tcp 8080'"},
        {"no server address", "'server address' cannot be removed, only changed"},
    });
}

TEST(ConfigNo, LineNumberIgnored) {
    Config c = with_forwards();
    EXPECT_FALSE(apply_statement(c, "no forward tcp 8080", 0).has_value());
    EXPECT_FALSE(apply_statement(c, "no forward tcp 443", 7).has_value());
    EXPECT_EQ(c.forwards.size(), 2u);
}

}  // namespace
}  // namespace ipshare
