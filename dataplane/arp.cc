#include "arp.h"

#include <cstring>

namespace ipshare {

bool arp_answers(Zone z, const Addresses& a, uint32_t spa, uint32_t tpa) {
    if (spa == tpa) return false;  // gratuitous ARP / announcement: nothing to answer
    switch (z) {
    case Zone::wan: return tpa == a.wan_ip && (spa == 0 || (a.wan.is_host(spa) && spa != a.wan_ip));
    case Zone::lan: return tpa == a.lan_ip && (spa == 0 || a.lan.is_host(spa));
    case Zone::dmz:
        return spa == a.wan_ip && tpa != a.wan_ip && !is_martian_destination(tpa) && tpa != a.wan.net &&
               tpa != a.wan.broadcast() && tpa != a.lan.net && tpa != a.lan.broadcast();
    }
    return false;
}

bool arp_sender_acceptable(Zone z, const Addresses& a, uint32_t spa, const uint8_t sha[6]) {
    if ((sha[0] & 1) || mac_is_zero(sha)) return false;  // multicast, broadcast or none
    if (is_martian_source(spa) || spa == a.lan_ip) return false;
    switch (z) {
    case Zone::wan: return spa != a.wan_ip;
    case Zone::lan: return spa != a.wan_ip && spa != a.gateway;
    case Zone::dmz: return spa == a.wan_ip;
    }
    return false;
}

uint32_t arp_sender_address(Zone z, const Addresses& a) {
    switch (z) {
    case Zone::wan: return a.wan_ip;
    case Zone::lan: return a.lan_ip;
    case Zone::dmz: return a.gateway;
    }
    return 0;
}

ArpLearn arp_learn(Zone z, const Addresses& a, const ArpHdr& arp, bool sender_on_link, bool answered) {
    if (!sender_on_link) return ArpLearn::no;
    const uint32_t spa = arp.spa.host();
    if (spa == 0) return ArpLearn::no;  // RFC 5227 probe: the sender has no address yet
    if (!arp_sender_acceptable(z, a, spa, arp.sha)) return ArpLearn::no;
    if (arp.op.host() == kArpOpReply && arp.tpa.host() == arp_sender_address(z, a)) return ArpLearn::create;
    if (arp.op.host() == kArpOpRequest && answered) return ArpLearn::create;
    return ArpLearn::update;
}

void arp_make_reply(EthHdr* eth, ArpHdr* arp, const uint8_t mac[6]) {
    std::memcpy(eth->dst, arp->sha, 6);
    std::memcpy(eth->src, mac, 6);
    const be32 asked = arp->tpa;
    arp->op = be16::from_host(kArpOpReply);
    std::memcpy(arp->tha, arp->sha, 6);
    arp->tpa = arp->spa;
    std::memcpy(arp->sha, mac, 6);
    arp->spa = asked;
}

uint16_t arp_build_request(uint8_t* buf, const uint8_t mac[6], uint32_t sender, uint32_t target) {
    std::memset(buf, 0, kArpFrameLen);
    auto* eth = reinterpret_cast<EthHdr*>(buf);
    std::memset(eth->dst, 0xff, 6);
    std::memcpy(eth->src, mac, 6);
    eth->type = be16::from_host(kEtherTypeArp);
    auto* arp = reinterpret_cast<ArpHdr*>(buf + sizeof(EthHdr));
    arp->htype = be16::from_host(kArpHwEther);
    arp->ptype = be16::from_host(kEtherTypeIpv4);
    arp->hlen = 6;
    arp->plen = 4;
    arp->op = be16::from_host(kArpOpRequest);
    std::memcpy(arp->sha, mac, 6);
    arp->spa = be32::from_host(sender);
    arp->tpa = be32::from_host(target);
    return kArpFrameLen;
}

}  // namespace ipshare
