// Test helpers over the Tables that build_tables() makes from the reference
// topology (tests/support/reference_topology.h): the configuration on the
// device names these tests give (build_tables opens no device), its tables,
// a few more addresses its routes and networks cover, and how GoogleTest
// prints a Drop, a Zone and an Action.
#pragma once

#include <gtest/gtest.h>

#include <iterator>
#include <memory>
#include <ostream>
#include <string>

#include "burst.h"
#include "classify.h"
#include "config_parse.h"
#include "packet_builder.h"
#include "reference_topology.h"
#include "tables_build.h"

namespace ipshare {

inline void PrintTo(Drop d, std::ostream* os) {
    *os << (d == Drop::count ? "(none)" : kDropNames[static_cast<size_t>(d)]);
}
inline void PrintTo(Zone z, std::ostream* os) { *os << kZoneNames[static_cast<size_t>(idx(z))]; }
inline void PrintTo(Action a, std::ostream* os) {
    static constexpr const char* kNames[] = {"drop",   "consumed", "arp",        "local",   "forward",
                                             "nat_out", "nat_in",  "hairpin",    "dmz_to_lan", "checked",
                                             "reply",  "transmit", "handed_off"};
    static_assert(std::size(kNames) == static_cast<size_t>(Action::handed_off) + 1, "one name per Action");
    const auto i = static_cast<size_t>(a);
    *os << (i < std::size(kNames) ? kNames[i] : "?");
}

namespace test {

inline constexpr uint32_t kWanHost = ipv4(203, 0, 113, 77);
inline constexpr uint32_t kWanOnLinkRouted = ipv4(203, 0, 113, 200);  // `route 203.0.113.128/25 dev wan`
inline constexpr uint32_t kBehindLanRouter = ipv4(10, 20, 3, 4);      // `route 10.20.0.0/16 via 192.168.1.254`

// The reference topology on ring devices.
inline Config ring_reference_config() {
    return reference_topology({.wan = "net_ring_wan", .lan = "net_ring_lan", .dmz = "net_ring_dmz"});
}

inline std::unique_ptr<Tables> tables_for(const Config& c) {
    const auto invalid = validate_config(c);
    EXPECT_FALSE(invalid.has_value()) << (invalid ? invalid->str() : "");
    ForwardIds ids;
    std::string err;
    auto t = build_tables(c, 1, ids, &err);
    EXPECT_TRUE(t) << err;
    return t;
}

inline std::unique_ptr<Tables> reference_tables() { return tables_for(ring_reference_config()); }

}  // namespace test
}  // namespace ipshare
