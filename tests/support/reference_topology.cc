#include "reference_topology.h"

#include "packet_builder.h"

namespace ipshare::test {

Config reference_topology(const PortDevices& devices) {
    Config c;
    c.port_device = {devices.wan, devices.lan, devices.dmz};
    c.port_line = {1, 2, 3};
    c.lan = Ipv4Prefix{kLanIp, 24};
    c.lan_line = 4;
    c.wan_network = Ipv4Prefix{kWanNet, 24};
    c.wan_gateway = kGateway;
    c.wan_line = 5;
    c.server = kWanIp;
    c.server_line = 6;
    c.routes.push_back(Route{Ipv4Prefix{ipv4(10, 20, 0, 0), 16}, kLanRouter, std::nullopt, 7});
    c.routes.push_back(Route{Ipv4Prefix{ipv4(203, 0, 113, 128), 25}, 0, Zone::wan, 8});
    return c;
}

}  // namespace ipshare::test
