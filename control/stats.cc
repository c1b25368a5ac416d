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
    out += "ipshare: end counters\n";
    return out;
}

}  // namespace ipshare
