// Unit tests for the configuration grammar (control/config_parse.h).
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "config_parse.h"

namespace ipshare {

// Failing comparisons of whole configs print them in the grammar.
void PrintTo(const Config& c, std::ostream* os) { *os << "\n" << format_config(c); }

namespace {

// The reference configuration of docs/configuration.md, one line per entry
// (line N of the file is kReference[N - 1]).
const std::vector<std::string> kReference = {
    "port wan net_af_packet0",                          // 1
    "port lan net_af_packet1",                          // 2
    "port dmz net_af_packet2",                          // 3
    "lan address 192.168.1.1/24",                       // 4
    "wan network 203.0.113.0/24 gateway 203.0.113.1",   // 5
    "server address 203.0.113.10",                      // 6
    "napt ports 61000-65535",                           // 7
    "route 10.20.0.0/16 via 192.168.1.254",             // 8
    "route 203.0.113.128/25 dev wan",                   // 9
};

std::string join(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines) out += l + "\n";
    return out;
}

std::string reference() { return join(kReference); }

// The reference with line `n` (1-based) replaced; "" keeps the numbering.
std::string ref_with(int n, const std::string& replacement) {
    auto lines = kReference;
    lines.at(size_t(n - 1)) = replacement;
    return join(lines);
}

// The reference plus one statement appended as line 10.
std::string ref_plus(const std::string& extra) { return reference() + extra + "\n"; }

uint32_t ip(const char* s) {
    const auto a = parse_ipv4(s);
    EXPECT_TRUE(a.has_value()) << s;
    return a.value_or(0);
}

Config must_parse(const std::string& text) {
    Config c;
    const auto e = parse_config(text, "test.conf", c);
    EXPECT_FALSE(e.has_value()) << (e ? e->str() : "");
    return c;
}

Config reference_config() { return must_parse(reference()); }

// parse_config must fail at `line` with a message containing `fragment`.
void expect_error(const std::string& text, int line, const std::string& fragment) {
    Config c;
    const auto e = parse_config(text, "test.conf", c);
    ASSERT_TRUE(e.has_value()) << "no error, expected: " << fragment;
    EXPECT_EQ(e->file, "test.conf");
    EXPECT_EQ(e->line, line) << e->str();
    EXPECT_NE(e->message.find(fragment), std::string::npos) << "got: " << e->str() << "\nwanted: " << fragment;
}

// validate_config on a built config must fail at `line` with `fragment`.
void expect_invalid(const Config& c, int line, const std::string& fragment) {
    const auto e = validate_config(c);
    ASSERT_TRUE(e.has_value()) << "no error, expected: " << fragment;
    EXPECT_EQ(e->line, line) << e->str();
    EXPECT_NE(e->message.find(fragment), std::string::npos) << "got: " << e->str() << "\nwanted: " << fragment;
}

// ---------------------------------------------------------------- the reference

TEST(ConfigReference, ParsesToExpectedFields) {
    const Config c = reference_config();
    EXPECT_EQ(c.file, "test.conf");
    EXPECT_EQ(c.port_device[size_t(Zone::wan)], "net_af_packet0");
    EXPECT_EQ(c.port_device[size_t(Zone::lan)], "net_af_packet1");
    EXPECT_EQ(c.port_device[size_t(Zone::dmz)], "net_af_packet2");
    EXPECT_EQ(c.port_line[size_t(Zone::wan)], 1);
    EXPECT_EQ(c.port_line[size_t(Zone::dmz)], 3);

    ASSERT_TRUE(c.lan.has_value());
    EXPECT_EQ(c.lan->addr, 0xC0A80101u);  // 192.168.1.1: lan-ip, not the network
    EXPECT_EQ(c.lan->len, 24);
    EXPECT_EQ(c.lan->network(), 0xC0A80100u);
    EXPECT_EQ(c.lan_line, 4);

    ASSERT_TRUE(c.wan_network.has_value());
    EXPECT_EQ(c.wan_network->addr, 0xCB007100u);  // 203.0.113.0
    EXPECT_EQ(c.wan_network->len, 24);
    EXPECT_EQ(c.wan_gateway, 0xCB007101u);
    EXPECT_EQ(c.wan_line, 5);

    ASSERT_TRUE(c.server.has_value());
    EXPECT_EQ(*c.server, 0xCB00710Au);  // 203.0.113.10
    EXPECT_EQ(c.server_line, 6);

    EXPECT_EQ(c.napt_ports.lo, 61000);
    EXPECT_EQ(c.napt_ports.hi, 65535);
    EXPECT_EQ(c.napt_ports_line, 7);

    ASSERT_EQ(c.routes.size(), 2u);
    EXPECT_EQ(c.routes[0].dst, (Ipv4Prefix{0x0A140000u, 16}));
    EXPECT_EQ(c.routes[0].via, 0xC0A801FEu);
    EXPECT_FALSE(c.routes[0].dev.has_value());
    EXPECT_EQ(c.routes[0].line, 8);
    EXPECT_EQ(c.routes[1].dst, (Ipv4Prefix{0xCB007180u, 25}));
    EXPECT_EQ(c.routes[1].via, 0u);
    EXPECT_EQ(c.routes[1].dev, Zone::wan);
    EXPECT_EQ(c.routes[1].line, 9);
}

TEST(ConfigReference, DefaultsWhenNotGiven) {
    const Config c = reference_config();
    EXPECT_EQ(c.napt_sessions, 1048576u);
    EXPECT_EQ(c.napt_ports_per_client, 4096u);
    EXPECT_EQ(c.napt_filtering, Filtering::address_and_port_dependent);
    EXPECT_EQ(c.timeouts.tcp_established, 7440u);
    EXPECT_EQ(c.timeouts.tcp_transitory, 240u);
    EXPECT_EQ(c.timeouts.udp, 300u);
    EXPECT_EQ(c.timeouts.icmp, 60u);
}

TEST(ConfigReference, NaptPortsDefaultWhenOmitted) {
    const Config c = must_parse(ref_with(7, ""));
    EXPECT_EQ(c.napt_ports, (PortRange{61000, 65535}));
    EXPECT_EQ(c.napt_ports_line, 0);
}

TEST(ConfigReference, AllNaptAndTimeoutStatements) {
    const Config c = must_parse(reference() +
                                "napt sessions 2048\n"
                                "napt ports-per-client 64\n"
                                "napt filtering endpoint-independent\n"
                                "timeout tcp-established 3600\n"
                                "timeout tcp-transitory 1\n"
                                "timeout udp 604800\n"
                                "timeout icmp 30\n");
    EXPECT_EQ(c.napt_sessions, 2048u);
    EXPECT_EQ(c.napt_sessions_line, 10);
    EXPECT_EQ(c.napt_ports_per_client, 64u);
    EXPECT_EQ(c.napt_ports_per_client_line, 11);
    EXPECT_EQ(c.napt_filtering, Filtering::endpoint_independent);
    EXPECT_EQ(c.napt_filtering_line, 12);
    EXPECT_EQ(c.timeouts.tcp_established, 3600u);
    EXPECT_EQ(c.timeouts.tcp_transitory, 1u);
    EXPECT_EQ(c.timeouts.udp, 604800u);
    EXPECT_EQ(c.timeouts.icmp, 30u);
    EXPECT_EQ(c.timeout_line, (std::array<int, kNumTimeouts>{13, 14, 15, 16}));
}

TEST(ConfigReference, PciDeviceNames) {
    const Config c = must_parse(ref_with(1, "port wan 0000:03:00.0"));
    EXPECT_EQ(c.port_device[size_t(Zone::wan)], "0000:03:00.0");
}

TEST(ConfigReference, StatementOrderIsFree) {
    auto lines = kReference;  // routes keep their relative order: it is significant
    std::swap(lines[0], lines[6]);
    std::swap(lines[2], lines[4]);
    EXPECT_EQ(must_parse(join(lines)), reference_config());
}

TEST(ConfigReference, RouteOrderIsKept) {
    auto lines = kReference;
    std::swap(lines[7], lines[8]);
    const Config c = must_parse(join(lines));
    ASSERT_EQ(c.routes.size(), 2u);
    EXPECT_EQ(c.routes[0].dev, Zone::wan);
    EXPECT_EQ(c.routes[1].via, ip("192.168.1.254"));
    EXPECT_NE(c, reference_config());
}

// ---------------------------------------------------------------- lexical

TEST(ConfigLexical, CommentsBlankLinesAndTabs) {
    const std::string text =
        "# ipshare configuration\n"
        "\n"
        "   \t  \n"
        "port\twan\t\tnet_af_packet0   # the upstream side\n"
        "  port lan net_af_packet1\n"
        "port dmz net_af_packet2#no space before the comment\n"
        "\t# an indented comment\n"
        "lan address 192.168.1.1/24\n"
        "wan network 203.0.113.0/24 gateway 203.0.113.1 # comment with 'quotes' and # twice\n"
        "server address 203.0.113.10\r\n"
        "napt ports 61000-65535\n"
        "route 10.20.0.0/16 via 192.168.1.254\n"
        "route 203.0.113.128/25 dev wan";  // no final newline
    const Config c = must_parse(text);
    EXPECT_EQ(c, reference_config());
    EXPECT_EQ(c.port_line[size_t(Zone::wan)], 4);
    EXPECT_EQ(c.port_device[size_t(Zone::dmz)], "net_af_packet2");
    EXPECT_EQ(c.server_line, 10);
    EXPECT_EQ(c.routes.at(1).line, 13);
}

TEST(ConfigLexical, KeywordsAreCaseSensitive) {
    expect_error(ref_with(4, "LAN address 192.168.1.1/24"), 4, "unknown statement 'LAN'");
}

TEST(ConfigLexical, ControlCharacterRejected) {
    expect_error(ref_with(2, std::string("port lan net_af\x01packet1")), 2, "invalid control character");
}

TEST(ConfigLexical, EmptyTextIsMissingPorts) { expect_error("", 0, "missing 'port wan' statement"); }

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
    expect_error(ref_plus("timeout udp"), 10, "missing argument after 'timeout udp'");
    expect_error(ref_plus("napt"), 10, "missing argument after 'napt'");
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
    expect_error(ref_plus("lan address 192.168.2.1/24"), 10, "duplicate 'lan address' (first at line 4)");
    expect_error(ref_plus("port dmz net_af_packet3"), 10, "duplicate 'port dmz' (first at line 3)");
    expect_error(ref_plus("wan network 198.51.100.0/24 gateway 198.51.100.1"), 10,
                 "duplicate 'wan network' (first at line 5)");
    expect_error(ref_plus("server address 203.0.113.11"), 10, "duplicate 'server address' (first at line 6)");
    expect_error(ref_plus("napt ports 50000-60000"), 10, "duplicate 'napt ports' (first at line 7)");
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
    expect_error(ref_plus("napt sessions 15"), 10, "napt sessions '15' out of range (16..67108864)");
    expect_error(ref_plus("napt sessions 67108865"), 10, "napt sessions '67108865' out of range");
    EXPECT_EQ(must_parse(ref_plus("napt sessions 67108864")).napt_sessions, 67108864u);
}

