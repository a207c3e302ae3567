// Self-attention under bf16 autocast (docs/bf16-autocast.md §2): the products q·kᵀ and P·v are
// bf16 matmuls (float32 accumulation, one rounding); the division by √HS is a bf16 op that
// divides by r(√HS) (torch 1.13 rounds the Python float to the tensor's dtype) and rounds; where
// it sits, and so which tensors are bf16, is the family's (AttentionScale):
// - QUERIES (DistilBERT: q / √HS, then q·kᵀ, masked_fill): the scores stay bf16, so the softmax
//   is a bf16 op (float32 inside, rounded once) and the attention dropout multiplies by
//   r(1/(1-p)) and rounds. Its backward rounds the row sum Σ g·p too (1.13's bf16 kernel).
// - SCORES (BERT: q·kᵀ / √HS, then + the float32 additive mask): the mask add promotes the
//   scores to float32, so the softmax and dropout are float32 and P·v rounds the dropped
//   probabilities; their gradient is rounded where it re-enters the bf16 scores.
// q, k, v and the gradient from the output projection are bf16 values already (outputs of bf16
// linears), so a float32 product of two of them is exact and the float GEMM of
// attention_kernels.h, rounded once, is the bf16 matmul (up to the order of the float32 sum,
// which moves a result only next to a bf16 tie).
//
// One kernel pair serves both the full form (every token a query) and the first-query form (the
// last layer of a sequence classifier): a block has nq query rows (len or 1) over len keys, and
// query row i's dropout factors start at element i * len of the pair's mask block.
#include <cmath>

#include "ops/attention_kernels.h"
#include "ops/bf16_bits.h"

