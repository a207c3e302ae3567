// The losses on the GPU, each fused with its gradient: the formulas of losses.cpp in double, on a
// (B, K) matrix of a few hundred numbers, so one block of threads. A thread owns whole rows (the
// CPU's order within a row); the loss is the block's fixed-order sum. The kernel writes the mean
// to *loss on the device: the step never waits for it.
#include <cstdint>

#include "ops/cuda/cuda_common.cuh"
#include "ops/cuda/reduce.cuh"
#include "ops/ops_cuda.h"

namespace ft::ops::cuda {

namespace {

constexpr int THREADS = 256;
constexpr int64_t IGNORE_INDEX = -100;  // torch.nn.CrossEntropyLoss's default

// The bits of std::numeric_limits<double>::quiet_NaN(), the CPU's loss over nothing.
__device__ __forceinline__ double quiet_nan() {
    return __longlong_as_double(0x7ff8000000000000LL);
}

// The CPU asserts that every label is -100 or in [0, K) (the data layer checks them; one out of
// range is a bug upstream). A kernel cannot throw: there the loss is NaN and every gradient row
// zero, so the step is visibly wrong and leaves the weights' gradients untouched.
__global__ void __launch_bounds__(THREADS)
    cross_entropy_kernel(double* loss, float* dlogits, const float* logits, const int64_t* labels,
                         int64_t B, int64_t K) {
    __shared__ int64_t scratch_i[32];
    __shared__ double scratch_d[32];
    int64_t count = 0, bad = 0;
    for (int64_t b = threadIdx.x; b < B; b += blockDim.x) {
        const int64_t y = labels[b];
        if (y == IGNORE_INDEX) continue;
        if (y < 0 || y >= K) ++bad;
        ++count;
    }
    count = block_sum(count, scratch_i);
    bad = block_sum(bad, scratch_i);
    const double n = static_cast<double>(count);
    double total = 0;
    for (int64_t b = threadIdx.x; b < B; b += blockDim.x) {
        const float* x = logits + b * K;
        float* d = dlogits + b * K;
        const int64_t y = labels[b];
        if (y == IGNORE_INDEX || count == 0 || bad) {
            for (int64_t k = 0; k < K; ++k) d[k] = 0.0f;
            continue;
        }
        // log-softmax with the max subtracted: log p_k = x_k - (max + log sum exp(x - max)).
        double mx = x[0];
        // std::max's comparison, NaNs included.
        for (int64_t k = 1; k < K; ++k) mx = mx < x[k] ? static_cast<double>(x[k]) : mx;
        double sum = 0;
        for (int64_t k = 0; k < K; ++k) sum += ::exp(x[k] - mx);
        const double lse = mx + ::log(sum);
        total += lse - x[y];
        for (int64_t k = 0; k < K; ++k) {
            const double p = ::exp(x[k] - lse);
            d[k] = static_cast<float>((p - (k == y ? 1.0 : 0.0)) / n);
        }
    }
    total = block_sum(total, scratch_d);
    // Every label ignored: torch's mean over nothing is NaN (the gradient stays zero).
    if (threadIdx.x == 0) *loss = count == 0 || bad ? quiet_nan() : total / n;
}

__global__ void __launch_bounds__(THREADS)
    mse_kernel(double* loss, float* dpred, const float* pred, const float* target, int64_t B) {
    __shared__ double scratch[32];
    double total = 0;
    for (int64_t b = threadIdx.x; b < B; b += blockDim.x) {
        const double e = static_cast<double>(pred[b]) - target[b];
        total += e * e;
        dpred[b] = static_cast<float>(2.0 * e / static_cast<double>(B));
    }
    total = block_sum(total, scratch);
    if (threadIdx.x == 0) *loss = B ? total / static_cast<double>(B) : quiet_nan();
}

__global__ void __launch_bounds__(THREADS)
    bce_with_logits_kernel(double* loss, float* dlogits, const float* logits, const float* target,
                           int64_t n) {
    __shared__ double scratch[32];
    double total = 0;
    for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
        const double x = logits[i], y = target[i];
        // max(x, 0) - x y + log(1 + exp(-|x|)): never overflows, exact for large |x|.
        const double e = ::exp(-::fabs(x));
        total += (x < 0.0 ? 0.0 : x) - x * y + ::log1p(e);
        const double sigmoid = x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
        dlogits[i] = static_cast<float>((sigmoid - y) / static_cast<double>(n));
    }
    total = block_sum(total, scratch);
    if (threadIdx.x == 0) *loss = n ? total / static_cast<double>(n) : quiet_nan();
}

}  // namespace

void cross_entropy_forward_backward(const Context& ctx, double* loss, float* dlogits,
                                    const float* logits, const int64_t* labels, int64_t B,
                                    int64_t K) {
    // Launched for B = 0 too: the kernel still writes the (NaN) loss.
    cross_entropy_kernel<<<1, THREADS, 0, stream_of(ctx)>>>(loss, dlogits, logits, labels, B, K);
    check_launch("cross_entropy_kernel");
}

void mse_forward_backward(const Context& ctx, double* loss, float* dpred, const float* pred,
                          const float* target, int64_t B) {
    mse_kernel<<<1, THREADS, 0, stream_of(ctx)>>>(loss, dpred, pred, target, B);
    check_launch("mse_kernel");
}

void bce_with_logits_forward_backward(const Context& ctx, double* loss, float* dlogits,
                                      const float* logits, const float* target, int64_t B,
                                      int64_t K) {
    bce_with_logits_kernel<<<1, THREADS, 0, stream_of(ctx)>>>(loss, dlogits, logits, target, B * K);
    check_launch("bce_with_logits_kernel");
}

}  // namespace ft::ops::cuda
