// Unit tests for the configuration grammar (control/config_parse.h):
// format_config and the single-statement formatters, and the round trip
// through parse_config.
#include <gtest/gtest.h>

#include <string>

#include "config_test_support.h"

namespace ipshare {
namespace {

using namespace test;

// ---------------------------------------------------------------- format and round trip

TEST(ConfigFormat, CanonicalText) {
    EXPECT_EQ(format_config(reference_config()),
              "port wan net_af_packet0\n"
              "port lan net_af_packet1\n"
              "port dmz net_af_packet2\n"
              "lan address 192.168.1.1/24\n"
              "wan network 203.0.113.0/24 gateway 203.0.113.1\n"
              "server address 203.0.113.10\n"
              "napt ports 61000-65535\n"
              "napt sessions 1048576\n"
              "napt filtering address-and-port-dependent\n"
              "timeout tcp-established 7440\n"
              "timeout tcp-transitory 240\n"
              "timeout udp 300\n"
              "timeout icmp 60\n"
              "timeout port-rest 120\n"
              "route 10.20.0.0/16 via 192.168.1.254\n"
              "route 203.0.113.128/25 dev wan\n"
              "hairpin source wan\n"
              "filter policy from wan to lan deny\n"
              "filter policy from wan to dmz allow\n"
              "filter policy from lan to wan allow\n"
              "filter policy from lan to dmz allow\n"
              "filter policy from dmz to wan allow\n"
              "filter policy from dmz to lan deny\n");
}

TEST(ConfigFormat, RoundTripReference) {
    const Config first = reference_config();
    const Config second = must_parse(format_config(first));
    EXPECT_EQ(second, first);
    EXPECT_EQ(format_config(second), format_config(first));
}

TEST(ConfigFormat, RoundTripNonDefaults) {
    const Config first = must_parse(
        "route 10.0.0.0/8 dev lan\n"
        "port dmz 0000:03:00.2\n"
        "port lan 0000:03:00.1\n"
        "port wan 0000:03:00.0\n"
        "server address 198.51.100.7\n"
        "wan network 198.51.100.0/28 gateway 198.51.100.14\n"
        "lan address 172.16.0.1/12\n"
        "napt ports 1024-2047\n"
        "napt sessions 1024\n"
        "napt ports-per-client 1\n"
        "napt filtering endpoint-independent\n"
        "timeout icmp 5\n"
        "timeout udp 6\n"
        "timeout tcp-transitory 7\n"
        "timeout tcp-established 8\n"
        "route 192.0.2.0/24 via 198.51.100.14\n");
    const Config second = must_parse(format_config(first));
    EXPECT_EQ(second, first);
    EXPECT_EQ(second.napt_filtering, Filtering::endpoint_independent);
    EXPECT_EQ(second.timeouts.tcp_established, 8u);
    ASSERT_EQ(second.routes.size(), 2u);
    EXPECT_EQ(second.routes[0].dev, Zone::lan);
    EXPECT_EQ(second.routes[1].via, ip("198.51.100.14"));
}

// Forwards, hairpin, filter rules and policies, none of them default.
const char* const kFullExtras =
    "filter policy from dmz to lan allow\n"
    "forward tcp 8080 to 192.168.1.101 port 80\n"
    "filter deny from wan to lan orig-port 8080 proto tcp\n"
    "forward udp 27015-27020 to 192.168.1.102\n"
    "hairpin source lan\n"
    "filter reject from lan to wan proto 47 src 192.168.1.128/25\n"
    "forward tcp+udp 5000-5009 to 192.168.1.103 port 6000\n"
    "filter policy from wan to lan reject\n"
    "filter allow from wan to lan proto udp dst 192.168.1.102/32 port 27015-27020 orig-dst 203.0.113.10/32\n"
    "filter policy from lan to wan deny\n"
    "filter deny from dmz to lan proto icmp\n";

TEST(ConfigFormat, CanonicalTextOfNewStatements) {
    const Config c = must_parse(reference() + kFullExtras);
    const std::string text = format_config(c);
    const std::string tail =
        "route 203.0.113.128/25 dev wan\n"
        "forward tcp 8080 to 192.168.1.101 port 80\n"
        "forward udp 27015-27020 to 192.168.1.102\n"
        "forward tcp+udp 5000-5009 to 192.168.1.103 port 6000-6009\n"
        "hairpin source lan\n"
        "filter deny from wan to lan proto tcp orig-port 8080\n"
        "filter reject from lan to wan proto 47 src 192.168.1.128/25\n"
        "filter allow from wan to lan proto udp dst 192.168.1.102/32 port 27015-27020 orig-dst 203.0.113.10/32\n"
        "filter deny from dmz to lan proto icmp\n"
        "filter policy from wan to lan reject\n"
        "filter policy from wan to dmz allow\n"
        "filter policy from lan to wan deny\n"
        "filter policy from lan to dmz allow\n"
        "filter policy from dmz to wan allow\n"
        "filter policy from dmz to lan allow\n";
    ASSERT_GE(text.size(), tail.size());
    EXPECT_EQ(text.substr(text.size() - tail.size()), tail) << text;
}

TEST(ConfigFormat, RoundTripForwardsFiltersPoliciesHairpin) {
    const Config first = must_parse(reference() + kFullExtras);
    ASSERT_EQ(first.forwards.size(), 3u);
    ASSERT_EQ(first.filters.size(), 4u);
    const Config second = must_parse(format_config(first));
    EXPECT_EQ(second, first);
    EXPECT_EQ(format_config(second), format_config(first));
    EXPECT_EQ(second.hairpin_source, HairpinSource::lan);
    EXPECT_EQ(second.forwards[2].target_port, 6000);
    EXPECT_EQ(second.filters[0].orig_port, (PortRange{8080, 8080}));
    EXPECT_EQ(second.policies[size_t(Zone::wan)][size_t(Zone::lan)], FilterAction::reject);
    EXPECT_EQ(second.policies[size_t(Zone::lan)][size_t(Zone::wan)], FilterAction::deny);
}

TEST(ConfigFormat, RoundTripAfterCliChanges) {
    Config c = must_parse(reference() + kFullExtras);
    apply_ok(c, "no forward tcp 8080");
    apply_ok(c, "no filter policy from wan to lan");
    apply_ok(c, "no hairpin source");
    apply_ok(c, "filter allow from lan to dmz proto tcp port 22");
    ASSERT_FALSE(validate_config(c).has_value());
    EXPECT_EQ(must_parse(format_config(c)), c);
}

TEST(ConfigFormat, SingleStatements) {
    EXPECT_EQ(format_forward(Forward{kProtoTcp, PortRange{8080, 8080}, ip("192.168.1.101"), 80, 0}),
              "forward tcp 8080 to 192.168.1.101 port 80");
    EXPECT_EQ(format_forward(Forward{kProtoUdp, PortRange{27015, 27020}, ip("192.168.1.102"), 0, 0}),
              "forward udp 27015-27020 to 192.168.1.102");
    EXPECT_EQ(format_forward(Forward{kProtoTcp | kProtoUdp, PortRange{5000, 5009}, ip("192.168.1.103"), 6000, 0}),
              "forward tcp+udp 5000-5009 to 192.168.1.103 port 6000-6009");
    FilterRule r;
    r.action = FilterAction::deny;
    r.from = Zone::wan;
    r.to = Zone::lan;
    r.proto = 6;
    r.orig_port = PortRange{8080, 8080};
    EXPECT_EQ(format_filter_rule(r), "filter deny from wan to lan proto tcp orig-port 8080");
    EXPECT_EQ(format_filter_policy(Zone::dmz, Zone::lan, FilterAction::reject), "filter policy from dmz to lan reject");
}

TEST(ConfigFormat, EqualityDetectsChanges) {
    // Guards the round-trip tests: a lossy formatter would not go unnoticed.
    Config a = must_parse(reference() + kFullExtras);
    Config b = a;
    b.timeouts.icmp = 61;
    EXPECT_NE(a, b);
    b = a;
    b.routes[1].dev = Zone::dmz;
    EXPECT_NE(a, b);
    b = a;
    b.forwards[0].target_port = 81;
    EXPECT_NE(a, b);
    b = a;
    b.hairpin_source = HairpinSource::wan;
    EXPECT_NE(a, b);
    b = a;
    b.filters[0].orig_port.reset();
    EXPECT_NE(a, b);
    b = a;
    b.filters[1].src->len = 26;
    EXPECT_NE(a, b);
    b = a;
    b.policies[size_t(Zone::dmz)][size_t(Zone::wan)] = FilterAction::reject;
    EXPECT_NE(a, b);
}

}  // namespace
}  // namespace ipshare
