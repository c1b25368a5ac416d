// The reference topology of DESIGN.md as a Config built in code, fields set
// directly (no parsing): ports wan, lan and dmz on the DPDK devices given,
// lan-ip 192.168.1.1/24, the wan network 203.0.113.0/24 with its gateway
// 203.0.113.1, the server (wan-ip) 203.0.113.10, and the routes
// 10.20.0.0/16 via 192.168.1.254 and 203.0.113.128/25 dev wan. Each
// statement carries the line it would have in a file of them in that order.
//
// For the unit tests over ring ports and for bench/ (which builds this file
// too): no EAL, no GoogleTest. tests/unit/config_test_support.h has another
// reference, the text of docs/configuration.md parsed.
#pragma once

#include <string>

#include "config.h"

namespace ipshare::test {

// DPDK device names of the three ports.
struct PortDevices {
    std::string wan, lan, dmz;
};

Config reference_topology(const PortDevices& devices);

}  // namespace ipshare::test
