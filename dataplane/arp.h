// ARP (RFC 826) as ipshare speaks it, and the stage that handles ARP frames.
//
// ipshare proxies ARP (RFC 1027) for addresses it does not hold:
//   wan: answers who-has wan-ip (the server's address) with the wan MAC, to a
//        host of the wan network (not wan-ip itself, not the network or
//        broadcast address) or to a duplicate-address probe (sender 0.0.0.0);
//   lan: answers who-has lan-ip (its own address), to a host of the LAN
//        subnet or a probe;
//   dmz: answers the server (sender wan-ip) for every host address except its
//        own (the gateway and everything the server believes is on-link);
//        never for 0.0.0.0, multicast, broadcast or a network address.
// It speaks ARP itself with sender lan-ip on lan, wan-ip on wan and the
// gateway's address on dmz. Neighbours are learnt only from senders that are
// on-link for that port; learning is done by the control thread (the worker
// sends it a message), so the neighbour table has a single writer.
#pragma once

#include <cstdint>

#include "addresses.h"
#include "zone.h"
#include "headers.h"

namespace ipshare {


// Whether the router answers a request from `spa` for `tpa` on this port.
bool arp_answers(Zone z, const Addresses& a, uint32_t spa, uint32_t tpa);

// 00:00:00:00:00:00: an ARP packet with it as sender hardware address is
// malformed (nothing to answer to, nothing to learn).
inline bool mac_is_zero(const uint8_t* m) { return (m[0] | m[1] | m[2] | m[3] | m[4] | m[5]) == 0; }

// Whether an ARP packet from (`spa`, `sha`) on this port may teach the router
// a neighbour, whatever the routes say: the hardware address is unicast and
// not zero; the sender address is not special-purpose (is_martian_source),
// never lan-ip (the router's own), wan-ip only on dmz (where the server holds
// it), the wan gateway only on wan, and on dmz nothing but wan-ip. The
// neighbour manager applies it again to every learn message.
bool arp_sender_acceptable(Zone z, const Addresses& a, uint32_t spa, const uint8_t sha[6]);

// The address the router uses as ARP sender on this port.
uint32_t arp_sender_address(Zone z, const Addresses& a);

enum class ArpLearn : uint8_t {
    no,      // nothing to learn
    update,  // refresh an existing entry only (gratuitous ARP, others' requests)
    create,  // create or refresh (a reply to us, or a request we answered)
};

// What to learn from a well-formed ARP packet. `sender_on_link` says whether
// the sender's address is a host on this port's own subnets (the caller knows
// the routes); a sender that is not, a probe (0.0.0.0) or one that
// arp_sender_acceptable refuses teaches nothing.
ArpLearn arp_learn(Zone z, const Addresses& a, const ArpHdr& arp, bool sender_on_link, bool answered);

// Turns a request in place into the reply from `mac`, Ethernet header included.
void arp_make_reply(EthHdr* eth, ArpHdr* arp, const uint8_t mac[6]);

// Writes a broadcast who-has `target` from (`mac`, `sender`) into buf: 60 bytes
// (the Ethernet minimum without FCS). Returns the length written.
inline constexpr uint16_t kArpFrameLen = 60;
uint16_t arp_build_request(uint8_t* buf, const uint8_t mac[6], uint32_t sender, uint32_t target);

}  // namespace ipshare
