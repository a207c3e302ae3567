// The pieces every CPU attention kernel shares (attention.cpp in float32/float64,
// attention_bf16.cpp under bf16 autocast): a small register-tiled GEMM for the per-head
// products, the softmax row, dropout factors, the per-thread scratch, and the loop over
// (sequence, head) pairs. Private to src/ops.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "ops/ops.h"
#include "ops/ops_internal.h"
#include "ops/vec_math.h"

namespace ft::ops::attention_detail {

using detail::Acc;
// ---- a small GEMM for the per-head products ----------------------------------------------------
// c (M x N) = a (M x K) b (K x N), all row-major with leading dimensions. Tiles of MR rows x NV
// 32-byte vectors keep their accumulators in registers (4 x 2 = 8 AVX2 registers) and load each
// vector of b once per MR rows of a. GCC's vector extensions spell the tile out: left to itself
// the vectoriser picked the k loop and spilled the accumulators.

template <class T>
struct Vec32 {
    using type [[gnu::vector_size(32)]] = T;
};

template <class T, int MR, int NV>
FT_INLINE void gemm_tile(T* c, int64_t ldc, const T* a, int64_t lda, const T* b, int64_t ldb,
                         int64_t K) {
    using V = typename Vec32<T>::type;
    constexpr int W = 32 / sizeof(T);
    V acc[MR][NV] = {};
    for (int64_t k = 0; k < K; ++k) {
        V bv[NV];
        for (int v = 0; v < NV; ++v) std::memcpy(&bv[v], b + k * ldb + v * W, sizeof(V));
        for (int r = 0; r < MR; ++r) {
            const T ar = a[r * lda + k];
            for (int v = 0; v < NV; ++v) acc[r][v] += ar * bv[v];
        }
    }
    for (int r = 0; r < MR; ++r)
        for (int v = 0; v < NV; ++v) std::memcpy(c + r * ldc + v * W, &acc[r][v], sizeof(V));
}

// The last N % W columns, one at a time.
template <class T, int MR>
FT_INLINE void gemm_column(T* c, int64_t ldc, const T* a, int64_t lda, const T* b, int64_t ldb,
                           int64_t K) {
    T acc[MR] = {};
    for (int64_t k = 0; k < K; ++k)
        for (int r = 0; r < MR; ++r) acc[r] += a[r * lda + k] * b[k * ldb];
    for (int r = 0; r < MR; ++r) c[r * ldc] = acc[r];
}

template <class T, int MR>
FT_INLINE void gemm_rows(T* c, int64_t ldc, const T* a, int64_t lda, const T* b, int64_t ldb,
                         int64_t N, int64_t K) {
    constexpr int W = 32 / sizeof(T);
    int64_t j = 0;
    for (; j + 2 * W <= N; j += 2 * W) gemm_tile<T, MR, 2>(c + j, ldc, a, lda, b + j, ldb, K);
    for (; j + W <= N; j += W) gemm_tile<T, MR, 1>(c + j, ldc, a, lda, b + j, ldb, K);
    for (; j < N; ++j) gemm_column<T, MR>(c + j, ldc, a, lda, b + j, ldb, K);
}

template <class T>
FT_INLINE void gemm(T* c, int64_t ldc, const T* a, int64_t lda, const T* b, int64_t ldb, int64_t M,
                    int64_t N, int64_t K) {
    constexpr int MR = 4;
    int64_t i = 0;
    for (; i + MR <= M; i += MR) gemm_rows<T, MR>(c + i * ldc, ldc, a + i * lda, lda, b, ldb, N, K);
    for (; i < M; ++i) gemm_rows<T, 1>(c + i * ldc, ldc, a + i * lda, lda, b, ldb, N, K);
}

// dst (cols x ld_dst) = src (rows x cols, leading dimension ld_src) transposed; columns rows ..
// ld_dst-1 of dst are zeroed (padding that lets the GEMM use whole tiles).
template <class T>
FT_INLINE void transpose(T* dst, int64_t ld_dst, const T* src, int64_t ld_src, int64_t rows,
                         int64_t cols) {
    for (int64_t d = 0; d < cols; ++d) {
        T* out = dst + d * ld_dst;
        for (int64_t j = 0; j < rows; ++j) out[j] = src[j * ld_src + d];
        for (int64_t j = rows; j < ld_dst; ++j) out[j] = T(0);
    }
}

// factor[e] = 0 (dropped) or 1/(1-p) (kept) for elements first .. first+n-1 of the mask. One
// call per head block: Philox blocks are then shared across row boundaries.
template <class T>
FT_INLINE void dropout_factors(T* factor, int64_t n, double p, const Philox& rng, uint64_t first) {
    const T scale = static_cast<T>(1.0 / (1.0 - p));
    const uint32_t threshold = detail::drop_threshold(p);
    detail::for_each_uniform_bits(rng, first, n, [&](int64_t e, uint32_t bits) {
        factor[e] = bits < threshold ? T(0) : scale;
    });
}

// float: the vectorisable exp of vec_math.h; double: libm.
FT_INLINE float exp_t(float x) {
    return detail::exp_f32(x);
}
FT_INLINE double exp_t(double x) {
    return std::exp(x);
}

// The scores' scale, 1/sqrt(head size), as HF divides q by sqrt(d_head).
template <class T>
FT_INLINE T score_scale(int64_t HS) {
    return static_cast<T>(1.0 / std::sqrt(static_cast<double>(HS)));
}

// row = softmax(s * scale) over len scores, with the max subtracted (no overflow) and the sum in
// double.
template <class T>
FT_INLINE void softmax_row(T* row, const T* s, int64_t len, T scale) {
    T mx = -std::numeric_limits<T>::infinity();
    for (int64_t j = 0; j < len; ++j) mx = std::max(mx, s[j] * scale);
    for (int64_t j = 0; j < len; ++j) row[j] = exp_t(s[j] * scale - mx);
    Acc sum = 0;
    for (int64_t j = 0; j < len; ++j) sum += row[j];
    for (int64_t j = 0; j < len; ++j) row[j] = static_cast<T>(row[j] / sum);
}

// Key counts rounded up to whole GEMM tiles (two 32-byte vectors).
template <class T>
constexpr int64_t padded(int64_t len) {
    constexpr int64_t NR = 64 / sizeof(T);
    return (len + NR - 1) / NR * NR;
}

// Scratch elements head_forward / head_backward need for a block of len tokens.
template <class T>
int64_t head_scratch_size(int64_t len, int64_t HS) {
    const int64_t lp = padded<T>(len);
    return HS * lp + len * lp + 4 * len * len;
}

// ---- scratch from the context's workspace ---------------------------------------------------
// One block: base[b] (B+1 int64), where sequence b's probabilities start (each head's block is
// len x len after that), then one slice per thread of `per_thread` elements of T. Grown once to
// the largest batch, then reused by every call.
template <class T>
struct Scratch {
    const int64_t* base;
    T* slices;
    int64_t stride;  // elements from one thread's slice to the next (a multiple of 64 bytes)
    T* slice() const { return slices + stride * omp_get_thread_num(); }
};

inline constexpr int64_t round_up(int64_t n, int64_t to) {
    return (n + to - 1) / to * to;
}

template <class T>
Scratch<T> scratch(const Context& ctx, const int32_t* offsets, int64_t B, int64_t NH,
                   int64_t per_thread) {
    const int64_t base_bytes = round_up((B + 1) * static_cast<int64_t>(sizeof(int64_t)), 64);
    const int64_t stride = round_up(per_thread * static_cast<int64_t>(sizeof(T)), 64) /
                           static_cast<int64_t>(sizeof(T));
    const int64_t bytes = base_bytes + detail::threads() * stride * static_cast<int64_t>(sizeof(T));
    char* block = static_cast<char*>(ctx.workspace->get(static_cast<size_t>(bytes)));
    int64_t* base = reinterpret_cast<int64_t*>(block);
    base[0] = 0;
    for (int64_t b = 0; b < B; ++b) {
        const int64_t len = offsets[b + 1] - offsets[b];
        base[b + 1] = base[b] + NH * len * len;
    }
    return {base, reinterpret_cast<T*>(block + base_bytes), stride};
}

inline int64_t max_length(const int32_t* offsets, int64_t B) {
    int64_t m = 0;
    for (int64_t b = 0; b < B; ++b) m = std::max<int64_t>(m, offsets[b + 1] - offsets[b]);
    return m;
}

// ---- the CPU implementations -------------------------------------------------------------------

// One (sequence, head) pair of a packed batch, as the per-pair kernels see it.
template <class T>
struct HeadBlock {
    int64_t b, h, t0, len;  // the sequence, the head, the sequence's first token and length
    int64_t mask_first;   // where the pair's len x len block starts in the full op's probabilities
    const Philox* drop;   // null without dropout
    uint64_t drop_first;  // the block's first dropout mask element
    T* scratch;           // the calling thread's slice of the context's workspace
};

// Calls fn(block) for every non-empty (sequence, head) pair, on all threads, each with
// per_thread elements of scratch. Pairs cost len^2: dynamic scheduling balances unequal
// lengths; which thread runs a pair never changes its result.
template <class T, class F>
void for_each_sequence_head(const Context& ctx, const int32_t* offsets, int64_t B, int64_t NH,
                            double dropout_p, const Philox* rng, uint64_t rng_offset,
                            int64_t per_thread, const F& fn) {
    const Philox* drop = rng && dropout_p > 0.0 ? rng : nullptr;
    const Scratch<T> sc = scratch<T>(ctx, offsets, B, NH, per_thread);
#pragma omp parallel for num_threads(detail::threads()) schedule(dynamic, 1)
    for (int64_t w = 0; w < B * NH; ++w) {
        const int64_t b = w / NH, h = w % NH;
        const int64_t t0 = offsets[b], len = offsets[b + 1] - offsets[b];
        const int64_t mask_first = sc.base[b] + h * len * len;
        if (len != 0)
            fn(HeadBlock<T>{b, h, t0, len, mask_first, drop,
                            rng_offset + static_cast<uint64_t>(mask_first), sc.slice()});
    }
}

// The checks every attention entry shares: sizes, and a workspace on CPU.
inline void check_attention(const Context& ctx, const int32_t* offsets, int64_t B, int64_t NH,
                            int64_t HS) {
    FT_ASSERT(B >= 0 && NH > 0 && HS > 0, "attention: bad sizes");
    FT_ASSERT(offsets || B == 0, "attention: null offsets");
    FT_ASSERT(ctx.device != Device::CPU || ctx.workspace,
              "attention: the context has no workspace");
}

}  // namespace ft::ops::attention_detail
