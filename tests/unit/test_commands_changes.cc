// Unit tests for the control commands (control/commands.h): the commands
// that change something (flush, clear, reload, capture) and configuration
// statements, applied to a copy of the running configuration.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "commands_test_support.h"

namespace ipshare {
namespace {

using namespace test;

// ---------------------------------------------------------------- changes

TEST(Commands, FlushSessions) {
    FakeApi api;
    EXPECT_EQ(ok_body(api, "flush sessions client 192.168.1.12 proto udp"), "flushed 3 sessions\n");
    EXPECT_EQ(*api.filter.client, ip("192.168.1.12"));
    EXPECT_EQ(*api.filter.proto, 17);
    api.flushed = 1;
    EXPECT_EQ(ok_body(api, "flush sessions"), "flushed 1 session\n");
    EXPECT_FALSE(api.filter.client);
    EXPECT_EQ(error_of(api, "flush sessions limit 3"), "'limit' does not apply to 'flush sessions'");
    EXPECT_EQ(error_of(api, "flush sessions nonsense"),
              "unknown session filter 'nonsense' (expected proto, client, remote, port or state)");
    EXPECT_EQ(error_of(api, "flush"), "missing argument after 'flush' (expected sessions)");
    EXPECT_EQ(error_of(api, "flush neighbours"), "unknown 'flush' 'neighbours' (expected sessions)");
    EXPECT_EQ(std::count(api.calls.begin(), api.calls.end(), "flush_sessions"), 2);
}

TEST(Commands, ClearAndReload) {
    FakeApi api;
    EXPECT_EQ(ok_body(api, "clear counters"), "counters cleared\n");
    EXPECT_TRUE(api.called("clear_counters"));
    EXPECT_EQ(error_of(api, "clear"), "missing argument after 'clear' (expected counters)");
    EXPECT_EQ(error_of(api, "clear sessions"), "unknown 'clear' 'sessions' (expected counters)");
    EXPECT_EQ(error_of(api, "clear counters now"), "unexpected 'now' after 'clear counters'");

    EXPECT_EQ(ok_body(api, "reload"), "configuration reloaded\n");
    api.reload_result = {true, "reloaded ipshare.conf"};
    EXPECT_EQ(ok_body(api, "reload"), "reloaded ipshare.conf\n");
    api.reload_result = {false, "ipshare.conf:4: bad address in '192.168.1.300/24'"};
    EXPECT_EQ(error_of(api, "reload"), "ipshare.conf:4: bad address in '192.168.1.300/24'");
    EXPECT_EQ(error_of(api, "reload now"), "unexpected 'now' after 'reload'");
}

TEST(Commands, Capture) {
    FakeApi api;
    EXPECT_EQ(ok_body(api, "capture wan count 100 file /tmp/wan.pcap"),
              "capturing on wan, 100 packets, to /tmp/wan.pcap\n");
    ASSERT_TRUE(api.captured);
    EXPECT_EQ(api.captured->zone, "wan");
    EXPECT_EQ(api.captured->count, 100u);
    EXPECT_EQ(api.captured->seconds, 0u);
    EXPECT_EQ(api.captured->filter, "");
    EXPECT_EQ(api.captured->file, "/tmp/wan.pcap");

    ok_body(api, R"(capture lan seconds 30 filter "tcp port 80 and host 192.168.1.11" file /var/tmp/lan.pcap)");
    EXPECT_EQ(api.captured->zone, "lan");
    EXPECT_EQ(api.captured->count, 0u);
    EXPECT_EQ(api.captured->seconds, 30u);
    EXPECT_EQ(api.captured->filter, "tcp port 80 and host 192.168.1.11");
    EXPECT_EQ(api.captured->file, "/var/tmp/lan.pcap");

    ok_body(api, "capture dmz file /tmp/d.pcap filter icmp count 5 seconds 10");
    EXPECT_EQ(api.captured->filter, "icmp");
    EXPECT_EQ(api.captured->count, 5u);
    EXPECT_EQ(api.captured->seconds, 10u);

    api.capture_result = {true, "capture 1 started"};
    EXPECT_EQ(ok_body(api, "capture dmz count 1 file /tmp/d.pcap"), "capture 1 started\n");
    api.capture_result = {false, "a capture is already running on dmz"};
    EXPECT_EQ(error_of(api, "capture dmz count 1 file /tmp/d.pcap"), "a capture is already running on dmz");
}

TEST(Commands, CaptureErrors) {
    FakeApi api;
    EXPECT_EQ(error_of(api, "capture"), "missing argument after 'capture' (expected wan, lan or dmz)");
    EXPECT_EQ(error_of(api, "capture eth0 count 1 file /tmp/x.pcap"),
              "unknown zone 'eth0' (expected wan, lan or dmz)");
    EXPECT_EQ(error_of(api, "capture wan file /tmp/x.pcap"), "capture needs 'count N' or 'seconds S' (or both)");
    EXPECT_EQ(error_of(api, "capture wan count 10"), "capture needs 'file /PATH.pcap'");
    EXPECT_EQ(error_of(api, "capture wan count 10 file x.pcap"), "capture file 'x.pcap' must be an absolute path");
    EXPECT_EQ(error_of(api, "capture wan count 10 file /tmp/x.txt"), "capture file '/tmp/x.txt' must end in .pcap");
    EXPECT_EQ(error_of(api, "capture wan count 0 file /tmp/x.pcap"), "bad count '0' (expected 1..1000000000)");
    EXPECT_EQ(error_of(api, "capture wan seconds 86401 file /tmp/x.pcap"),
              "bad seconds '86401' (expected 1..86400)");
    EXPECT_EQ(error_of(api, "capture wan count 1 count 2 file /tmp/x.pcap"), "duplicate 'count' in 'capture'");
    EXPECT_EQ(error_of(api, "capture wan count 1 filter tcp port 80 file /tmp/x.pcap"),
              "unknown capture option 'port' (expected count, seconds, filter or file; a filter with blanks goes in "
              "double quotes: filter \"tcp port 80\")");
    EXPECT_EQ(error_of(api, "capture wan count 1 filter \"tcp port 80 file /tmp/x.pcap"),
              "unterminated quote in command");
    EXPECT_EQ(error_of(api, "capture wan count 1 file"),
              "missing argument after 'capture wan count 1 file' (expected an absolute path ending in .pcap)");
    EXPECT_FALSE(api.called("capture"));
}

TEST(Commands, StatementIsAppliedToACopy) {
    FakeApi api;
    const Config before = api.config;
    EXPECT_EQ(run(api, "route 10.30.0.0/16 via 192.168.1.254").reply, "ok\n");
    ASSERT_TRUE(api.applied);
    EXPECT_TRUE(api.config == before);  // the running config is the daemon's to change
    Config expected = before;
    expected.routes.push_back(Route{*parse_prefix("10.30.0.0/16"), ip("192.168.1.254"), {}, 0});
    EXPECT_TRUE(*api.applied == expected) << format_config(*api.applied);

    api.applied.reset();
    EXPECT_EQ(run(api, "timeout udp 120").reply, "ok\n");  // replaces the value: no duplicate from the CLI
    ASSERT_TRUE(api.applied);
    EXPECT_EQ(api.applied->timeouts.udp, 120u);

    api.applied.reset();
    api.apply_result = {true, "applied"};
    EXPECT_EQ(ok_body(api, "napt filtering endpoint-independent"), "applied\n");
    ASSERT_TRUE(api.applied);
    EXPECT_EQ(api.applied->napt_filtering, Filtering::endpoint_independent);
}

TEST(Commands, EveryStatementKeywordReachesTheParser) {
    FakeApi api;
    // Each keyword is dispatched to apply_statement (whatever it says of the
    // rest), never answered with "unknown command".
    for (const char* kw : {"port", "lan", "wan", "server", "napt", "timeout", "route", "forward", "filter",
                           "hairpin", "no"}) {
        const std::string reply = run(api, kw).reply;
        EXPECT_EQ(reply.find("unknown command"), std::string::npos) << kw << ": " << reply;
    }
    api.applied.reset();
    EXPECT_EQ(run(api, "no route 10.20.0.0/16 via 192.168.1.254").reply, "ok\n");
    ASSERT_TRUE(api.applied);
    EXPECT_EQ(api.applied->routes.size(), 1u);
}

TEST(Commands, BrokenStatementIsNotApplied) {
    FakeApi api;
    EXPECT_EQ(error_of(api, "route 10.30.0.0/16 via"), "missing argument after 'route 10.30.0.0/16 via'");
    EXPECT_EQ(error_of(api, "lan address 192.168.1.0/24"),
              "lan address '192.168.1.0/24' is the network address of its subnet");
    EXPECT_EQ(error_of(api, "timeout udp 0"), "timeout udp '0' out of range (1..604800)");
    EXPECT_EQ(error_of(api, "napt frob 1"),
              "unknown napt setting 'frob' (expected ports, sessions, ports-per-client or filtering)");
    EXPECT_FALSE(api.called("apply_config"));
}

TEST(Commands, RefusedConfigurationIsReported) {
    FakeApi api;
    api.apply_result = {false, "route 192.168.0.0/16 contains the lan subnet 192.168.1.0/24"};
    EXPECT_EQ(error_of(api, "route 192.168.0.0/16 via 203.0.113.1"),
              "route 192.168.0.0/16 contains the lan subnet 192.168.1.0/24");
    EXPECT_TRUE(api.called("apply_config"));
}

}  // namespace
}  // namespace ipshare
