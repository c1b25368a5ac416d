// The vocabulary the statements share (internal to ipshare_config): limits,
// keyword tables, the checks of single values (config_validate.cc), the
// canonical names (config_format.cc), and the parts of statements that the
// `no` forms parse again (config_statements.cc, config_remove.cc).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config.h"
#include "config_lexer.h"

namespace ipshare::grammar {

// ---------------------------------------------------------------- limits

// docs/configuration.md lists the same numbers.
inline constexpr unsigned kMinSubnetLen = 8;
inline constexpr unsigned kMaxSubnetLen = 30;
inline constexpr uint32_t kNaptPortMin = 1024;
inline constexpr uint32_t kNaptPortMax = 65535;
inline constexpr uint32_t kNaptMinPorts = 64;
inline constexpr uint32_t kSessionsMin = 16;
inline constexpr uint32_t kSessionsMax = 67108864;
inline constexpr uint32_t kPortsPerClientMin = 1;
inline constexpr uint32_t kPortsPerClientMax = 65535;
inline constexpr uint32_t kTimeoutMin = 1;
inline constexpr uint32_t kTimeoutMax = 604800;

// ---------------------------------------------------------------- keywords

struct TimeoutKind {
    std::string_view name;
    uint32_t Timeouts::*field;
};
// Indexed like Config::timeout_line.
inline constexpr std::array<TimeoutKind, kNumTimeouts> kTimeoutKinds = {{
    {"tcp-established", &Timeouts::tcp_established},
    {"tcp-transitory", &Timeouts::tcp_transitory},
    {"udp", &Timeouts::udp},
    {"icmp", &Timeouts::icmp},
    {"port-rest", &Timeouts::port_rest},
}};

// Indexed by Filtering.
inline constexpr std::array<std::string_view, 2> kFilteringNames = {"address-and-port-dependent",
                                                                    "endpoint-independent"};

// Indexed by Forward::protos.
inline constexpr std::array<std::string_view, 4> kForwardProtoNames = {"", "tcp", "udp", "tcp+udp"};

// Indexed by HairpinSource.
inline constexpr std::array<std::string_view, 2> kHairpinSourceNames = {"wan", "lan"};

// Indexed by FilterAction.
inline constexpr std::array<std::string_view, 3> kFilterActionNames = {"allow", "deny", "reject"};

inline constexpr uint8_t kIpProtoIcmp = 1;
inline constexpr uint8_t kIpProtoTcp = 6;
inline constexpr uint8_t kIpProtoUdp = 17;

// ---------------------------------------------------------------- value checks (config_validate.cc)

// The subnet of a prefix: its host bits cleared.
Ipv4Prefix network_of(const Ipv4Prefix& p);

// "network address" / "broadcast address" when `a` is one of them, else "".
std::string_view special_address(const Ipv4Prefix& net, uint32_t a);

Error check_lan(const Ipv4Prefix& lan);  // `lan address`: lan-ip and its subnet
Error check_wan_network(const Ipv4Prefix& wan);
Error check_gateway(const Ipv4Prefix& wan, uint32_t gw);
Error check_napt_ports(const PortRange& r);

// "napt port range 'TEXT' outside 1024..65535" (`text` is already quoted).
std::string napt_ports_outside(const std::string& text);

// The values of one forward or filter rule, alone: for parsed and built configs alike.
Error check_forward(const Forward& f);
Error check_filter_rule(const FilterRule& r);

// `what` from A to B: an error when A and B are the same zone.
Error check_filter_zones(std::string_view what, Zone from, Zone to);

// ---------------------------------------------------------------- canonical names (config_format.cc)

std::string port_name(size_t zone);                   // "port wan"
std::string forward_name(const Forward& f);           // "forward tcp 8080"
std::string policy_name(Zone from, Zone to);          // "filter policy from wan to lan"
std::string format_ip_proto(uint8_t p);               // "tcp", "47"

// ---------------------------------------------------------------- parts of statements (config_statements.cc)

// "unknown napt setting 'X' (expected ...)".
Error unknown_napt_setting(std::string_view setting);

// The index of a `timeout` kind in kTimeoutKinds.
Error find_timeout_kind(std::string_view kind, size_t& i);

// `route PREFIX`: the part that names a route, also in `no route PREFIX`.
Error parse_route_prefix(Words& w, Route& route);
// `via ADDRESS` or `dev ZONE`, then the end of the statement.
Error parse_route_target(Words& w, Route& route);

// `tcp|udp|tcp+udp PORT[-PORT]`: the part that names a forward, also in
// `no forward tcp 8080`.
Error parse_forward_ports(Words& w, Forward& f);
// `to ADDRESS [port PORT[-PORT]]`, then the end of the statement.
Error parse_forward_target(Words& w, Forward& f);

// `hint` lists what else the word may be, e.g. " or policy".
Error parse_filter_action(std::string_view tok, std::string_view hint, FilterAction& out);
// `from ZONE to ZONE` of a `filter policy`, two different zones.
Error parse_policy_zones(Words& w, Zone& from, Zone& to);
// `from ZONE to ZONE [OPTION VALUE]...` after the action, to the end.
Error parse_filter_rule(Words& w, FilterRule& r);

// ---------------------------------------------------------------- `no` (config_remove.cc)

// `no STATEMENT`, with `w` after the `no`.
Error apply_no(Config& cfg, Words& w);

}  // namespace ipshare::grammar
