// Internet checksum (RFC 1071) and its incremental update (RFC 1624).
//
// All arithmetic is on 16-bit words exactly as they sit in memory ("raw"):
// the one's-complement sum is byte-order independent (RFC 1071 section 2(B)),
// so no byte swapping is needed anywhere on the fast path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "byteorder.h"
#include "headers.h"

namespace ipshare {

// Sum of the 16-bit words of [data, data+len), odd trailing byte padded with
// zero, added to `sum`. Not folded.
uint32_t csum_partial(const void* data, size_t len, uint32_t sum = 0);

// Folds a 32-bit sum to 16 bits (with end-around carry).
inline uint16_t csum_fold(uint32_t sum) {
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<uint16_t>(sum);
}

// The checksum field value for data whose words (checksum field zeroed) sum to `sum`.
inline be16 csum_finish(uint32_t sum) { return be16::from_raw(static_cast<uint16_t>(~csum_fold(sum))); }

// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word m -> m'.
inline be16 csum_replace16(be16 check, uint16_t old_raw, uint16_t new_raw) {
    uint32_t sum = static_cast<uint16_t>(~check.raw());
    sum += static_cast<uint16_t>(~old_raw);
    sum += new_raw;
    return be16::from_raw(static_cast<uint16_t>(~csum_fold(sum)));
}

// The same for a 32-bit field (two words).
inline be16 csum_replace32(be16 check, be32 old_v, be32 new_v) {
    const uint32_t o = old_v.raw(), n = new_v.raw();
    uint32_t sum = static_cast<uint16_t>(~check.raw());
    sum += static_cast<uint16_t>(~o) + static_cast<uint16_t>(~(o >> 16));
    sum += (n & 0xffff) + (n >> 16);
    return be16::from_raw(static_cast<uint16_t>(~csum_fold(sum)));
}

// Full IPv4 header checksum over header_len() bytes.
inline be16 ipv4_header_checksum(const Ipv4Hdr* ip) {
    Ipv4Hdr copy;
    std::memcpy(&copy, ip, sizeof copy);
    copy.checksum = be16{};
    uint32_t sum = csum_partial(&copy, sizeof copy);
    if (ip->header_len() > sizeof(Ipv4Hdr))
        sum = csum_partial(reinterpret_cast<const uint8_t*>(ip) + sizeof(Ipv4Hdr),
                           ip->header_len() - sizeof(Ipv4Hdr), sum);
    return csum_finish(sum);
}

// Sum of the five 32-bit words of an option-less header (IHL 5), folded: a
// one's-complement sum may be taken 32 bits at a time (RFC 1071 2(C)).
inline uint16_t csum_ipv4_20(const void* hdr) {
    uint32_t w[5];
    std::memcpy(w, hdr, sizeof w);
    uint64_t sum = uint64_t{w[0]} + w[1] + w[2] + w[3] + w[4];
    sum = (sum & 0xffffffff) + (sum >> 32);
    sum = (sum & 0xffffffff) + (sum >> 32);
    return csum_fold(static_cast<uint32_t>(sum));
}

inline bool ipv4_checksum_ok(const Ipv4Hdr* ip) {
    if (ip->header_len() == sizeof(Ipv4Hdr)) return csum_ipv4_20(ip) == 0xffff;
    return csum_fold(csum_partial(ip, ip->header_len())) == 0xffff;
}

// Adds `delta` to the TTL and patches the header checksum incrementally
// (RFC 1624). TTL shares its 16-bit word with the protocol field.
inline void ipv4_add_ttl(Ipv4Hdr* ip, int delta) {
    uint16_t old_word;
    std::memcpy(&old_word, &ip->ttl, 2);
    ip->ttl = static_cast<uint8_t>(ip->ttl + delta);
    uint16_t new_word;
    std::memcpy(&new_word, &ip->ttl, 2);
    ip->checksum = csum_replace16(ip->checksum, old_word, new_word);
}

// What routing does to the TTL (RFC 1812 5.3.1).
inline void ipv4_dec_ttl(Ipv4Hdr* ip) { ipv4_add_ttl(ip, -1); }

}  // namespace ipshare
