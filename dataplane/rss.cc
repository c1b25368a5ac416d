#include "rss.h"

#include <rte_thash.h>

namespace ipshare {

RssPredictor::RssPredictor(const std::array<uint8_t, kRssKeyLen>& key, std::vector<uint16_t> reta)
    : key_(key), reta_(std::move(reta)) {
    if (reta_.empty()) reta_.push_back(0);
}

uint32_t RssPredictor::hash(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport) const {
    // rte_ipv4_tuple's words, host order: addresses, then the ports.
    uint32_t tuple[RTE_THASH_V4_L4_LEN] = {src, dst, (uint32_t{sport} << 16) | dport};
    return rte_softrss(tuple, RTE_THASH_V4_L4_LEN, key_.data());
}

std::vector<uint16_t> rss_round_robin_reta(uint16_t size, uint16_t queues) {
    std::vector<uint16_t> r(size ? size : 1);
    for (size_t i = 0; i < r.size(); ++i) r[i] = static_cast<uint16_t>(i % (queues ? queues : 1));
    return r;
}

}  // namespace ipshare
