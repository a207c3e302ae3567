// The optimizer's passes over the flat parameter and gradient buffers: the AdamW update (torch's
// and HF's legacy forms, optionally on scaled gradients that it clears as it reads them), the
// global L2 norm, the clipping scale and zeroing (train/adamw.cpp forms the scalars); and the
// plain buffer copy the engine makes between ops.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include "ops/bf16_bits.h"
#include "ops/ops.h"
#include "ops/ops_cuda.h"
#include "ops/ops_internal.h"  // FT_SIMD_CLONES: AVX2 code where the machine has it

namespace ft::ops {

namespace {

constexpr int64_t CHUNK = 1 << 14;

// One chunk of the update on g * scale; ZERO_GRADS clears each g once read. Compiled for AVX2 and
// baseline (the loader picks one); an OpenMP region's outlined body would get the baseline only,
// so the parallel loop sits outside. x * 1.0f == x, so scale 1 leaves the gradients exact.
// BF16 also writes the bf16 bits of each new p to p16 (bf16 autocast's copy of the weights).
template <bool ZERO_GRADS, bool TORCH_FORM, bool BF16>
FT_SIMD_CLONES void adamw_chunk(float* __restrict p, uint16_t* __restrict p16, float* __restrict g,
                                float* __restrict m, float* __restrict v, int64_t n,
                                const AdamWScalars& k, float scale) {
    const float b1 = k.b1, b2 = k.b2, omb1 = k.one_minus_b1, omb2 = k.one_minus_b2, eps = k.eps;
    const float decay = k.decay, nss = k.neg_step_size, sb2 = k.sqrt_bias2;
    for (int64_t i = 0; i < n; ++i) {
        const float gi = g[i] * scale;
        if constexpr (ZERO_GRADS) g[i] = 0.0f;
        const float mi = b1 * m[i] + omb1 * gi;
        const float vi = b2 * v[i] + omb2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        if constexpr (TORCH_FORM) {
            p[i] = p[i] * decay + nss * mi / (std::sqrt(vi) / sb2 + eps);
        } else {
            const float pi = p[i] + nss * mi / (std::sqrt(vi) + eps);
            p[i] = pi + decay * pi;
        }
        if constexpr (BF16)
            p16[i] = static_cast<uint16_t>(detail::bf16_bits(std::bit_cast<uint32_t>(p[i])));
    }
}

template <bool ZERO_GRADS, bool BF16>
void adamw_chunks(float* p, uint16_t* p16, float* g, float* m, float* v, int64_t n,
                  const AdamWScalars& k, float scale) {
    const int64_t chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for num_threads(get_num_threads()) schedule(static) if (chunks > 1)
    for (int64_t c = 0; c < chunks; ++c) {
        const int64_t off = c * CHUNK;
        const int64_t len = std::min(CHUNK, n - off);
        uint16_t* p16c = BF16 ? p16 + off : nullptr;
        if (k.torch_form) {
            adamw_chunk<ZERO_GRADS, true, BF16>(p + off, p16c, g + off, m + off, v + off, len, k,
                                                scale);
        } else {
            adamw_chunk<ZERO_GRADS, false, BF16>(p + off, p16c, g + off, m + off, v + off, len, k,
                                                 scale);
        }
    }
}

// Eight independent lanes let the compiler vectorise without reordering any one sum.
FT_SIMD_CLONES double sum_squares_chunk(const float* g, int64_t n) {
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) lane[j] += static_cast<double>(g[i + j]) * g[i + j];
    for (; i < n; ++i) lane[0] += static_cast<double>(g[i]) * g[i];
    double s = 0.0;
    for (double x : lane) s += x;
    return s;
}

void adamw_update_cpu(const Context&, float* p, uint16_t* p16, float* g, float* m, float* v,
                      int64_t n, const AdamWScalars& k, float grad_scale, bool zero_grads) {
    if (p16 && zero_grads)
        adamw_chunks<true, true>(p, p16, g, m, v, n, k, grad_scale);
    else if (p16)
        adamw_chunks<false, true>(p, p16, g, m, v, n, k, grad_scale);
    else if (zero_grads)
        adamw_chunks<true, false>(p, nullptr, g, m, v, n, k, grad_scale);
    else
        adamw_chunks<false, false>(p, nullptr, g, m, v, n, k, grad_scale);
}

void l2_norm_cpu(const Context& ctx, double* out, const float* x, int64_t n) {
    // Per-chunk partial sums added in chunk order: the same bits for any thread count.
    const int64_t chunks = (n + CHUNK - 1) / CHUNK;
    double* partial = static_cast<double*>(
        ctx.workspace->get(static_cast<size_t>(std::max<int64_t>(chunks, 1)) * sizeof(double)));
#pragma omp parallel for num_threads(get_num_threads()) schedule(static) if (chunks > 1)
    for (int64_t c = 0; c < chunks; ++c)
        partial[c] = sum_squares_chunk(x + c * CHUNK, std::min(CHUNK, n - c * CHUNK));
    double sum = 0.0;
    for (int64_t c = 0; c < chunks; ++c) sum += partial[c];
    *out = std::sqrt(sum);
}

void scale_cpu(const Context&, float* x, int64_t n, float c) {
#pragma omp parallel for simd num_threads(get_num_threads()) schedule(static)
    for (int64_t i = 0; i < n; ++i) x[i] *= c;
}

void fill_zero_cpu(const Context&, float* x, int64_t n) {
    if (n > 0) std::memset(x, 0, static_cast<size_t>(n) * sizeof(float));
}

void copy_cpu(const Context&, float* dst, const float* src, int64_t n) {
    if (n > 0) std::memcpy(dst, src, static_cast<size_t>(n) * sizeof(float));
}

}  // namespace

