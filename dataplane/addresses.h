// The router's view of its addresses, host byte order, derived once from the
// configuration and read by every stage.
#pragma once

#include <cstdint>

namespace ipshare {

struct Subnet {
    uint32_t net = 0;
    uint32_t mask = 0;
    bool contains(uint32_t a) const { return (a & mask) == net; }
    uint32_t broadcast() const { return net | ~mask; }
    // An address a host may hold: inside, not the network or broadcast address.
    bool is_host(uint32_t a) const { return contains(a) && a != net && a != broadcast(); }
};

struct Addresses {
    uint32_t lan_ip = 0;   // the router's own, on lan
    Subnet lan;
    uint32_t wan_ip = 0;   // the designated server's, shared by the NAT
    Subnet wan;
    uint32_t gateway = 0;  // upstream gateway on wan
};

// RFC 1122 3.2.1.3 / RFC 5735 special-purpose space that is never a valid
// source on any port: "this network" 0/8, loopback 127/8, multicast 224/4,
// reserved 240/4 (which includes limited broadcast).
inline bool is_martian_source(uint32_t a) {
    const uint32_t top = a >> 24;
    return top == 0 || top == 127 || top >= 224;
}

// Destinations that are never forwarded: 0/8, loopback, multicast, class E
// and limited broadcast (RFC 1812 5.3.5: directed broadcasts are not forwarded
// either; the caller checks the LAN's).
inline bool is_martian_destination(uint32_t a) { return is_martian_source(a); }

// RFC 1918 private space and RFC 3927 link-local: never a valid source from
// the internet (unless the operator's own wan network uses them).
inline bool is_private(uint32_t a) {
    return (a >> 24) == 10 || (a >> 20) == ((172u << 4) | 1) || (a >> 16) == ((192u << 8) | 168) ||
           (a >> 16) == ((169u << 8) | 254);
}

}  // namespace ipshare
