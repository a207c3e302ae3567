// Elementwise ops on the GPU: the activations, the residual add and inverted dropout. Dropout
// draws its mask from the device Philox (philox.cuh), one block for the four elements that share
// it, so the mask is the CPU's bit for bit. Outputs may alias inputs (the encoder adds in place:
// out == a), so no pointer is __restrict__: each element is read and then written by one thread.
#include <cstdint>

#include "ops/cuda/cuda_common.cuh"
#include "ops/cuda/philox.cuh"
#include "ops/cuda/reduce.cuh"
#include "ops/ops_cuda.h"
#include "ops/ops_internal.h"

namespace ft::ops::cuda {

namespace {

constexpr int THREADS = 256;
constexpr float INV_SQRT_2PI = 0.39894228040143267794f;

// GELU is x Phi(x). normcdff keeps its relative accuracy in the lower tail, where
// 0.5 * (1 + erff(x / sqrt 2)) would cancel (x = -4 loses three digits).
__device__ __forceinline__ float gelu(float x) {
    return x * ::normcdff(x);
}

// d/dx [x Phi(x)] = Phi(x) + x phi(x).
__device__ __forceinline__ float gelu_grad(float x) {
    return ::normcdff(x) + x * (INV_SQRT_2PI * ::expf(-0.5f * x * x));
}

template <Activation A>
__global__ void activation_forward_kernel(float* out, const float* inp, int64_t n) {
    for (int64_t i = global_thread(); i < n; i += grid_threads()) {
        const float x = inp[i];
        if constexpr (A == Activation::GELU)
            out[i] = gelu(x);
        else if constexpr (A == Activation::RELU)
            out[i] = x > 0.0f ? x : 0.0f;  // NaN gives 0, as on the CPU
        else
            out[i] = ::tanhf(x);
    }
}

// GELU's derivative reads the input, ReLU's and tanh's the output.
template <Activation A>
__global__ void activation_backward_kernel(float* dinp, const float* dout, const float* inp,
                                           const float* out, int64_t n) {
    for (int64_t i = global_thread(); i < n; i += grid_threads()) {
        if constexpr (A == Activation::GELU) {
            dinp[i] = dout[i] * gelu_grad(inp[i]);
        } else if constexpr (A == Activation::RELU) {
            dinp[i] = out[i] > 0.0f ? dout[i] : 0.0f;
        } else {
            // 1 - y^2 without a fused multiply-add: the CPU's roundings, which matter where tanh
            // saturates and 1 - y^2 cancels.
            const float y = out[i];
            dinp[i] = dout[i] * (1.0f - __fmul_rn(y, y));
        }
    }
}

__global__ void add_kernel(float* out, const float* a, const float* b, int64_t n) {
    for (int64_t i = global_thread(); i < n; i += grid_threads()) out[i] = a[i] + b[i];
}

// One thread per Philox block: block q covers the elements i with rng index first + i in
// [4q, 4q + 4), the partial blocks at both ends included.
__global__ void dropout_kernel(float* out, const float* inp, int64_t n, uint64_t seed,
                               uint64_t stream, uint64_t first, uint32_t threshold, float scale) {
    const uint64_t q0 = first / 4;
    const uint64_t nblocks = (first + static_cast<uint64_t>(n) - 1) / 4 - q0 + 1;
    for (uint64_t k = static_cast<uint64_t>(global_thread()); k < nblocks;
         k += static_cast<uint64_t>(grid_threads())) {
        const uint64_t q = q0 + k;
        const uint4 w = philox_block(seed, stream, q);
        const uint32_t words[4] = {w.x, w.y, w.z, w.w};
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const uint64_t e = 4 * q + static_cast<uint64_t>(j);  // the element's rng index
            if (e < first || e - first >= static_cast<uint64_t>(n)) continue;
            const int64_t i = static_cast<int64_t>(e - first);
            // x * 0 rather than 0, as the CPU writes it (a NaN input stays NaN).
            out[i] = inp[i] * (dropped(words[j] >> 8, threshold) ? 0.0f : scale);
        }
    }
}

template <Activation A>
void launch_forward(cudaStream_t stream, float* out, const float* inp, int64_t n) {
    activation_forward_kernel<A><<<blocks_for(n, THREADS), THREADS, 0, stream>>>(out, inp, n);
    check_launch("activation_forward_kernel");
}

template <Activation A>
void launch_backward(cudaStream_t stream, float* dinp, const float* dout, const float* inp,
                     const float* out, int64_t n) {
    activation_backward_kernel<A>
        <<<blocks_for(n, THREADS), THREADS, 0, stream>>>(dinp, dout, inp, out, n);
    check_launch("activation_backward_kernel");
}

}  // namespace

void activation_forward(const Context& ctx, Activation act, float* out, const float* inp,
                        int64_t n) {
    if (n == 0) return;
    cudaStream_t stream = stream_of(ctx);
    switch (act) {
        case Activation::GELU:
            return launch_forward<Activation::GELU>(stream, out, inp, n);
        case Activation::RELU:
            return launch_forward<Activation::RELU>(stream, out, inp, n);
        case Activation::TANH:
            return launch_forward<Activation::TANH>(stream, out, inp, n);
    }
}

void activation_backward(const Context& ctx, Activation act, float* dinp, const float* dout,
                         const float* inp, const float* out, int64_t n) {
    if (n == 0) return;
    cudaStream_t stream = stream_of(ctx);
    switch (act) {
        case Activation::GELU:
            return launch_backward<Activation::GELU>(stream, dinp, dout, inp, out, n);
        case Activation::RELU:
            return launch_backward<Activation::RELU>(stream, dinp, dout, inp, out, n);
        case Activation::TANH:
            return launch_backward<Activation::TANH>(stream, dinp, dout, inp, out, n);
    }
}

void add_forward(const Context& ctx, float* out, const float* a, const float* b, int64_t n) {
    if (n == 0) return;
    add_kernel<<<blocks_for(n, THREADS), THREADS, 0, stream_of(ctx)>>>(out, a, b, n);
    check_launch("add_kernel");
}

void dropout_forward(const Context& ctx, float* out, const float* inp, int64_t n, double p,
                     const Philox& rng, uint64_t rng_offset) {
    if (n == 0) return;
    cudaStream_t stream = stream_of(ctx);
    const size_t bytes = static_cast<size_t>(n) * sizeof(float);
    if (p <= 0.0) {
        if (out != inp)
            FT_CUDA_CHECK(cudaMemcpyAsync(out, inp, bytes, cudaMemcpyDeviceToDevice, stream));
        return;
    }
    if (p >= 1.0) {  // everything dropped, and no division by zero
        FT_CUDA_CHECK(cudaMemsetAsync(out, 0, bytes, stream));
        return;
    }
    const float scale = static_cast<float>(1.0 / (1.0 - p));
    const uint32_t threshold = detail::drop_threshold(p);
    // Philox blocks touched: up to one more than n / 4 when the range straddles block edges.
    const int64_t nblocks =
        static_cast<int64_t>((rng_offset + static_cast<uint64_t>(n) - 1) / 4 - rng_offset / 4 + 1);
    dropout_kernel<<<blocks_for(nblocks, THREADS), THREADS, 0, stream>>>(
        out, inp, n, rng.seed(), rng.stream(), rng_offset, threshold, scale);
    check_launch("dropout_kernel");
}

}  // namespace ft::ops::cuda
