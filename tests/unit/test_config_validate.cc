// Unit tests for the configuration grammar (control/config_parse.h): the
// cross-statement checks of validate_config, on parsed and built configs.
#include <gtest/gtest.h>

#include <string>

#include "config_test_support.h"

namespace ipshare {
namespace {

using namespace test;

// ---------------------------------------------------------------- validation

TEST(ConfigValidate, MissingPorts) {
    expect_error(ref_with(1, ""), 0, "missing 'port wan' statement");
    expect_error(ref_with(2, ""), 0, "missing 'port lan' statement");
    expect_error(ref_with(3, ""), 0, "missing 'port dmz' statement");
}

TEST(ConfigValidate, SameDeviceForTwoPorts) {
    expect_error(ref_with(3, "port dmz net_af_packet0"), 3,
                 "device 'net_af_packet0' named for both 'port wan' (line 1) and 'port dmz'");
}

TEST(ConfigValidate, MissingLan) { expect_error(ref_with(4, ""), 0, "missing 'lan address' statement"); }

TEST(ConfigValidate, MissingWan) {
    // The route via the wan network would fail too; the missing statement comes first.
    expect_error(ref_with(5, ""), 0, "missing 'wan network' statement");
}

TEST(ConfigValidate, MissingServer) { expect_error(ref_with(6, ""), 0, "missing 'server address' statement"); }

TEST(ConfigValidate, ServerOutsideWan) {
    expect_error(ref_with(6, "server address 198.51.100.10"), 6,
                 "server address 198.51.100.10 is outside the wan network 203.0.113.0/24");
}

TEST(ConfigValidate, ServerIsGateway) {
    expect_error(ref_with(6, "server address 203.0.113.1"), 6, "server address 203.0.113.1 is the wan gateway");
}

TEST(ConfigValidate, ServerIsNetworkOrBroadcast) {
    expect_error(ref_with(6, "server address 203.0.113.0"), 6,
                 "server address 203.0.113.0 is the network address of the wan network 203.0.113.0/24");
    expect_error(ref_with(6, "server address 203.0.113.255"), 6,
                 "server address 203.0.113.255 is the broadcast address of the wan network");
}

TEST(ConfigValidate, GatewayIsNetworkOrBroadcastInBuiltConfig) {
    Config c = reference_config();
    c.wan_gateway = ip("203.0.113.0");
    expect_invalid(c, 5, "gateway '203.0.113.0' is the network address of the wan network");
    c.wan_gateway = ip("203.0.113.255");
    expect_invalid(c, 5, "gateway '203.0.113.255' is the broadcast address of the wan network");
    c.wan_gateway = ip("198.51.100.1");
    expect_invalid(c, 5, "gateway '198.51.100.1' is outside the wan network");
}

TEST(ConfigValidate, LanOverlapsWan) {
    const std::string text = ref_with(4, "lan address 203.0.113.129/25");
    expect_error(text, 4, "lan subnet 203.0.113.128/25 overlaps the wan network 203.0.113.0/24");
    expect_error(ref_with(4, "lan address 203.0.0.1/16"), 4, "lan subnet 203.0.0.0/16 overlaps the wan network");
}

TEST(ConfigValidate, PortsPerClientLargerThanRange) {
    expect_error(ref_plus("napt ports-per-client 4537"), 10,
                 "napt ports-per-client 4537 is larger than the napt port range 61000-65535 (4536 ports)");
    EXPECT_EQ(must_parse(ref_plus("napt ports-per-client 4536")).napt_ports_per_client, 4536u);
}

TEST(ConfigValidate, DefaultPortsPerClientIsNotHeldAgainstASmallRange) {
    // The default cap (4096) is clamped by the NAT to a smaller range; only a
    // cap the operator wrote is an error.
    const Config c = must_parse(ref_with(7, "napt ports 64000-64999"));
    EXPECT_EQ(c.napt_ports, (PortRange{64000, 64999}));
    EXPECT_EQ(c.napt_ports_per_client, 4096u);
    EXPECT_EQ(must_parse(format_config(c)), c);
}

TEST(ConfigValidate, RouteDuplicatePrefix) {
    expect_appended_errors({
        {"route 10.20.0.0/16 via 203.0.113.1", "duplicate route 10.20.0.0/16 (first at line 8)"},
        {"route 203.0.113.128/25 dev dmz", "duplicate route 203.0.113.128/25 (first at line 9)"},
    });
}

TEST(ConfigValidate, RouteHostBitsSet) {
    expect_error(ref_with(8, "route 10.20.1.0/16 via 192.168.1.254"), 8,
                 "route 10.20.1.0/16 has host bits set (network is 10.20.0.0/16)");
}

TEST(ConfigValidate, RouteDefault) {
    expect_error(ref_plus("route 0.0.0.0/0 via 203.0.113.1"), 10,
                 "route 0.0.0.0/0 is not allowed: the wan gateway is the default route");
}

TEST(ConfigValidate, RouteIsLanSubnet) {
    expect_error(ref_plus("route 192.168.1.0/24 dev lan"), 10, "route 192.168.1.0/24 is the lan subnet");
}

TEST(ConfigValidate, RouteContainsLanSubnet) {
    expect_error(ref_plus("route 192.168.0.0/16 via 192.168.1.254"), 10,
                 "route 192.168.0.0/16 contains the lan subnet 192.168.1.0/24");
}

TEST(ConfigValidate, RouteIsWanNetwork) {
    expect_error(ref_plus("route 203.0.113.0/24 dev wan"), 10, "route 203.0.113.0/24 is the wan network");
}

TEST(ConfigValidate, RouteContainsWanNetwork) {
    expect_error(ref_plus("route 203.0.112.0/23 via 203.0.113.1"), 10,
                 "route 203.0.112.0/23 contains the wan network 203.0.113.0/24");
}

TEST(ConfigValidate, RouteContainsServer) {
    expect_appended_errors({
        {"route 203.0.113.8/29 dev dmz", "route 203.0.113.8/29 contains the server address 203.0.113.10"},
        {"route 203.0.113.10/32 dev wan", "contains the server address 203.0.113.10"},
    });
}

TEST(ConfigValidate, RouteContainsLanIp) {
    expect_error(ref_plus("route 192.168.1.0/28 dev lan"), 10, "route 192.168.1.0/28 contains lan-ip 192.168.1.1");
}

TEST(ConfigValidate, RouteInsideConnectedNetworkIsAllowed) {
    const Config c = must_parse(reference() + "route 192.168.1.128/25 via 192.168.1.254\n"
                                              "route 203.0.113.64/26 via 203.0.113.1\n");
    ASSERT_EQ(c.routes.size(), 4u);
    EXPECT_EQ(c.routes[3].dst, (Ipv4Prefix{ip("203.0.113.64"), 26}));
}

TEST(ConfigValidate, RouteViaNotConnected) {
    expect_error(ref_with(8, "route 10.20.0.0/16 via 10.0.0.1"), 8,
                 "next hop 10.0.0.1 is not on a connected network (lan subnet 192.168.1.0/24 or wan network "
                 "203.0.113.0/24)");
}

TEST(ConfigValidate, RouteViaLanIp) {
    expect_error(ref_with(8, "route 10.20.0.0/16 via 192.168.1.1"), 8,
                 "next hop 192.168.1.1 is lan-ip (the router itself)");
}

TEST(ConfigValidate, RouteViaServer) {
    expect_error(ref_with(8, "route 10.20.0.0/16 via 203.0.113.10"), 8, "next hop 203.0.113.10 is the server address");
}

TEST(ConfigValidate, RouteViaNetworkOrBroadcast) {
    expect_error(ref_with(8, "route 10.20.0.0/16 via 192.168.1.255"), 8,
                 "next hop 192.168.1.255 is the broadcast address of the lan subnet 192.168.1.0/24");
    expect_error(ref_with(8, "route 10.20.0.0/16 via 203.0.113.0"), 8,
                 "next hop 203.0.113.0 is the network address of the wan network 203.0.113.0/24");
}

TEST(ConfigValidate, RouteWithBothViaAndDev) {
    Config c = reference_config();
    c.routes[0].dev = Zone::lan;
    expect_invalid(c, 8, "route 10.20.0.0/16 has both a next hop and a device");
}

TEST(ConfigValidate, BuiltConfigRangesChecked) {
    Config c = reference_config();
    c.napt_sessions = 10;
    expect_invalid(c, 0, "napt sessions 10 out of range (16..67108864)");
    c = reference_config();
    c.timeouts.udp = 0;
    expect_invalid(c, 0, "timeout udp 0 out of range (1..604800)");
    c = reference_config();
    c.napt_ports = PortRange{100, 65535};
    expect_invalid(c, 7, "napt port range '100-65535' outside 1024..65535");
}

TEST(ConfigValidate, ErrorCarriesFileName) {
    Config c = reference_config();
    c.file = "site.conf";
    c.server = ip("203.0.113.1");
    const auto e = validate_config(c);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->str(), "site.conf:6: server address 203.0.113.1 is the wan gateway");
    EXPECT_FALSE(validate_config(reference_config()).has_value());
}

}  // namespace
}  // namespace ipshare
