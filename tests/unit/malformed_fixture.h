// The table of malformed and unusual frames run through the whole walk
// (process_burst) of a router on ring ports (ring_router_test.h; main in
// eal_main.cc), shared by test_malformed.cc, test_malformed_link.cc and
// test_arp_spoofing.cc: what a row is and expects, the frames rows are made
// of, and the Malformed fixture that runs a row.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "counters.h"
#include "frag.h"
#include "packet_builder.h"
#include "ring_router_test.h"
#include "stages.h"
#include "worker.h"

namespace ipshare::test::malformed {

// ---------------------------------------------------------------- the table

struct Expect {
    Drop drop = Drop::count;        // Drop::count: passed, not dropped
    std::optional<Zone> out;        // where it leaves, when passed
    size_t frames = 1;              // how many frames leave
    size_t len = 0;                 // the (first) frame's length, when not 0
    std::function<void(const Bytes& in, const Bytes& out)> check = {};  // more, on the (first) frame out
};

inline Expect dropped(Drop d) { return Expect{d, std::nullopt, 0, 0}; }
inline Expect passed(Zone z, size_t len = 0, size_t frames = 1) { return Expect{Drop::count, z, frames, len}; }
// Taken by the router and not counted as a drop, nothing leaves (an ARP
// packet it learns from, or could: see arp_stage.cc).
inline Expect consumed() { return Expect{Drop::count, std::nullopt, 0, 0}; }
inline Expect passed_checked(Zone z, size_t len, std::function<void(const Bytes&, const Bytes&)> check) {
    return Expect{Drop::count, z, 1, len, std::move(check)};
}

struct Sent {
    Zone in;
    Bytes frame;
};

struct Row {
    std::string what;
    Zone in;
    Bytes frame;
    Expect expect;
    std::vector<Sent> before = {};
};

// ---------------------------------------------------------------- frames

// The router's port MACs (set by the fixture; the ring PMD has none).
inline Mac port_mac(Zone z) { return Mac{0x02, 0x1a, 0x00, 0x00, 0x00, static_cast<uint8_t>(0x20 + idx(z))}; }

inline constexpr Mac kClient2Mac = {0x02, 0x00, 0x5e, 0x00, 0x01, 0x0c};
inline constexpr uint32_t kClient2 = ipv4(192, 168, 1, 12);
inline constexpr uint32_t kWanHostAddr = ipv4(203, 0, 113, 77);  // a host of the wan network, no neighbour entry

inline Bytes cut(Bytes f, size_t n) {
    f.resize(n);
    return f;
}

// A datagram whose transport part is `l4` bytes (its IPv4 total length
// matches: a datagram cut short by its sender, not by the link).
inline Bytes datagram(Zone in, uint32_t src, uint32_t dst, uint8_t proto, const Bytes& l4, uint16_t frag = 0,
                      uint16_t id = 0x1234) {
    const Mac& peer = in == Zone::wan ? kGatewayMac : in == Zone::lan ? kClient1Mac : kServerMac;
    return PacketBuilder()
        .eth(port_mac(in), peer)
        .ipv4({.src = src, .dst = dst, .proto = proto, .id = id, .frag = frag})
        .payload(l4)
        .build();
}

inline Bytes from_wan(uint8_t proto, const Bytes& l4, uint16_t frag = 0, uint16_t id = 0x1234) {
    return datagram(Zone::wan, kInternetHost, kWanIp, proto, l4, frag, id);
}
inline Bytes from_lan(uint8_t proto, const Bytes& l4, uint16_t frag = 0, uint16_t id = 0x1234) {
    return datagram(Zone::lan, kClient1, kInternetHost, proto, l4, frag, id);
}

inline Bytes udp_wan(size_t payload = 16) {
    return PacketBuilder()
        .eth(port_mac(Zone::wan), kGatewayMac)
        .ipv4({.src = kInternetHost, .dst = kWanIp, .proto = kIpProtoUdp})
        .udp(53, 5353)
        .payload(pattern(payload))
        .build();
}

inline Bytes udp_header(uint16_t sport, uint16_t dport, uint16_t len = 8) {
    Bytes b = PacketBuilder().udp(sport, dport).build();
    b[4] = static_cast<uint8_t>(len >> 8);
    b[5] = static_cast<uint8_t>(len);
    return b;
}

inline Bytes arp_request(const Mac& sha, uint32_t spa, uint32_t tpa) {
    return arp_frame(kBroadcastMac, kArpOpRequest, sha, spa, kZeroMac, tpa);
}

// The rows of the table by layer; it is their concatenation, in this order.
// In test_malformed.cc: truncated frames, the IPv4 header and its options,
// fragments, TCP data offsets, ICMP errors; in test_malformed_link.cc: ARP,
// Ethernet sources, destinations and types; in test_malformed.cc: IPv4
// broadcast and multicast sources and destinations.
void add_ipv4_rows(std::vector<Row>& r);
void add_link_rows(std::vector<Row>& r);
void add_address_rows(std::vector<Row>& r);

// ---------------------------------------------------------------- the fixture

class Malformed : public RingRouterTest {
protected:
    static constexpr const char* kConfig =
        "port wan net_ring_malf_wan\n"
        "port lan net_ring_malf_lan\n"
        "port dmz net_ring_malf_dmz\n"
        "lan address 192.168.1.1/24\n"
        "wan network 203.0.113.0/24 gateway 203.0.113.1\n"
        "server address 203.0.113.10\n"
        "route 10.20.0.0/16 via 192.168.1.254\n";

