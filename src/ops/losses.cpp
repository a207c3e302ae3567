// The losses HF's sequence-classification heads pick (cross-entropy, MSE, BCE with logits), each
// fused with its gradient. They run on a (B, K) logits matrix: a few hundred numbers, so one
// thread, with every sum in double.
#include <cmath>
#include <limits>
#include <string>

#include "ops/ops.h"
#include "ops/ops_cuda.h"
#include "ops/ops_internal.h"

namespace ft::ops {

using detail::Acc;

namespace {

constexpr int64_t IGNORE_INDEX = -100;  // torch.nn.CrossEntropyLoss's default

template <class T>
void cross_entropy_forward_backward_cpu(const Context&, double* loss /*(1)*/, T* dlogits /*(B,K)*/,
                                        const T* logits /*(B,K)*/, const int64_t* labels /*(B)*/,
                                        int64_t B, int64_t K) {
    int64_t count = 0;
    for (int64_t b = 0; b < B; ++b) {
        if (labels[b] == IGNORE_INDEX) continue;
        // The data layer validates labels; one out of range here is a bug upstream.
        FT_ASSERT(labels[b] >= 0 && labels[b] < K, "label " + std::to_string(labels[b]) +
                                                       " of row " + std::to_string(b) +
                                                       " outside [0, " + std::to_string(K) + ")");
        ++count;
    }
    Acc total = 0;
    for (int64_t b = 0; b < B; ++b) {
        const T* x = logits + b * K;
        T* d = dlogits + b * K;
        if (labels[b] == IGNORE_INDEX || count == 0) {
            for (int64_t k = 0; k < K; ++k) d[k] = T(0);
            continue;
        }
        // log-softmax with the max subtracted: log p_k = x_k - (max + log sum exp(x - max)).
        Acc mx = x[0];
        for (int64_t k = 1; k < K; ++k) mx = std::max<Acc>(mx, x[k]);
        Acc sum = 0;
        for (int64_t k = 0; k < K; ++k) sum += std::exp(x[k] - mx);
        const Acc lse = mx + std::log(sum);
        total += lse - x[labels[b]];
        for (int64_t k = 0; k < K; ++k) {
            const Acc p = std::exp(x[k] - lse);
            d[k] = static_cast<T>((p - (k == labels[b] ? 1.0 : 0.0)) / static_cast<Acc>(count));
        }
    }
    // Every label ignored: torch's mean over nothing is NaN; the gradient stays zero.
    *loss = count == 0 ? std::numeric_limits<double>::quiet_NaN() : total / static_cast<Acc>(count);
}

template <class T>
void mse_forward_backward_cpu(const Context&, double* loss /*(1)*/, T* dpred /*(B)*/,
                              const T* pred /*(B)*/, const T* target /*(B)*/, int64_t B) {
    Acc total = 0;
    for (int64_t b = 0; b < B; ++b) {
        const Acc e = static_cast<Acc>(pred[b]) - target[b];
        total += e * e;
        dpred[b] = static_cast<T>(2.0 * e / static_cast<Acc>(B));
    }
    *loss = B ? total / static_cast<Acc>(B) : std::numeric_limits<double>::quiet_NaN();
}

template <class T>
void bce_with_logits_forward_backward_cpu(const Context&, double* loss /*(1)*/,
                                          T* dlogits /*(B,K)*/, const T* logits /*(B,K)*/,
                                          const T* target /*(B,K)*/, int64_t B, int64_t K) {
    const int64_t n = B * K;
    Acc total = 0;
    for (int64_t i = 0; i < n; ++i) {
        const Acc x = logits[i], y = target[i];
        // max(x, 0) - x y + log(1 + exp(-|x|)): never overflows, exact for large |x|.
        total += std::max(x, 0.0) - x * y + std::log1p(std::exp(-std::abs(x)));
        const Acc e = std::exp(-std::abs(x));
        const Acc sigmoid = x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        dlogits[i] = static_cast<T>((sigmoid - y) / static_cast<Acc>(n));
    }
    *loss = n ? total / static_cast<Acc>(n) : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace

template <class T>
void cross_entropy_forward_backward(const Context& ctx, double* loss, T* dlogits, const T* logits,
                                    const int64_t* labels, int64_t B, int64_t K) {
    FT_ASSERT(B >= 0 && (B == 0 || K > 0), "cross_entropy_forward_backward: bad size");
    FT_ASSERT(loss && (B == 0 || (dlogits && logits && labels)),
              "cross_entropy_forward_backward: null tensor");
    FT_CUDA_TWIN(T, ctx, cross_entropy_forward_backward, loss, dlogits, logits, labels, B, K);
    cross_entropy_forward_backward_cpu(ctx, loss, dlogits, logits, labels, B, K);
}

template <class T>
void mse_forward_backward(const Context& ctx, double* loss, T* dpred, const T* pred,
                          const T* target, int64_t B) {
    FT_ASSERT(B >= 0, "mse_forward_backward: negative size");
    FT_ASSERT(loss && (B == 0 || (dpred && pred && target)), "mse_forward_backward: null tensor");
    FT_CUDA_TWIN(T, ctx, mse_forward_backward, loss, dpred, pred, target, B);
    mse_forward_backward_cpu(ctx, loss, dpred, pred, target, B);
}

template <class T>
void bce_with_logits_forward_backward(const Context& ctx, double* loss, T* dlogits, const T* logits,
                                      const T* target, int64_t B, int64_t K) {
    FT_ASSERT(B >= 0 && K >= 0, "bce_with_logits_forward_backward: negative size");
    FT_ASSERT(loss && (B * K == 0 || (dlogits && logits && target)),
              "bce_with_logits_forward_backward: null tensor");
    FT_CUDA_TWIN(T, ctx, bce_with_logits_forward_backward, loss, dlogits, logits, target, B, K);
    bce_with_logits_forward_backward_cpu(ctx, loss, dlogits, logits, target, B, K);
}

#define FT_INSTANTIATE(T)                                                                    \
    template void cross_entropy_forward_backward<T>(const Context&, double*, T*, const T*,   \
                                                    const int64_t*, int64_t, int64_t);       \
    template void mse_forward_backward<T>(const Context&, double*, T*, const T*, const T*,   \
                                          int64_t);                                          \
    template void bce_with_logits_forward_backward<T>(const Context&, double*, T*, const T*, \
                                                      const T*, int64_t, int64_t);
FT_INSTANTIATE(float)
FT_INSTANTIATE(double)
#undef FT_INSTANTIATE

}  // namespace ft::ops
