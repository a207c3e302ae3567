// Multi-head self-attention on a packed batch: for every (sequence, head) pair, scores, softmax,
// optional dropout on the probabilities, and the context, plus the backward. Pairs are
// independent and write disjoint blocks, so threads take whole pairs and results do not depend
// on the thread count. The blocks are small (len x len x HS with len ~ 10..128), below where a
// GEMM library's per-call overhead pays off, so the products run on a small register-tiled GEMM
// (attention_kernels.h).
#include "ops/attention_kernels.h"
#include "ops/ops_cuda.h"

namespace ft::ops {

namespace {

using namespace attention_detail;

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
