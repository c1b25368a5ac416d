// The configuration model: what `ipshare --config FILE` and the control CLI
// build from statements of the one grammar (docs/configuration.md). Pure data,
// host byte order, no DPDK. Every item remembers the line it came from so that
// validation errors can name it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "../dataplane/zone.h"

namespace ipshare {

struct Ipv4Prefix {
    uint32_t addr = 0;  // host order; for `lan address` this is lan-ip itself
    uint8_t len = 0;

    uint32_t mask() const { return len == 0 ? 0 : ~uint32_t{0} << (32 - len); }
    uint32_t network() const { return addr & mask(); }
    bool contains(uint32_t a) const { return (a & mask()) == network(); }
    bool overlaps(const Ipv4Prefix& o) const {
        const uint32_t m = len < o.len ? mask() : o.mask();
        return (addr & m) == (o.addr & m);
    }
    bool operator==(const Ipv4Prefix&) const = default;
};

struct PortRange {
    uint16_t lo = 0;
    uint16_t hi = 0;
    bool contains(uint16_t p) const { return p >= lo && p <= hi; }
    bool overlaps(const PortRange& o) const { return lo <= o.hi && o.lo <= hi; }
    unsigned size() const { return unsigned(hi) - lo + 1; }
    bool operator==(const PortRange&) const = default;
};

// `route PREFIX via ADDRESS` or `route PREFIX dev wan|lan|dmz`.
struct Route {
    Ipv4Prefix dst;
    uint32_t via = 0;            // next hop, 0 when on-link (`dev`)
    std::optional<Zone> dev;     // set for on-link routes
    int line = 0;
    bool operator==(const Route& o) const { return dst == o.dst && via == o.via && dev == o.dev; }
};

enum class Filtering : uint8_t { address_and_port_dependent, endpoint_independent };

// Number of `timeout` kinds; Config::timeout_line is indexed in the order of
// the fields below (tcp-established, tcp-transitory, udp, icmp, port-rest).
inline constexpr int kNumTimeouts = 5;

struct Timeouts {  // seconds; RFC 5382 / RFC 4787 / RFC 5508 defaults
    uint32_t tcp_established = 7440;
    uint32_t tcp_transitory = 240;
    uint32_t udp = 300;
    uint32_t icmp = 60;
    uint32_t port_rest = 120;  // a released NAPT port rests this long (RFC 6888 REQ-8)
    bool operator==(const Timeouts&) const = default;
};

// `forward tcp|udp|tcp+udp PORT[-PORT] to ADDRESS [port PORT[-PORT]]`
inline constexpr uint8_t kProtoTcp = 1, kProtoUdp = 2;  // Forward::protos bits
struct Forward {
    uint8_t protos = 0;       // kProtoTcp | kProtoUdp
    PortRange ports;          // on wan-ip
    uint32_t target = 0;      // a LAN host
    uint16_t target_port = 0; // first port of the target range; 0: the same ports
    int line = 0;
    // The target port for outside port p (which must be in `ports`).
    uint16_t target_port_for(uint16_t p) const {
        return target_port ? static_cast<uint16_t>(target_port + (p - ports.lo)) : p;
    }
    bool operator==(const Forward& o) const {
        return protos == o.protos && ports == o.ports && target == o.target && target_port == o.target_port;
    }
};

// `hairpin source wan|lan`: what a LAN client's hairpinned packet shows as
// its source to the target: wan-ip and the client's NAPT port (default, RFC
// 4787 REQ-9a), or lan-ip (the Linux recipe of the seeds).
enum class HairpinSource : uint8_t { wan, lan };

// `filter allow|deny|reject from ZONE to ZONE [proto tcp|udp|icmp|N]
//     [src PREFIX] [dst PREFIX] [port P[-P]] [orig-dst PREFIX] [orig-port P[-P]]`
// `dst`/`port` match where the packet goes (after DNAT), `orig-dst`/`orig-port`
// where its sender sent it (before DNAT: wan-ip and the forwarded port).
// `filter policy from ZONE to ZONE allow|deny|reject`: what happens to a new
// flow that no rule matches.
enum class FilterAction : uint8_t { allow, deny, reject };

struct FilterRule {
    FilterAction action = FilterAction::allow;
    Zone from = Zone::lan, to = Zone::wan;
    std::optional<uint8_t> proto;
    std::optional<Ipv4Prefix> src, dst, orig_dst;
    std::optional<PortRange> port, orig_port;
    int line = 0;
    bool operator==(const FilterRule& o) const {
        return action == o.action && from == o.from && to == o.to && proto == o.proto && src == o.src &&
               dst == o.dst && orig_dst == o.orig_dst && port == o.port && orig_port == o.orig_port;
    }
};

// Default policy per (from, to) zone pair, indexed [from][to]. The defaults
// (DESIGN.md): lan->wan allow, lan->dmz allow, wan->dmz allow, dmz->wan allow,
// dmz->lan deny (replies to LAN-initiated flows always pass), wan->lan deny
// (only forwards reach the LAN; rules from wan to lan can restrict them).
using FilterPolicies = std::array<std::array<FilterAction, kNumZones>, kNumZones>;
inline constexpr FilterPolicies kDefaultPolicies = {{
    // to:  wan                  lan                  dmz
    {{FilterAction::deny, FilterAction::deny, FilterAction::allow}},   // from wan
    {{FilterAction::allow, FilterAction::allow, FilterAction::allow}}, // from lan
    {{FilterAction::allow, FilterAction::deny, FilterAction::deny}},   // from dmz
}};

struct Config {
    std::string file;  // where it was read from; "" for CLI-built configs

    std::array<std::string, kNumZones> port_device;  // DPDK device names, "" if missing
    std::array<int, kNumZones> port_line{};

    std::optional<Ipv4Prefix> lan;  // lan-ip and the LAN subnet length
    int lan_line = 0;

    std::optional<Ipv4Prefix> wan_network;
    uint32_t wan_gateway = 0;
    int wan_line = 0;

    std::optional<uint32_t> server;  // wan-ip, held by the designated server
    int server_line = 0;

    PortRange napt_ports{61000, 65535};
    int napt_ports_line = 0;
    uint32_t napt_sessions = 1u << 20;
    int napt_sessions_line = 0;
    uint32_t napt_ports_per_client = 4096;  // RFC 6888 REQ-4
    int napt_ports_per_client_line = 0;
    Filtering napt_filtering = Filtering::address_and_port_dependent;
    int napt_filtering_line = 0;

    Timeouts timeouts;
    std::array<int, kNumTimeouts> timeout_line{};  // 0: default (or set from the CLI)
    std::vector<Route> routes;

    std::vector<Forward> forwards;
    HairpinSource hairpin_source = HairpinSource::wan;
    int hairpin_line = 0;
    std::vector<FilterRule> filters;  // in order, first match wins
    FilterPolicies policies = kDefaultPolicies;
    std::array<std::array<int, kNumZones>, kNumZones> policy_line{};

    bool operator==(const Config& o) const {
        return port_device == o.port_device && lan == o.lan && wan_network == o.wan_network &&
               wan_gateway == o.wan_gateway && server == o.server && napt_ports == o.napt_ports &&
               napt_sessions == o.napt_sessions && napt_ports_per_client == o.napt_ports_per_client &&
               napt_filtering == o.napt_filtering && timeouts == o.timeouts && routes == o.routes &&
               forwards == o.forwards && hairpin_source == o.hairpin_source && filters == o.filters &&
               policies == o.policies;
    }
};

}  // namespace ipshare
