#include "port.h"

#include <rte_ethdev.h>

#include "rss.h"

namespace ipshare {
namespace {

constexpr uint16_t kRxDesc = 1024;
constexpr uint16_t kTxDesc = 1024;

std::string fail(const char* what, int rc) { return std::string(what) + ": " + rte_strerror(-rc); }

constexpr uint64_t kSteerableRss = RTE_ETH_RSS_NONFRAG_IPV4_TCP | RTE_ETH_RSS_NONFRAG_IPV4_UDP;

// Programs a round-robin redirection table; true when the driver took it.
bool program_reta(uint16_t port_id, uint16_t size, uint16_t queues, std::vector<uint16_t>* reta) {
    std::vector<rte_eth_rss_reta_entry64> conf((size + RTE_ETH_RETA_GROUP_SIZE - 1) / RTE_ETH_RETA_GROUP_SIZE);
    const std::vector<uint16_t> table = rss_round_robin_reta(size, queues);
    for (uint16_t i = 0; i < size; ++i) {
        conf[i / RTE_ETH_RETA_GROUP_SIZE].mask |= uint64_t{1} << (i % RTE_ETH_RETA_GROUP_SIZE);
        conf[i / RTE_ETH_RETA_GROUP_SIZE].reta[i % RTE_ETH_RETA_GROUP_SIZE] = table[i];
    }
    if (rte_eth_dev_rss_reta_update(port_id, conf.data(), size) != 0) return false;
    *reta = table;
    return true;
}

}  // namespace

bool port_start(uint16_t port_id, uint16_t queues, rte_mempool* pool, PortInfo* info, std::string* err,
                std::vector<uint16_t>* reta) {
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
    std::array<uint8_t, kRssKeyLen> key = kRssKey;
    const bool steerable = reta && queues > 1 && (dev.flow_type_rss_offloads & kSteerableRss) == kSteerableRss &&
                           dev.hash_key_size == kRssKeyLen && dev.reta_size > 0 &&
                           (dev.reta_size & (dev.reta_size - 1)) == 0;
    if (queues > 1) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        conf.rx_adv_conf.rss_conf.rss_hf =
            (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) & dev.flow_type_rss_offloads;
        if (steerable) {
            conf.rx_adv_conf.rss_conf.rss_key = key.data();
            conf.rx_adv_conf.rss_conf.rss_key_len = kRssKeyLen;
        }
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
    if (reta) reta->clear();
    if (steerable && !program_reta(port_id, dev.reta_size, queues, reta)) reta->clear();
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
