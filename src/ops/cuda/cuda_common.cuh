// Shared by the CUDA twins of the ops (src/ops/cuda/*.cu): the context's stream, error checks and
// launch sizes. Every twin queues its kernels on the context's stream and returns without
// synchronising; errors of a launch are reported at once, faults at the next synchronisation.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "finetune/core.h"
#include "ops/context.h"

namespace ft::ops::cuda {

// Throws ft::Error "<what>: <CUDA's message>" unless e is cudaSuccess.
void check(cudaError_t e, const char* what);
#define FT_CUDA_CHECK(expr) ::ft::ops::cuda::check((expr), #expr)

inline cudaStream_t stream_of(const Context& ctx) {
    return static_cast<cudaStream_t>(ctx.stream);
}

// After a launch: a bad configuration is an error now.
inline void check_launch(const char* kernel) {
    check(cudaGetLastError(), kernel);
}

// Blocks of `threads` covering n elements, capped so that grid-stride loops cover the rest.
inline unsigned blocks_for(int64_t n, int threads) {
    const int64_t b = (n + threads - 1) / threads;
    return static_cast<unsigned>(b < 1 ? 1 : (b > 65535 * 8 ? 65535 * 8 : b));
}

// A packed batch's offsets, which ops.h passes on the host, copied into the front of the
// context's workspace (ordered on the context's stream), and the rest of the block for the op:
// `rest_bytes` bytes at `rest`, 256-byte aligned. Valid until the op's kernels have run (the next
// op on the same stream may take the same bytes).
struct OffsetsAndScratch {
    const int32_t* offsets;  // (B + 1), on the device
    void* rest;
};
OffsetsAndScratch offsets_and_scratch(const Context& ctx, const int32_t* host_offsets, int64_t B,
                                      size_t rest_bytes);

}  // namespace ft::ops::cuda
