// A fake ControlApi for tests of the control commands: fixed rows (the
// reference addresses of the design brief), a running configuration parsed
// from kConfigText, and a record of the calls made and of what they were
// given. No gtest: fuzz harnesses can use it too (derive from it to change
// a behaviour, e.g. apply_config).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "config_parse.h"
#include "control_api.h"

namespace ipshare::test {

class FakeApi : public ControlApi {
public:
    // The reference configuration of docs/configuration.md, with one timeout changed.
    static constexpr const char* kConfigText =
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

    FakeApi() {
        if (const auto err = parse_config(kConfigText, "ipshare.conf", config))
            throw std::logic_error("FakeApi: " + err->str());
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
            {"wan", addr("203.0.113.1"), "02:00:00:00:01:01", "reachable", 12},
            {"lan", addr("192.168.1.11"), "02:00:00:00:02:11", "reachable", 3},
            {"lan", addr("192.168.1.12"), "-", "incomplete", 0},
            {"dmz", addr("203.0.113.10"), "02:00:00:00:03:10", "reachable", 1},
        };
        session_rows = {
            {"tcp", "napt", addr("192.168.1.11"), 40000, addr("203.0.113.10"), 61001, addr("198.51.100.20"), 80,
             "established", 2, 7438, 15, 13, 0},
            {"udp", "napt", addr("192.168.1.12"), 5353, addr("203.0.113.10"), 61002, addr("198.51.100.20"), 53,
             "active", 10, 290, 1, 1, 1},
            {"icmp", "napt", addr("192.168.1.11"), 7, addr("203.0.113.10"), 61003, addr("198.51.100.20"), 0,
             "active", 1, 59, 4, 4, 0},
            {"tcp", "forward", addr("192.168.1.11"), 22, addr("203.0.113.10"), 2222, addr("198.51.100.20"), 51234,
             "established", 30, 7410, 210, 250, 1},
        };
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

    // A dotted address of the rows above.
    static uint32_t addr(const char* s) { return parse_ipv4(s).value(); }
};

}  // namespace ipshare::test
