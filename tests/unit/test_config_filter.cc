// Unit tests for the configuration grammar (control/config_parse.h): `filter`
// rules and `filter policy`.
#include <gtest/gtest.h>

#include <string>

#include "config_test_support.h"

namespace ipshare {
namespace {

using namespace test;

// ---------------------------------------------------------------- filter

TEST(ConfigFilter, AllOptions) {
    const Config c = must_parse(
        ref_plus("filter deny from wan to lan proto tcp src 198.51.100.0/24 dst 192.168.1.101/32 port 80 "
                 "orig-dst 203.0.113.10/32 orig-port 8080"));
    ASSERT_EQ(c.filters.size(), 1u);
    const FilterRule& r = c.filters[0];
    EXPECT_EQ(r.action, FilterAction::deny);
    EXPECT_EQ(r.from, Zone::wan);
    EXPECT_EQ(r.to, Zone::lan);
    EXPECT_EQ(r.proto, 6);
    EXPECT_EQ(r.src, (Ipv4Prefix{ip("198.51.100.0"), 24}));
    EXPECT_EQ(r.dst, (Ipv4Prefix{ip("192.168.1.101"), 32}));
    EXPECT_EQ(r.port, (PortRange{80, 80}));
    EXPECT_EQ(r.orig_dst, (Ipv4Prefix{ip("203.0.113.10"), 32}));
    EXPECT_EQ(r.orig_port, (PortRange{8080, 8080}));
    EXPECT_EQ(r.line, 10);
}

TEST(ConfigFilter, NoOptions) {
    const Config c = must_parse(ref_plus("filter reject from dmz to wan"));
    ASSERT_EQ(c.filters.size(), 1u);
    const FilterRule& r = c.filters[0];
    EXPECT_EQ(r.action, FilterAction::reject);
    EXPECT_EQ(r.from, Zone::dmz);
    EXPECT_EQ(r.to, Zone::wan);
    EXPECT_FALSE(r.proto.has_value());
    EXPECT_FALSE(r.src.has_value());
    EXPECT_FALSE(r.dst.has_value());
    EXPECT_FALSE(r.port.has_value());
    EXPECT_FALSE(r.orig_dst.has_value());
    EXPECT_FALSE(r.orig_port.has_value());
}

TEST(ConfigFilter, OptionsInAnyOrder) {
    const Config a = must_parse(ref_plus("filter allow from lan to dmz proto udp dst 203.0.113.10/32 port 53"));
    const Config b = must_parse(ref_plus("filter allow from lan to dmz port 53 dst 203.0.113.10/32 proto udp"));
    EXPECT_EQ(a, b);
    EXPECT_EQ(b.filters.at(0).proto, 17);
    EXPECT_EQ(b.filters.at(0).port, (PortRange{53, 53}));
}

TEST(ConfigFilter, Protocols) {
    const Config c = must_parse(reference() +
                                "filter allow from lan to wan proto icmp\n"
                                "filter allow from lan to wan proto 6\n"
                                "filter allow from lan to wan proto 47\n"
                                "filter allow from lan to wan proto 0\n"
                                "filter allow from lan to wan proto 255\n"
                                "filter allow from lan to wan proto udp port 27015-27020\n");
    ASSERT_EQ(c.filters.size(), 6u);
    EXPECT_EQ(c.filters[0].proto, 1);
    EXPECT_EQ(c.filters[1].proto, 6);  // the same rule as `proto tcp`
    EXPECT_EQ(c.filters[2].proto, 47);
    EXPECT_EQ(c.filters[3].proto, 0);
    EXPECT_EQ(c.filters[4].proto, 255);
    EXPECT_EQ(c.filters[5].port, (PortRange{27015, 27020}));
    EXPECT_EQ(c.filters[5].line, 15);
    // A numbered tcp allows ports.
    EXPECT_EQ(must_parse(ref_plus("filter deny from wan to lan proto 6 orig-port 8080")).filters.at(0).orig_port,
              (PortRange{8080, 8080}));
}

TEST(ConfigFilter, KeptInOrder) {
    const Config c = must_parse(reference() +
                                "filter deny from wan to lan orig-port 8080 proto tcp\n"
                                "filter allow from wan to lan\n"
                                "filter deny from wan to lan orig-port 8080 proto tcp\n");
    ASSERT_EQ(c.filters.size(), 3u);  // repeats are kept: first match wins
    EXPECT_EQ(c.filters[0].action, FilterAction::deny);
    EXPECT_EQ(c.filters[1].action, FilterAction::allow);
    EXPECT_EQ(c.filters[2], c.filters[0]);
    EXPECT_EQ(c.filters[2].line, 12);
}

TEST(ConfigFilter, Syntax) {
    expect_appended_errors({
        {"filter", "missing argument after 'filter'"},
        {"filter drop from wan to lan", "unknown filter action 'drop' (expected allow, deny, reject or policy)"},
        {"filter allow lan to wan", "expected 'from' after 'filter allow', got 'lan'"},
        {"filter allow from lan wan", "expected 'to' after 'filter allow from lan', got 'wan'"},
        {"filter allow from lan to", "missing argument after 'filter allow from lan to'"},
        {"filter allow from lan to inet", "unknown zone 'inet' (expected wan, lan or dmz)"},
        {"filter allow from lan to wan proto", "missing argument after 'filter allow from lan to wan proto'"},
    });
}

TEST(ConfigFilter, SameZone) {
    expect_error(ref_plus("filter allow from lan to lan"), 10,
                 "filter from lan to lan: from and to must be different zones");
}

TEST(ConfigFilter, UnknownOrRepeatedOption) {
    expect_appended_errors({
        {"filter allow from lan to wan sport 80",
         "unknown filter option 'sport' (expected proto, src, dst, port, orig-dst or orig-port)"},
        {"filter allow from lan to wan proto tcp proto udp", "duplicate filter option 'proto'"},
        {"filter allow from lan to wan proto tcp port 80 port 81", "duplicate filter option 'port'"},
    });
}

TEST(ConfigFilter, BadProto) {
    expect_appended_errors({
        {"filter allow from lan to wan proto gre",
         "unknown protocol 'gre' (expected tcp, udp, icmp or a number 0..255)"},
        {"filter allow from lan to wan proto 256", "filter proto '256' out of range (0..255)"},
        {"filter allow from lan to wan proto 06", "bad number '06' (leading zeros are not allowed)"},
        {"filter allow from lan to wan proto 6x", "bad number '6x'"},
    });
}

TEST(ConfigFilter, PortNeedsTcpOrUdp) {
    expect_appended_errors({
        {"filter deny from wan to lan port 80", "filter port requires proto tcp or udp"},
        {"filter deny from wan to lan proto icmp port 80", "filter port requires proto tcp or udp"},
        {"filter deny from wan to lan orig-port 8080", "filter orig-port requires proto tcp or udp"},
        {"filter deny from wan to lan orig-port 8080 proto 47", "filter orig-port requires proto tcp or udp"},
    });
}

TEST(ConfigFilter, BadPorts) {
    expect_appended_errors({
        {"filter deny from wan to lan proto tcp port http", "bad port 'http' (expected PORT or LO-HI)"},
        {"filter deny from wan to lan proto tcp port 70000", "filter port '70000' is beyond 65535"},
        {"filter deny from wan to lan proto tcp orig-port 90-80",
         "filter orig-port range '90-80' is reversed (LO must not exceed HI)"},
    });
    EXPECT_EQ(must_parse(ref_plus("filter deny from wan to lan proto udp port 0-65535")).filters.at(0).port,
              (PortRange{0, 65535}));
}

TEST(ConfigFilter, PrefixesNeedZeroHostBits) {
    expect_appended_errors({
        {"filter deny from wan to lan src 198.51.100.20/24",
         "filter src 198.51.100.20/24 has host bits set (network is 198.51.100.0/24)"},
        {"filter deny from wan to lan dst 192.168.1.101/24",
         "filter dst 192.168.1.101/24 has host bits set (network is 192.168.1.0/24)"},
        {"filter deny from wan to lan orig-dst 203.0.113.10/24",
         "filter orig-dst 203.0.113.10/24 has host bits set (network is 203.0.113.0/24)"},
        {"filter deny from wan to lan dst 192.168.1.101",
         "missing prefix length in '192.168.1.101' (expected A.B.C.D/LEN)"},
        {"filter deny from wan to lan src 300.0.0.0/8", "bad address in '300.0.0.0/8'"},
    });
    EXPECT_EQ(must_parse(ref_plus("filter deny from wan to lan src 0.0.0.0/0")).filters.at(0).src, (Ipv4Prefix{0, 0}));
}

TEST(ConfigFilter, BuiltConfigChecked) {
    Config c = reference_config();
    FilterRule r;
    r.from = Zone::wan;
    r.to = Zone::lan;
    r.line = 12;
    c.filters.push_back(r);
    EXPECT_FALSE(validate_config(c).has_value());
    c.filters[0].to = Zone::wan;
    expect_invalid(c, 12, "filter from wan to wan: from and to must be different zones");
    c.filters[0].to = Zone::lan;
    c.filters[0].port = PortRange{80, 80};
    expect_invalid(c, 12, "filter port requires proto tcp or udp");
    c.filters[0].proto = 6;
    c.filters[0].port = PortRange{80, 79};
    expect_invalid(c, 12, "filter port range '80-79' is reversed");
    c.filters[0].port.reset();
    c.filters[0].dst = Ipv4Prefix{ip("192.168.1.101"), 24};
    expect_invalid(c, 12, "filter dst 192.168.1.101/24 has host bits set");
}

// ---------------------------------------------------------------- filter policy

TEST(ConfigPolicy, Defaults) {
    const Config c = reference_config();
    EXPECT_EQ(c.policies, kDefaultPolicies);
    const auto at = [&](Zone f, Zone t) { return c.policies[size_t(f)][size_t(t)]; };
    EXPECT_EQ(at(Zone::lan, Zone::wan), FilterAction::allow);
    EXPECT_EQ(at(Zone::lan, Zone::dmz), FilterAction::allow);
    EXPECT_EQ(at(Zone::wan, Zone::dmz), FilterAction::allow);
    EXPECT_EQ(at(Zone::dmz, Zone::wan), FilterAction::allow);
    EXPECT_EQ(at(Zone::dmz, Zone::lan), FilterAction::deny);
    EXPECT_EQ(at(Zone::wan, Zone::lan), FilterAction::deny);
    for (const auto& row : c.policy_line)
        for (const int l : row) EXPECT_EQ(l, 0);
}

TEST(ConfigPolicy, Parses) {
    const Config c =
        must_parse(reference() + "filter policy from dmz to lan allow\nfilter policy from lan to wan reject\n");
    EXPECT_EQ(c.policies[size_t(Zone::dmz)][size_t(Zone::lan)], FilterAction::allow);
    EXPECT_EQ(c.policy_line[size_t(Zone::dmz)][size_t(Zone::lan)], 10);
    EXPECT_EQ(c.policies[size_t(Zone::lan)][size_t(Zone::wan)], FilterAction::reject);
    EXPECT_EQ(c.policy_line[size_t(Zone::lan)][size_t(Zone::wan)], 11);
    EXPECT_EQ(c.policies[size_t(Zone::wan)][size_t(Zone::lan)], FilterAction::deny);  // untouched
    EXPECT_EQ(c.policy_line[size_t(Zone::wan)][size_t(Zone::lan)], 0);
    // Writing a default explicitly gives the same configuration.
    EXPECT_EQ(must_parse(ref_plus("filter policy from wan to lan deny")), reference_config());
}

TEST(ConfigPolicy, Errors) {
    expect_appended_errors({
        {"filter policy from wan to wan deny", "filter policy from wan to wan: from and to must be different zones"},
        {"filter policy from wan to lan drop", "unknown filter action 'drop' (expected allow, deny or reject)"},
        {"filter policy from wan to lan", "missing argument after 'filter policy from wan to lan'"},
        {"filter policy wan to lan deny", "expected 'from' after 'filter policy', got 'wan'"},
        {"filter policy from wan to lan deny now", "unexpected 'now' after statement"},
    });
    expect_error(reference() + "filter policy from wan to lan deny\nfilter policy from wan to lan allow\n", 11,
                 "duplicate 'filter policy from wan to lan' (first at line 10)");
    // Another pair is not a duplicate.
    const Config c =
        must_parse(reference() + "filter policy from wan to lan deny\nfilter policy from lan to wan deny\n");
    EXPECT_EQ(c.policies[size_t(Zone::lan)][size_t(Zone::wan)], FilterAction::deny);
}

TEST(ConfigPolicy, LineZeroReplaces) {
    Config c = must_parse(ref_plus("filter policy from wan to lan reject"));
    apply_ok(c, "filter policy from wan to lan allow");
    EXPECT_EQ(c.policies[size_t(Zone::wan)][size_t(Zone::lan)], FilterAction::allow);
    EXPECT_EQ(c.policy_line[size_t(Zone::wan)][size_t(Zone::lan)], 0);
}

}  // namespace
}  // namespace ipshare
