// Embedding lookup on the GPU, and its backward, which scatters the gradient rows into the tables.
// The backward gives the CPU's bits on every run: each table cell receives its tokens' gradients
// as float additions in token order, as embedding.cpp adds them. The (table, row) keys of all
// tokens are stably sorted, so each run of equal keys lists its tokens in order, and one warp adds
// a run into its row for 32 columns: no two threads touch a cell, no atomics.
#include <cub/device/device_radix_sort.cuh>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "ops/cuda/cuda_common.cuh"
#include "ops/cuda/reduce.cuh"
#include "ops/ops_cuda.h"

namespace ft::ops::cuda {

namespace {

constexpr int THREADS = 256;

// One block per token row (grid-stride), threads over the columns.
__global__ void embedding_forward_kernel(float* __restrict__ out, const int32_t* __restrict__ ids,
                                         const int32_t* __restrict__ pos,
                                         const int32_t* __restrict__ types,
                                         const float* __restrict__ wte,
                                         const float* __restrict__ wpe,
                                         const float* __restrict__ wtt, int64_t ntok, int64_t C) {
    for (int64_t t = blockIdx.x; t < ntok; t += gridDim.x) {
        float* o = out + t * C;
        const float* w = wte + static_cast<int64_t>(ids[t]) * C;
        const float* p = wpe + static_cast<int64_t>(pos[t]) * C;
        if (wtt) {
            // Word + token type first, then the position: embedding.cpp's (and HF's) order.
            const float* y = wtt + static_cast<int64_t>(types ? types[t] : 0) * C;
            for (int64_t c = threadIdx.x; c < C; c += blockDim.x) o[c] = (w[c] + y[c]) + p[c];
        } else {
            for (int64_t c = threadIdx.x; c < C; c += blockDim.x) o[c] = w[c] + p[c];
        }
    }
}

// A token's sort key: the table (0 words, 1 positions, 2 token types) above the row. Rows are
// non-negative int32, so 34 bits order them.
constexpr int KEY_BITS = 34;

// Keys and token indices of the 2 or 3 lookups of every token: words at [0, ntok), positions at
// [ntok, 2 ntok), token types (row 0 without `types`) at [2 ntok, 3 ntok).
__global__ void embedding_keys_kernel(uint64_t* __restrict__ keys, int32_t* __restrict__ toks,
                                      const int32_t* __restrict__ ids,
                                      const int32_t* __restrict__ pos,
                                      const int32_t* __restrict__ types, bool with_types,
                                      int64_t ntok) {
    for (int64_t t = global_thread(); t < ntok; t += grid_threads()) {
        const int32_t tok = static_cast<int32_t>(t);
        keys[t] = static_cast<uint32_t>(ids[t]);
        toks[t] = tok;
        keys[ntok + t] = (uint64_t{1} << 32) | static_cast<uint32_t>(pos[t]);
        toks[ntok + t] = tok;
        if (with_types) {
            keys[2 * ntok + t] = (uint64_t{2} << 32) | static_cast<uint32_t>(types ? types[t] : 0);
            toks[2 * ntok + t] = tok;
        }
    }
}

// One warp per (sorted position i, slice of 32 columns). When i starts a run of equal keys, the
// warp adds the gradient rows of the run's tokens (ascending: the sort is stable) to the table
// row, one column per lane, in float, in that order. Other positions are skipped.
__global__ void __launch_bounds__(THREADS)
    embedding_runs_kernel(float* dwte, float* dwpe, float* dwtt, const float* __restrict__ dout,
                          const uint64_t* __restrict__ keys, const int32_t* __restrict__ toks,
                          int64_t n, int64_t C) {
    const int lane = static_cast<int>(threadIdx.x % 32);
    const int64_t nslices = (C + 31) / 32;
    const int64_t items = n * nslices;
    const int64_t warps_per_block = blockDim.x / 32;
    const int64_t nwarps = static_cast<int64_t>(gridDim.x) * warps_per_block;
    // Everything below is uniform across the warp (start, key, end), so the shuffles and ballots
    // see all 32 lanes.
    for (int64_t w = blockIdx.x * warps_per_block + threadIdx.x / 32; w < items; w += nwarps) {
        const int64_t start = w / nslices;
        const uint64_t key = keys[start];
        if (start > 0 && keys[start - 1] == key) continue;
        // The run's end: the first later position holding another key, 32 positions a step.
        int64_t end = start + 1;
        for (;;) {
            const int64_t j = end + lane;
            const unsigned other = __ballot_sync(FULL_MASK, j >= n || keys[j] != key);
            if (other) {
                end += __ffs(static_cast<int>(other)) - 1;
                break;
            }
            end += 32;
        }
        const int64_t c = (w % nslices) * 32 + lane;
        const bool active = c < C;
        const uint32_t table = static_cast<uint32_t>(key >> 32);
        float* base = table == 0 ? dwte : (table == 1 ? dwpe : dwtt);
        float* cell =
            active ? base + static_cast<int64_t>(static_cast<uint32_t>(key)) * C + c : nullptr;
        float acc = active ? *cell : 0.0f;
        // The run's token indices 32 at a time, one per lane, handed round by shuffles; the next
        // 32 are loaded while the current ones' gradient rows are read.
        int32_t tok = start + lane < end ? toks[start + lane] : 0;
        for (int64_t j0 = start; j0 < end; j0 += 32) {
            const int64_t jn = j0 + 32 + lane;
            const int32_t next = jn < end ? toks[jn] : 0;
            const int64_t count = end - j0;
            // All the loads first, so that they are in flight together; then the additions, in
            // token order.
            float g[32];
#pragma unroll
            for (int k = 0; k < 32; ++k) {
                const int32_t t = __shfl_sync(FULL_MASK, tok, k);
                g[k] = active && k < count ? dout[static_cast<int64_t>(t) * C + c] : 0.0f;
            }
            if (count >= 32) {
#pragma unroll
                for (int k = 0; k < 32; ++k) acc += g[k];
            } else {
#pragma unroll
                for (int k = 0; k < 32; ++k)
                    if (k < count) acc += g[k];
            }
            tok = next;
        }
        if (active) *cell = acc;
    }
}

// Offset of the next 256-byte boundary at or after `bytes`.
size_t align256(size_t bytes) {
    return (bytes + 255) / 256 * 256;
}

}  // namespace

void embedding_forward(const Context& ctx, float* out, const int32_t* ids, const int32_t* pos,
                       const int32_t* types, const float* wte, const float* wpe, const float* wtt,
                       int64_t ntok, int64_t C) {
    if (ntok == 0 || C == 0) return;
    embedding_forward_kernel<<<blocks_for(ntok, 1), THREADS, 0, stream_of(ctx)>>>(
        out, ids, pos, types, wte, wpe, wtt, ntok, C);
    check_launch("embedding_forward_kernel");
}

void embedding_backward(const Context& ctx, float* dwte, float* dwpe, float* dwtt,
                        const float* dout, const int32_t* ids, const int32_t* pos,
                        const int32_t* types, int64_t ntok, int64_t C) {
    if (ntok == 0 || C == 0) return;
    const int64_t ntables = dwtt ? 3 : 2;
    const int64_t n = ntables * ntok;
    FT_ASSERT(n <= std::numeric_limits<int32_t>::max(), "embedding_backward: too many tokens");
    FT_ASSERT(ctx.workspace, "a GPU op on a context without a workspace");
    cudaStream_t stream = stream_of(ctx);

    // Scratch: keys and token indices before and after the sort, then CUB's temporary storage.
    const int items = static_cast<int>(n);
    size_t sort_bytes = 0;
    FT_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(
        nullptr, sort_bytes, static_cast<const uint64_t*>(nullptr), static_cast<uint64_t*>(nullptr),
        static_cast<const int32_t*>(nullptr), static_cast<int32_t*>(nullptr), items, 0, KEY_BITS,
        stream));
    const size_t key_bytes = align256(static_cast<size_t>(n) * sizeof(uint64_t));
    const size_t tok_bytes = align256(static_cast<size_t>(n) * sizeof(int32_t));
    char* block =
        static_cast<char*>(ctx.workspace->get(2 * key_bytes + 2 * tok_bytes + sort_bytes));
    auto* keys_in = reinterpret_cast<uint64_t*>(block);
    auto* keys_out = reinterpret_cast<uint64_t*>(block + key_bytes);
    auto* toks_in = reinterpret_cast<int32_t*>(block + 2 * key_bytes);
    auto* toks_out = reinterpret_cast<int32_t*>(block + 2 * key_bytes + tok_bytes);
    void* sort_scratch = block + 2 * key_bytes + 2 * tok_bytes;

    embedding_keys_kernel<<<blocks_for(ntok, THREADS), THREADS, 0, stream>>>(
        keys_in, toks_in, ids, pos, types, dwtt != nullptr, ntok);
    check_launch("embedding_keys_kernel");
    FT_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(sort_scratch, sort_bytes, keys_in, keys_out,
                                                  toks_in, toks_out, items, 0, KEY_BITS, stream));
    // Positions that start no run cost a warp two loads: a bounded grid loops over them.
    const int64_t warp_items = n * ((C + 31) / 32);
    const unsigned blocks = std::min<unsigned>(blocks_for(warp_items * 32, THREADS), 4096);
    embedding_runs_kernel<<<blocks, THREADS, 0, stream>>>(dwte, dwpe, dwtt, dout, keys_out,
                                                          toks_out, n, C);
    check_launch("embedding_runs_kernel");
}

}  // namespace ft::ops::cuda
