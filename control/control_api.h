// What the control socket can ask of the running router. The daemon
// implements it (control/daemon.cc); the command layer (control/commands.cc)
// parses requests, calls it, and formats the answers as aligned text or
// JSON. Plain data only: no DPDK types cross this line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config.h"

namespace ipshare {

struct PortRow {
    std::string zone;    // wan, lan, dmz
    std::string device;  // DPDK device name
    std::string link;    // "up 10000 Mbps full-duplex" / "down"
    std::string mac;     // aa:bb:cc:dd:ee:ff
    uint64_t rx = 0, tx = 0, dropped = 0;  // ipshare's counters
    uint64_t nic_missed = 0, nic_errors = 0;  // from the device (rte_eth_stats)
    double rx_pps = 0, tx_pps = 0;  // rates over the last second
};

struct DropRow {
    std::string name;         // drop_reasons.h name
    std::string description;
    uint64_t count = 0;
};

struct NeighbourRow {
    std::string zone;
    uint32_t ip = 0;      // host order
    std::string mac;
    std::string state;    // reachable, probing, incomplete
    uint32_t age_seconds = 0;  // since last confirmed
};

struct SessionRow {
    std::string proto;    // tcp, udp, icmp, gre, esp, sctp or a number
    std::string kind;     // napt, forward, hairpin
    uint32_t client_ip = 0;  // inside (LAN) endpoint
    uint16_t client_port = 0;
    uint32_t outside_ip = 0;  // wan-ip (or lan-ip for `hairpin source lan`)
    uint16_t outside_port = 0;
    uint32_t remote_ip = 0;
    uint16_t remote_port = 0;
    std::string state;    // TCP state name, or "active"
    uint32_t idle_seconds = 0;
    uint32_t expires_in = 0;
    uint64_t packets_out = 0, packets_in = 0;
    unsigned worker = 0;
};

// `show sessions` / `flush sessions` filters; unset fields match everything.
struct SessionFilter {
    std::optional<uint8_t> proto;
    std::optional<uint32_t> client;
    std::optional<uint32_t> remote;
    std::optional<uint16_t> port;  // client, outside or remote port
    std::optional<std::string> state;
};

struct WorkerRow {
    unsigned worker = 0;
    unsigned lcore = 0;
    uint64_t busy_polls = 0, idle_polls = 0;
    double busy_percent = 0;  // over the last second
    uint32_t sessions = 0;
};

struct ForwardRow {
    std::string statement;  // the `forward ...` statement as in the config
    uint32_t sessions = 0;  // live sessions it created
};

struct FilterRow {
    std::string statement;  // the `filter ...` statement, or "policy ..." for a default
    uint64_t packets = 0, bytes = 0;
};

struct MemoryRow {
    std::string name;  // mbuf pool, sessions, neighbours, fragments...
    uint64_t used = 0, capacity = 0;
};

struct CaptureRequest {
    std::string zone;       // wan, lan, dmz
    uint64_t count = 0;     // 0: unlimited (then seconds must be set)
    uint32_t seconds = 0;   // 0: unlimited (then count must be set)
    std::string filter;     // BPF, compiled with libpcap; "" for all
    std::string file;       // pcap file to write
};

// Result of a command that changes something: ok, or an error message.
struct Outcome {
    bool ok = true;
    std::string message;  // error text, or a short confirmation
};

class ControlApi {
public:
    virtual ~ControlApi() = default;
    virtual std::vector<PortRow> ports() = 0;
    virtual std::vector<DropRow> drops() = 0;
    virtual std::vector<NeighbourRow> neighbours() = 0;
    virtual std::vector<SessionRow> sessions(const SessionFilter& f, size_t limit) = 0;
    virtual uint64_t session_count(const SessionFilter& f) = 0;
    virtual std::vector<ForwardRow> forwards() = 0;
    virtual std::vector<FilterRow> filters() = 0;
    virtual std::vector<WorkerRow> workers() = 0;
    virtual std::vector<MemoryRow> memory() = 0;
    virtual const Config& running_config() = 0;

    // Changes. `apply_config` validates `next` whole and applies it at once
    // (new tables built aside, published with one pointer swap, the old ones
    // freed after RCU): nothing changes on error.
    virtual Outcome apply_config(const Config& next) = 0;
    virtual Outcome reload() = 0;  // re-read the file given with --config
    virtual uint64_t flush_sessions(const SessionFilter& f) = 0;  // returns how many
    virtual void clear_counters() = 0;
    // Starts a capture; it runs in the background and ends by itself.
    virtual Outcome capture(const CaptureRequest& r) = 0;
};

}  // namespace ipshare
