// Unit tests for the control commands (control/commands.h), the framing
// (control/ctl_protocol.h) and the small text/JSON writers, against a fake
// ControlApi that records its calls. The data are the reference addresses of
// the design brief.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.h"
#include "config_parse.h"
#include "ctl_protocol.h"
#include "json.h"
#include "text_table.h"

namespace ipshare {

namespace {

uint32_t ip(const char* s) { return *parse_ipv4(s); }

// The reference configuration of docs/configuration.md.
constexpr const char* kReferenceConfig =
    "port wan net_af_packet0\n"
    "port lan net_af_packet1\n"
    "port dmz net_af_packet2\n"
    "lan address 192.168.1.1/24\n"
    "wan network 203.0.113.0/24 gateway 203.0.113.1\n"
    "server address 203.0.113.10\n"
    "napt ports 61000-65535\n"
    "timeout udp 600\n"
    "route 10.20.0.0/16 via 192.168.1.254\n"
    "route 203.0.113.128/25 dev wan\n";

Config reference_config() {
    Config c;
    const auto err = parse_config(kReferenceConfig, "ipshare.conf", c);
    EXPECT_FALSE(err) << err->str();
    return c;
}

class FakeApi : public ControlApi {
public:
    FakeApi() : config(reference_config()) {
        port_rows = {
            {"wan", "net_af_packet0", "up 10000 Mbps full-duplex", "02:00:00:00:00:01", 1523411, 1498702, 12, 0, 0,
             1520.4, 1488.6},
            {"lan", "net_af_packet1", "up 10000 Mbps full-duplex", "02:00:00:00:00:02", 1101934, 1211870, 3, 0, 0,
             1101.2, 1210.9},
            {"dmz", "net_af_packet2", "down", "02:00:00:00:00:03", 402113, 405231, 0, 17, 2, 0, 0},
        };
        drop_rows = {
            {"spoofed_source", "source address not valid for the ingress port", 7},
            {"wan_not_for_us", "arrived on wan for an address other than wan-ip", 5},
            {"no_route", "no route to the destination", 0},
            {"ttl_exceeded", "TTL expired in transit; ICMP time exceeded sent", 3},
        };
        neighbour_rows = {
            {"wan", ip("203.0.113.1"), "02:00:00:00:01:01", "reachable", 12},
            {"lan", ip("192.168.1.11"), "02:00:00:00:02:11", "reachable", 3},
            {"lan", ip("192.168.1.12"), "-", "incomplete", 0},
            {"dmz", ip("203.0.113.10"), "02:00:00:00:03:10", "reachable", 1},
        };
        SessionRow s;
        s = {"tcp", "napt", ip("192.168.1.11"), 40000, ip("203.0.113.10"), 61001, ip("198.51.100.20"), 80,
             "established", 2, 7438, 15, 13, 0};
        session_rows.push_back(s);
        s = {"udp", "napt", ip("192.168.1.12"), 5353, ip("203.0.113.10"), 61002, ip("198.51.100.20"), 53,
             "active", 10, 290, 1, 1, 1};
        session_rows.push_back(s);
        s = {"icmp", "napt", ip("192.168.1.11"), 7, ip("203.0.113.10"), 61003, ip("198.51.100.20"), 0,
             "active", 1, 59, 4, 4, 0};
        session_rows.push_back(s);
        s = {"tcp", "forward", ip("192.168.1.11"), 22, ip("203.0.113.10"), 2222, ip("198.51.100.20"), 51234,
             "established", 30, 7410, 210, 250, 1};
        session_rows.push_back(s);
        forward_rows = {{"forward tcp 2222 to 192.168.1.11 port 22", 1},
                        {"forward udp 60000-60009 to 192.168.1.12", 0}};
        filter_rows = {{"filter policy from wan to lan deny", 40, 2400},
                       {"filter deny from wan to lan proto tcp port 23", 12, 720},
                       {"filter policy from dmz to lan deny", 0, 0},
                       {"filter allow from wan to lan orig-port 2222", 210, 15120}};
        worker_rows = {{0, 1, 1234567, 8765432, 12.5, 2}, {1, 2, 1134567, 8865432, 11.3, 2}};
        memory_rows = {{"mbuf pool", 2310, 14335}, {"sessions", 4, 1048576}, {"neighbours", 4, 16384},
                       {"fragments", 0, 0}};
    }

