// The optimizer's passes on the GPU (ops.h): the fused AdamW update in the CPU code's float
// operations and order, the global L2 norm summed in double in a fixed order (the same bits on
// every run and every GPU), the clipping scale, zeroing and the engine's buffer copy.
#include <cstdint>

#include "ops/cuda/cuda_common.cuh"
#include "ops/ops_cuda.h"

namespace ft::ops::cuda {

namespace {

constexpr int THREADS = 256;

// One element of the update, as adamw_chunk in optimizer.cpp, operation for operation. The
// explicit round-to-nearest intrinsics keep nvcc from fusing a multiply and an add into an FMA,
// so the result is the CPU's baseline build's bit for bit (its AVX2 + FMA clone may differ by an
// ulp where GCC contracts).
template <bool ZERO_GRADS, bool TORCH_FORM>
__global__ void adamw_kernel(float* __restrict__ p, float* __restrict__ g, float* __restrict__ m,
                             float* __restrict__ v, int64_t n, AdamWScalars k, float scale) {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const float gi = __fmul_rn(g[i], scale);
        if constexpr (ZERO_GRADS) g[i] = 0.0f;
        // b1 m + (1-b1) gi;  b2 v + ((1-b2) gi) gi
        const float mi = __fadd_rn(__fmul_rn(k.b1, m[i]), __fmul_rn(k.one_minus_b1, gi));
        const float vi =
            __fadd_rn(__fmul_rn(k.b2, v[i]), __fmul_rn(__fmul_rn(k.one_minus_b2, gi), gi));
        m[i] = mi;
        v[i] = vi;
        const float step = __fmul_rn(k.neg_step_size, mi);
        if constexpr (TORCH_FORM) {
            // p decay + (nss mi) / (sqrt(vi) / sqrt_bias2 + eps)
            const float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), k.sqrt_bias2), k.eps);
            p[i] = __fadd_rn(__fmul_rn(p[i], k.decay), __fdiv_rn(step, denom));
        } else {
            // pi = p + (nss mi) / (sqrt(vi) + eps);  p = pi + decay pi
            const float pi = __fadd_rn(p[i], __fdiv_rn(step, __fadd_rn(__fsqrt_rn(vi), k.eps)));
            p[i] = __fadd_rn(pi, __fmul_rn(k.decay, pi));
        }
    }
}

template <bool ZERO_GRADS>
void launch_adamw(const Context& ctx, float* p, float* g, float* m, float* v, int64_t n,
                  const AdamWScalars& k, float scale) {
    const unsigned blocks = blocks_for(n, THREADS);
    if (k.torch_form)
        adamw_kernel<ZERO_GRADS, true>
            <<<blocks, THREADS, 0, stream_of(ctx)>>>(p, g, m, v, n, k, scale);
    else
        adamw_kernel<ZERO_GRADS, false>
            <<<blocks, THREADS, 0, stream_of(ctx)>>>(p, g, m, v, n, k, scale);
    check_launch("adamw_kernel");
}

// The L2 norm's shape is fixed, not fitted to the GPU: NORM_BLOCKS blocks of THREADS threads,
// thread t summing elements t, t + NORM_BLOCKS*THREADS, ... in order; each block's sums added by
// a fixed tree; then one block adding the block sums by the same tree. The order depends on
// nothing but n. 1024 blocks of 256 threads fill an H100 (132 SMs x 2048 threads).
constexpr int NORM_BLOCKS = 1024;

// The sum of the block's `value`s, added pairwise in a fixed tree; valid in thread 0.
template <int BLOCK>
__device__ double block_sum(double value) {
    static_assert((BLOCK & (BLOCK - 1)) == 0, "the tree halves the block");
    __shared__ double sums[BLOCK];
    sums[threadIdx.x] = value;
    __syncthreads();
    for (int half = BLOCK / 2; half > 0; half /= 2) {
        if (static_cast<int>(threadIdx.x) < half) sums[threadIdx.x] += sums[threadIdx.x + half];
        __syncthreads();
    }
    return sums[0];
}

__global__ void __launch_bounds__(THREADS)
    sum_squares_kernel(double* block_sums /*(NORM_BLOCKS)*/, const float* x, int64_t n) {
    double sum = 0.0;
    for (int64_t i = blockIdx.x * static_cast<int64_t>(THREADS) + threadIdx.x; i < n;
         i += static_cast<int64_t>(NORM_BLOCKS) * THREADS) {
        const double xi = x[i];
        sum += xi * xi;  // exact: a float's square fits a double's mantissa
    }
    const double total = block_sum<THREADS>(sum);
    if (threadIdx.x == 0) block_sums[blockIdx.x] = total;
}

__global__ void __launch_bounds__(NORM_BLOCKS)
    sqrt_of_sum_kernel(double* out, const double* block_sums /*(NORM_BLOCKS)*/) {
    const double total = block_sum<NORM_BLOCKS>(block_sums[threadIdx.x]);
    if (threadIdx.x == 0) *out = sqrt(total);
}

__global__ void scale_kernel(float* x, int64_t n, float c) {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x)
        x[i] = __fmul_rn(x[i], c);
}

}  // namespace

void adamw_update(const Context& ctx, float* p, float* g, float* m, float* v, int64_t n,
                  const AdamWScalars& k, float grad_scale, bool zero_grads) {
    if (n == 0) return;
    if (zero_grads)
        launch_adamw<true>(ctx, p, g, m, v, n, k, grad_scale);
    else
        launch_adamw<false>(ctx, p, g, m, v, n, k, grad_scale);
}

void l2_norm(const Context& ctx, double* out, const float* x, int64_t n) {
    FT_ASSERT(ctx.workspace, "l2_norm: the context has no workspace");
    // Written even for n = 0 (every block sum is then 0, and so is the norm).
    double* block_sums =
        static_cast<double*>(ctx.workspace->get(static_cast<size_t>(NORM_BLOCKS) * sizeof(double)));
    sum_squares_kernel<<<NORM_BLOCKS, THREADS, 0, stream_of(ctx)>>>(block_sums, x, n);
    check_launch("sum_squares_kernel");
    sqrt_of_sum_kernel<<<1, NORM_BLOCKS, 0, stream_of(ctx)>>>(out, block_sums);
    check_launch("sqrt_of_sum_kernel");
}

void scale(const Context& ctx, float* x, int64_t n, float c) {
    if (n == 0) return;
    scale_kernel<<<blocks_for(n, THREADS), THREADS, 0, stream_of(ctx)>>>(x, n, c);
    check_launch("scale_kernel");
}

void fill_zero(const Context& ctx, float* x, int64_t n) {
    if (n == 0) return;
    FT_CUDA_CHECK(cudaMemsetAsync(x, 0, static_cast<size_t>(n) * sizeof(float), stream_of(ctx)));
}

void copy(const Context& ctx, float* dst, const float* src, int64_t n) {
    if (n == 0 || dst == src) return;
    FT_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(n) * sizeof(float),
                                  cudaMemcpyDeviceToDevice, stream_of(ctx)));
}

}  // namespace ft::ops::cuda