TEST(ConfigErrors, NumbersAreStrictDecimal) {
    expect_error(ref_plus("napt sessions 99999999999"), 10, "napt sessions '99999999999' out of range");
    expect_error(ref_plus("napt sessions 99999999999999999999999999"), 10, "out of range");
    expect_error(ref_plus("napt sessions +2048"), 10, "bad number '+2048'");
    expect_error(ref_plus("napt sessions -2048"), 10, "bad number '-2048'");
    expect_error(ref_plus("napt sessions 0x800"), 10, "bad number '0x800'");
    expect_error(ref_plus("napt sessions 2048k"), 10, "bad number '2048k'");
    expect_error(ref_plus("napt sessions 02048"), 10, "bad number '02048' (leading zeros are not allowed)");
}

TEST(ConfigErrors, NaptPortsPerClientRange) {
    expect_error(ref_plus("napt ports-per-client 0"), 10, "napt ports-per-client '0' out of range (1..65535)");
    expect_error(ref_plus("napt ports-per-client 65536"), 10, "out of range (1..65535)");
}

TEST(ConfigErrors, UnknownFiltering) {
    expect_error(ref_plus("napt filtering full-cone"), 10,
                 "unknown filtering 'full-cone' (expected endpoint-independent or address-and-port-dependent)");
}

