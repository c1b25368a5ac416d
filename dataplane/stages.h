// The stages of the packet walk, in the order the worker calls them. Each
// takes a burst, acts on the packets whose action is its own, and leaves a
// new action for the next.
#pragma once

#include "burst.h"
#include "headers.h"
#include "filter.h"
#include "tables.h"

namespace ipshare {

struct WorkerCtx;

void stage_classify(Burst& b, const Tables& t, WorkerCtx& w);   // classify.cc
void stage_arp(Burst& b, const Tables& t, WorkerCtx& w);        // arp_stage.cc
void stage_local(Burst& b, const Tables& t, WorkerCtx& w);      // local.cc
void stage_forward(Burst& b, const Tables& t, WorkerCtx& w);    // forward.cc
void stage_filter(Burst& b, const Tables& t, WorkerCtx& w);     // firewall.cc
void stage_nat(Burst& b, const Tables& t, WorkerCtx& w);        // nat_stage.cc
void stage_neighbour(Burst& b, WorkerCtx& w);                   // neighbour_stage.cc
void stage_tx(Burst& b, WorkerCtx& w);                          // worker.cc

// Removes expired NAT sessions, at most `budget` (nat_stage.cc).
void expire_sessions(WorkerCtx& w, const Tables& t, unsigned budget);

// Turns packet i into an ICMP error (type, code) back to its sender, out the
// port it came in on (reply.cc). False when not allowed (RFC 1812 4.3.2.7),
// rate-limited, or without headroom: the caller drops it then.
// `next_hop_mtu`: for "fragmentation needed" (RFC 1191), else 0.
bool reply_icmp_error(Burst& b, uint16_t i, const Tables& t, WorkerCtx& w, uint8_t type, uint8_t code,
                      uint64_t now, uint16_t next_hop_mtu = 0);

// Path MTU discovery (RFC 1191): whether a datagram has DF set and is
// larger than `mtu` (checked inline on every routed packet); then
// refuse_too_big (forward.cc) turns packet i into ICMP fragmentation needed
// carrying `mtu` (or drops it when that is not allowed or rate-limited) and
// counts it as mtu_exceeded.
inline bool df_exceeds(const Ipv4Hdr* ip, uint16_t mtu) {
    return (ip->frag.host() & kIpFlagDF) && ip->total_length.host() > mtu;
}
void refuse_too_big(Burst& b, uint16_t i, const Tables& t, WorkerCtx& w, uint16_t mtu, uint64_t now);

// Turns TCP segment i into the RST that refuses it (reply.cc).
bool reply_tcp_rst(Burst& b, uint16_t i, WorkerCtx& w, uint64_t now);

// The firewall's verdict for the first packet of a flow from `from` to `to`
// (reply.cc): counts it on the matching rule or policy; true when allowed,
// otherwise packet i is dropped or turned into the reject (RST / ICMP).
// The packet of the flow as its sender sent it.
FilterPacket filter_packet_of(const uint8_t* ip_bytes);
bool filter_admit(Burst& b, uint16_t i, Zone from, Zone to, const FilterPacket& p, const Tables& t, WorkerCtx& w,
                  bool with_policy = true);

// Packets a zone pair's policy allows without rules (FilterTable::pass_all is
// not needed: the policy row counts them), counted once per burst instead of
// once per packet. `admit` is filter_admit for such a pair; flush() adds the
// counts to the policy rows.
class PolicyTally {
public:
    // True when the pair (from, to) has no rules and its policy allows: then
    // packet i is counted here and needs no evaluation.
    bool admit(Burst& b, uint16_t i, Zone from, Zone to, const Tables& t);
    void flush(Zone from, WorkerCtx& w);

private:
    uint32_t packets_[kNumZones] = {};
    uint64_t bytes_[kNumZones] = {};
};

}  // namespace ipshare