namespace ft::ops {

namespace {

using namespace attention_detail;
using detail::round_bf16;

// r(√HS), the divisor torch 1.13 uses for a bf16 tensor divided by the Python float √HS.
float bf16_scale_divisor(int64_t HS) {
    return round_bf16(static_cast<float>(std::sqrt(static_cast<double>(HS))));
}

// The dropout factor of a kept element: float32 1/(1-p) on SCORES' float32 probabilities,
// r(1/(1-p)) on QUERIES' bf16 ones (a bf16 tensor times a Python float).
float keep_factor(AttentionScale scale, double p) {
    const float f = static_cast<float>(1.0 / (1.0 - p));
    return scale == AttentionScale::QUERIES ? round_bf16(f) : f;
}

int64_t bf16_head_scratch(int64_t nq, int64_t len, int64_t HS) {
    const int64_t lp = padded<float>(len);
    return HS * lp + nq * lp + nq * HS + 4 * nq * len;
}

struct Bf16Block {
    int64_t nq, len, C, HS;
    AttentionScale scale;
    double p;
    const Philox* rng;  // null without dropout
    uint64_t drop_first;
    float* work;
};

// The queries the product reads: q itself (SCORES), or r(q / r(√HS)) (QUERIES) in qs.
FT_INLINE const float* scaled_queries(const Bf16Block& b, const float* q, float* qs, float div,
                                      int64_t& ldq) {
    if (b.scale != AttentionScale::QUERIES) {
        ldq = b.C;
        return q;
    }
    for (int64_t i = 0; i < b.nq; ++i)
        for (int64_t d = 0; d < b.HS; ++d) qs[i * b.HS + d] = round_bf16(q[i * b.C + d] / div);
    ldq = b.HS;
    return qs;
}

// factor[i * len + j]: 0 (dropped) or the keep factor, for the block's nq x len probabilities.
FT_INLINE void block_factors(const Bf16Block& b, float* factor) {
    const float keep = keep_factor(b.scale, b.p);
    const uint32_t threshold = detail::drop_threshold(b.p);
    detail::for_each_uniform_bits(
        *b.rng, b.drop_first, b.nq * b.len,
        [&](int64_t e, uint32_t bits) { factor[e] = bits < threshold ? 0.0f : keep; });
}

// The bf16 probabilities P·v reads: r(P o F), or r(P) without dropout (exact for QUERIES,
// whose P is bf16 already).
FT_INLINE float dropped_prob(const float* P, const float* factor, bool drop, int64_t e) {
    return round_bf16(drop ? P[e] * factor[e] : P[e]);
}

FT_SIMD_CLONES void head_forward_bf16(float* out, float* P, const float* q, const float* k,
                                      const float* v, const Bf16Block& b) {
    const int64_t nq = b.nq, len = b.len, C = b.C, HS = b.HS, lp = padded<float>(len);
    const float div = bf16_scale_divisor(HS);
    float* kt = b.work;        // (HS, lp): K^T, zero-padded
    float* s = kt + HS * lp;   // (nq, lp): scores
    float* qs = s + nq * lp;   // (nq, HS): scaled queries (QUERIES)
    float* pd = qs + nq * HS;  // (nq, len): the bf16 probabilities P·v reads
    float* factor = pd + nq * len;
    const bool drop = b.rng != nullptr;
    if (drop) block_factors(b, factor);
    int64_t ldq = 0;
    const float* qx = scaled_queries(b, q, qs, div, ldq);
    transpose(kt, lp, k, C, len, HS);
    gemm(s, lp, qx, ldq, kt, lp, nq, lp, HS);
    for (int64_t i = 0; i < nq; ++i) {
        float* si = s + i * lp;
        for (int64_t j = 0; j < len; ++j)
            si[j] = b.scale == AttentionScale::QUERIES ? round_bf16(si[j])
                                                       : round_bf16(round_bf16(si[j]) / div);
        float* row = P + i * len;
        softmax_row(row, si, len, 1.0f);
        if (b.scale == AttentionScale::QUERIES)
            for (int64_t j = 0; j < len; ++j) row[j] = round_bf16(row[j]);
        for (int64_t j = 0; j < len; ++j)
            pd[i * len + j] = dropped_prob(P, factor, drop, i * len + j);
    }
    gemm(out, C, pd, len, v, C, nq, HS, len);
    for (int64_t i = 0; i < nq; ++i)
        for (int64_t d = 0; d < HS; ++d) out[i * C + d] = round_bf16(out[i * C + d]);
}

// dq (nq rows), dk and dv (len rows) written.
FT_SIMD_CLONES void head_backward_bf16(float* dq, float* dk, float* dv, const float* dout,
                                       const float* q, const float* k, const float* v,
                                       const float* P, const Bf16Block& b) {
    const int64_t nq = b.nq, len = b.len, C = b.C, HS = b.HS, lp = padded<float>(len);
    const float div = bf16_scale_divisor(HS);
    float* vt = b.work;          // (HS, lp): V^T, zero-padded
    float* dpd = vt + HS * lp;   // (nq, lp): r(dout V^T), the gradient of the bf16 pd
    float* qs = dpd + nq * lp;   // (nq, HS)
    float* pdt = qs + nq * HS;   // (len, nq): pd^T
    float* ds = pdt + nq * len;  // (nq, len): gradient of the scores before the scaling/product
    float* dst = ds + nq * len;  // (len, nq): ds^T
    float* factor = dst + nq * len;
    const bool drop = b.rng != nullptr;
    const bool bf16_softmax = b.scale == AttentionScale::QUERIES;
    if (drop) block_factors(b, factor);
    int64_t ldq = 0;
    const float* qx = scaled_queries(b, q, qs, div, ldq);
    transpose(vt, lp, v, C, len, HS);
    gemm(dpd, lp, dout, C, vt, lp, nq, lp, HS);
    for (int64_t i = 0; i < nq; ++i) {
        const float* row = P + i * len;
        float* g = dpd + i * lp;
        for (int64_t j = 0; j < len; ++j) {
            const int64_t e = i * len + j;
            pdt[j * nq + i] = dropped_prob(P, factor, drop, e);
            g[j] = round_bf16(g[j]);
            // Dropout's backward: bf16 (rounded) on QUERIES' bf16 probabilities.
            if (drop) g[j] = bf16_softmax ? round_bf16(g[j] * factor[e]) : g[j] * factor[e];
        }
        Acc r = 0;
        for (int64_t j = 0; j < len; ++j) r += static_cast<Acc>(g[j]) * row[j];
        const float rs = bf16_softmax ? round_bf16(static_cast<float>(r)) : static_cast<float>(r);
        for (int64_t j = 0; j < len; ++j) {
            float d = round_bf16(row[j] * (g[j] - rs));
            if (!bf16_softmax) d = round_bf16(d / div);  // the scores' division, backward
            ds[i * len + j] = dst[j * nq + i] = d;
        }
    }
    gemm(dv, C, pdt, nq, dout, C, len, HS, nq);
    gemm(dq, C, ds, len, k, C, nq, HS, len);
    gemm(dk, C, dst, nq, qx, ldq, len, HS, nq);
    for (int64_t j = 0; j < len; ++j)
        for (int64_t d = 0; d < HS; ++d) {
            dv[j * C + d] = round_bf16(dv[j * C + d]);
            dk[j * C + d] = round_bf16(dk[j * C + d]);
        }
    for (int64_t i = 0; i < nq; ++i)
        for (int64_t d = 0; d < HS; ++d) {
            const float g = round_bf16(dq[i * C + d]);
            dq[i * C + d] = bf16_softmax ? round_bf16(g / div) : g;  // the queries' division
        }
}

void check_bf16(const Context& ctx) {
    if (ctx.device != Device::CPU)
        throw Error("bf16 attention runs on the CPU only (no CUDA kernel yet)");
}

// Runs fn(block, q row offset, probs offset) for every (sequence, head) pair: the full form
// (first_query false) has len query rows at the sequence's tokens, the first-query form one row
// at row b of the (B, C) query matrix.
template <class F>
void for_each_bf16_block(const Context& ctx, const int32_t* offsets, int64_t B, int64_t NH,
                         int64_t HS, AttentionScale scale, double p, const Philox* rng,
                         uint64_t rng_offset, bool first_query, const F& fn) {
    check_attention(ctx, offsets, B, NH, HS);
    check_bf16(ctx);
    const detail::ScopedOpTimer timer(ctx, detail::TimedOp::ATTENTION);
    const int64_t C = NH * HS, maxlen = max_length(offsets, B);
    const int64_t per_thread = bf16_head_scratch(first_query ? 1 : maxlen, maxlen, HS);
    for_each_sequence_head<float>(
        ctx, offsets, B, NH, p, rng, rng_offset, per_thread, [&](const HeadBlock<float>& hb) {
            const int64_t nq = first_query ? 1 : hb.len;
            const Bf16Block blk{nq, hb.len, C, HS, scale, p, hb.drop, hb.drop_first, hb.scratch};
            const int64_t at = hb.t0 * C + hb.h * HS;
            const int64_t qrow = first_query ? hb.b * C + hb.h * HS : at;
            const int64_t prob = first_query ? NH * hb.t0 + hb.h * hb.len : hb.mask_first;
            fn(blk, at, qrow, prob);
        });
}

}  // namespace

void attention_forward_bf16(const Context& ctx, float* out, float* probs, const float* q,
                            const float* k, const float* v, const int32_t* offsets, int64_t B,
                            int64_t NH, int64_t HS, AttentionScale scale, double dropout_p,
                            const Philox* rng, uint64_t rng_offset, bool first_query) {
    for_each_bf16_block(ctx, offsets, B, NH, HS, scale, dropout_p, rng, rng_offset, first_query,
                        [&](const Bf16Block& blk, int64_t at, int64_t qrow, int64_t prob) {
                            head_forward_bf16(out + qrow, probs + prob, q + qrow, k + at, v + at,
                                              blk);
                        });
}

void attention_backward_bf16(const Context& ctx, float* dq, float* dk, float* dv, const float* dout,
                             const float* q, const float* k, const float* v, const float* probs,
                             const int32_t* offsets, int64_t B, int64_t NH, int64_t HS,
                             AttentionScale scale, double dropout_p, const Philox* rng,
                             uint64_t rng_offset, bool first_query) {
    for_each_bf16_block(ctx, offsets, B, NH, HS, scale, dropout_p, rng, rng_offset, first_query,
                        [&](const Bf16Block& blk, int64_t at, int64_t qrow, int64_t prob) {
                            head_backward_bf16(dq + qrow, dk + at, dv + at, dout + qrow, q + qrow,
                                               k + at, v + at, probs + prob, blk);
                        });
}

}  // namespace ft::ops