TEST(ConfigErrors, UnknownTimeout) {
    expect_error(ref_plus("timeout tcp 30"), 10, "unknown timeout 'tcp'");
}

TEST(ConfigErrors, TimeoutRange) {
    expect_error(ref_plus("timeout udp 0"), 10, "timeout udp '0' out of range (1..604800)");
    expect_error(ref_plus("timeout icmp 604801"), 10, "timeout icmp '604801' out of range");
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
    expect_error(ref_plus("route 10.20.0.0/16 via 203.0.113.1"), 10, "duplicate route 10.20.0.0/16 (first at line 8)");
    expect_error(ref_plus("route 203.0.113.128/25 dev dmz"), 10, "duplicate route 203.0.113.128/25 (first at line 9)");
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
    expect_error(ref_plus("route 203.0.113.8/29 dev dmz"), 10,
                 "route 203.0.113.8/29 contains the server address 203.0.113.10");
    expect_error(ref_plus("route 203.0.113.10/32 dev wan"), 10, "contains the server address 203.0.113.10");
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

// ---------------------------------------------------------------- apply_statement (CLI use)

TEST(ConfigApply, BlankAndCommentAreAccepted) {
    Config c;
    EXPECT_FALSE(apply_statement(c, "", 1).has_value());
    EXPECT_FALSE(apply_statement(c, "   # nothing", 2).has_value());
    EXPECT_EQ(c, Config{});
}

TEST(ConfigApply, ReturnsMessageWithoutPrefix) {
    Config c;
    EXPECT_EQ(apply_statement(c, "frobnicate", 3), "unknown statement 'frobnicate'");
    EXPECT_EQ(apply_statement(c, "port wan", 3), "missing argument after 'port wan'");
}

TEST(ConfigApply, LineZeroReplacesValue) {
    Config c = reference_config();
    EXPECT_FALSE(apply_statement(c, "server address 203.0.113.11", 0).has_value());
    EXPECT_EQ(c.server, ip("203.0.113.11"));
    EXPECT_EQ(c.server_line, 0);
    EXPECT_FALSE(apply_statement(c, "napt ports 50000-60000", 0).has_value());
    EXPECT_EQ(c.napt_ports, (PortRange{50000, 60000}));
    EXPECT_FALSE(apply_statement(c, "route 10.30.0.0/16 via 192.168.1.254", 0).has_value());
    EXPECT_EQ(c.routes.size(), 3u);
    EXPECT_FALSE(validate_config(c).has_value());
}

TEST(ConfigApply, ConfigUnchangedOnError) {
    Config c = reference_config();
    const Config before = c;
    EXPECT_TRUE(apply_statement(c, "wan network 198.51.100.0/24 gateway 203.0.113.1", 0).has_value());
    EXPECT_TRUE(apply_statement(c, "route 10.30.0.0/16 via 192.168.1.254 extra", 0).has_value());
    EXPECT_EQ(c, before);
    EXPECT_EQ(c.wan_line, 5);
}

// ---------------------------------------------------------------- forward

// apply_statement must succeed.
void apply_ok(Config& c, const std::string& statement, int line = 0) {
    const auto e = apply_statement(c, statement, line);
    EXPECT_FALSE(e.has_value()) << statement << ": " << e.value_or("");
}

// apply_statement must fail with exactly `message` and leave `c` unchanged.
void apply_fails(Config& c, const std::string& statement, const std::string& message) {
    const Config before = c;
    EXPECT_EQ(apply_statement(c, statement, 0), message) << statement;
    EXPECT_EQ(c, before) << statement;
}

TEST(ConfigForward, SinglePortToOtherPort) {
    const Config c = must_parse(ref_plus("forward tcp 8080 to 192.168.1.101 port 80"));
    ASSERT_EQ(c.forwards.size(), 1u);
    const Forward& f = c.forwards[0];
    EXPECT_EQ(f.protos, kProtoTcp);
    EXPECT_EQ(f.ports, (PortRange{8080, 8080}));
    EXPECT_EQ(f.target, ip("192.168.1.101"));
    EXPECT_EQ(f.target_port, 80);
    EXPECT_EQ(f.line, 10);
    EXPECT_EQ(f.target_port_for(8080), 80);
}

TEST(ConfigForward, RangeToSamePorts) {
    const Config c = must_parse(ref_plus("forward udp 27015-27020 to 192.168.1.102"));
    ASSERT_EQ(c.forwards.size(), 1u);
    const Forward& f = c.forwards[0];
    EXPECT_EQ(f.protos, kProtoUdp);
    EXPECT_EQ(f.ports, (PortRange{27015, 27020}));
    EXPECT_EQ(f.target, ip("192.168.1.102"));
    EXPECT_EQ(f.target_port, 0);
    EXPECT_EQ(f.target_port_for(27017), 27017);
}

TEST(ConfigForward, RangeToOtherRange) {
    const Config c = must_parse(ref_plus("forward tcp+udp 5000-5009 to 192.168.1.103 port 6000-6009"));
    ASSERT_EQ(c.forwards.size(), 1u);
    const Forward& f = c.forwards[0];
    EXPECT_EQ(f.protos, kProtoTcp | kProtoUdp);
    EXPECT_EQ(f.ports, (PortRange{5000, 5009}));
    EXPECT_EQ(f.target, ip("192.168.1.103"));
    EXPECT_EQ(f.target_port, 6000);
    EXPECT_EQ(f.target_port_for(5000), 6000);
    EXPECT_EQ(f.target_port_for(5009), 6009);
}

TEST(ConfigForward, SingleTargetPortStartsARange) {
    const Config a = must_parse(ref_plus("forward tcp+udp 5000-5009 to 192.168.1.103 port 6000"));
    const Config b = must_parse(ref_plus("forward tcp+udp 5000-5009 to 192.168.1.103 port 6000-6009"));
    EXPECT_EQ(a, b);
    EXPECT_EQ(a.forwards.at(0).target_port, 6000);
}

TEST(ConfigForward, TargetPortEqualToOutsideIsStoredAsZero) {
    const Config a = must_parse(ref_plus("forward tcp 80 to 192.168.1.101 port 80"));
    EXPECT_EQ(a.forwards.at(0).target_port, 0);
    EXPECT_EQ(a, must_parse(ref_plus("forward tcp 80 to 192.168.1.101")));
    const Config b = must_parse(ref_plus("forward udp 27015-27020 to 192.168.1.102 port 27015"));
    EXPECT_EQ(b.forwards.at(0).target_port, 0);
}

TEST(ConfigForward, SeveralKeptInOrder) {
    const Config c = must_parse(reference() +
                                "forward tcp 8080 to 192.168.1.101 port 80\n"
                                "forward udp 27015-27020 to 192.168.1.102\n"
                                "forward tcp 53 to 192.168.1.103\n"
                                "forward udp 53 to 192.168.1.104\n"
                                "forward tcp 8000-8079 to 192.168.1.105\n");
    ASSERT_EQ(c.forwards.size(), 5u);
    EXPECT_EQ(c.forwards[0].ports.lo, 8080);
    EXPECT_EQ(c.forwards[1].protos, kProtoUdp);
    EXPECT_EQ(c.forwards[2].target, ip("192.168.1.103"));  // tcp 53 and udp 53: no shared protocol
    EXPECT_EQ(c.forwards[3].target, ip("192.168.1.104"));
    EXPECT_EQ(c.forwards[4].ports, (PortRange{8000, 8079}));  // adjacent to 8080, not overlapping
    EXPECT_EQ(c.forwards[4].line, 14);
}

TEST(ConfigForward, FullPortRange) {
    const Config c = must_parse(ref_with(7, "napt ports 1024-1087") + "forward tcp 1088-65535 to 192.168.1.101\n" +
                                "forward udp 1 to 192.168.1.101 port 65535\n");
    EXPECT_EQ(c.forwards.at(0).ports, (PortRange{1088, 65535}));
    EXPECT_EQ(c.forwards.at(1).target_port, 65535);
}

TEST(ConfigForward, Protocol) {
    expect_error(ref_plus("forward icmp 8080 to 192.168.1.101"), 10,
                 "unknown forward protocol 'icmp' (expected tcp, udp or tcp+udp)");
    expect_error(ref_plus("forward udp+tcp 8080 to 192.168.1.101"), 10, "unknown forward protocol 'udp+tcp'");
    expect_error(ref_plus("forward TCP 8080 to 192.168.1.101"), 10, "unknown forward protocol 'TCP'");
}

TEST(ConfigForward, BadPort) {
    for (const std::string bad : {"http", "80-", "-80", "080", "80-090", "1-2-3", "+80", "8O", "80--90"})
        expect_error(ref_plus("forward tcp " + bad + " to 192.168.1.101"), 10,
                     "bad port '" + bad + "' (expected PORT or LO-HI)");
    expect_error(ref_plus("forward tcp 80 -90 to 192.168.1.101"), 10,
                 "expected 'to' after 'forward tcp 80', got '-90'");
    expect_error(ref_plus("forward tcp 8080 to 192.168.1.101 port http"), 10,
                 "bad port 'http' (expected PORT or LO-HI)");
}

TEST(ConfigForward, PortBeyond65535) {
    expect_error(ref_plus("forward tcp 65536 to 192.168.1.101"), 10, "forward port '65536' is beyond 65535");
    expect_error(ref_plus("forward tcp 65000-99999999999 to 192.168.1.101"), 10,
                 "forward port '65000-99999999999' is beyond 65535");
}

TEST(ConfigForward, PortRangeReversed) {
    expect_error(ref_plus("forward tcp 90-80 to 192.168.1.101"), 10,
                 "forward port range '90-80' is reversed (LO must not exceed HI)");
}

TEST(ConfigForward, OutsidePortZero) {
    expect_error(ref_plus("forward tcp 0 to 192.168.1.101 port 80"), 10, "port 0 cannot be forwarded");
    expect_error(ref_plus("forward udp 0-10 to 192.168.1.101"), 10, "port 0 cannot be forwarded");
}

TEST(ConfigForward, Syntax) {
    expect_error(ref_plus("forward"), 10, "missing argument after 'forward'");
    expect_error(ref_plus("forward tcp"), 10, "missing argument after 'forward tcp'");
    expect_error(ref_plus("forward tcp 8080"), 10, "missing argument after 'forward tcp 8080'");
    expect_error(ref_plus("forward tcp 8080 192.168.1.101"), 10,
                 "expected 'to' after 'forward tcp 8080', got '192.168.1.101'");
    expect_error(ref_plus("forward tcp 8080 to"), 10, "missing argument after 'forward tcp 8080 to'");
    expect_error(ref_plus("forward tcp 8080 to 192.168.1"), 10, "bad address '192.168.1'");
    expect_error(ref_plus("forward tcp 8080 to 192.168.1.101 80"), 10,
                 "expected 'port' after 'forward tcp 8080 to 192.168.1.101', got '80'");
    expect_error(ref_plus("forward tcp 8080 to 192.168.1.101 port"), 10,
                 "missing argument after 'forward tcp 8080 to 192.168.1.101 port'");
    expect_error(ref_plus("forward tcp 8080 to 192.168.1.101 port 80 extra"), 10, "unexpected 'extra' after statement");
}

TEST(ConfigForward, TargetRangeLength) {
    expect_error(ref_plus("forward tcp+udp 5000-5009 to 192.168.1.103 port 6000-6008"), 10,
                 "forward target port range '6000-6008' has 9 ports, the outside range 5000-5009 has 10");
    expect_error(ref_plus("forward tcp 8080 to 192.168.1.101 port 80-81"), 10,
                 "forward target port range '80-81' has 2 ports, the outside range 8080 has 1");
}

TEST(ConfigForward, TargetRangeBeyond65535) {
    expect_error(ref_plus("forward tcp 5000-5009 to 192.168.1.103 port 65530"), 10,
                 "forward target port range 65530-65539 goes beyond 65535");
    expect_error(ref_plus("forward tcp 8080 to 192.168.1.101 port 65536"), 10,
                 "forward target port '65536' is beyond 65535");
    expect_error(ref_plus("forward tcp 5000-5009 to 192.168.1.103 port 65530-65539"), 10,
                 "forward target port '65530-65539' is beyond 65535");
}

TEST(ConfigForward, TargetPortZeroOrReversed) {
    expect_error(ref_plus("forward tcp 8080 to 192.168.1.101 port 0"), 10, "port 0 cannot be a forward target");
    expect_error(ref_plus("forward tcp 5000-5009 to 192.168.1.103 port 6009-6000"), 10,
                 "forward target port range '6009-6000' is reversed (LO must not exceed HI)");
}

TEST(ConfigForward, TargetNotALanHost) {
    expect_error(ref_plus("forward tcp 8080 to 10.20.0.5"), 10,
                 "forward target 10.20.0.5 is outside the lan subnet 192.168.1.0/24");
    expect_error(ref_plus("forward tcp 8080 to 203.0.113.10"), 10,
                 "forward target 203.0.113.10 is outside the lan subnet 192.168.1.0/24");
    expect_error(ref_plus("forward tcp 8080 to 192.168.1.0"), 10,
                 "forward target 192.168.1.0 is the network address of the lan subnet 192.168.1.0/24");
    expect_error(ref_plus("forward tcp 8080 to 192.168.1.255"), 10,
                 "forward target 192.168.1.255 is the broadcast address of the lan subnet 192.168.1.0/24");
    expect_error(ref_plus("forward tcp 8080 to 192.168.1.1"), 10,
                 "forward target 192.168.1.1 is lan-ip (the router itself)");
}

TEST(ConfigForward, OverlapSameProtocol) {
    expect_error(reference() + "forward tcp 8000-8100 to 192.168.1.101\nforward tcp 8080 to 192.168.1.102\n", 11,
                 "forward tcp 8080 overlaps forward tcp 8000-8100 (line 10)");
    expect_error(reference() + "forward udp 53 to 192.168.1.101\nforward udp 53 to 192.168.1.101\n", 11,
                 "forward udp 53 overlaps forward udp 53 (line 10)");
}

TEST(ConfigForward, TcpUdpOverlapsBoth) {
    expect_error(
        reference() + "forward tcp+udp 27000-27100 to 192.168.1.103\nforward udp 27015-27020 to 192.168.1.102\n", 11,
        "forward udp 27015-27020 overlaps forward tcp+udp 27000-27100 (line 10)");
    expect_error(reference() + "forward tcp 27100 to 192.168.1.102\nforward tcp+udp 27000-27100 to 192.168.1.103\n",
                 11, "forward tcp+udp 27000-27100 overlaps forward tcp 27100 (line 10)");
    // The overlap is reported against the first forward it meets.
    expect_error(reference() +
                     "forward udp 27015 to 192.168.1.102\n"
                     "forward tcp 27016 to 192.168.1.102\n"
                     "forward tcp+udp 27000-27100 to 192.168.1.103\n",
                 12, "forward tcp+udp 27000-27100 overlaps forward udp 27015 (line 10)");
}

TEST(ConfigForward, OverlapsNaptPorts) {
    expect_error(ref_plus("forward tcp 61000 to 192.168.1.101"), 10,
                 "forward tcp 61000 overlaps the napt port range 61000-65535");
    expect_error(ref_plus("forward udp 60000-61000 to 192.168.1.101"), 10,
                 "forward udp 60000-61000 overlaps the napt port range 61000-65535");
    // Checked after the whole file: the napt range may come later.
    expect_error(ref_with(7, "forward tcp 50000 to 192.168.1.101") + "napt ports 49000-50000\n", 7,
                 "forward tcp 50000 overlaps the napt port range 49000-50000");
    const Config c = must_parse(ref_with(7, "forward tcp 61000 to 192.168.1.101") + "napt ports 50000-60999\n");
    EXPECT_EQ(c.forwards.at(0).ports.lo, 61000);
}

TEST(ConfigForward, BuiltConfigChecked) {
    Config c = reference_config();
    c.forwards.push_back(Forward{kProtoTcp, PortRange{8080, 8080}, ip("192.168.1.101"), 80, 12});
    EXPECT_FALSE(validate_config(c).has_value());
    c.forwards[0].ports = PortRange{0, 10};
    expect_invalid(c, 12, "port 0 cannot be forwarded");
    c.forwards[0].ports = PortRange{90, 80};
    expect_invalid(c, 12, "forward port range '90-80' is reversed (LO must not exceed HI)");
    c.forwards[0].ports = PortRange{5000, 5009};
    c.forwards[0].target_port = 65530;
    expect_invalid(c, 12, "forward target port range 65530-65539 goes beyond 65535");
    c.forwards[0].target_port = 0;
    c.forwards[0].protos = 0;
    expect_invalid(c, 12, "forward has no valid protocol (expected tcp, udp or tcp+udp)");
    c.forwards[0].protos = 4;
    expect_invalid(c, 12, "forward has no valid protocol");
}

// ---------------------------------------------------------------- hairpin

TEST(ConfigHairpin, DefaultIsWan) {
    const Config c = reference_config();
    EXPECT_EQ(c.hairpin_source, HairpinSource::wan);
    EXPECT_EQ(c.hairpin_line, 0);
}

TEST(ConfigHairpin, Parses) {
    const Config lan = must_parse(ref_plus("hairpin source lan"));
    EXPECT_EQ(lan.hairpin_source, HairpinSource::lan);
    EXPECT_EQ(lan.hairpin_line, 10);
    const Config wan = must_parse(ref_plus("hairpin source wan"));
    EXPECT_EQ(wan.hairpin_source, HairpinSource::wan);
    EXPECT_EQ(wan.hairpin_line, 10);
    EXPECT_EQ(wan, reference_config());
}

TEST(ConfigHairpin, Errors) {
    expect_error(ref_plus("hairpin source dmz"), 10, "unknown hairpin source 'dmz' (expected wan or lan)");
    expect_error(ref_plus("hairpin lan"), 10, "expected 'source' after 'hairpin', got 'lan'");
    expect_error(ref_plus("hairpin source"), 10, "missing argument after 'hairpin source'");
    expect_error(ref_plus("hairpin source lan wan"), 10, "unexpected 'wan' after statement");
    expect_error(reference() + "hairpin source lan\nhairpin source lan\n", 11,
                 "duplicate 'hairpin source' (first at line 10)");
}

TEST(ConfigHairpin, LineZeroReplaces) {
    Config c = must_parse(ref_plus("hairpin source lan"));
    apply_ok(c, "hairpin source wan");
    EXPECT_EQ(c.hairpin_source, HairpinSource::wan);
    EXPECT_EQ(c.hairpin_line, 0);
}

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
    expect_error(ref_plus("filter"), 10, "missing argument after 'filter'");
    expect_error(ref_plus("filter drop from wan to lan"), 10,
                 "unknown filter action 'drop' (expected allow, deny, reject or policy)");
    expect_error(ref_plus("filter allow lan to wan"), 10, "expected 'from' after 'filter allow', got 'lan'");
    expect_error(ref_plus("filter allow from lan wan"), 10, "expected 'to' after 'filter allow from lan', got 'wan'");
    expect_error(ref_plus("filter allow from lan to"), 10, "missing argument after 'filter allow from lan to'");
    expect_error(ref_plus("filter allow from lan to inet"), 10, "unknown zone 'inet' (expected wan, lan or dmz)");
    expect_error(ref_plus("filter allow from lan to wan proto"), 10,
                 "missing argument after 'filter allow from lan to wan proto'");
}

