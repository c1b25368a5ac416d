// Unit tests for the configuration grammar (control/config_parse.h): what one
// statement alone gets wrong, and where parsing stops.
#include <gtest/gtest.h>

#include <string>

#include "config_test_support.h"

namespace ipshare {
namespace {

using namespace test;

// ---------------------------------------------------------------- statement errors

TEST(ConfigErrors, UnknownStatement) { expect_error(ref_plus("frobnicate 1 2"), 10, "unknown statement 'frobnicate'"); }


TEST(ConfigErrors, MissingArgument) {
    expect_error(ref_with(1, "port wan"), 1, "missing argument after 'port wan'");
    expect_error(ref_with(1, "port"), 1, "missing argument after 'port'");
    expect_error(ref_with(5, "wan network 203.0.113.0/24 gateway"), 5,
                 "missing argument after 'wan network 203.0.113.0/24 gateway'");
    expect_error(ref_with(5, "wan network 203.0.113.0/24"), 5, "missing argument after 'wan network 203.0.113.0/24'");
    expect_error(ref_with(8, "route 10.20.0.0/16 via"), 8, "missing argument after 'route 10.20.0.0/16 via'");
    expect_error(ref_with(8, "route 10.20.0.0/16"), 8, "missing argument after 'route 10.20.0.0/16'");
    expect_appended_errors({
        {"timeout udp", "missing argument after 'timeout udp'"},
        {"napt", "missing argument after 'napt'"},
    });
}

TEST(ConfigErrors, UnexpectedTrailingWord) {
    expect_error(ref_with(6, "server address 203.0.113.10 extra"), 6, "unexpected 'extra' after statement");
    expect_error(ref_with(1, "port wan net_af_packet0 net_af_packet9"), 1, "unexpected 'net_af_packet9'");
    expect_error(ref_with(9, "route 203.0.113.128/25 dev wan lan"), 9, "unexpected 'lan' after statement");
}

TEST(ConfigErrors, WrongKeyword) {
    expect_error(ref_with(4, "lan network 192.168.1.1/24"), 4, "expected 'address' after 'lan', got 'network'");
    expect_error(ref_with(5, "wan network 203.0.113.0/24 via 203.0.113.1"), 5,
                 "expected 'gateway' after 'wan network 203.0.113.0/24', got 'via'");
    expect_error(ref_with(6, "server 203.0.113.10"), 6, "expected 'address' after 'server', got '203.0.113.10'");
    expect_error(ref_with(8, "route 10.20.0.0/16 gw 192.168.1.254"), 8,
                 "expected 'via' or 'dev' after 'route 10.20.0.0/16', got 'gw'");
}

TEST(ConfigErrors, UnknownZone) {
    expect_error(ref_with(1, "port foo net_af_packet0"), 1, "unknown zone 'foo' (expected wan, lan or dmz)");
    expect_error(ref_with(9, "route 203.0.113.128/25 dev eth0"), 9, "unknown zone 'eth0'");
}

TEST(ConfigErrors, BadAddress) {
    expect_error(ref_with(6, "server address 300.1.1.1"), 6, "bad address '300.1.1.1'");
    expect_error(ref_with(5, "wan network 203.0.113.0/24 gateway 203.0.113"), 5, "bad address '203.0.113'");
    expect_error(ref_with(8, "route 10.20.0.0/16 via 192.168.01.254"), 8, "bad address '192.168.01.254'");
    expect_error(ref_with(4, "lan address 300.1.1.1/24"), 4, "bad address in '300.1.1.1/24'");
}

TEST(ConfigErrors, BadPrefix) {
    expect_error(ref_with(8, "route 10.0.0.0/33 via 192.168.1.254"), 8, "bad prefix length in '10.0.0.0/33'");
    expect_error(ref_with(8, "route 10.0.0.0/ via 192.168.1.254"), 8, "bad prefix length in '10.0.0.0/'");
    expect_error(ref_with(8, "route 10.0.0.0/08 via 192.168.1.254"), 8, "bad prefix length in '10.0.0.0/08'");
    expect_error(ref_with(8, "route 10.0.0.0 via 192.168.1.254"), 8, "missing prefix length in '10.0.0.0'");
}

TEST(ConfigErrors, DuplicateStatements) {
    expect_appended_errors({
        {"lan address 192.168.2.1/24", "duplicate 'lan address' (first at line 4)"},
        {"port dmz net_af_packet3", "duplicate 'port dmz' (first at line 3)"},
        {"wan network 198.51.100.0/24 gateway 198.51.100.1", "duplicate 'wan network' (first at line 5)"},
        {"server address 203.0.113.11", "duplicate 'server address' (first at line 6)"},
        {"napt ports 50000-60000", "duplicate 'napt ports' (first at line 7)"},
    });
    expect_error(reference() + "napt sessions 2048\nnapt sessions 4096\n", 11,
                 "duplicate 'napt sessions' (first at line 10)");
    expect_error(reference() + "napt ports-per-client 64\nnapt ports-per-client 64\n", 11,
                 "duplicate 'napt ports-per-client' (first at line 10)");
    expect_error(reference() + "napt filtering endpoint-independent\nnapt filtering endpoint-independent\n", 11,
                 "duplicate 'napt filtering' (first at line 10)");
    expect_error(reference() + "timeout udp 30\ntimeout icmp 30\ntimeout udp 60\n", 12,
                 "duplicate 'timeout udp' (first at line 10)");
}

TEST(ConfigErrors, LanPrefixLength) {
    expect_error(ref_with(4, "lan address 192.168.1.1/31"), 4, "lan address prefix length must be 8..30");
    expect_error(ref_with(4, "lan address 10.0.0.1/7"), 4, "lan address prefix length must be 8..30 in '10.0.0.1/7'");
}

TEST(ConfigErrors, LanAddressIsNetworkOrBroadcast) {
    expect_error(ref_with(4, "lan address 192.168.1.0/24"), 4,
                 "lan address '192.168.1.0/24' is the network address of its subnet");
    expect_error(ref_with(4, "lan address 192.168.1.255/24"), 4,
                 "lan address '192.168.1.255/24' is the broadcast address of its subnet");
}

TEST(ConfigErrors, WanPrefixLength) {
    expect_error(ref_with(5, "wan network 203.0.113.0/31 gateway 203.0.113.1"), 5,
                 "wan network prefix length must be 8..30 in '203.0.113.0/31'");
}

TEST(ConfigErrors, WanHostBitsSet) {
    expect_error(ref_with(5, "wan network 203.0.113.5/24 gateway 203.0.113.1"), 5,
                 "host bits set in wan network '203.0.113.5/24' (network is 203.0.113.0/24)");
}

TEST(ConfigErrors, GatewayOutsideWan) {
    expect_error(ref_with(5, "wan network 203.0.113.0/24 gateway 198.51.100.1"), 5,
                 "gateway '198.51.100.1' is outside the wan network 203.0.113.0/24");
}

TEST(ConfigErrors, GatewayIsNetworkOrBroadcast) {
    expect_error(ref_with(5, "wan network 203.0.113.0/24 gateway 203.0.113.0"), 5,
                 "gateway '203.0.113.0' is the network address of the wan network");
    expect_error(ref_with(5, "wan network 203.0.113.0/24 gateway 203.0.113.255"), 5,
                 "gateway '203.0.113.255' is the broadcast address of the wan network");
}

TEST(ConfigErrors, NaptPortRange) {
    expect_error(ref_with(7, "napt ports 61000"), 7, "bad port range '61000' (expected LO-HI)");
    expect_error(ref_with(7, "napt ports 61000-"), 7, "bad port range '61000-'");
    expect_error(ref_with(7, "napt ports -61000-65535"), 7, "bad port range '-61000-65535'");
    expect_error(ref_with(7, "napt ports 1000-2000"), 7, "napt port range '1000-2000' outside 1024..65535");
    expect_error(ref_with(7, "napt ports 61000-65536"), 7, "napt port range '61000-65536' outside 1024..65535");
    expect_error(ref_with(7, "napt ports 65000-62000"), 7, "napt port range '65000-62000' is reversed");
    expect_error(ref_with(7, "napt ports 61000-61062"), 7,
                 "napt port range '61000-61062' has 63 ports (at least 64 needed)");
    const Config c = must_parse(ref_with(7, "napt ports 61000-61063") + "napt ports-per-client 64\n");
    EXPECT_EQ(c.napt_ports.size(), 64u);
}

TEST(ConfigErrors, UnknownNaptSetting) {
    expect_error(ref_plus("napt foo 1"), 10, "unknown napt setting 'foo'");
}

TEST(ConfigErrors, NaptSessionsRange) {
    expect_appended_errors({
        {"napt sessions 15", "napt sessions '15' out of range (16..67108864)"},
        {"napt sessions 67108865", "napt sessions '67108865' out of range"},
    });
    EXPECT_EQ(must_parse(ref_plus("napt sessions 67108864")).napt_sessions, 67108864u);
}

TEST(ConfigErrors, NumbersAreStrictDecimal) {
    expect_appended_errors({
        {"napt sessions 99999999999", "napt sessions '99999999999' out of range"},
        {"napt sessions 99999999999999999999999999", "out of range"},
        {"napt sessions +2048", "bad number '+2048'"},
        {"napt sessions -2048", "bad number '-2048'"},
        {"napt sessions 0x800", "bad number '0x800'"},
        {"napt sessions 2048k", "bad number '2048k'"},
        {"napt sessions 02048", "bad number '02048' (leading zeros are not allowed)"},
    });
}

TEST(ConfigErrors, NaptPortsPerClientRange) {
    expect_appended_errors({
        {"napt ports-per-client 0", "napt ports-per-client '0' out of range (1..65535)"},
        {"napt ports-per-client 65536", "out of range (1..65535)"},
    });
}

TEST(ConfigErrors, UnknownFiltering) {
    expect_error(ref_plus("napt filtering full-cone"), 10,
                 "unknown filtering 'full-cone' (expected endpoint-independent or address-and-port-dependent)");
}

TEST(ConfigErrors, UnknownTimeout) {
    expect_error(ref_plus("timeout tcp 30"), 10, "unknown timeout 'tcp'");
}

TEST(ConfigErrors, TimeoutRange) {
    expect_appended_errors({
        {"timeout udp 0", "timeout udp '0' out of range (1..604800)"},
        {"timeout icmp 604801", "timeout icmp '604801' out of range"},
    });
}

TEST(ConfigErrors, LastLineWithoutNewline) {
    expect_error(reference() + "x", 10, "unknown statement 'x'");
}

TEST(ConfigErrors, StopsAtFirstError) {
    expect_error(reference() + "bogus\nalso bogus\n", 10, "unknown statement 'bogus'");
}

TEST(ConfigErrors, OutputUntouchedOnError) {
    Config c;
    c.file = "unchanged";
    ASSERT_TRUE(parse_config("bogus\n", "test.conf", c).has_value());
    EXPECT_EQ(c.file, "unchanged");
    EXPECT_TRUE(c.routes.empty());
}

}  // namespace
}  // namespace ipshare
