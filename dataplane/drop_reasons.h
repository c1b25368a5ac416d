// Every reason the router drops a packet, one X-macro list: the enum, the
// names shown at exit / by the CLI, and the per-worker counter array are all
// generated from it, so a new reason cannot be added without a name.
#pragma once

#include <array>
#include <cstdint>

namespace ipshare {

#define IPSHARE_DROP_REASONS(X)                                                          \
    X(eth_truncated, "frame shorter than an Ethernet header")                           \
    X(vlan_tagged, "802.1Q/802.1ad tagged frame (VLANs are not supported)")             \
    X(ethertype_unsupported, "neither IPv4 nor ARP (IPv6 is not routed)")               \
    X(l2_not_for_us, "Ethernet destination is not this port (nor broadcast, for ARP)")  \
    X(frame_chained, "frame spread over several buffers (jumbo frames unsupported)")   \
    X(l2_bad_source, "Ethernet source is multicast or broadcast")                       \
    X(arp_malformed, "ARP with wrong hardware/protocol type or lengths, or truncated")  \
    X(arp_ignored, "ARP not for an address this port answers, nor a reply to learn")   \
    X(ip_truncated, "frame shorter than the IPv4 header it announces")                  \
    X(ip_bad_version, "IP version is not 4")                                            \
    X(ip_bad_header_len, "IHL below 5 or beyond the frame")                             \
    X(ip_bad_total_len, "total length below the header or beyond the frame")            \
    X(ip_bad_checksum, "IPv4 header checksum is wrong")                                 \
    X(ip_source_route, "LSRR/SSRR option: source routing is never honoured")            \
    X(ip_bad_options, "malformed IPv4 options")                                         \
    X(martian_source, "source is 0/8, loopback, multicast, class E or broadcast")       \
    X(martian_destination, "destination is 0/8, loopback, multicast or broadcast")      \
    X(spoofed_source, "source address not valid for the ingress port")                 \
    X(wan_not_for_us, "arrived on wan for an address other than wan-ip")                \
    X(no_route, "no route to the destination")                                          \
    X(dmz_bad_destination, "the server sent to its own address or to its port")         \
    X(l4_truncated, "transport header missing or cut short where NAT needs it")        \
    X(napt_table_full, "no NAT session: the session table is full")                   \
    X(napt_collision, "no NAT session: another session holds its key")                \
    X(napt_client_cap, "no NAT session: the client holds ports-per-client mappings")   \
    X(napt_ports_exhausted, "no NAT session: no free port left in the napt range")     \
    X(napt_half_open_limit, "inbound SYN refused: half-open sessions at their limit (SYN flood)") \
    X(napt_portless_busy, "no NAT session: another client holds this remote and protocol") \
    X(napt_unsupported, "from the LAN, ICMP the NAT does not translate")               \
    X(napt_fragment_unmatched, "a non-initial fragment from the LAN of no known flow") \
    X(napt_icmp_error_unmatched, "an ICMP error from the LAN about no known session")  \
    X(filter_denied, "a filter rule or policy denied the flow (drop)")                \
    X(filter_rejected, "a filter rule or policy rejected the flow (RST/ICMP sent)")   \
    X(hairpin_filtered, "hairpin to another client's mapping that filtering refuses")  \
    X(to_router_unhandled, "to the router's own address, not something it answers")     \
    X(icmp_bad_checksum, "ICMP message for the router with a wrong checksum")          \
    X(ttl_exceeded, "TTL expired in transit; ICMP time exceeded sent")                  \
    X(ttl_exceeded_silent, "TTL expired; no ICMP sent (rate limit or not allowed)")     \
    X(ratelimited, "the router would answer, but its rate limit is reached")           \
    X(neigh_queue_full, "waiting for ARP resolution and the queue is full")             \
    X(neigh_unresolved, "the next hop did not answer ARP")                              \
    X(tx_full, "the transmit queue was full")                                           \
    X(handoff_full, "the owner worker's handoff ring was full")                        \
    X(mtu_exceeded, "larger than the port MTU and DF set (or not fragmentable)")        \
    X(no_mbuf, "no packet buffer for a packet the router generates")

enum class Drop : uint8_t {
#define IPSHARE_X(name, desc) name,
    IPSHARE_DROP_REASONS(IPSHARE_X)
#undef IPSHARE_X
        count
};

inline constexpr int kNumDrops = static_cast<int>(Drop::count);

inline constexpr std::array<const char*, kNumDrops> kDropNames = {
#define IPSHARE_X(name, desc) #name,
    IPSHARE_DROP_REASONS(IPSHARE_X)
#undef IPSHARE_X
};

inline constexpr std::array<const char*, kNumDrops> kDropDescriptions = {
#define IPSHARE_X(name, desc) desc,
    IPSHARE_DROP_REASONS(IPSHARE_X)
#undef IPSHARE_X
};

}  // namespace ipshare
