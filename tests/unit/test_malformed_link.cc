// Malformed and unusual frames through the whole walk (process_burst): the
// rows of the table of test_malformed.cc about the link layer, ARP
// (malformed, who asks for what, spoofed claims) and Ethernet (sources,
// destinations, VLAN tags, other EtherTypes). The table, the fixture and what
// a row expects: test_malformed.cc and malformed_fixture.h.
#include <cstdint>
#include <cstring>
#include <vector>

#include "malformed_fixture.h"
#include "packet_builder.h"

namespace ipshare::test::malformed {
namespace {

Bytes with_eth_type(Bytes f, uint16_t type) {
    eth_of(f)->type = be16::from_host(type);
    return f;
}

Bytes vlan_tagged(const Bytes& f, uint16_t tpid) {
    Bytes v(f.begin(), f.begin() + 12);
    v.push_back(static_cast<uint8_t>(tpid >> 8));
    v.push_back(static_cast<uint8_t>(tpid));
    v.push_back(0x00);
    v.push_back(0x0a);
    v.insert(v.end(), f.begin() + 12, f.end());
    return v;
}

}  // namespace

void add_link_rows(std::vector<Row>& r) {
    const Zone wan = Zone::wan, lan = Zone::lan, dmz = Zone::dmz;
    const Bytes good = udp_wan();  // 14 + 20 + 8 + 16 bytes, to the server

    // ---- ARP
    {
        const Bytes ok = arp_request(kGatewayMac, kGateway, kWanIp);
        Bytes f = ok;
        arp_of(f)->hlen = 8;
        r.push_back({"ARP hardware length 8", wan, f, dropped(Drop::arp_malformed)});
        f = ok;
        arp_of(f)->plen = 16;
        r.push_back({"ARP protocol length 16", wan, f, dropped(Drop::arp_malformed)});
        f = ok;
        arp_of(f)->hlen = 0;
        arp_of(f)->plen = 0;
        r.push_back({"ARP lengths 0", wan, f, dropped(Drop::arp_malformed)});
        f = ok;
        arp_of(f)->htype = be16::from_host(6);  // IEEE 802
        r.push_back({"ARP hardware type 6", wan, f, dropped(Drop::arp_malformed)});
        f = ok;
        arp_of(f)->ptype = be16::from_host(0x86dd);
        r.push_back({"ARP protocol type IPv6", wan, f, dropped(Drop::arp_malformed)});
        f = ok;
        arp_of(f)->op = be16::from_host(3);  // RARP request
        r.push_back({"ARP operation 3", wan, f, dropped(Drop::arp_malformed)});
        f = ok;
        arp_of(f)->sha[0] |= 1;
        r.push_back({"ARP sender hardware address multicast", wan, f, dropped(Drop::arp_malformed)});
        r.push_back({"ARP request for wan-ip: answered", wan, ok, passed(wan, ok.size())});
        Bytes padded = ok;
        padded.resize(60, 0);
        r.push_back({"ARP request padded to 60 bytes: answered", wan, padded, passed(wan)});
        r.push_back({"ARP request for lan-ip on lan: answered", lan, arp_request(kClient1Mac, kClient1, kLanIp),
                     passed(lan)});
        f = ok;
        std::memset(arp_of(f)->sha, 0, 6);
        r.push_back({"ARP sender hardware address zero", wan, f, dropped(Drop::arp_malformed)});
        f = ok;
        std::memset(arp_of(f)->sha, 0xff, 6);
        r.push_back({"ARP sender hardware address broadcast", wan, f, dropped(Drop::arp_malformed)});

        // Who asks: on wan only hosts of the wan network (and probes) are
        // answered, on lan only hosts of the LAN subnet (DESIGN.md).
        r.push_back({"who-has wan-ip from a host of the wan network: answered", wan,
                     arp_request(kGatewayMac, ipv4(203, 0, 113, 77), kWanIp), passed(wan, ok.size())});
        r.push_back({"who-has wan-ip probe (sender 0.0.0.0): answered", wan, arp_request(kGatewayMac, 0, kWanIp),
                     passed(wan, ok.size())});
        r.push_back({"who-has wan-ip from a LAN address, on wan", wan, arp_request(kGatewayMac, kClient1, kWanIp),
                     dropped(Drop::arp_ignored)});
        r.push_back({"who-has wan-ip from lan-ip, on wan", wan, arp_request(kGatewayMac, kLanIp, kWanIp),
                     dropped(Drop::arp_ignored)});
        r.push_back({"who-has wan-ip from the wan network's broadcast address", wan,
                     arp_request(kGatewayMac, kWanBroadcast, kWanIp), dropped(Drop::arp_ignored)});
        r.push_back({"who-has wan-ip from the wan network's network address", wan,
                     arp_request(kGatewayMac, kWanNet, kWanIp), dropped(Drop::arp_ignored)});
        r.push_back({"who-has wan-ip from an internet address", wan, arp_request(kGatewayMac, kInternetHost, kWanIp),
                     dropped(Drop::arp_ignored)});
        r.push_back({"who-has wan-ip from 255.255.255.255", wan, arp_request(kGatewayMac, 0xffffffffu, kWanIp),
                     dropped(Drop::arp_ignored)});
        r.push_back({"who-has wan-ip on lan", lan, arp_request(kClient1Mac, kClient1, kWanIp),
                     consumed()});
        r.push_back({"who-has lan-ip from outside the LAN subnet", lan, arp_request(kClient1Mac, kWanHostAddr, kLanIp),
                     dropped(Drop::arp_ignored)});
        r.push_back({"who-has lan-ip probe (sender 0.0.0.0): answered", lan, arp_request(kClient1Mac, 0, kLanIp),
                     passed(lan)});
        r.push_back({"who-has lan-ip from the LAN broadcast address", lan,
                     arp_request(kClient1Mac, kLanBroadcast, kLanIp), dropped(Drop::arp_ignored)});
        r.push_back({"who-has the gateway from the server, on dmz: answered", dmz,
                     arp_request(kServerMac, kWanIp, kGateway), passed(dmz)});
        r.push_back({"who-has the wan broadcast address from the server, on dmz", dmz,
                     arp_request(kServerMac, kWanIp, kWanBroadcast), consumed()});
        r.push_back({"who-has a multicast address from the server, on dmz", dmz,
                     arp_request(kServerMac, kWanIp, ipv4(224, 0, 0, 1)), consumed()});
        r.push_back({"who-has the gateway from another sender, on dmz", dmz,
                     arp_request(kServerMac, kWanHostAddr, kGateway), dropped(Drop::arp_ignored)});

        // Spoofing (what is learnt is checked by ArpSpoofingTeachesNothing).
        r.push_back({"gratuitous ARP claiming lan-ip, on lan", lan,
                     arp_request(kClient1Mac, kLanIp, kLanIp), dropped(Drop::arp_ignored)});
        r.push_back({"ARP reply claiming the gateway, on lan", lan,
                     arp_frame(port_mac(lan), kArpOpReply, kClient1Mac, kGateway, port_mac(lan), kLanIp),
                     dropped(Drop::arp_ignored)});
        r.push_back({"ARP reply claiming wan-ip, on wan", wan,
                     arp_frame(port_mac(wan), kArpOpReply, kGatewayMac, kWanIp, port_mac(wan), kWanIp),
                     dropped(Drop::arp_ignored)});
        r.push_back({"gratuitous ARP claiming the gateway, on dmz", dmz,
                     arp_request(kServerMac, kGateway, kGateway), dropped(Drop::arp_ignored)});
    }

    // ---- Ethernet sources and destinations, VLANs, other types
    {
        Bytes f = good;
        std::memcpy(eth_of(f)->src, kBroadcastMac.data(), 6);
        r.push_back({"broadcast Ethernet source", wan, f, dropped(Drop::l2_bad_source)});
        f = good;
        std::memcpy(eth_of(f)->src, kMulticastMac.data(), 6);
        r.push_back({"multicast Ethernet source", wan, f, dropped(Drop::l2_bad_source)});
        f = arp_request(kGatewayMac, kGateway, kWanIp);
        std::memcpy(eth_of(f)->src, kMulticastMac.data(), 6);
        r.push_back({"ARP from a multicast Ethernet source", wan, f, dropped(Drop::l2_bad_source)});
        f = from_lan(kIpProtoUdp, udp_header(40000, 53));
        std::memcpy(eth_of(f)->src, kBroadcastMac.data(), 6);
        r.push_back({"broadcast Ethernet source on lan", lan, f, dropped(Drop::l2_bad_source)});
        f = good;
        std::memcpy(eth_of(f)->dst, kBroadcastMac.data(), 6);
        r.push_back({"IPv4 to the Ethernet broadcast", wan, f, dropped(Drop::l2_not_for_us)});
        f = good;
        std::memcpy(eth_of(f)->dst, kServerMac.data(), 6);
        r.push_back({"IPv4 to another MAC", wan, f, dropped(Drop::l2_not_for_us)});
        r.push_back({"802.1Q tagged", wan, vlan_tagged(good, kEtherTypeVlan), dropped(Drop::vlan_tagged)});
        r.push_back({"802.1ad tagged", lan, vlan_tagged(from_lan(kIpProtoUdp, udp_header(1, 2)), kEtherTypeQinQ),
                     dropped(Drop::vlan_tagged)});
        r.push_back({"802.1Q tagged ARP", dmz,
                     vlan_tagged(arp_request(kServerMac, kWanIp, kGateway), kEtherTypeVlan), dropped(Drop::vlan_tagged)});
        r.push_back({"802.1Q tag cut short", wan, cut(vlan_tagged(good, kEtherTypeVlan), 16),
                     dropped(Drop::vlan_tagged)});
        r.push_back({"IPv6", wan, with_eth_type(good, 0x86dd), dropped(Drop::ethertype_unsupported)});
        r.push_back({"EtherType 0 (802.3 length)", wan, with_eth_type(good, 0x002e),
                     dropped(Drop::ethertype_unsupported)});
    }
}

}  // namespace ipshare::test::malformed
