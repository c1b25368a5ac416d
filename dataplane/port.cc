#include "port.h"

#include <rte_ethdev.h>

namespace ipshare {
namespace {

constexpr uint16_t kRxDesc = 1024;
constexpr uint16_t kTxDesc = 1024;

std::string fail(const char* what, int rc) { return std::string(what) + ": " + rte_strerror(-rc); }

}  // namespace

bool port_start(uint16_t port_id, uint16_t queues, rte_mempool* pool, PortInfo* info, std::string* err) {
    rte_eth_dev_info dev{};
    int rc = rte_eth_dev_info_get(port_id, &dev);
    if (rc != 0) return *err = fail("cannot read device info", rc), false;
    if (queues > dev.max_rx_queues || queues > dev.max_tx_queues) {
        *err = "device has " + std::to_string(dev.max_rx_queues) + " queue(s), " + std::to_string(queues) +
               " worker(s) need one each (af_packet: add qpairs=N to the vdev)";
        return false;
    }
    rte_eth_conf conf{};
    // Egress fragments are chains of two mbufs (header + data).
    conf.txmode.offloads = dev.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
    if (queues > 1) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf =
            (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & dev.flow_type_rss_offloads;
    }
    if ((rc = rte_eth_dev_configure(port_id, queues, queues, &conf)) != 0)
        return *err = fail("cannot configure", rc), false;
    uint16_t rxd = kRxDesc, txd = kTxDesc;
    if ((rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &rxd, &txd)) != 0)
        return *err = fail("cannot size descriptor rings", rc), false;
    const int socket = rte_eth_dev_socket_id(port_id);
    for (uint16_t q = 0; q < queues; ++q) {
        if ((rc = rte_eth_rx_queue_setup(port_id, q, rxd, socket, nullptr, pool)) != 0)
            return *err = fail("cannot set up an RX queue", rc), false;
        if ((rc = rte_eth_tx_queue_setup(port_id, q, txd, socket, nullptr)) != 0)
            return *err = fail("cannot set up a TX queue", rc), false;
    }
    if ((rc = rte_eth_dev_start(port_id)) != 0) return *err = fail("cannot start", rc), false;
    rte_ether_addr mac;
    if ((rc = rte_eth_macaddr_get(port_id, &mac)) != 0) return *err = fail("cannot read the MAC", rc), false;
    info->port_id = port_id;
    if (rte_eth_dev_get_mtu(port_id, &info->mtu) != 0) info->mtu = RTE_ETHER_MTU;
    std::copy(mac.addr_bytes, mac.addr_bytes + 6, info->mac);
    return true;
}

void port_stop(uint16_t port_id) {
    rte_eth_dev_stop(port_id);
}

std::string port_link_text(uint16_t port_id) {
    rte_eth_link link{};
    if (rte_eth_link_get_nowait(port_id, &link) != 0) return "unknown";
    if (!link.link_status) return "down";
    return "up " + std::to_string(link.link_speed) + " Mbps " +
           (link.link_duplex == RTE_ETH_LINK_FULL_DUPLEX ? "full-duplex" : "half-duplex");
}

}  // namespace ipshare
