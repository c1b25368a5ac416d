// Predictable RSS (DPDK's rte_thash): which receive queue a NIC that hashes
// with Toeplitz will put a packet on. A NIC spreads the wan port's traffic
// over the workers' queues by the Toeplitz hash of (source address,
// destination address, source port, destination port) and its redirection
// table (RETA). With the key and the RETA known (the daemon programs both,
// daemon.cc), the NAT can choose the outside port of a new mapping so that
// the reply of the flow that created it arrives on the queue of the worker
// that owns the session: no software handoff for it (threading.md). Later
// remotes of an endpoint-independent mapping hash elsewhere and are handed
// off, as on ports without RSS (af_packet, memif).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace ipshare {

// The key of Microsoft's RSS verification suite, which most NICs use by
// default: 40 bytes, the length of the Toeplitz key for IPv4 and IPv6.
inline constexpr size_t kRssKeyLen = 40;
inline constexpr std::array<uint8_t, kRssKeyLen> kRssKey = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

class RssPredictor {
public:
    // `reta`: the queue of each redirection table entry; its size a power of two.
    RssPredictor(const std::array<uint8_t, kRssKeyLen>& key, std::vector<uint16_t> reta);

    // The Toeplitz hash of an IPv4 TCP/UDP packet (host order), as the NIC computes it.
    uint32_t hash(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) const;
    // The queue the NIC puts that packet on.
    uint16_t queue_of(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) const {
        return reta_[hash(src, dst, sport, dport) & (reta_.size() - 1)];
    }

private:
    std::array<uint8_t, kRssKeyLen> key_;
    std::vector<uint16_t> reta_;
};

// A redirection table of `size` entries spreading `queues` queues round
// robin, as DPDK drivers fill it by default.
std::vector<uint16_t> rss_round_robin_reta(uint16_t size, uint16_t queues);

}  // namespace ipshare