TEST(ConfigFilter, SameZone) {
    expect_error(ref_plus("filter allow from lan to lan"), 10,
                 "filter from lan to lan: from and to must be different zones");
}

TEST(ConfigFilter, UnknownOrRepeatedOption) {
    expect_error(ref_plus("filter allow from lan to wan sport 80"), 10,
                 "unknown filter option 'sport' (expected proto, src, dst, port, orig-dst or orig-port)");
    expect_error(ref_plus("filter allow from lan to wan proto tcp proto udp"), 10, "duplicate filter option 'proto'");
    expect_error(ref_plus("filter allow from lan to wan proto tcp port 80 port 81"), 10,
                 "duplicate filter option 'port'");
}

TEST(ConfigFilter, BadProto) {
    expect_error(ref_plus("filter allow from lan to wan proto gre"), 10,
                 "unknown protocol 'gre' (expected tcp, udp, icmp or a number 0..255)");
    expect_error(ref_plus("filter allow from lan to wan proto 256"), 10, "filter proto '256' out of range (0..255)");
    expect_error(ref_plus("filter allow from lan to wan proto 06"), 10,
                 "bad number '06' (leading zeros are not allowed)");
    expect_error(ref_plus("filter allow from lan to wan proto 6x"), 10, "bad number '6x'");
}

