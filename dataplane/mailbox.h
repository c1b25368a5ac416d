// Requests from the control thread to one worker about the worker's own
// sessions (list, count, flush), answered by the worker between bursts.
//
// The control thread fills the request and posts it (state 1, release); the
// worker sees it at its next poll round, walks its session slots a bounded
// number per round (so a million sessions never stall the dataplane), writes
// the answer into memory the control thread provided, and marks it done
// (state 2, release). No allocation and no lock on the worker's side.
#pragma once

#include <atomic>
#include <cstdint>

#include "nat.h"

namespace ipshare {

struct SessionQuery {
    int16_t proto = -1;      // -1: any
    bool has_client = false, has_remote = false;
    uint32_t client = 0, remote = 0;
    int32_t port = -1;       // client, outside or remote port; -1: any
    int16_t tcp_state = -1;  // TcpState, -1: any
    int32_t forward_id = -1; // sessions of this forward only; -1: any
    bool dead_forwards = false;  // only forward sessions whose forward is no longer live

    bool matches(const Session& s) const {
        if (proto >= 0 && s.proto != proto) return false;
        if (has_client && s.client_ip != client) return false;
        if (has_remote && s.remote_ip != remote) return false;
        if (port >= 0 && s.client_port != port && s.outside_port != port && s.remote_port != port) return false;
        if (tcp_state >= 0 && (s.proto != kIpProtoTcp || static_cast<int16_t>(s.tcp) != tcp_state)) return false;
        if (forward_id >= 0 && (s.kind != SessionKind::forward || s.forward_id != forward_id)) return false;
        return true;
    }
};

struct Mailbox {
    enum class Op : uint8_t { list, count, flush };
    static constexpr uint8_t kIdle = 0, kPosted = 1, kDone = 2;
    static constexpr uint32_t kSlotsPerRound = 16384;

    std::atomic<uint8_t> state{kIdle};
    Op op = Op::count;
    SessionQuery query;
    Session* out = nullptr;  // list: room for out_capacity sessions
    uint32_t out_capacity = 0;
    uint32_t out_count = 0;
    uint64_t matched = 0;
    uint32_t cursor = 0;
};

}  // namespace ipshare
