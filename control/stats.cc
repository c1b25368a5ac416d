#include "stats.h"

namespace ipshare {

std::string format_counters(const CounterTotals& t) {
    std::string out = "ipshare: counters\n";
    for (int z = 0; z < kNumZones; ++z)
        out += "port " + std::string(kZoneNames[z]) + " rx " + std::to_string(t.rx[z]) + " tx " +
               std::to_string(t.tx[z]) + " dropped " + std::to_string(t.dropped[z]) + "\n";
    for (int d = 0; d < kNumDrops; ++d)
        out += "drop " + std::string(kDropNames[d]) + " " + std::to_string(t.drops[d]) + "\n";
    out += "arp_replies_sent " + std::to_string(t.arp_replies_sent) + "\n";
    out += "icmp_sent " + std::to_string(t.icmp_sent) + "\n";
    out += "nat_created " + std::to_string(t.nat_created) + "\n";
    out += "nat_expired " + std::to_string(t.nat_expired) + "\n";
    out += "nat_translated_out " + std::to_string(t.nat_out) + "\n";
    out += "nat_translated_in " + std::to_string(t.nat_in) + "\n";
    static constexpr const char* kProto[] = {"tcp", "udp", "icmp", "other"};
    for (int p = 0; p < 4; ++p)
        out += "nat_active " + std::string(kProto[p]) + " " + std::to_string(t.nat_active[p]) + "\n";
    out += "ipshare: end counters\n";
    return out;
}

}  // namespace ipshare
