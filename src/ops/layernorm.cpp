// LayerNorm over the hidden dimension, as torch.nn.LayerNorm: biased variance, rstd =
// 1/sqrt(var + eps), statistics saved for the backward. Statistics and gradient sums accumulate
// in double; parameter gradients are reduced per column block (same bits for any thread count).
#include <cmath>

#include "finetune/ops.h"
#include "ops/ops_internal.h"

namespace ft::ops {

using detail::Acc;

template <class T>
void layernorm_forward(T* out /*(T,C)*/, T* mean /*(T)*/, T* rstd /*(T)*/, const T* inp /*(T,C)*/,
                       const T* weight /*(C)*/, const T* bias /*(C)*/, int64_t ntok, int64_t C,
                       double eps) {
#pragma omp parallel for num_threads(detail::threads()) \
    schedule(static) if (ntok * C > detail::PARALLEL_MIN)
    for (int64_t t = 0; t < ntok; ++t) {
        const T* x = inp + t * C;
        // Two passes (mean, then squared deviations) rather than E[x^2] - E[x]^2, which cancels.
        Acc sum = 0;
        for (int64_t c = 0; c < C; ++c) sum += x[c];
        const Acc m = sum / static_cast<Acc>(C);
        Acc sq = 0;
        for (int64_t c = 0; c < C; ++c) {
            const Acc d = x[c] - m;
            sq += d * d;
        }
        const Acc rs = 1.0 / std::sqrt(sq / static_cast<Acc>(C) + eps);
        T* o = out + t * C;
        for (int64_t c = 0; c < C; ++c)
            o[c] = static_cast<T>((x[c] - m) * rs * weight[c] + static_cast<Acc>(bias[c]));
        mean[t] = static_cast<T>(m);
        rstd[t] = static_cast<T>(rs);
    }
}

template <class T>
void layernorm_backward(T* dinp /*(T,C)*/, T* dweight /*(C)*/, T* dbias /*(C)*/,
                        const T* dout /*(T,C)*/, const T* inp /*(T,C)*/, const T* weight /*(C)*/,
                        const T* mean /*(T)*/, const T* rstd /*(T)*/, int64_t ntok, int64_t C) {
    // dinp = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dout * weight: rows are
    // independent, so threads split the tokens.
#pragma omp parallel for num_threads(detail::threads()) \
    schedule(static) if (ntok * C > detail::PARALLEL_MIN)
    for (int64_t t = 0; t < ntok; ++t) {
        const T* x = inp + t * C;
        const T* g = dout + t * C;
        const Acc m = mean[t], rs = rstd[t];
        Acc sum_g = 0, sum_gx = 0;
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
    // The parameter gradients reduce over tokens: threads split the columns instead.
    detail::column_sums_add(dweight, ntok, C, [&](int64_t t, int64_t c) {
        return static_cast<Acc>(dout[t * C + c]) *
               ((inp[t * C + c] - static_cast<Acc>(mean[t])) * static_cast<Acc>(rstd[t]));
    });
    detail::column_sums_add(
        dbias, ntok, C, [&](int64_t t, int64_t c) { return static_cast<Acc>(dout[t * C + c]); });
}

#define FT_INSTANTIATE(T)                                                                          \
    template void layernorm_forward<T>(T*, T*, T*, const T*, const T*, const T*, int64_t, int64_t, \
                                       double);                                                    \
    template void layernorm_backward<T>(T*, T*, T*, const T*, const T*, const T*, const T*,        \
                                        const T*, int64_t, int64_t);
FT_INSTANTIATE(float)
FT_INSTANTIATE(double)
#undef FT_INSTANTIATE

}  // namespace ft::ops