    static constexpr unsigned kPoolSize = 2047;

    void SetUp() override {
        RingRouterParams p;
        p.prefix = "malf";
        p.pool_size = kPoolSize;
        p.ring_size = 1024;
        p.mac_base = 0x20;  // port_mac()
        p.neighbours.push_back({Zone::lan, kClient1, kClient1Mac});
        p.neighbours.push_back({Zone::lan, kClient2, kClient2Mac});
        p.icmp_errors = p.icmp_echo = p.arp_replies = {1000, 1000};
        p.now_s = 1;
        p.drain_after_burst = true;  // one frame in on `z`, through the router as the worker loop runs it
        ASSERT_NO_FATAL_FAILURE(start_router(p));
        std::string why;
        ASSERT_TRUE(load_config_text(kConfig, 4242, &why)) << why;
    }

    void TearDown() override {
        discard_output();
        frags_.reset();  // frees what still waits
        RingRouterTest::TearDown();
    }

    // Fragments still waiting are given up (the worker does it when they expire).
    void give_up_fragments() {
        w_.now_s += FragTable::kLifetimeSeconds;
        expire_sessions(w_, *tables_, 1u << 20);
        drain_refeed(w_);
        w_.tx.flush_all(counters_);
    }

    void discard_output() {
        for (Zone z : kAllZones) free_ring_mbufs(tx_[idx(z)]);
        free_ring_mbufs(pending_);
        ArpLearnMsg msg;
        while (rte_ring_dequeue_elem(learn_, &msg, sizeof msg) == 0) {
        }
    }

    // A clean slate: every session and fragment verdict of earlier rows expires.
    void next_row() {
        w_.now_s += 100000;
        expire_sessions(w_, *tables_, 1u << 20);
        drain_refeed(w_);
        w_.tx.flush_all(counters_);
        discard_output();
    }

    void run_row(const Row& row) {
        next_row();
        for (const Sent& s : row.before) ASSERT_NO_FATAL_FAILURE(receive(s.in, s.frame));
        discard_output();
        CounterTotals before;
        before.add(counters_);
        ASSERT_NO_FATAL_FAILURE(receive(row.in, row.frame));
        give_up_fragments();
        CounterTotals after;
        after.add(counters_);

        std::array<std::vector<Bytes>, kNumZones> out;
        for (Zone z : kAllZones) out[idx(z)] = sent(z);
        EXPECT_EQ(rte_ring_count(pending_), 0u) << "waits for ARP";
        uint64_t drops = 0;
        for (int d = 0; d < kNumDrops; ++d) drops += after.drops[d] - before.drops[d];
        std::string counted;
        for (int d = 0; d < kNumDrops; ++d)
            if (after.drops[d] != before.drops[d]) counted += std::string(" ") + kDropNames[d];
        EXPECT_EQ(after.rx[idx(row.in)], before.rx[idx(row.in)] + 1);

        const Expect& e = row.expect;
        if (e.drop != Drop::count) {
            const int d = static_cast<int>(e.drop);
            EXPECT_EQ(after.drops[d] - before.drops[d], 1u) << "expected " << kDropNames[d] << "; counted:" << counted;
            EXPECT_EQ(drops, 1u) << "counted:" << counted;
            EXPECT_EQ(after.dropped[idx(row.in)] - before.dropped[idx(row.in)], 1u) << "not counted on its port";
            for (Zone z : kAllZones) EXPECT_TRUE(out[idx(z)].empty()) << "a frame left on " << kZoneNames[idx(z)];
        } else if (!e.out) {
            EXPECT_EQ(drops, 0u) << "counted:" << counted;
            for (Zone z : kAllZones) EXPECT_TRUE(out[idx(z)].empty()) << "a frame left on " << kZoneNames[idx(z)];
        } else {
            EXPECT_EQ(drops, 0u) << "counted:" << counted;
            for (Zone z : kAllZones) {
                const size_t want = z == *e.out ? e.frames : 0;
                EXPECT_EQ(out[idx(z)].size(), want) << "frames out " << kZoneNames[idx(z)];
            }
            const auto& o = out[idx(*e.out)];
            if (e.len && !o.empty()) {
                EXPECT_EQ(o[0].size(), e.len) << "length of the frame out " << kZoneNames[idx(*e.out)];
            }
            if (e.check && !o.empty()) e.check(row.frame, o[0]);
            for (const Bytes& f : o) {
                ASSERT_GE(f.size(), sizeof(EthHdr));
                EXPECT_EQ(mac_text(eth_of(f)->src), mac_text(port_mac(*e.out))) << "Ethernet source";
                if (eth_of(f)->type.host() == kEtherTypeIpv4) {
                    EXPECT_TRUE(ip_checksum_valid(f)) << "IPv4 header checksum";
                    EXPECT_EQ(ip_of(f)->total_length.host() + sizeof(EthHdr), f.size()) << "total length";
                }
            }
        }
    }
};

}  // namespace ipshare::test::malformed
