// bf16 values on float bits, for the ops of bf16 autocast (linear_bf16.cpp, attention_bf16.cpp,
// the optimizer's bf16 copy of the weights). Private to src/ops.
#pragma once

#include <bit>
#include <cstdint>

#include "ops/ops_internal.h"

// The conversions are memory-bound loops of integer lane operations whose 32 -> 16 bit packing
// AVX2 does poorly across lanes: an AVX-512 clone too. bench/gemm_bf16_bench.cpp, one thread on
// a Zen 5 EPYC, 180 x 3072 floats: 65 us with the AVX2 clone, 45-55 us with AVX-512, 41 us for
// oneDNN's reorder; 2048 x 3072: 1.2 ms for either (memory-bound).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FT_BF16_CLONES [[gnu::target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")]]
#else
#define FT_BF16_CLONES
#endif

namespace ft::ops::detail {

// f32_to_bf16 on bits, branch-free so that loops over it vectorise: NaNs keep their sign and
// top payload bits and become quiet; everything else rounds to nearest, ties to even (infinities
// and values that round past the largest finite bf16 become infinities).
FT_INLINE uint32_t bf16_bits(uint32_t f) {
    const uint32_t rounded = (f + 0x7fffu + ((f >> 16) & 1u)) >> 16;
    const uint32_t nan = (f >> 16) | 0x40u;
    return (f & 0x7fffffffu) > 0x7f800000u ? nan : rounded;
}

FT_INLINE float round_bf16(float x) {
    return std::bit_cast<float>(bf16_bits(std::bit_cast<uint32_t>(x)) << 16);
}

}  // namespace ft::ops::detail
