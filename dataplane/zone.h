// The router's three ports, named by the zone they face.
#pragma once

#include <array>
#include <cstdint>

namespace ipshare {

enum class Zone : uint8_t { wan = 0, lan = 1, dmz = 2 };
inline constexpr int kNumZones = 3;
inline constexpr std::array<const char*, kNumZones> kZoneNames = {"wan", "lan", "dmz"};
inline constexpr std::array<Zone, kNumZones> kAllZones = {Zone::wan, Zone::lan, Zone::dmz};

constexpr int idx(Zone z) { return static_cast<int>(z); }

}  // namespace ipshare
