// The stateful firewall's rule table (pure: no DPDK).
//
// Rules belong to a zone pair (from, to) and are tried in order, first match
// wins; the pair's policy decides when none matches. A rule is evaluated on
// the first packet of a flow, where the flow gets a session (NAPT, forwards,
// LAN flows to the server), and the session is the cached verdict: later
// packets and replies pay nothing. Zone pairs whose flows have no session
// (the internet and the server, both ways) are evaluated per packet; with no
// rule for the pair that is one policy lookup and two counter adds, so every
// rule and every policy row counts what it decided.
//
// A rule can match the destination a packet goes to (after a forward's DNAT:
// `dst`, `port`) or the one its sender used (`orig-dst`, `orig-port`).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "addresses.h"
#include "zone.h"

namespace ipshare {

enum class FilterVerdict : uint8_t { allow, deny, reject };

struct FilterPacket {
    uint8_t proto = 0;
    uint32_t src = 0, dst = 0, orig_dst = 0;
    uint16_t dport = 0, orig_dport = 0;  // meaningful for TCP/UDP
};

struct CompiledRule {
    FilterVerdict action = FilterVerdict::allow;
    int16_t proto = -1;  // -1: any
    Subnet src{0, 0}, dst{0, 0}, orig_dst{0, 0};  // mask 0: any
    uint16_t port_lo = 0, port_hi = 65535, orig_port_lo = 0, orig_port_hi = 65535;
    bool ports = false;  // the rule names a port: only TCP/UDP can match
    uint16_t slot = 0;   // counter slot

    bool matches(const FilterPacket& p) const {
        if (proto >= 0 && p.proto != proto) return false;
        if (ports && ((p.dport < port_lo || p.dport > port_hi) ||
                      (p.orig_dport < orig_port_lo || p.orig_dport > orig_port_hi)))
            return false;
        return src.contains(p.src) && dst.contains(p.dst) && orig_dst.contains(p.orig_dst);
    }
};

class FilterTable {
public:
    static constexpr unsigned kMaxRules = 1024;
    static constexpr unsigned kSlots = kMaxRules + kNumZones * kNumZones;
    static constexpr uint16_t kNoSlot = 0xffff;  // allowed without a rule: not counted

    struct Result {
        FilterVerdict action;
        uint16_t slot;
    };

    // Rules are added in configuration order; slot = their order (< kMaxRules).
    void add_rule(Zone from, Zone to, const CompiledRule& r) { rules_[idx(from)][idx(to)].push_back(r); }
    void set_policy(Zone from, Zone to, FilterVerdict a) { policy_[idx(from)][idx(to)] = a; }

    // True when every flow of the pair is allowed without looking.
    bool pass_all(Zone from, Zone to) const {
        return rules_[idx(from)][idx(to)].empty() && policy_[idx(from)][idx(to)] == FilterVerdict::allow;
    }

    // `with_policy` false: only the rules decide, and no match allows
    // (forwarded flows: the forward statement is what admits them).
    Result evaluate(Zone from, Zone to, const FilterPacket& p, bool with_policy = true) const {
        for (const CompiledRule& r : rules_[idx(from)][idx(to)])
            if (r.matches(p)) return Result{r.action, r.slot};
        if (!with_policy) return Result{FilterVerdict::allow, kNoSlot};
        return Result{policy_[idx(from)][idx(to)], policy_slot(from, to)};
    }
    bool has_rules(Zone from, Zone to) const { return !rules_[idx(from)][idx(to)].empty(); }

    FilterVerdict policy(Zone from, Zone to) const { return policy_[idx(from)][idx(to)]; }
    static uint16_t policy_slot(Zone from, Zone to) {
        return static_cast<uint16_t>(kMaxRules + idx(from) * kNumZones + idx(to));
    }

private:
    std::array<std::array<std::vector<CompiledRule>, kNumZones>, kNumZones> rules_;
    std::array<std::array<FilterVerdict, kNumZones>, kNumZones> policy_{};
};

}  // namespace ipshare
