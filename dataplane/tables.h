// The tables the workers read and the control thread replaces.
//
// Workers load the published pointer once per poll round and report a
// quiescent state (rte_rcu_qsbr) after it; the control thread builds a new
// `Tables` aside, publishes it with one atomic store, waits for every worker
// to pass a quiescent state, then frees the old one. Nothing in a published
// `Tables` is ever written.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "addresses.h"
#include "route.h"

namespace ipshare {

struct Tables {
    uint64_t generation = 0;
    Addresses addr;
    std::unique_ptr<RouteTable> routes;
};

}  // namespace ipshare