TEST(ConfigFilter, PortNeedsTcpOrUdp) {
    expect_error(ref_plus("filter deny from wan to lan port 80"), 10, "filter port requires proto tcp or udp");
    expect_error(ref_plus("filter deny from wan to lan proto icmp port 80"), 10,
                 "filter port requires proto tcp or udp");
    expect_error(ref_plus("filter deny from wan to lan orig-port 8080"), 10,
                 "filter orig-port requires proto tcp or udp");
    expect_error(ref_plus("filter deny from wan to lan orig-port 8080 proto 47"), 10,
                 "filter orig-port requires proto tcp or udp");
}

TEST(ConfigFilter, BadPorts) {
    expect_error(ref_plus("filter deny from wan to lan proto tcp port http"), 10,
                 "bad port 'http' (expected PORT or LO-HI)");
    expect_error(ref_plus("filter deny from wan to lan proto tcp port 70000"), 10,
                 "filter port '70000' is beyond 65535");
    expect_error(ref_plus("filter deny from wan to lan proto tcp orig-port 90-80"), 10,
                 "filter orig-port range '90-80' is reversed (LO must not exceed HI)");
    EXPECT_EQ(must_parse(ref_plus("filter deny from wan to lan proto udp port 0-65535")).filters.at(0).port,
              (PortRange{0, 65535}));
}

