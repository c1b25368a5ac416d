// Strong network byte-order types. A be16/be32 cannot be mixed with a host
// integer by accident: conversion is always spelled .host() / from_host().
// Storage is bytes, so header structs built from them have alignment 1 and
// may sit at any offset in a frame without undefined behaviour.
#pragma once

#include <cstdint>
#include <cstring>

namespace ipshare {

struct be16 {
    uint8_t b[2];

    static constexpr be16 from_host(uint16_t v) {
        return be16{{static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)}};
    }
    constexpr uint16_t host() const {
        return static_cast<uint16_t>((b[0] << 8) | b[1]);
    }
    // The raw 16 bits as they sit in memory, for checksum arithmetic that
    // works on network-order words.
    uint16_t raw() const { uint16_t v; std::memcpy(&v, b, 2); return v; }
    static be16 from_raw(uint16_t v) { be16 r; std::memcpy(r.b, &v, 2); return r; }
    friend constexpr bool operator==(be16 x, be16 y) { return x.b[0] == y.b[0] && x.b[1] == y.b[1]; }
};

struct be32 {
    uint8_t b[4];

    static constexpr be32 from_host(uint32_t v) {
        return be32{{static_cast<uint8_t>(v >> 24), static_cast<uint8_t>(v >> 16),
                     static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)}};
    }
    constexpr uint32_t host() const {
        return (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
    }
    uint32_t raw() const { uint32_t v; std::memcpy(&v, b, 4); return v; }
    static be32 from_raw(uint32_t v) { be32 r; std::memcpy(r.b, &v, 4); return r; }
    friend constexpr bool operator==(be32 x, be32 y) { return x.host() == y.host(); }
};

static_assert(sizeof(be16) == 2 && alignof(be16) == 1);
static_assert(sizeof(be32) == 4 && alignof(be32) == 1);

}  // namespace ipshare