    std::vector<PortRow> ports() override { return log("ports"), port_rows; }
    std::vector<DropRow> drops() override { return log("drops"), drop_rows; }
    std::vector<NeighbourRow> neighbours() override { return log("neighbours"), neighbour_rows; }
    std::vector<SessionRow> sessions(const SessionFilter& f, size_t limit) override {
        log("sessions");
        filter = f;
        this->limit = limit;
        std::vector<SessionRow> out = session_rows;
        if (out.size() > limit) out.resize(limit);
        return out;
    }
    uint64_t session_count(const SessionFilter& f) override {
        log("session_count");
        filter = f;
        return count;
    }
    std::vector<ForwardRow> forwards() override { return log("forwards"), forward_rows; }
    std::vector<FilterRow> filters() override { return log("filters"), filter_rows; }
    std::vector<WorkerRow> workers() override { return log("workers"), worker_rows; }
    std::vector<MemoryRow> memory() override { return log("memory"), memory_rows; }
    const Config& running_config() override { return log("running_config"), config; }
    Outcome apply_config(const Config& next) override {
        log("apply_config");
        applied = next;
        return apply_result;
    }
    Outcome reload() override { return log("reload"), reload_result; }
    uint64_t flush_sessions(const SessionFilter& f) override {
        log("flush_sessions");
        filter = f;
        return flushed;
    }
    void clear_counters() override { log("clear_counters"); }
    Outcome capture(const CaptureRequest& r) override {
        log("capture");
        captured = r;
        return capture_result;
    }

    bool called(const std::string& name) const {
        for (const auto& c : calls)
            if (c == name) return true;
        return false;
    }

    std::vector<std::string> calls;
    std::vector<PortRow> port_rows;
    std::vector<DropRow> drop_rows;
    std::vector<NeighbourRow> neighbour_rows;
    std::vector<SessionRow> session_rows;
    std::vector<ForwardRow> forward_rows;
    std::vector<FilterRow> filter_rows;
    std::vector<WorkerRow> worker_rows;
    std::vector<MemoryRow> memory_rows;
    Config config;

    SessionFilter filter;
    size_t limit = 0;
    uint64_t count = 4;
    uint64_t flushed = 3;
    std::optional<Config> applied;
    Outcome apply_result;
    Outcome reload_result{true, ""};
    std::optional<CaptureRequest> captured;
    Outcome capture_result;

private:
    void log(const char* name) { calls.emplace_back(name); }
};

// ---------------------------------------------------------------- a JSON checker

// Recursive descent over RFC 8259; true when `s` is exactly one JSON value
// (blanks around it allowed).
class JsonCheck {
public:
    static bool valid(const std::string& s) {
        JsonCheck c(s);
        c.ws();
        if (!c.value(0)) return false;
        c.ws();
        return c.i_ == s.size();
    }

private:
    explicit JsonCheck(const std::string& s) : s_(s) {}
    bool eat(char c) {
        if (i_ < s_.size() && s_[i_] == c) return ++i_, true;
        return false;
    }
    void ws() {
        while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\n' || s_[i_] == '\t' || s_[i_] == '\r')) ++i_;
    }
    bool literal(const char* w) {
        const std::string lit = w;
        if (s_.compare(i_, lit.size(), lit) != 0) return false;
        i_ += lit.size();
        return true;
    }
    bool string() {
        if (!eat('"')) return false;
        while (i_ < s_.size()) {
            const auto c = static_cast<unsigned char>(s_[i_++]);
            if (c == '"') return true;
            if (c < 0x20) return false;
            if (c == '\\') {
                if (i_ >= s_.size()) return false;
                const char e = s_[i_++];
                if (e == 'u') {
                    for (int k = 0; k < 4; ++k)
                        if (i_ >= s_.size() || !std::isxdigit(static_cast<unsigned char>(s_[i_++]))) return false;
                } else if (std::string("\"\\/bfnrt").find(e) == std::string::npos) {
                    return false;
                }
            }
        }
        return false;
    }
    bool digits() {
        const size_t start = i_;
        while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
        return i_ > start;
    }
    bool number() {
        eat('-');
        if (eat('0')) {
        } else if (!digits()) {
            return false;
        }
        if (eat('.') && !digits()) return false;
        if (eat('e') || eat('E')) {
            if (!eat('+')) eat('-');
            if (!digits()) return false;
        }
        return true;
    }
    bool value(int depth) {
        if (depth > 64 || i_ >= s_.size()) return false;
        const char c = s_[i_];
        if (c == '{') {
            ++i_;
            ws();
            if (eat('}')) return true;
            do {
                ws();
                if (!string()) return false;
                ws();
                if (!eat(':')) return false;
                ws();
                if (!value(depth + 1)) return false;
                ws();
            } while (eat(','));
            return eat('}');
        }
        if (c == '[') {
            ++i_;
            ws();
            if (eat(']')) return true;
            do {
                ws();
                if (!value(depth + 1)) return false;
                ws();
            } while (eat(','));
            return eat(']');
        }
        if (c == '"') return string();
        if (c == 't') return literal("true");
        if (c == 'f') return literal("false");
        if (c == 'n') return literal("null");
        return number();
    }