TEST(ConfigFilter, PrefixesNeedZeroHostBits) {
    expect_error(ref_plus("filter deny from wan to lan src 198.51.100.20/24"), 10,
                 "filter src 198.51.100.20/24 has host bits set (network is 198.51.100.0/24)");
    expect_error(ref_plus("filter deny from wan to lan dst 192.168.1.101/24"), 10,
                 "filter dst 192.168.1.101/24 has host bits set (network is 192.168.1.0/24)");
    expect_error(ref_plus("filter deny from wan to lan orig-dst 203.0.113.10/24"), 10,
                 "filter orig-dst 203.0.113.10/24 has host bits set (network is 203.0.113.0/24)");
    expect_error(ref_plus("filter deny from wan to lan dst 192.168.1.101"), 10,
                 "missing prefix length in '192.168.1.101' (expected A.B.C.D/LEN)");
    expect_error(ref_plus("filter deny from wan to lan src 300.0.0.0/8"), 10, "bad address in '300.0.0.0/8'");
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
    expect_error(ref_plus("filter policy from wan to wan deny"), 10,
                 "filter policy from wan to wan: from and to must be different zones");
    expect_error(ref_plus("filter policy from wan to lan drop"), 10,
                 "unknown filter action 'drop' (expected allow, deny or reject)");
    expect_error(ref_plus("filter policy from wan to lan"), 10,
                 "missing argument after 'filter policy from wan to lan'");
    expect_error(ref_plus("filter policy wan to lan deny"), 10, "expected 'from' after 'filter policy', got 'wan'");
    expect_error(ref_plus("filter policy from wan to lan deny now"), 10, "unexpected 'now' after statement");
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
    expect_error(ref_plus("no forward tcp 8080"), 10, "no forward matches 'tcp 8080'");
    expect_error(ref_plus("no server address"), 10, "'server address' cannot be removed, only changed");
}

