// Port forwards as the workers see them: outside (wan-ip) port -> target.
// Built by the control thread from the `forward` statements, published in
// Tables. Lookup is an array index per protocol; each forward carries an id
// that stays the same while the forward is unchanged, so a session created by
// a forward that was changed or removed is recognised (not live) at its next
// packet and ended.
#pragma once

#include <cstdint>
#include <vector>

#include "headers.h"

namespace ipshare {

struct ForwardEntry {
    uint32_t target = 0;
    uint16_t lo = 0, hi = 0;    // outside ports
    uint16_t target_lo = 0;     // target port for `lo`
    uint16_t id = 0;            // stable identity, never 0
    uint16_t target_port(uint16_t p) const { return static_cast<uint16_t>(target_lo + (p - lo)); }
};

class ForwardTable {
public:
    ForwardTable() : tcp_(65536, 0), udp_(65536, 0), live_(65536, 0) {}

    // protos: bit 0 TCP, bit 1 UDP. Overlaps were refused by validation.
    void add(uint8_t protos, const ForwardEntry& e) {
        entries_.push_back(e);
        const auto index = static_cast<uint16_t>(entries_.size());
        for (unsigned p = e.lo; p <= e.hi; ++p) {
            if (protos & 1) tcp_[p] = index;
            if (protos & 2) udp_[p] = index;
        }
        live_[e.id] = 1;
    }

    const ForwardEntry* lookup(uint8_t proto, uint16_t port) const {
        const std::vector<uint16_t>* v = proto == kIpProtoTcp ? &tcp_ : proto == kIpProtoUdp ? &udp_ : nullptr;
        if (!v || (*v)[port] == 0) return nullptr;
        return &entries_[(*v)[port] - 1];
    }
    bool live(uint16_t id) const { return live_[id] != 0; }
    bool empty() const { return entries_.empty(); }
    const std::vector<ForwardEntry>& entries() const { return entries_; }

private:
    std::vector<ForwardEntry> entries_;
    std::vector<uint16_t> tcp_, udp_;  // port -> entry index + 1
    std::vector<uint8_t> live_;        // by id
};

}  // namespace ipshare
