// The control thread's half of neighbour resolution (the workers' half is
// dataplane/neighbour_stage.cc and arp_stage.cc).
//
// It is the only writer of the neighbour table. It
//  - learns from the ARP messages the workers send (create or refresh),
//  - holds datagrams whose next hop is unresolved, at most kMaxPerNeighbour
//    per neighbour and kMaxWaiting in all, sends ARP requests (one a second,
//    three tries), then sends the datagrams or drops them (neigh_unresolved),
//  - ages entries: one not confirmed for kReachableSeconds is probed three
//    times, a second apart, and removed if it does not answer.
// Frames it sends go through a worker's inject ring (the worker owns the TX
// queues).
#pragma once

#include <array>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "../dataplane/addresses.h"
#include "../dataplane/counters.h"
#include "../dataplane/neighbour.h"
#include "../dataplane/worker.h"

struct rte_mempool;
struct rte_mbuf;
struct rte_ring;

namespace ipshare {

class NeighbourManager {
public:
    static constexpr unsigned kMaxPerNeighbour = 16;
    static constexpr unsigned kMaxWaiting = 1024;
    static constexpr unsigned kResolveTries = 3;
    static constexpr unsigned kProbes = 3;
    static constexpr unsigned kReachableSeconds = 60;

    struct Deps {
        NeighbourTable* table;
        rte_mempool* pool;
        rte_ring* learn_ring;
        rte_ring* pending_ring;
        std::vector<rte_ring*> inject_rings;
        std::array<PortInfo, kNumZones> ports;
        Counters* counters;  // the control thread's own block
        uint64_t hz;
    };

    explicit NeighbourManager(Deps d) : d_(std::move(d)) {}
    ~NeighbourManager();
    NeighbourManager(const NeighbourManager&) = delete;
    NeighbourManager& operator=(const NeighbourManager&) = delete;

    void set_addresses(const Addresses& a) { addr_ = a; }
    void poll(uint64_t now);
    size_t waiting_packets() const { return waiting_pkts_; }

    struct Entry {
        Zone zone;
        uint32_t ip;
        uint64_t mac;       // 0 while incomplete
        const char* state;  // reachable, probing, incomplete
        uint32_t age_seconds;
    };
    // Every neighbour known or being resolved, for `show neighbours`.
    std::vector<Entry> snapshot(uint64_t now) const;

private:
    struct Known {
        uint64_t confirmed;
        uint64_t last_probe;
        unsigned probes;
    };
    struct Waiting {
        std::vector<rte_mbuf*> pkts;
        uint64_t last_request;
        unsigned requests;
    };
    static uint64_t key(Zone z, uint32_t ip) { return (uint64_t(idx(z)) << 32) | ip; }
    static Zone zone_of(uint64_t k) { return static_cast<Zone>(k >> 32); }
    static uint32_t ip_of(uint64_t k) { return static_cast<uint32_t>(k); }

    void on_learn(Zone z, uint32_t ip, uint64_t mac, bool create, uint64_t now);
    void on_pending(rte_mbuf* m, uint64_t now);
    void timers(uint64_t now);
    void send_request(Zone z, uint32_t target);
    void send_to(rte_mbuf* m, Zone z, uint64_t mac);
    void transmit(rte_mbuf* m, Zone z);
    void drop_waiting(Waiting& w, Zone z, Drop why);

    Deps d_;
    Addresses addr_{};
    std::unordered_map<uint64_t, Known> known_;
    std::unordered_map<uint64_t, Waiting> waiting_;
    size_t waiting_pkts_ = 0;
    unsigned next_inject_ = 0;
    uint64_t next_timers_ = 0;
};

}  // namespace ipshare