TEST(ConfigNo, LineNumberIgnored) {
    Config c = with_forwards();
    EXPECT_FALSE(apply_statement(c, "no forward tcp 8080", 0).has_value());
    EXPECT_FALSE(apply_statement(c, "no forward tcp 443", 7).has_value());
    EXPECT_EQ(c.forwards.size(), 2u);
}

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

// ---------------------------------------------------------------- address helpers

TEST(Ipv4, ParsesValid) {
    EXPECT_EQ(parse_ipv4("0.0.0.0"), 0u);
    EXPECT_EQ(parse_ipv4("255.255.255.255"), 0xFFFFFFFFu);
    EXPECT_EQ(parse_ipv4("192.168.1.1"), 0xC0A80101u);
    EXPECT_EQ(parse_ipv4("203.0.113.10"), 0xCB00710Au);
    EXPECT_EQ(parse_ipv4("10.0.0.100"), 0x0A000064u);
}

TEST(Ipv4, RejectsMalformed) {
    for (const char* bad : {"", "1", "1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "256.0.0.0", "1.2.3.256",
                            "1234.1.1.1", "01.2.3.4", "1.2.3.04", "1.00.3.4", "+1.2.3.4", "1.+2.3.4", "-1.2.3.4",
                            " 1.2.3.4", "1.2.3.4 ", "1.2.3.4/24", "0x1.2.3.4", "a.b.c.d", "1.2.3.4\n", "1,2,3,4",
                            "99999999999.1.1.1"}) {
        EXPECT_FALSE(parse_ipv4(bad).has_value()) << "'" << bad << "'";
    }
}

