// Philox-4x32-10 on the device: the same words as ft::Philox::block (src/core/philox.cpp) for the
// same (seed, stream, index), so that dropout draws the same masks on both devices.
#pragma once

#include <cstdint>

namespace ft::ops::cuda {

__device__ __forceinline__ uint4 philox_block(uint64_t seed, uint64_t stream, uint64_t index) {
    uint32_t c0 = static_cast<uint32_t>(index), c1 = static_cast<uint32_t>(index >> 32);
    uint32_t c2 = static_cast<uint32_t>(stream), c3 = static_cast<uint32_t>(stream >> 32);
    uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
    for (int round = 0; round < 10; ++round) {
        const uint32_t lo0 = 0xD2511F53u * c0, hi0 = __umulhi(0xD2511F53u, c0);
        const uint32_t lo1 = 0xCD9E8D57u * c2, hi1 = __umulhi(0xCD9E8D57u, c2);
        const uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0;
        c1 = lo1;
        c2 = n2;
        c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return make_uint4(c0, c1, c2, c3);
}

// The 24-bit integer behind rng.uniform(i) (ft::Philox::uniform): word i % 4 of block i / 4.
__device__ __forceinline__ uint32_t philox_uniform_bits(uint64_t seed, uint64_t stream,
                                                        uint64_t i) {
    const uint4 w = philox_block(seed, stream, i / 4);
    const uint32_t r = static_cast<uint32_t>(i % 4);  // selects, not an indexed array (no stack)
    return (r == 0 ? w.x : r == 1 ? w.y : r == 2 ? w.z : w.w) >> 8;
}

// The dropout decision of ops.h in integers: dropped when bits < threshold, with threshold =
// ceil(p * 2^24) (ops_internal.h's drop_threshold, computed on the host).
__device__ __forceinline__ bool dropped(uint32_t bits, uint32_t threshold) {
    return bits < threshold;
}

}  // namespace ft::ops::cuda
