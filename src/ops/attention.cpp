// Multi-head self-attention on a packed batch: for every (sequence, head) pair, scores, softmax,
// optional dropout on the probabilities, and the context, plus the backward. Pairs are
// independent and write disjoint blocks, so threads take whole pairs and results do not depend
// on the thread count. The blocks are small (len x len x HS with len ~ 10..128), below where a
// GEMM library's per-call overhead pays off, so the products run on a small register-tiled GEMM.
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "ops/ops.h"
#include "ops/ops_cuda.h"
#include "ops/ops_internal.h"
#include "ops/vec_math.h"

namespace ft::ops {

using detail::Acc;

namespace {

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

constexpr int64_t round_up(int64_t n, int64_t to) {
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

int64_t max_length(const int32_t* offsets, int64_t B) {
    int64_t m = 0;
    for (int64_t b = 0; b < B; ++b) m = std::max<int64_t>(m, offsets[b + 1] - offsets[b]);
    return m;
}

// ---- one (sequence, head) block ----------------------------------------------------------------
// q, k, v, ctx (and their gradients) point at the block's first row and column; rows are C
// apart. P is the len x len probability block. With dropout (rng non-null), the factor of P_ij
// is drawn at element mask_first + i*len + j.

template <class T>
FT_SIMD_CLONES void head_forward(T* ctx, T* P, const T* q, const T* k, const T* v, int64_t len,
                                 int64_t C, int64_t HS, double p, const Philox* rng,
                                 uint64_t mask_first, T* work) {
    const int64_t lp = padded<T>(len);
    const T scale = score_scale<T>(HS);
    T* kt = work;                // (HS, lp): K^T, zero-padded
    T* s = kt + HS * lp;         // (len, lp): Q K^T
    T* pd = s + len * lp;        // (len, len): dropout(P)
    T* factor = pd + len * len;  // (len, len)
    transpose(kt, lp, k, C, len, HS);
    if (rng) dropout_factors(factor, len * len, p, *rng, mask_first);
    gemm(s, lp, q, C, kt, lp, len, lp, HS);
    for (int64_t i = 0; i < len; ++i) {
        T* row = P + i * len;
        softmax_row(row, s + i * lp, len, scale);
        if (rng) {
            for (int64_t j = 0; j < len; ++j) pd[i * len + j] = row[j] * factor[i * len + j];
        }
    }
    gemm(ctx, C, rng ? pd : P, len, v, C, len, HS, len);
}

// With dropout, ctx = (P o F) V for the factor matrix F, so dV = (P o F)^T dctx and the softmax
// backward takes dP = (dctx V^T) o F, the gradient with respect to the pre-dropout P:
// dS = P o (dP - rowsum(dP o P)). Then dQ = dS K / sqrt(HS) and dK = dS^T Q / sqrt(HS).
template <class T>
FT_SIMD_CLONES void head_backward(T* dq, T* dk, T* dv, const T* dctx, const T* q, const T* k,
                                  const T* v, const T* P, int64_t len, int64_t C, int64_t HS,
                                  double p, const Philox* rng, uint64_t mask_first, T* work) {
    const int64_t lp = padded<T>(len);
    const T scale = score_scale<T>(HS);
    T* vt = work;                 // (HS, lp): V^T, zero-padded
    T* dpd = vt + HS * lp;        // (len, lp): dctx V^T, the gradient of dropout(P)
    T* pdt = dpd + len * lp;      // (len, len): dropout(P)^T
    T* ds = pdt + len * len;      // (len, len): dS
    T* dst = ds + len * len;      // (len, len): dS^T
    T* factor = dst + len * len;  // (len, len)
    transpose(vt, lp, v, C, len, HS);
    if (rng) dropout_factors(factor, len * len, p, *rng, mask_first);
    gemm(dpd, lp, dctx, C, vt, lp, len, lp, HS);
    for (int64_t i = 0; i < len; ++i) {
        const T* row = P + i * len;
        T* dpi = dpd + i * lp;
        if (rng) {
            const T* fi = factor + i * len;
            for (int64_t j = 0; j < len; ++j) {
                pdt[j * len + i] = row[j] * fi[j];
                dpi[j] *= fi[j];
            }
        } else {
            for (int64_t j = 0; j < len; ++j) pdt[j * len + i] = row[j];
        }
        Acc r = 0;
        for (int64_t j = 0; j < len; ++j) r += static_cast<Acc>(dpi[j]) * row[j];
        const T rt = static_cast<T>(r);
        for (int64_t j = 0; j < len; ++j)
            ds[i * len + j] = dst[j * len + i] = row[j] * (dpi[j] - rt) * scale;
    }
    gemm(dv, C, pdt, len, dctx, C, len, HS, len);
    gemm(dq, C, ds, len, k, C, len, HS, len);
    gemm(dk, C, dst, len, q, C, len, HS, len);
}

// One (sequence, head) block's first query row: the row-0 slice of head_forward and
// head_backward, in the same order of operations. s, factor and pd are len-long scratch.
template <class T>
FT_SIMD_CLONES void first_row_forward(T* ctx0, T* P0, const T* q0, const T* k, const T* v,
                                      int64_t len, int64_t C, int64_t HS, double p,
                                      const Philox* rng, uint64_t mask_first, T* work) {
    const T scale = score_scale<T>(HS);
    T* s = work;
    T* factor = s + len;
    if (rng) dropout_factors(factor, len, p, *rng, mask_first);
    for (int64_t j = 0; j < len; ++j) {
        T acc = 0;
        for (int64_t d = 0; d < HS; ++d) acc += q0[d] * k[j * C + d];
        s[j] = acc;
    }
    softmax_row(P0, s, len, scale);
    for (int64_t d = 0; d < HS; ++d) ctx0[d] = T(0);
    for (int64_t j = 0; j < len; ++j) {
        const T pj = rng ? P0[j] * factor[j] : P0[j];
        for (int64_t d = 0; d < HS; ++d) ctx0[d] += pj * v[j * C + d];
    }
}

template <class T>
FT_SIMD_CLONES void first_row_backward(T* dq0, T* dk, T* dv, const T* dctx0, const T* q0,
                                       const T* k, const T* v, const T* P0, int64_t len, int64_t C,
                                       int64_t HS, double p, const Philox* rng, uint64_t mask_first,
                                       T* work) {
    const T scale = score_scale<T>(HS);
    T* dp = work;          // gradient of the pre-dropout P row
    T* factor = dp + len;  // (len)
    if (rng) dropout_factors(factor, len, p, *rng, mask_first);
    Acc r = 0;
    for (int64_t j = 0; j < len; ++j) {
        T acc = 0;
        for (int64_t d = 0; d < HS; ++d) acc += dctx0[d] * v[j * C + d];
        dp[j] = rng ? acc * factor[j] : acc;
        r += static_cast<Acc>(dp[j]) * P0[j];
    }
    const T rt = static_cast<T>(r);
    for (int64_t d = 0; d < HS; ++d) dq0[d] = T(0);
    for (int64_t j = 0; j < len; ++j) {
        const T ds = P0[j] * (dp[j] - rt) * scale;
        const T pd = rng ? P0[j] * factor[j] : P0[j];
        for (int64_t d = 0; d < HS; ++d) {
            dq0[d] += ds * k[j * C + d];
            dk[j * C + d] = ds * q0[d];
            dv[j * C + d] = pd * dctx0[d];
        }
    }
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
void check_attention(const Context& ctx, const int32_t* offsets, int64_t B, int64_t NH,
                     int64_t HS) {
    FT_ASSERT(B >= 0 && NH > 0 && HS > 0, "attention: bad sizes");
    FT_ASSERT(offsets || B == 0, "attention: null offsets");
    FT_ASSERT(ctx.device != Device::CPU || ctx.workspace,
              "attention: the context has no workspace");
}

}  // namespace

int64_t attention_probs_size(const int32_t* offsets /*(B+1)*/, int64_t B, int64_t NH) {
    int64_t total = 0;
    for (int64_t b = 0; b < B; ++b) {
        const int64_t len = offsets[b + 1] - offsets[b];
        total += NH * len * len;
    }
    return total;
}

template <class T>
void attention_forward(const Context& ctx, T* out, T* probs, const T* q, const T* k, const T* v,
                       const int32_t* offsets, int64_t B, int64_t NH, int64_t HS, double dropout_p,
                       const Philox* rng, uint64_t rng_offset) {
    check_attention(ctx, offsets, B, NH, HS);
    const detail::ScopedOpTimer timer(ctx, detail::TimedOp::ATTENTION);
    FT_CUDA_TWIN(T, ctx, attention_forward, out, probs, q, k, v, offsets, B, NH, HS, dropout_p, rng,
                 rng_offset);
    const int64_t C = NH * HS;
    for_each_sequence_head<T>(
        ctx, offsets, B, NH, dropout_p, rng, rng_offset,
        head_scratch_size<T>(max_length(offsets, B), HS), [&](const HeadBlock<T>& hb) {
            const int64_t at = hb.t0 * C + hb.h * HS;
            head_forward(out + at, probs + hb.mask_first, q + at, k + at, v + at, hb.len, C, HS,
                         dropout_p, hb.drop, hb.drop_first, hb.scratch);
        });
}

template <class T>
void attention_backward(const Context& ctx, T* dq, T* dk, T* dv, const T* dout, const T* q,
                        const T* k, const T* v, const T* probs, const int32_t* offsets, int64_t B,
                        int64_t NH, int64_t HS, double dropout_p, const Philox* rng,
                        uint64_t rng_offset) {
    check_attention(ctx, offsets, B, NH, HS);
    const detail::ScopedOpTimer timer(ctx, detail::TimedOp::ATTENTION);
    FT_CUDA_TWIN(T, ctx, attention_backward, dq, dk, dv, dout, q, k, v, probs, offsets, B, NH, HS,
                 dropout_p, rng, rng_offset);
    const int64_t C = NH * HS;
    for_each_sequence_head<T>(ctx, offsets, B, NH, dropout_p, rng, rng_offset,
                              head_scratch_size<T>(max_length(offsets, B), HS),
                              [&](const HeadBlock<T>& hb) {
                                  const int64_t at = hb.t0 * C + hb.h * HS;
                                  head_backward(dq + at, dk + at, dv + at, dout + at, q + at,
                                                k + at, v + at, probs + hb.mask_first, hb.len, C,
                                                HS, dropout_p, hb.drop, hb.drop_first, hb.scratch);
                              });
}

// The first-query forms read and write one row per sequence (b * C) for the query side, the
// sequence's keys and values (t0 * C), and NH rows of len probabilities per sequence.
template <class T>
void attention_first_query_forward(const Context& ctx, T* out_first, T* probs_first,
                                   const T* q_first, const T* k, const T* v, const int32_t* offsets,
                                   int64_t B, int64_t NH, int64_t HS, double dropout_p,
                                   const Philox* rng, uint64_t rng_offset) {
    check_attention(ctx, offsets, B, NH, HS);
    const detail::ScopedOpTimer timer(ctx, detail::TimedOp::ATTENTION);
    FT_CUDA_TWIN(T, ctx, attention_first_query_forward, out_first, probs_first, q_first, k, v,
                 offsets, B, NH, HS, dropout_p, rng, rng_offset);
    const int64_t C = NH * HS;
    for_each_sequence_head<T>(
        ctx, offsets, B, NH, dropout_p, rng, rng_offset, 2 * max_length(offsets, B),
        [&](const HeadBlock<T>& hb) {
            const int64_t row = hb.b * C + hb.h * HS, at = hb.t0 * C + hb.h * HS;
            first_row_forward(out_first + row, probs_first + NH * hb.t0 + hb.h * hb.len,
                              q_first + row, k + at, v + at, hb.len, C, HS, dropout_p, hb.drop,
                              hb.drop_first, hb.scratch);
        });
}

template <class T>
void attention_first_query_backward(const Context& ctx, T* dq_first, T* dk, T* dv,
                                    const T* dout_first, const T* q_first, const T* k, const T* v,
                                    const T* probs_first, const int32_t* offsets, int64_t B,
                                    int64_t NH, int64_t HS, double dropout_p, const Philox* rng,
                                    uint64_t rng_offset) {
    check_attention(ctx, offsets, B, NH, HS);
    const detail::ScopedOpTimer timer(ctx, detail::TimedOp::ATTENTION);
    FT_CUDA_TWIN(T, ctx, attention_first_query_backward, dq_first, dk, dv, dout_first, q_first, k,
                 v, probs_first, offsets, B, NH, HS, dropout_p, rng, rng_offset);
    const int64_t C = NH * HS;
    for_each_sequence_head<T>(
        ctx, offsets, B, NH, dropout_p, rng, rng_offset, 2 * max_length(offsets, B),
        [&](const HeadBlock<T>& hb) {
            const int64_t row = hb.b * C + hb.h * HS, at = hb.t0 * C + hb.h * HS;
            first_row_backward(dq_first + row, dk + at, dv + at, dout_first + row, q_first + row,
                               k + at, v + at, probs_first + NH * hb.t0 + hb.h * hb.len, hb.len, C,
                               HS, dropout_p, hb.drop, hb.drop_first, hb.scratch);
        });
}

#define FT_INSTANTIATE(T)                                                                         \
    template void attention_forward<T>(const Context&, T*, T*, const T*, const T*, const T*,      \
                                       const int32_t*, int64_t, int64_t, int64_t, double,         \
                                       const Philox*, uint64_t);                                  \
    template void attention_backward<T>(const Context&, T*, T*, T*, const T*, const T*, const T*, \
                                        const T*, const T*, const int32_t*, int64_t, int64_t,     \
                                        int64_t, double, const Philox*, uint64_t);                \
    template void attention_first_query_forward<T>(const Context&, T*, T*, const T*, const T*,    \
                                                   const T*, const int32_t*, int64_t, int64_t,    \
                                                   int64_t, double, const Philox*, uint64_t);     \
    template void attention_first_query_backward<T>(                                              \
        const Context&, T*, T*, T*, const T*, const T*, const T*, const T*, const T*,             \
        const int32_t*, int64_t, int64_t, int64_t, double, const Philox*, uint64_t);
FT_INSTANTIATE(float)
FT_INSTANTIATE(double)
#undef FT_INSTANTIATE

}  // namespace ft::ops
