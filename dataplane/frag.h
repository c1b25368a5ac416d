// Virtual reassembly for NAT (RFC 4787 REQ-14; as VPP does):
// fragments are translated one by one, never reassembled.
//
// The first fragment carries the ports, so the nat stage finds its session
// (or decides it is the server's) and records that verdict here under the
// datagram's (src, dst, protocol, IP id, direction). Later fragments look the
// verdict up and get the same treatment (address rewrite only; the transport
// checksum was fixed in the first fragment, which holds it). Fragments that
// arrive before their first fragment wait here, a short time and in bounded
// number (REQ-14a: a flood cannot exhaust memory): when the first fragment
// comes they are released; when it does not, outbound ones are dropped and
// inbound ones go to the server unchanged, as anything unmatched does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "zone.h"

struct rte_hash;
struct rte_mbuf;

namespace ipshare {

struct FragKey {
    uint32_t src, dst;  // as received, before translation
    uint16_t id;
    uint8_t proto;
    uint8_t dir;  // 0: from the LAN, 1: from the internet
};
static_assert(sizeof(FragKey) == 12);

struct FragVerdict {
    uint32_t session;  // kNone: not translated (inbound: the server's)
    Zone out;
    uint32_t nexthop;
};

class FragTable {
public:
    static constexpr unsigned kMaxWaitingPerDatagram = 8;
    static constexpr uint32_t kLifetimeSeconds = 2;

    static std::unique_ptr<FragTable> create(const std::string& name, uint32_t datagrams, uint32_t max_waiting,
                                             std::string* err);
    ~FragTable();
    FragTable(const FragTable&) = delete;
    FragTable& operator=(const FragTable&) = delete;

    // The first fragment's verdict. Fragments that waited for it are put in
    // `released` (at most kMaxWaitingPerDatagram), to be sent like it.
    void record(const FragKey& k, const FragVerdict& v, uint32_t now, rte_mbuf** released, unsigned* nreleased);

    enum class Result : uint8_t { known, waiting, full };
    // A non-initial fragment: `known` fills *v; `waiting` keeps the mbuf;
    // `full` means neither (the caller decides).
    Result lookup_or_wait(const FragKey& k, rte_mbuf* m, uint32_t now, FragVerdict* v);

    // Datagrams older than kLifetimeSeconds are forgotten; fragments still
    // waiting are handed to `give_up` (at most `budget` datagrams per call).
    template <typename F>
    void expire(uint32_t now, unsigned budget, F&& give_up);

    unsigned waiting() const { return waiting_total_; }
    unsigned datagrams() const { return used_; }

private:
    struct Entry {
        FragKey key;
        FragVerdict verdict;
        bool known;
        uint8_t nwait;
        uint32_t created;
        uint32_t next;  // FIFO by creation / free list
        rte_mbuf* wait[kMaxWaitingPerDatagram];
    };
    FragTable() = default;
    uint32_t find(const FragKey& k) const;
    uint32_t add(const FragKey& k, uint32_t now);
    void release(uint32_t e);

    rte_hash* hash_ = nullptr;
    Entry* entries_ = nullptr;
    uint32_t capacity_ = 0;
    uint32_t free_ = 0, head_ = 0, tail_ = 0;
    uint32_t used_ = 0;
    uint32_t max_waiting_ = 0, waiting_total_ = 0;
};

template <typename F>
void FragTable::expire(uint32_t now, unsigned budget, F&& give_up) {
    constexpr uint32_t kNil = 0xffffffff;
    while (budget-- && head_ != kNil && entries_[head_].created + kLifetimeSeconds <= now) {
        const uint32_t e = head_;
        Entry& en = entries_[e];
        for (unsigned i = 0; i < en.nwait; ++i) give_up(en.key, en.wait[i]);
        waiting_total_ -= en.nwait;
        en.nwait = 0;
        release(e);
    }
}

}  // namespace ipshare
