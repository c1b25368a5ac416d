// One way to create the rte_hash tables of the dataplane (NAT sessions and
// mappings, fragments, neighbours): CRC32 hashing, any socket, and a clear
// error that says what to do when memory runs out.
#pragma once

#include <cstdint>
#include <string>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>

namespace ipshare {

// `flags`: RTE_HASH_EXTRA_FLAGS_* (EXT_TABLE: the capacity is guaranteed,
// no cuckoo failure before it; RW_CONCURRENCY_LF: lock-free readers).
inline rte_hash* make_hash(const std::string& name, uint32_t entries, uint32_t key_len, uint8_t flags,
                           std::string* err) {
    rte_hash_parameters p{};
    p.name = name.c_str();
    p.entries = entries < 8 ? 8 : entries;
    p.key_len = key_len;
    p.hash_func = rte_hash_crc;
    p.socket_id = SOCKET_ID_ANY;
    p.extra_flag = flags;
    rte_hash* h = rte_hash_create(&p);
    if (!h)
        *err = "cannot create the table " + name + " for " + std::to_string(entries) + " entries: " +
               rte_strerror(rte_errno) + " (not enough memory? give EAL more with -m, or hugepages)";
    return h;
}

}  // namespace ipshare
