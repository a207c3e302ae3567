// Helpers shared by the CPU kernels of src/ops: the thread count, dropout masks drawn from Philox
// four elements per block, and column-block reductions that give the same bits for any number
// of threads.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "finetune/core.h"
#include "ops/context.h"

// Hot float loops are compiled twice, for AVX2 + FMA and for baseline x86-64, and the loader
// picks one per machine (the library itself targets baseline x86-64). Same machine, same clone,
// same bits. GCC only: clang 14 does not clone function templates (its builds, e.g. the fuzzers,
// get the baseline code).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FT_SIMD_CLONES [[gnu::target_clones("arch=x86-64-v3", "default")]]
#else
#define FT_SIMD_CLONES
#endif

// Helpers called from an FT_SIMD_CLONES function must be inlined into it to get its instruction
// set: an out-of-line copy would be compiled for baseline x86-64.
#if defined(__GNUC__)
#define FT_INLINE [[gnu::always_inline]] inline
#else
#define FT_INLINE inline
#endif

namespace ft::ops::detail {

// Reductions (LayerNorm statistics, softmax sums, losses, parameter-gradient sums) accumulate in
// double for both instantiations: the float results then round once, which keeps them within
// 1e-5 of PyTorch's whatever its summation order.
using Acc = double;

// The CUDA twins of the ops (ops_cuda.h) take float: the double instantiations of the encoder
// ops exist for the CPU's finite-difference tests. An op dispatches to its twin when
// has_cuda_twin<T> and ctx is a GPU context, and otherwise calls require_cpu before its CPU code.
template <class T>
constexpr bool has_cuda_twin = std::is_same_v<T, float>;
// Throws ft::Error naming the op when ctx is not a CPU context (a GPU asked for double).
void require_cpu(const Context& ctx, const char* op);

}  // namespace ft::ops::detail

// An op's dispatch, first in its body: on a GPU context a float op returns its CUDA twin
// cuda::op(ctx, ...), any other scalar there throws; on the CPU it falls through to the op's CPU
// code. (A macro because the twin's call must be discarded at compile time for double.)
#define FT_CUDA_TWIN(T, ctx, op, ...)                                                           \
    if constexpr (::ft::ops::detail::has_cuda_twin<T>)                                          \
        if ((ctx).device == ::ft::Device::CUDA) return ::ft::ops::cuda::op((ctx), __VA_ARGS__); \
    ::ft::ops::detail::require_cpu((ctx), #op)

namespace ft::ops::detail {

// The OpenMP team size every kernel uses. Going through ft::get_num_threads() makes FT_NUM_THREADS
// apply before the first parallel region (and before oneDNN reads omp_get_max_threads()).
inline int threads() {
    return get_num_threads();
}

// Below this many elements a pointwise kernel runs on one thread: forking costs more.
constexpr int64_t PARALLEL_MIN = 1 << 15;

// Runs f(begin, count) over [0, n) in chunks of CHUNK elements spread over the team (one thread
// when n is small). Chunks are multiples of 4 so that dropout draws whole Philox blocks.
template <class F>
void parallel_chunks(int64_t n, F&& f) {
    constexpr int64_t CHUNK = 4096;
    const int64_t nchunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for num_threads(threads()) schedule(static) if (n > PARALLEL_MIN)
    for (int64_t c = 0; c < nchunks; ++c) f(c * CHUNK, std::min(CHUNK, n - c * CHUNK));
}

// Calls f(i, bits) for i = 0 .. n-1, where bits = the top 24 bits of Philox word first + i, the
// integer behind rng.uniform(first + i) = bits / 2^24. Each Philox block is evaluated once for
// its four words instead of once per element.
template <class F>
inline void for_each_uniform_bits(const Philox& rng, uint64_t first, int64_t n, F&& f) {
    int64_t i = 0;
    // Up to the first block boundary, whole blocks, then the tail.
    for (; i < n && (first + static_cast<uint64_t>(i)) % 4 != 0; ++i)
        f(i, rng.block((first + static_cast<uint64_t>(i)) / 4)[(first + i) % 4] >> 8);
    for (; i + 4 <= n; i += 4) {
        const std::array<uint32_t, 4> w = rng.block((first + static_cast<uint64_t>(i)) / 4);
        f(i, w[0] >> 8);
        f(i + 1, w[1] >> 8);
        f(i + 2, w[2] >> 8);
        f(i + 3, w[3] >> 8);
    }
    if (i < n) {
        const std::array<uint32_t, 4> w = rng.block((first + static_cast<uint64_t>(i)) / 4);
        for (int k = 0; i < n; ++i, ++k) f(i, w[k] >> 8);
    }
}

// The dropout decision of ops.h, element dropped when rng.uniform(i) < p, in integers:
// bits / 2^24 < p  <=>  bits < ceil(p 2^24) for an integer bits. Comparing integers keeps the
// mask loop free of float conversions and lets the compiler use selects instead of branches.
inline uint32_t drop_threshold(double p) {
    if (p <= 0.0) return 0;
    if (p >= 1.0) return 1u << 24;
    return static_cast<uint32_t>(std::ceil(p * 16777216.0));
}

// sums[c] += sum over rows r of f(r, c), for c in 0 .. ncol-1 and r in 0 .. nrow-1 (row order
// fixed). Threads own blocks of columns, never rows, so no reduction order depends on the
// thread count. f returns the term in Acc precision.
template <class T, class F>
void column_sums_add(T* sums /*(ncol)*/, int64_t nrow, int64_t ncol, F&& f) {
    constexpr int64_t BLOCK = 64;
    const int64_t nblocks = (ncol + BLOCK - 1) / BLOCK;
#pragma omp parallel for num_threads(threads()) schedule(static) if (nrow * ncol > PARALLEL_MIN)
    for (int64_t blk = 0; blk < nblocks; ++blk) {
        const int64_t c0 = blk * BLOCK, c1 = std::min(ncol, c0 + BLOCK);
        Acc acc[BLOCK] = {};
        for (int64_t r = 0; r < nrow; ++r)
            for (int64_t c = c0; c < c1; ++c) acc[c - c0] += f(r, c);
        for (int64_t c = c0; c < c1; ++c) sums[c] = static_cast<T>(sums[c] + acc[c - c0]);
    }
}

}  // namespace ft::ops::detail
