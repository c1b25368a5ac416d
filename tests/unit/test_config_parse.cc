// Unit tests for the configuration grammar (control/config_parse.h): the
// reference file, lexical rules, single statements from the CLI, the address
// helpers, error text and reading files.
#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>

#include "config_test_support.h"

namespace ipshare {
namespace {

using namespace test;

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
