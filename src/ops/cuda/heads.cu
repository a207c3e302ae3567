// The classification heads' input on the GPU: each sequence's first ([CLS]) row gathered from the
// packed batch, and its backward, which scatters them back into an otherwise zero gradient. Plain
// copies: the same bits as the CPU's memcpy. offsets arrive on the host (ops.h) and are copied to
// the device first, ordered on the stream.
#include <cstdint>

#include "ops/cuda/cuda_common.cuh"
#include "ops/ops_cuda.h"

namespace ft::ops::cuda {

namespace {

constexpr int THREADS = 256;

// out row b = hidden row offsets[b], a block a row (grid-stride), threads over the columns. An
// empty last sequence has no row (offsets[b] = T): its row is zero rather than read past the end.
__global__ void gather_kernel(float* __restrict__ out, const float* __restrict__ hidden,
                              const int32_t* __restrict__ offsets, int64_t B, int64_t C) {
    const int64_t ntok = offsets[B];
    for (int64_t b = blockIdx.x; b < B; b += gridDim.x) {
        const int64_t r = offsets[b];
        float* o = out + b * C;
        if (r < ntok) {
            const float* h = hidden + r * C;
            for (int64_t c = threadIdx.x; c < C; c += blockDim.x) o[c] = h[c];
        } else {
            for (int64_t c = threadIdx.x; c < C; c += blockDim.x) o[c] = 0.0f;
        }
    }
}

// dhidden row offsets[b] = dout row b. An empty sequence shares its row with the next one: as on
// the CPU, which copies in sequence order, the last sequence of a row writes it (and the others
// skip it, so no two blocks write one row); a row past the end is skipped.
__global__ void scatter_kernel(float* __restrict__ dhidden, const float* __restrict__ dout,
                               const int32_t* __restrict__ offsets, int64_t B, int64_t C,
                               int64_t ntok) {
    for (int64_t b = blockIdx.x; b < B; b += gridDim.x) {
        const int64_t r = offsets[b];
        if (r >= ntok || (b + 1 < B && offsets[b + 1] == r)) continue;
        float* d = dhidden + r * C;
        const float* g = dout + b * C;
        for (int64_t c = threadIdx.x; c < C; c += blockDim.x) d[c] = g[c];
    }
}

}  // namespace

void gather_first_token(const Context& ctx, float* out, const float* hidden, const int32_t* offsets,
                        int64_t B, int64_t C) {
    if (B == 0 || C == 0) return;
    const int32_t* d_offsets = offsets_and_scratch(ctx, offsets, B, 0).offsets;
    gather_kernel<<<blocks_for(B, 1), THREADS, 0, stream_of(ctx)>>>(out, hidden, d_offsets, B, C);
    check_launch("gather_kernel");
}

void gather_first_token_backward(const Context& ctx, float* dhidden, const float* dout,
                                 const int32_t* offsets, int64_t B, int64_t C, int64_t ntok) {
    if (ntok == 0 || C == 0) return;
    cudaStream_t stream = stream_of(ctx);
    FT_CUDA_CHECK(
        cudaMemsetAsync(dhidden, 0, static_cast<size_t>(ntok * C) * sizeof(float), stream));
    if (B == 0) return;
    const int32_t* d_offsets = offsets_and_scratch(ctx, offsets, B, 0).offsets;
    scatter_kernel<<<blocks_for(B, 1), THREADS, 0, stream>>>(dhidden, dout, d_offsets, B, C, ntok);
    check_launch("scatter_kernel");
}

}  // namespace ft::ops::cuda