TEST(Ipv4, FormatRoundTrip) {
    EXPECT_EQ(format_ipv4(0xCB00710Au), "203.0.113.10");
    EXPECT_EQ(format_ipv4(0), "0.0.0.0");
    EXPECT_EQ(format_ipv4(0xFFFFFFFFu), "255.255.255.255");
    for (const uint32_t a : {0u, 1u, 0x01020304u, 0x7F000001u, 0xC6336414u, 0xFFFFFFFEu})
        EXPECT_EQ(parse_ipv4(format_ipv4(a)), a);
}

TEST(Ipv4Prefix, ParseAndFormat) {
    const auto p = parse_prefix("10.20.0.0/16");
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->addr, 0x0A140000u);
    EXPECT_EQ(p->len, 16);
    EXPECT_EQ(format_prefix(*p), "10.20.0.0/16");
    // Host bits are kept: `lan address` is lan-ip plus the subnet length.
    EXPECT_EQ(parse_prefix("192.168.1.1/24"), (Ipv4Prefix{0xC0A80101u, 24}));
    EXPECT_EQ(parse_prefix("0.0.0.0/0"), (Ipv4Prefix{0, 0}));
    EXPECT_EQ(parse_prefix("1.2.3.4/32"), (Ipv4Prefix{0x01020304u, 32}));
}

TEST(Ipv4Prefix, RejectsMalformed) {
    for (const char* bad : {"", "/", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8",
                            "10.0.0.0/08", "10.0.0.0/8/8", "10.0.0/8", "/8", "10.0.0.0 /8", "10.0.0.0/8 "}) {
        EXPECT_FALSE(parse_prefix(bad).has_value()) << "'" << bad << "'";
    }
}

// ---------------------------------------------------------------- errors and files

TEST(ConfigErrorStr, Forms) {
    EXPECT_EQ((ConfigError{"a.conf", 4, "boom"}).str(), "a.conf:4: boom");
    EXPECT_EQ((ConfigError{"a.conf", 0, "boom"}).str(), "a.conf: boom");
    EXPECT_EQ((ConfigError{"", 4, "boom"}).str(), "line 4: boom");
    EXPECT_EQ((ConfigError{"", 0, "boom"}).str(), "boom");
}

TEST(ConfigErrorStr, FromParse) {
    Config c;
    const auto e = parse_config(ref_with(6, "server address 300.1.1.1"), "ipshare.conf", c);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->str(), "ipshare.conf:6: bad address '300.1.1.1'");
}

class ConfigFile : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = std::filesystem::temp_directory_path() /
                ("ipshare_test_config_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "_" +
                 ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".conf");
    }
    void TearDown() override { std::filesystem::remove(path_); }
    std::filesystem::path path_;
};

TEST_F(ConfigFile, LoadsFile) {
    std::ofstream(path_) << reference();
    Config c;
    const auto e = load_config_file(path_.string(), c);
    ASSERT_FALSE(e.has_value()) << e->str();
    EXPECT_EQ(c, reference_config());
    EXPECT_EQ(c.file, path_.string());
}

TEST_F(ConfigFile, ErrorNamesFile) {
    std::ofstream(path_) << ref_with(2, "port lan");
    Config c;
    const auto e = load_config_file(path_.string(), c);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->str(), path_.string() + ":2: missing argument after 'port lan'");
}

TEST_F(ConfigFile, MissingFile) {
    Config c;
    const auto e = load_config_file(path_.string(), c);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->line, 0);
    EXPECT_EQ(e->file, path_.string());
    EXPECT_NE(e->message.find("cannot open file"), std::string::npos) << e->str();
}

}  // namespace
}  // namespace ipshare
