// Unit tests for the control commands (control/commands.h): the `show`
// commands, as tables and as JSON, against the FakeApi.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "commands_test_support.h"

namespace ipshare {
namespace {

using namespace test;

// ---------------------------------------------------------------- show

TEST(Commands, ShowPortsTable) {
    FakeApi api;
    EXPECT_EQ(ok_body(api, "show ports"),
              "ZONE  DEVICE          LINK                       MAC                     RX       TX  DROPPED  "
              "RX-PPS  TX-PPS  NIC-MISSED  NIC-ERRORS\n"
              "wan   net_af_packet0  up 10000 Mbps full-duplex  02:00:00:00:00:01  1523411  1498702       12    "
              "1520    1489           0           0\n"
              "lan   net_af_packet1  up 10000 Mbps full-duplex  02:00:00:00:00:02  1101934  1211870        3    "
              "1101    1211           0           0\n"
              "dmz   net_af_packet2  down                       02:00:00:00:00:03   402113   405231        0       "
              "0       0          17           2\n");
    EXPECT_EQ(api.calls, std::vector<std::string>{"ports"});
}

TEST(Commands, ShowPortsJson) {
    FakeApi api;
    const std::string body = ok_body(api, "show ports --json");
    EXPECT_TRUE(JsonCheck::valid(body)) << body;
    EXPECT_NE(body.find("\"zone\": \"wan\""), std::string::npos);
    EXPECT_NE(body.find("\"rx\": 1523411"), std::string::npos);
    EXPECT_NE(body.find("\"rx_pps\": 1520.4"), std::string::npos);
    EXPECT_NE(body.find("\"nic_missed\": 17"), std::string::npos);
}

TEST(Commands, ShowDrops) {
    FakeApi api;
    EXPECT_EQ(ok_body(api, "show drops"),
              "REASON          COUNT  DESCRIPTION\n"
              "spoofed_source      7  source address not valid for the ingress port\n"
              "wan_not_for_us      5  arrived on wan for an address other than wan-ip\n"
              "no_route            0  no route to the destination\n"
              "ttl_exceeded        3  TTL expired in transit; ICMP time exceeded sent\n");
    const std::string nonzero = ok_body(api, "show drops nonzero");
    EXPECT_EQ(nonzero.find("no_route"), std::string::npos);
    EXPECT_NE(nonzero.find("ttl_exceeded"), std::string::npos);
    const std::string json = ok_body(api, "show drops nonzero --json");
    EXPECT_TRUE(JsonCheck::valid(json)) << json;
    EXPECT_EQ(json.find("no_route"), std::string::npos);
    EXPECT_NE(json.find("\"reason\": \"spoofed_source\""), std::string::npos);
    EXPECT_EQ(error_of(api, "show drops all"), "unexpected 'all' after 'show drops'");
}

TEST(Commands, ShowNeighboursAndAlias) {
    FakeApi api;
    const std::string expected =
        "ZONE  ADDRESS       MAC                STATE       AGE\n"
        "wan   203.0.113.1   02:00:00:00:01:01  reachable    12\n"
        "lan   192.168.1.11  02:00:00:00:02:11  reachable     3\n"
        "lan   192.168.1.12  -                  incomplete    0\n"
        "dmz   203.0.113.10  02:00:00:00:03:10  reachable     1\n";
    EXPECT_EQ(ok_body(api, "show neighbours"), expected);
    EXPECT_EQ(ok_body(api, "show neighbors"), expected);
    const std::string json = ok_body(api, "show neighbors --json");
    EXPECT_TRUE(JsonCheck::valid(json)) << json;
    EXPECT_NE(json.find("\"address\": \"203.0.113.1\""), std::string::npos);
}

TEST(Commands, ShowSessionsTable) {
    FakeApi api;
    EXPECT_EQ(ok_body(api, "show sessions"),
              "PROTO  KIND     CLIENT              OUTSIDE             REMOTE               STATE        IDLE  "
              "EXPIRES  PKTS-OUT  PKTS-IN  WORKER\n"
              "tcp    napt     192.168.1.11:40000  203.0.113.10:61001  198.51.100.20:80     established     2     "
              "7438        15       13       0\n"
              "udp    napt     192.168.1.12:5353   203.0.113.10:61002  198.51.100.20:53     active         10      "
              "290         1        1       1\n"
              "icmp   napt     192.168.1.11:7      203.0.113.10:61003  198.51.100.20        active          1       "
              "59         4        4       0\n"
              "tcp    forward  192.168.1.11:22     203.0.113.10:2222   198.51.100.20:51234  established    30     "
              "7410       210      250       1\n");
    EXPECT_EQ(api.limit, Commands::kDefaultLimit);
    EXPECT_FALSE(api.filter.proto || api.filter.client || api.filter.remote || api.filter.port || api.filter.state);
    EXPECT_FALSE(api.called("session_count"));  // fewer rows than the limit: no need to count
}

TEST(Commands, ShowSessionsFilters) {
    FakeApi api;
    ok_body(api, "show sessions proto tcp client 192.168.1.11 remote 198.51.100.20 port 80 state established");
    ASSERT_TRUE(api.filter.proto && api.filter.client && api.filter.remote && api.filter.port && api.filter.state);
    EXPECT_EQ(*api.filter.proto, 6);
    EXPECT_EQ(*api.filter.client, ip("192.168.1.11"));
    EXPECT_EQ(*api.filter.remote, ip("198.51.100.20"));
    EXPECT_EQ(*api.filter.port, 80);
    EXPECT_EQ(*api.filter.state, "established");

    ok_body(api, "show sessions proto udp");
    EXPECT_EQ(*api.filter.proto, 17);
    EXPECT_FALSE(api.filter.client);
    ok_body(api, "show sessions proto icmp");
    EXPECT_EQ(*api.filter.proto, 1);
    ok_body(api, "show sessions proto 47 port 0");
    EXPECT_EQ(*api.filter.proto, 47);
    EXPECT_EQ(*api.filter.port, 0);
    ok_body(api, "show sessions state active --json");
    EXPECT_EQ(*api.filter.state, "active");
}

TEST(Commands, ShowSessionsLimitAndMore) {
    FakeApi api;
    api.count = 1234;
    const std::string body = ok_body(api, "show sessions limit 2");
    EXPECT_EQ(api.limit, 2u);
    EXPECT_TRUE(api.called("session_count"));
    // Header, two rows, then the rest counted.
    EXPECT_EQ(std::count(body.begin(), body.end(), '\n'), 4);
    EXPECT_NE(body.find("\n... 1232 more\n"), std::string::npos) << body;

    const std::string json = ok_body(api, "show sessions client 192.168.1.11 limit 2 --json");
    EXPECT_TRUE(JsonCheck::valid(json)) << json;
    EXPECT_NE(json.find("\"more\": 1232"), std::string::npos);
    EXPECT_NE(json.find("\"client_ip\": \"192.168.1.11\""), std::string::npos);
    EXPECT_NE(json.find("\"outside_port\": 61001"), std::string::npos);
    EXPECT_EQ(*api.filter.client, ip("192.168.1.11"));
}

TEST(Commands, ShowSessionsCount) {
    FakeApi api;
    api.count = 42;
    EXPECT_EQ(ok_body(api, "show sessions count proto tcp"), "42\n");
    EXPECT_EQ(*api.filter.proto, 6);
    EXPECT_FALSE(api.called("sessions"));
    EXPECT_EQ(ok_body(api, "show sessions count --json"), "{\n  \"count\": 42\n}\n");
    EXPECT_FALSE(api.filter.proto);
    EXPECT_EQ(error_of(api, "show sessions count limit 5"), "'limit' does not apply to 'show sessions count'");
}

TEST(Commands, SessionFilterErrors) {
    FakeApi api;
    EXPECT_EQ(error_of(api, "show sessions proto"),
              "missing argument after 'show sessions proto' (expected tcp, udp, icmp, gre, esp, sctp or a protocol "
              "number 0..255)");
    EXPECT_EQ(error_of(api, "show sessions proto tpc"),
              "bad protocol 'tpc' (expected tcp, udp, icmp, gre, esp, sctp or 0..255)");
    EXPECT_EQ(error_of(api, "show sessions proto 256"),
              "bad protocol '256' (expected tcp, udp, icmp, gre, esp, sctp or 0..255)");
    EXPECT_EQ(error_of(api, "show sessions client 192.168.1"), "bad address '192.168.1' (expected A.B.C.D)");
    EXPECT_EQ(error_of(api, "show sessions remote 198.51.100.300"),
              "bad address '198.51.100.300' (expected A.B.C.D)");
    EXPECT_EQ(error_of(api, "show sessions client"),
              "missing argument after 'show sessions client' (expected an address A.B.C.D)");
    EXPECT_EQ(error_of(api, "show sessions port 65536"), "bad port '65536' (expected 0..65535)");
    EXPECT_EQ(error_of(api, "show sessions port http"), "bad port 'http' (expected 0..65535)");
    EXPECT_EQ(error_of(api, "show sessions limit 0"), "bad limit '0' (expected 1..100000)");
    EXPECT_EQ(error_of(api, "show sessions limit 100001"), "bad limit '100001' (expected 1..100000)");
    EXPECT_EQ(error_of(api, "show sessions state open"),
              "unknown state 'open' (expected closed, syn-out, syn-in, established, fin-out, fin-in, time-wait, "
              "reset, syn-recv, or active)");
    EXPECT_EQ(error_of(api, "show sessions proto tcp proto udp"), "duplicate 'proto' in 'show sessions'");
    EXPECT_EQ(error_of(api, "show sessions frob 1"),
              "unknown session filter 'frob' (expected proto, client, remote, port, state or limit)");
    EXPECT_FALSE(api.called("sessions"));
}

TEST(Commands, ShowForwardsAndFilter) {
    FakeApi api;
    EXPECT_EQ(ok_body(api, "show forwards"),
              "SESSIONS  FORWARD\n"
              "       1  forward tcp 2222 to 192.168.1.11 port 22\n"
              "       0  forward udp 60000-60009 to 192.168.1.12\n");
    // Rules in order, policies last.
    EXPECT_EQ(ok_body(api, "show filter"),
              "PKTS  BYTES  RULE\n"
              "  12    720  filter deny from wan to lan proto tcp port 23\n"
              " 210  15120  filter allow from wan to lan orig-port 2222\n"
              "  40   2400  filter policy from wan to lan deny\n"
              "   0      0  filter policy from dmz to lan deny\n");
    for (const char* cmd : {"show forwards --json", "show filter --json"}) {
        const std::string json = ok_body(api, cmd);
        EXPECT_TRUE(JsonCheck::valid(json)) << json;
    }
    const std::string json = ok_body(api, "show filter --json");
    EXPECT_LT(json.find("orig-port 2222"), json.find("policy from wan"));
    EXPECT_NE(json.find("\"policy\": true"), std::string::npos);
}

TEST(Commands, ShowWorkersAndMemory) {
    FakeApi api;
    EXPECT_EQ(ok_body(api, "show workers"),
              "WORKER  LCORE  BUSY%  SESSIONS  BUSY-POLLS  IDLE-POLLS\n"
              "     0      1   12.5         2     1234567     8765432\n"
              "     1      2   11.3         2     1134567     8865432\n");
    EXPECT_EQ(ok_body(api, "show memory"),
              "NAME        USED  CAPACITY  USE%\n"
              "mbuf pool   2310     14335  16.1\n"
              "sessions       4   1048576   0.0\n"
              "neighbours     4     16384   0.0\n"
              "fragments      0         0     -\n");
    for (const char* cmd : {"show workers --json", "show memory --json"}) {
        const std::string json = ok_body(api, cmd);
        EXPECT_TRUE(JsonCheck::valid(json)) << json;
    }
}

TEST(Commands, EveryShowHasValidJson) {
    FakeApi api;
    for (const char* what : {"ports", "drops", "drops nonzero", "neighbours", "neighbors", "sessions",
                             "sessions count", "forwards", "filter", "config", "workers", "memory"}) {
        const std::string json = ok_body(api, std::string("show ") + what + " --json");
        EXPECT_TRUE(JsonCheck::valid(json)) << what << ":\n" << json;
    }
    // Empty tables too.
    FakeApi empty;
    empty.port_rows.clear();
    empty.session_rows.clear();
    empty.count = 0;
    for (const char* what : {"ports", "sessions"}) {
        const std::string json = ok_body(empty, std::string("show ") + what + " --json");
        EXPECT_TRUE(JsonCheck::valid(json)) << what << ":\n" << json;
    }
    EXPECT_EQ(ok_body(empty, "show sessions"),
              "PROTO  KIND  CLIENT  OUTSIDE  REMOTE  STATE  IDLE  EXPIRES  PKTS-OUT  PKTS-IN  WORKER\n");
}

TEST(Commands, ShowConfigRoundTrip) {
    FakeApi api;
    const std::string text = ok_body(api, "show config");
    EXPECT_EQ(text, format_config(api.config));
    Config again;
    const auto err = parse_config(text, "shown", again);
    ASSERT_FALSE(err) << err->str() << "\n" << text;
    EXPECT_TRUE(again == api.config) << format_config(again);
    EXPECT_NE(text.find("timeout udp 600\n"), std::string::npos);

    const std::string json = ok_body(api, "show config --json");
    EXPECT_TRUE(JsonCheck::valid(json)) << json;
    EXPECT_NE(json.find("\"route 10.20.0.0/16 via 192.168.1.254\""), std::string::npos);
    EXPECT_NE(json.find("\"file\": \"ipshare.conf\""), std::string::npos);
}

TEST(Commands, ShowErrors) {
    FakeApi api;
    EXPECT_EQ(error_of(api, "show"),
              "missing argument after 'show' (expected ports, drops, neighbours, sessions, forwards, filter, config, "
              "workers or memory)");
    EXPECT_EQ(error_of(api, "show frob"),
              "unknown 'show' 'frob' (expected ports, drops, neighbours, sessions, forwards, filter, config, workers "
              "or memory)");
    EXPECT_EQ(error_of(api, "show ports extra"), "unexpected 'extra' after 'show ports'");
    EXPECT_EQ(error_of(api, "show config --json x"), "unexpected 'x' after 'show config'");
    EXPECT_TRUE(api.calls.empty());
}

}  // namespace
}  // namespace ipshare
