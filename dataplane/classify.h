// Classify: the first stage. Validates each frame (parse.h), checks that it
// is addressed to this port, and decides what the router does with it, per
// ingress port, following the decision table of the design:
//
//   wan: to wan-ip -> the nat stage: a session's client, or else the server
//        on dmz; anything else, or a spoofed source, is dropped.
//   dmz: only from wan-ip; to lan-ip -> the router; to the LAN -> lan;
//        anywhere else -> wan, unchanged.
//   lan: only from LAN hosts (the subnet and routes via LAN routers);
//        to lan-ip -> the router; to wan-ip -> the server; to LAN routes ->
//        lan; to the internet -> NAPT.
#pragma once

#include <cstdint>

#include "burst.h"
#include "headers.h"
#include "stages.h"
#include "tables.h"

namespace ipshare {

struct WorkerCtx;

struct Verdict {
    Action action;
    Zone out;
    Drop drop;
    uint32_t nexthop;
};

// The routing decision for a valid IPv4 datagram arriving on `in`.
Verdict classify_ipv4(Zone in, const Ipv4Hdr& ip, const Tables& t);


}  // namespace ipshare
