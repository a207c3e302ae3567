// LayerNorm on the GPU, the formulas of layernorm.cpp: statistics and gradient sums in double,
// one rounding to float at the end. A warp owns a row (its sums are a fixed butterfly); the
// parameter gradients sum over rows in two fixed passes (per-chunk partials, then the chunks in
// order), so every run gives the same bits without atomics.
#include <algorithm>
#include <cstdint>

#include "ops/cuda/cuda_common.cuh"
#include "ops/cuda/reduce.cuh"
#include "ops/ops_cuda.h"

namespace ft::ops::cuda {

namespace {

constexpr int THREADS = 256;
constexpr int ROWS_PER_BLOCK = THREADS / 32;  // one warp a row

// Two passes over the row (mean, then squared deviations), as the CPU: E[x^2] - E[x]^2 cancels.
__global__ void __launch_bounds__(THREADS)
    layernorm_forward_kernel(float* __restrict__ out, float* __restrict__ mean,
                             float* __restrict__ rstd, const float* __restrict__ inp,
                             const float* __restrict__ weight, const float* __restrict__ bias,
                             int64_t ntok, int64_t C, double eps) {
    const int lane = static_cast<int>(threadIdx.x % 32);
    for (int64_t t = static_cast<int64_t>(blockIdx.x) * ROWS_PER_BLOCK + threadIdx.x / 32; t < ntok;
         t += static_cast<int64_t>(gridDim.x) * ROWS_PER_BLOCK) {
        const float* x = inp + t * C;
        double sum = 0;
        for (int64_t c = lane; c < C; c += 32) sum += x[c];
        const double m = warp_sum(sum) / static_cast<double>(C);
        double sq = 0;
        for (int64_t c = lane; c < C; c += 32) {
            const double d = x[c] - m;
            sq += d * d;
        }
        const double rs = 1.0 / ::sqrt(warp_sum(sq) / static_cast<double>(C) + eps);
        float* o = out + t * C;
        for (int64_t c = lane; c < C; c += 32)
            o[c] = static_cast<float>((x[c] - m) * rs * weight[c] + static_cast<double>(bias[c]));
        if (lane == 0) {
            mean[t] = static_cast<float>(m);
            rstd[t] = static_cast<float>(rs);
        }
    }
}

// dinp = rstd * (g - mean(g) - xhat * mean(g * xhat)) with g = dout * weight, a warp a row.
__global__ void __launch_bounds__(THREADS)
    layernorm_dinp_kernel(float* __restrict__ dinp, const float* __restrict__ dout,
                          const float* __restrict__ inp, const float* __restrict__ weight,
                          const float* __restrict__ mean, const float* __restrict__ rstd,
                          int64_t ntok, int64_t C) {
    const int lane = static_cast<int>(threadIdx.x % 32);
    for (int64_t t = static_cast<int64_t>(blockIdx.x) * ROWS_PER_BLOCK + threadIdx.x / 32; t < ntok;
         t += static_cast<int64_t>(gridDim.x) * ROWS_PER_BLOCK) {
        const float* x = inp + t * C;
        const float* g = dout + t * C;
        const double m = mean[t], rs = rstd[t];
        double sum_g = 0, sum_gx = 0;
        for (int64_t c = lane; c < C; c += 32) {
            const double gw = static_cast<double>(g[c]) * weight[c];
            sum_g += gw;
            sum_gx += gw * ((x[c] - m) * rs);
        }
        const double mg = warp_sum(sum_g) / static_cast<double>(C);
        const double mgx = warp_sum(sum_gx) / static_cast<double>(C);
        float* d = dinp + t * C;
        for (int64_t c = lane; c < C; c += 32) {
            const double xhat = (x[c] - m) * rs;
            d[c] =
                static_cast<float>(rs * (static_cast<double>(g[c]) * weight[c] - mg - xhat * mgx));
        }
    }
}

// The parameter gradients' first pass: for each chunk of CHUNK_ROWS rows and each column, the sums
// over the chunk's rows of dout * xhat and of dout, in double, written to partial_w / partial_b
// [chunk][column]. A block is 32 columns by 8 row lanes; the lanes' sums are combined in lane
// order.
constexpr int64_t CHUNK_ROWS = 128;
constexpr int ROW_LANES = THREADS / 32;

__global__ void __launch_bounds__(THREADS)
    layernorm_param_partials_kernel(double* __restrict__ partial_w, double* __restrict__ partial_b,
                                    const float* __restrict__ dout, const float* __restrict__ inp,
                                    const float* __restrict__ mean, const float* __restrict__ rstd,
                                    int64_t ntok, int64_t C, int64_t nchunks) {
    __shared__ double sw[ROW_LANES][32], sb[ROW_LANES][32];
    const int col = static_cast<int>(threadIdx.x % 32),
              row_lane = static_cast<int>(threadIdx.x / 32);
    const int64_t c = static_cast<int64_t>(blockIdx.x) * 32 + col;
    for (int64_t chunk = blockIdx.y; chunk < nchunks; chunk += gridDim.y) {
        const int64_t r1 = std::min(ntok, (chunk + 1) * CHUNK_ROWS);
        double acc_w = 0, acc_b = 0;
        if (c < C)
            for (int64_t t = chunk * CHUNK_ROWS + row_lane; t < r1; t += ROW_LANES) {
                const double m = mean[t], rs = rstd[t];
                const float g = dout[t * C + c];
                acc_w += static_cast<double>(g) * ((inp[t * C + c] - m) * rs);
                acc_b += g;
            }
        __syncthreads();  // the previous chunk's readers are done
        sw[row_lane][col] = acc_w;
        sb[row_lane][col] = acc_b;
        __syncthreads();
        if (row_lane == 0 && c < C) {
            double w = 0, b = 0;
            for (int k = 0; k < ROW_LANES; ++k) {
                w += sw[k][col];
                b += sb[k][col];
            }
            partial_w[chunk * C + c] = w;
            partial_b[chunk * C + c] = b;
        }
    }
}

// The second pass: each column's chunk partials in chunk order, added to the float gradients once
// (the CPU's float(dweight + sum) rounding).
__global__ void layernorm_param_finish_kernel(float* __restrict__ dweight,
                                              float* __restrict__ dbias,
                                              const double* __restrict__ partial_w,
                                              const double* __restrict__ partial_b, int64_t C,
                                              int64_t nchunks) {
    for (int64_t c = global_thread(); c < C; c += grid_threads()) {
        double w = 0, b = 0;
        for (int64_t k = 0; k < nchunks; ++k) {
            w += partial_w[k * C + c];
            b += partial_b[k * C + c];
        }
        dweight[c] = static_cast<float>(dweight[c] + w);
        dbias[c] = static_cast<float>(dbias[c] + b);
    }
}

}  // namespace

void layernorm_forward(const Context& ctx, float* out, float* mean, float* rstd, const float* inp,
                       const float* weight, const float* bias, int64_t ntok, int64_t C,
                       double eps) {
    if (ntok == 0) return;
    layernorm_forward_kernel<<<blocks_for(ntok, ROWS_PER_BLOCK), THREADS, 0, stream_of(ctx)>>>(
        out, mean, rstd, inp, weight, bias, ntok, C, eps);
    check_launch("layernorm_forward_kernel");
}

void layernorm_backward(const Context& ctx, float* dinp, float* dweight, float* dbias,
                        const float* dout, const float* inp, const float* weight, const float* mean,
                        const float* rstd, int64_t ntok, int64_t C) {
    if (ntok == 0) return;  // dinp is empty, and adding nothing leaves dweight, dbias as they are
    FT_ASSERT(ctx.workspace, "a GPU op on a context without a workspace");
    cudaStream_t stream = stream_of(ctx);
    layernorm_dinp_kernel<<<blocks_for(ntok, ROWS_PER_BLOCK), THREADS, 0, stream>>>(
        dinp, dout, inp, weight, mean, rstd, ntok, C);
    check_launch("layernorm_dinp_kernel");

    // The chunking depends on ntok alone, not on the GPU: the same sums on every device.
    const int64_t nchunks = (ntok + CHUNK_ROWS - 1) / CHUNK_ROWS;
    const size_t half = (static_cast<size_t>(nchunks * C) * sizeof(double) + 255) / 256 * 256;
    char* block = static_cast<char*>(ctx.workspace->get(2 * half));
    auto* partial_w = reinterpret_cast<double*>(block);
    auto* partial_b = reinterpret_cast<double*>(block + half);
    const dim3 grid(static_cast<unsigned>((C + 31) / 32),
                    static_cast<unsigned>(std::min<int64_t>(nchunks, 65535)));
    layernorm_param_partials_kernel<<<grid, THREADS, 0, stream>>>(partial_w, partial_b, dout, inp,
                                                                  mean, rstd, ntok, C, nchunks);
    check_launch("layernorm_param_partials_kernel");
    layernorm_param_finish_kernel<<<blocks_for(C, THREADS), THREADS, 0, stream>>>(
        dweight, dbias, partial_w, partial_b, C, nchunks);
    check_launch("layernorm_param_finish_kernel");
}

}  // namespace ft::ops::cuda
