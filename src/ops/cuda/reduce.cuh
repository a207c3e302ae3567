// Fixed-order sums for the CUDA twins: a warp's or a block's values combined by the same tree on
// every run, so that the same inputs give the same bits (no atomics, nothing that depends on
// which thread finishes first).
#pragma once

#include <cstdint>

namespace ft::ops::cuda {

constexpr unsigned FULL_MASK = 0xffffffffu;

// Sum over the 32 lanes of a warp, by butterfly. Every lane ends with the same bits: partner lanes
// add the same two values, and IEEE addition commutes. All 32 lanes must call it.
template <class V>
__device__ __forceinline__ V warp_sum(V v) {
    for (int m = 16; m > 0; m >>= 1) v += __shfl_xor_sync(FULL_MASK, v, m);
    return v;
}

// Sum over the threads of a block (blockDim.x a multiple of 32, at most 1024), returned to every
// thread: each warp's butterfly, then one over the warps' sums. `scratch` is 32 values of shared
// memory; every thread of the block must call it.
template <class V>
__device__ V block_sum(V v, V* scratch) {
    v = warp_sum(v);
    const int lane = static_cast<int>(threadIdx.x % 32), warp = static_cast<int>(threadIdx.x / 32);
    const int nwarps = static_cast<int>(blockDim.x / 32);
    __syncthreads();  // a previous call's readers are done with scratch
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    // Every warp reduces the same 32 values the same way: the same total everywhere.
    return warp_sum(lane < nwarps ? scratch[lane] : V(0));
}

// This thread's index and the grid's thread count, in 64 bits for grid-stride loops over large n.
__device__ __forceinline__ int64_t global_thread() {
    return static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ int64_t grid_threads() {
    return static_cast<int64_t>(gridDim.x) * blockDim.x;
}

}  // namespace ft::ops::cuda