    const std::string& s_;
    size_t i_ = 0;
};

TEST(JsonCheck, AcceptsAndRejects) {
    EXPECT_TRUE(JsonCheck::valid(R"({"a": [1, -2.5, 3e4, true, false, null, "x\n\u00e9"], "b": {}})"));
    EXPECT_TRUE(JsonCheck::valid("[]"));
    EXPECT_FALSE(JsonCheck::valid("{\"a\": 1,}"));
    EXPECT_FALSE(JsonCheck::valid("[1 2]"));
    EXPECT_FALSE(JsonCheck::valid("{a: 1}"));
    EXPECT_FALSE(JsonCheck::valid("\"tab\there\""));
    EXPECT_FALSE(JsonCheck::valid("01"));
    EXPECT_FALSE(JsonCheck::valid("{} {}"));
}

// ---------------------------------------------------------------- helpers

struct Result {
    std::string reply;
    bool close = false;
};

Result run(FakeApi& api, const std::string& line) {
    Commands cmds(api);
    Result r;
    r.reply = cmds.execute(line, &r.close);
    return r;
}

std::string ok_body(FakeApi& api, const std::string& line) {
    const std::string reply = run(api, line).reply;
    EXPECT_EQ(reply.rfind("ok\n", 0), 0u) << line << " -> " << reply;
    return reply.size() >= 3 ? reply.substr(3) : reply;
}

std::string error_of(FakeApi& api, const std::string& line) {
    const std::string reply = run(api, line).reply;
    EXPECT_EQ(reply.rfind("error: ", 0), 0u) << line << " -> " << reply;
    EXPECT_EQ(reply.back(), '\n');
    return reply.substr(7, reply.size() - 8);
}

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
              "reset, or active)");
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

// ---------------------------------------------------------------- the rest

TEST(Commands, UnknownCommand) {
    FakeApi api;
    EXPECT_EQ(run(api, "frob").reply, "error: unknown command 'frob' (try 'help')\n");
    EXPECT_EQ(run(api, "SHOW ports").reply, "error: unknown command 'SHOW' (try 'help')\n");
    EXPECT_EQ(run(api, "show\x01 ports").reply, "error: invalid control character in command\n");
    EXPECT_TRUE(api.calls.empty());
}

TEST(Commands, HelpQuitAndEmpty) {
    FakeApi api;
    const Result help = run(api, "help");
    EXPECT_EQ(help.reply.rfind("ok\n", 0), 0u);
    for (const char* w : {"show ports", "show drops", "show neighbours", "show sessions", "show forwards",
                          "show filter", "show config", "show workers", "show memory", "flush sessions",
                          "clear counters", "reload", "capture", "no STATEMENT", "quit"})
        EXPECT_NE(help.reply.find(w), std::string::npos) << w;
    EXPECT_FALSE(help.close);
    EXPECT_EQ(error_of(api, "help me"), "unexpected 'me' after 'help'");

    const Result quit = run(api, "quit");
    EXPECT_EQ(quit.reply, "ok\n");
    EXPECT_TRUE(quit.close);
    EXPECT_TRUE(run(api, "exit").close);
    EXPECT_FALSE(run(api, "quit now").close);

    EXPECT_EQ(run(api, "").reply, "ok\n");
    EXPECT_EQ(run(api, "   \t ").reply, "ok\n");
    EXPECT_EQ(ok_body(api, "  show   sessions   count  \r"), "4\n");
}

TEST(Commands, ApiExceptionsBecomeErrors) {
    class Throwing : public FakeApi {
        std::vector<PortRow> ports() override { throw std::runtime_error("port table busy"); }
    } api;
    Commands cmds(api);
    EXPECT_EQ(cmds.execute("show ports"), "error: internal error: port table busy\n");
}

TEST(SplitWords, QuotesAndBlanks) {
    std::vector<std::string> w;
    EXPECT_FALSE(split_words(" capture\twan  filter \"tcp port 80\" file /a.pcap ", &w));
    EXPECT_EQ(w, (std::vector<std::string>{"capture", "wan", "filter", "tcp port 80", "file", "/a.pcap"}));
    EXPECT_FALSE(split_words(R"(a "b \"c\" \\ d" e"f g"h "")", &w));
    EXPECT_EQ(w, (std::vector<std::string>{"a", R"(b "c" \ d)", "ef gh", ""}));
    EXPECT_TRUE(split_words("a \"b", &w));
    EXPECT_FALSE(split_words("", &w));
    EXPECT_TRUE(w.empty());
}

// ---------------------------------------------------------------- framing

TEST(Protocol, FrameReplyStuffsDots) {
    EXPECT_EQ(ctl::frame_reply("ok\n"), "ok\n.\n");
    EXPECT_EQ(ctl::frame_reply("ok"), "ok\n.\n");
    EXPECT_EQ(ctl::frame_reply("ok\n.\n..x\nend\n"), "ok\n..\n...x\nend\n.\n");
    EXPECT_EQ(ctl::frame_reply("ok\n\nb\n"), "ok\n\nb\n.\n");
}

TEST(Protocol, ReaderUndoesTheFraming) {
    const std::string body = "ok\n.\n..x\n\n.hidden\nlast";
    const std::string framed = ctl::frame_reply(body) + "ok\n.\n";  // and the start of a next reply
    // Fed whole, and byte by byte.
    for (size_t step : {framed.size(), size_t{1}, size_t{3}}) {
        ctl::ReplyReader r;
        size_t pos = 0;
        size_t used_total = 0;
        while (!r.done() && pos < framed.size()) {
            const size_t n = std::min(step, framed.size() - pos);
            used_total += r.feed(std::string_view(framed).substr(pos, n));
            pos += n;
        }
        ASSERT_TRUE(r.done());
        EXPECT_TRUE(r.ok());
        EXPECT_EQ(r.lines(), (std::vector<std::string>{"ok", ".", "..x", "", ".hidden", "last"}));
        EXPECT_EQ(framed.substr(used_total), "ok\n.\n");
    }
    ctl::ReplyReader e;
    e.feed("error: no\r\n.\r\n");
    EXPECT_TRUE(e.done());
    EXPECT_FALSE(e.ok());
    EXPECT_EQ(e.lines(), std::vector<std::string>{"error: no"});
}

TEST(Protocol, JoinWordsRoundTrips) {
    const std::vector<std::string> words = {"capture", "wan", "filter", "tcp port 80 and not host \"x\"", "file",
                                            "/tmp/a b\\c.pcap"};
    const std::string line = ctl::join_words(words);
    EXPECT_EQ(line, R"(capture wan filter "tcp port 80 and not host \"x\"" file "/tmp/a b\\c.pcap")");
    std::vector<std::string> back;
    EXPECT_FALSE(split_words(line, &back));
    EXPECT_EQ(back, words);
    EXPECT_EQ(ctl::join_words({"show", "ports"}), "show ports");
}

// ---------------------------------------------------------------- writers

TEST(TextTable, AlignsNumbersRightAndTextLeft) {
    TextTable t({{"NAME", TextTable::Align::left}, {"N", TextTable::Align::right}, {"NOTE", TextTable::Align::left}});
    t.add({"a", "1", "x"});
    t.add({"longer", "12345", ""});
    t.add({"b"});
    EXPECT_EQ(t.str(),
              "NAME        N  NOTE\n"
              "a           1  x\n"
              "longer  12345\n"
              "b\n");
}

TEST(JsonWriter, NestingAndEscapes) {
    JsonWriter j;
    j.begin_object()
        .field("s", "a\"b\\c\n\x01")
        .field("n", uint64_t{18446744073709551615u})
        .field("neg", -5)
        .field("d", 2.50)
        .field("whole", 3.0)
        .field("nan", std::nan(""))
        .field("t", true)
        .key("empty")
        .begin_array()
        .end_array()
        .key("list")
        .begin_array()
        .value(1)
        .begin_object()
        .end_object()
        .end_array()
        .end_object();
    const std::string s = j.str();
    EXPECT_EQ(s,
              "{\n"
              "  \"s\": \"a\\\"b\\\\c\\n\\u0001\",\n"
              "  \"n\": 18446744073709551615,\n"
              "  \"neg\": -5,\n"
              "  \"d\": 2.5,\n"
              "  \"whole\": 3,\n"
              "  \"nan\": null,\n"
              "  \"t\": true,\n"
              "  \"empty\": [],\n"
              "  \"list\": [\n"
              "    1,\n"
              "    {}\n"
              "  ]\n"
              "}\n");
    EXPECT_TRUE(JsonCheck::valid(s));
}

}  // namespace
}  // namespace ipshare
