// LayerNorm over the hidden dimension, as torch.nn.LayerNorm: biased variance, rstd =
// 1/sqrt(var + eps), statistics saved for the backward. Statistics and gradient sums accumulate
// in double; parameter gradients are reduced per column block, tokens in order (same bits for
// any thread count).
#include <algorithm>
#include <cmath>

#include "ops/ops.h"
#include "ops/ops_cuda.h"
#include "ops/ops_internal.h"

namespace ft::ops {

using detail::Acc;

namespace {

// Rows t0 .. t1-1 of the forward. The row sums are `omp simd` reductions: vector lanes of
// double partial sums, combined in an order fixed by the instruction set, not by threads.
template <class T>
FT_SIMD_CLONES void forward_rows(T* out, T* mean, T* rstd, const T* inp, const T* weight,
                                 const T* bias, int64_t t0, int64_t t1, int64_t C, double eps) {
    for (int64_t t = t0; t < t1; ++t) {
        const T* x = inp + t * C;
        // Two passes (mean, then squared deviations) rather than E[x^2] - E[x]^2, which cancels.
        Acc sum = 0;
#pragma omp simd reduction(+ : sum)
        for (int64_t c = 0; c < C; ++c) sum += x[c];
        const Acc m = sum / static_cast<Acc>(C);
        Acc sq = 0;
#pragma omp simd reduction(+ : sq)
        for (int64_t c = 0; c < C; ++c) sq += (x[c] - m) * (x[c] - m);
        const Acc rs = 1.0 / std::sqrt(sq / static_cast<Acc>(C) + eps);
        T* o = out + t * C;
        for (int64_t c = 0; c < C; ++c)
            o[c] = static_cast<T>((x[c] - m) * rs * weight[c] + static_cast<Acc>(bias[c]));
        mean[t] = static_cast<T>(m);
        rstd[t] = static_cast<T>(rs);
    }
}

// dinp = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dout * weight, rows t0 .. t1-1.
template <class T>
FT_SIMD_CLONES void backward_rows(T* dinp, const T* dout, const T* inp, const T* weight,
                                  const T* mean, const T* rstd, int64_t t0, int64_t t1, int64_t C) {
    for (int64_t t = t0; t < t1; ++t) {
        const T* x = inp + t * C;
        const T* g = dout + t * C;
        const Acc m = mean[t], rs = rstd[t];
        Acc sum_g = 0, sum_gx = 0;
#pragma omp simd reduction(+ : sum_g, sum_gx)
        for (int64_t c = 0; c < C; ++c) {
            const Acc gw = static_cast<Acc>(g[c]) * weight[c];
            sum_g += gw;
            sum_gx += gw * ((x[c] - m) * rs);
        }
        const Acc mg = sum_g / static_cast<Acc>(C), mgx = sum_gx / static_cast<Acc>(C);
        T* d = dinp + t * C;
        for (int64_t c = 0; c < C; ++c) {
            const Acc xhat = (x[c] - m) * rs;
            d[c] = static_cast<T>(rs * (static_cast<Acc>(g[c]) * weight[c] - mg - xhat * mgx));
        }
    }
}

// dweight[c] += sum_t dout * xhat and dbias[c] += sum_t dout for columns c0 .. c1-1 (at most
// BLOCK), tokens in order.
constexpr int64_t BLOCK = 64;
template <class T>
FT_SIMD_CLONES void param_grad_columns(T* dweight, T* dbias, const T* dout, const T* inp,
                                       const T* mean, const T* rstd, int64_t ntok, int64_t C,
                                       int64_t c0, int64_t c1) {
    Acc acc_w[BLOCK] = {}, acc_b[BLOCK] = {};
    const int64_t n = c1 - c0;
    for (int64_t t = 0; t < ntok; ++t) {
        const T* g = dout + t * C + c0;
        const T* x = inp + t * C + c0;
        const Acc m = mean[t], rs = rstd[t];
        for (int64_t c = 0; c < n; ++c) {
            acc_w[c] += static_cast<Acc>(g[c]) * ((x[c] - m) * rs);
            acc_b[c] += g[c];
        }
    }
    for (int64_t c = 0; c < n; ++c) {
        dweight[c0 + c] = static_cast<T>(dweight[c0 + c] + acc_w[c]);
        dbias[c0 + c] = static_cast<T>(dbias[c0 + c] + acc_b[c]);
    }
}

// Rows split into chunks of about PARALLEL_MIN elements across the team.
template <class F>
void for_row_chunks(int64_t ntok, int64_t C, F&& f) {
    const int64_t rows = std::max<int64_t>(1, detail::PARALLEL_MIN / std::max<int64_t>(C, 1) / 4);
    const int64_t nchunks = (ntok + rows - 1) / rows;
#pragma omp parallel for num_threads(detail::threads()) \
    schedule(static) if (ntok * C > detail::PARALLEL_MIN)
    for (int64_t k = 0; k < nchunks; ++k) f(k * rows, std::min(ntok, (k + 1) * rows));
}

}  // namespace

template <class T>
void layernorm_forward_cpu(const Context&, T* out /*(T,C)*/, T* mean /*(T)*/, T* rstd /*(T)*/,
                           const T* inp /*(T,C)*/, const T* weight /*(C)*/, const T* bias /*(C)*/,
                           int64_t ntok, int64_t C, double eps) {
    for_row_chunks(ntok, C, [&](int64_t t0, int64_t t1) {
        forward_rows(out, mean, rstd, inp, weight, bias, t0, t1, C, eps);
    });
}

template <class T>
void layernorm_backward_cpu(const Context&, T* dinp /*(T,C)*/, T* dweight /*(C)*/, T* dbias /*(C)*/,
                            const T* dout /*(T,C)*/, const T* inp /*(T,C)*/,
                            const T* weight /*(C)*/, const T* mean /*(T)*/, const T* rstd /*(T)*/,
                            int64_t ntok, int64_t C) {
    // Rows are independent for dinp, so threads split the tokens; the parameter gradients
    // reduce over tokens, so there threads split the columns instead.
    for_row_chunks(ntok, C, [&](int64_t t0, int64_t t1) {
        backward_rows(dinp, dout, inp, weight, mean, rstd, t0, t1, C);
    });
    const int64_t nblocks = (C + BLOCK - 1) / BLOCK;
#pragma omp parallel for num_threads(detail::threads()) \
    schedule(static) if (ntok * C > detail::PARALLEL_MIN)
    for (int64_t blk = 0; blk < nblocks; ++blk)
        param_grad_columns(dweight, dbias, dout, inp, mean, rstd, ntok, C, blk * BLOCK,
                           std::min(C, (blk + 1) * BLOCK));
}

template <class T>
void layernorm_forward(const Context& ctx, T* out, T* mean, T* rstd, const T* inp, const T* weight,
                       const T* bias, int64_t ntok, int64_t C, double eps) {
    FT_ASSERT(ntok >= 0 && C > 0, "layernorm_forward: bad size");
    FT_ASSERT(ntok == 0 || (out && mean && rstd && inp && weight && bias),
              "layernorm_forward: null tensor");
    FT_CUDA_TWIN(T, ctx, layernorm_forward, out, mean, rstd, inp, weight, bias, ntok, C, eps);
    layernorm_forward_cpu(ctx, out, mean, rstd, inp, weight, bias, ntok, C, eps);
}

template <class T>
void layernorm_backward(const Context& ctx, T* dinp, T* dweight, T* dbias, const T* dout,
                        const T* inp, const T* weight, const T* mean, const T* rstd, int64_t ntok,
                        int64_t C) {
    FT_ASSERT(ntok >= 0 && C > 0, "layernorm_backward: bad size");
    FT_ASSERT(ntok == 0 || (dinp && dweight && dbias && dout && inp && weight && mean && rstd),
              "layernorm_backward: null tensor");
    FT_CUDA_TWIN(T, ctx, layernorm_backward, dinp, dweight, dbias, dout, inp, weight, mean, rstd,
                 ntok, C);
    layernorm_backward_cpu(ctx, dinp, dweight, dbias, dout, inp, weight, mean, rstd, ntok, C);
}

#define FT_INSTANTIATE(T)                                                                         \
    template void layernorm_forward<T>(const Context&, T*, T*, T*, const T*, const T*, const T*,  \
                                       int64_t, int64_t, double);                                 \
    template void layernorm_backward<T>(const Context&, T*, T*, T*, const T*, const T*, const T*, \
                                        const T*, const T*, int64_t, int64_t);
FT_INSTANTIATE(float)
FT_INSTANTIATE(double)
#undef FT_INSTANTIATE

}  // namespace ft::ops
