// The tables the workers read and the control thread replaces.
//
// Workers load the published pointer once per poll round and report a
// quiescent state (rte_rcu_qsbr) after it; the control thread builds a new
// `Tables` aside, publishes it with one atomic store, waits for every worker
// to pass a quiescent state, then frees the old one. Nothing in a published
// `Tables` is ever written.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

#include "addresses.h"
#include "filter.h"
#include "forwards.h"
#include "nat.h"
#include "route.h"

namespace ipshare {

// NAT policy that may change while running (the session tables themselves
// are the workers'; their size is fixed at start).
struct NatPolicy {
    bool endpoint_independent_filtering = false;
    bool hairpin_source_lan = false;  // `hairpin source lan`: lan-ip instead of wan-ip
    ClassTimeouts timeouts{7440, 240, 300, 60, 300, kTcpIncomingSynSeconds};  // by TimeoutClass (nat.h)
};

struct Tables {
    uint64_t generation = 0;
    Addresses addr;
    std::unique_ptr<RouteTable> routes;
    NatPolicy nat;
    ForwardTable forwards;
    FilterTable filter;
};

}  // namespace ipshare