void adamw_update(const Context& ctx, float* p, float* g, float* m, float* v, int64_t n,
                  const AdamWScalars& k, float grad_scale, bool zero_grads) {
    FT_ASSERT(n >= 0, "adamw_update: negative size");
    FT_ASSERT(n == 0 || (p && g && m && v), "adamw_update: null tensor");
    FT_CUDA_TWIN(float, ctx, adamw_update, p, g, m, v, n, k, grad_scale, zero_grads);
    adamw_update_cpu(ctx, p, nullptr, g, m, v, n, k, grad_scale, zero_grads);
}

void adamw_update_bf16(const Context& ctx, float* p, uint16_t* p_bf16, float* g, float* m, float* v,
                       int64_t n, const AdamWScalars& k, float grad_scale, bool zero_grads) {
    FT_ASSERT(n >= 0, "adamw_update_bf16: negative size");
    FT_ASSERT(n == 0 || (p && p_bf16 && g && m && v), "adamw_update_bf16: null tensor");
    if (ctx.device != Device::CPU)
        throw Error("adamw_update_bf16: bf16 autocast runs on the CPU only (no CUDA kernel yet)");
    adamw_update_cpu(ctx, p, p_bf16, g, m, v, n, k, grad_scale, zero_grads);
}

void l2_norm(const Context& ctx, double* out, const float* x, int64_t n) {
    FT_ASSERT(n >= 0, "l2_norm: negative size");
    FT_ASSERT(out && (n == 0 || x), "l2_norm: null tensor");
    FT_ASSERT(ctx.device != Device::CPU || ctx.workspace, "l2_norm: the context has no workspace");
    FT_CUDA_TWIN(float, ctx, l2_norm, out, x, n);
    l2_norm_cpu(ctx, out, x, n);
}

void scale(const Context& ctx, float* x, int64_t n, float c) {
    FT_ASSERT(n >= 0 && (n == 0 || x), "scale: bad tensor");
    FT_CUDA_TWIN(float, ctx, scale, x, n, c);
    scale_cpu(ctx, x, n, c);
}

void fill_zero(const Context& ctx, float* x, int64_t n) {
    FT_ASSERT(n >= 0 && (n == 0 || x), "fill_zero: bad tensor");
    FT_CUDA_TWIN(float, ctx, fill_zero, x, n);
    fill_zero_cpu(ctx, x, n);
}

void copy(const Context& ctx, float* dst, const float* src, int64_t n) {
    FT_ASSERT(n >= 0 && (n == 0 || (dst && src)), "copy: bad tensor");
    FT_CUDA_TWIN(float, ctx, copy, dst, src, n);
    copy_cpu(ctx, dst, src, n);
}

}  // namespace ft::ops
