// The CUDA twins of attention.cpp: multi-head self-attention on a packed batch and its backward,
// and the first-query (the [CLS] row) forms. One thread block per (sequence, head) pair for the
// full op, one warp per pair for the first-query op. Every value is computed in the CPU's order
// of operations (dot products over the head dimension in order, products summed over keys or
// queries in order, softmax sums and the backward's row dot products in double), so the results
// match the CPU closely; the warp reductions have a fixed shape, and every output element is
// written by one thread, so two runs give the same bits.
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "ops/cuda/cuda_common.cuh"
#include "ops/cuda/philox.cuh"
#include "ops/ops_cuda.h"
#include "ops/ops_internal.h"

namespace ft::ops::cuda {

namespace {

constexpr int WARP = 32;
constexpr unsigned FULL_MASK = 0xffffffffu;
// Block sizes: the full op's blocks take 4 warps for short sequences, 8 for longer ones; the
// first-query kernels put 4 pairs (one per warp) in a block.
constexpr int FULL_THREADS_SHORT = 128, FULL_THREADS_LONG = 256, FIRST_QUERY_THREADS = 128;
// The full op stages the pair's K and V (backward: then Q and dout) in shared memory when they
// fit this budget, which still leaves room for two blocks on an H100 SM; longer sequences read
// them from global memory (through L1). Same arithmetic either way.
constexpr size_t STAGE_BUDGET = 112 * 1024;
// Above this a kernel must opt in to more dynamic shared memory.
constexpr size_t DEFAULT_SMEM = 48 * 1024;

// The dropout of the probabilities: element e of the mask is dropped when its Philox bits fall
// below the threshold, else the probability is scaled, as ops_internal.h decides on the CPU.
struct Dropout {
    uint64_t seed = 0, stream = 0, offset = 0;  // the generator and rng_offset
    uint32_t threshold = 0;
    float scale = 1.0f;
    bool on = false;
};

Dropout make_dropout(double p, const Philox* rng, uint64_t rng_offset) {
    Dropout d;
    d.on = rng != nullptr && p > 0.0;  // as the CPU: no generator or p 0 means no dropout
    if (d.on) {
        d.seed = rng->seed();
        d.stream = rng->stream();
        d.offset = rng_offset;
        d.threshold = detail::drop_threshold(p);
        d.scale = static_cast<float>(1.0 / (1.0 - p));
    }
    return d;
}

// The factor (0 or 1/(1-p)) of mask element rng_offset + element.
__device__ __forceinline__ float drop_factor(const Dropout& d, uint64_t element) {
    const uint32_t bits = philox_uniform_bits(d.seed, d.stream, d.offset + element);
    return dropped(bits, d.threshold) ? 0.0f : d.scale;
}

// Sizes every kernel shares.
struct Layout {
    int64_t C;    // row stride of the (T, C) matrices
    int NH, HS;   // heads, head size
    int max_len;  // the longest sequence: the length of the per-warp rows in shared memory
    int stride;   // row stride of K, V (Q, dout) staged in shared memory; 0: not staged
    float scale;  // 1/sqrt(HS), rounded as the CPU rounds it
};

// The CPU's exp (vec_math.h's exp_f32) returns 0 below -87; expf matches it elsewhere to an ulp.
__device__ __forceinline__ float exp_like_cpu(float x) {
    return x < -87.0f ? 0.0f : expf(x);
}

// Butterfly reductions: every lane ends with the same bits (each step adds the same two values,
// in either order), and the shape never changes, so the result is reproducible.
__device__ __forceinline__ float warp_max(float x) {
    for (int o = WARP / 2; o > 0; o /= 2) x = fmaxf(x, __shfl_xor_sync(FULL_MASK, x, o));
    return x;
}
__device__ __forceinline__ double warp_sum(double x) {
    for (int o = WARP / 2; o > 0; o /= 2) x += __shfl_xor_sync(FULL_MASK, x, o);
    return x;
}

// Where sequence b's probability blocks start in the full op's probs (and its dropout mask):
// NH times the sum of len^2 over the sequences before it. Integer sums, so any order is exact.
// Called by all lanes of a warp.
__device__ int64_t sequence_base(const int32_t* offsets, int64_t b, int NH, int lane) {
    long long s = 0;
    for (int64_t e = lane; e < b; e += WARP) {
        const long long len = offsets[e + 1] - offsets[e];
        s += len * len;
    }
    for (int o = WARP / 2; o > 0; o /= 2) s += __shfl_xor_sync(FULL_MASK, s, o);
    return static_cast<int64_t>(NH) * s;
}

// A pair's len x HS slice of K, V, Q or dout: in global memory (rows C apart) or staged.
struct Rows {
    const float* p;
    int64_t stride;
    __device__ float at(int row, int d) const { return p[row * stride + d]; }
};

// Copies the len x HS slice at src (rows C apart) into dst (rows L.stride apart) with the whole
// block when staging is on; the caller synchronises the block before reading.
__device__ Rows stage(float* dst, const float* src, int len, const Layout& L) {
    if (L.stride == 0) return {src, L.C};
    for (int idx = threadIdx.x; idx < len * L.HS; idx += blockDim.x) {
        const int j = idx / L.HS, d = idx - j * L.HS;
        dst[j * L.stride + d] = src[j * L.C + d];
    }
    return {dst, L.stride};
}

// ---- the full op: one block per (sequence, head) pair, grid B * NH ---------------------------
// Shared memory: per warp a row of max_len floats and a vector of HS, then (staged) two len x
// stride slices. Each warp takes query rows warp, warp + nwarps, ...; in a row, lane l takes the
// keys l, l + 32, ... and then the head dimensions l, l + 32, ...

// The (sequence, head) pair of this block (block index b * NH + h): its length, the calling
// thread's lane and warp, where the pair's probabilities and mask start (the CPU's numbering),
// and its (0, 0) in the (T, C) tensors. Every thread calls it (sequence_base uses the warp).
struct BlockPair {
    int len, lane, warp, nwarps;
    int64_t mask_first, at;
    float* row;     // the warp's row of shared memory: max_len scores, then HS floats
    float* slices;  // after every warp's row: the staged K and V (or Q and dout)
};

__device__ BlockPair block_pair(const int32_t* offsets, const Layout& L, float* smem) {
    const int64_t b = blockIdx.x / L.NH;
    const int h = static_cast<int>(blockIdx.x % L.NH);
    const int64_t t0 = offsets[b];
    BlockPair p;
    p.len = offsets[b + 1] - offsets[b];
    p.lane = threadIdx.x % WARP;
    p.warp = threadIdx.x / WARP;
    p.nwarps = blockDim.x / WARP;
    p.mask_first =
        sequence_base(offsets, b, L.NH, p.lane) + static_cast<int64_t>(h) * p.len * p.len;
    p.at = t0 * L.C + static_cast<int64_t>(h) * L.HS;
    p.row = smem + p.warp * (L.max_len + L.HS);
    p.slices = smem + p.nwarps * (L.max_len + L.HS);
    return p;
}

// One query row of a warp against the pair's keys (key(j, d) reads K): scores scaled as the CPU
// scales them (the product rounded before the max and the subtraction), softmax with the sum in
// double, P saved before dropout at P[0 .. len), and row[j] = dropout(P) for the product with V,
// the mask drawn at mask_first + j.
template <class Key>
__device__ void softmax_row(float* row, float* P, const float* qi, const Key& key, int len,
                            const Layout& L, const Dropout& drop, int64_t mask_first, int lane) {
    float mx = -INFINITY;
    for (int j = lane; j < len; j += WARP) {
        float s = 0.0f;
        for (int d = 0; d < L.HS; ++d) s += qi[d] * key(j, d);
        s = __fmul_rn(s, L.scale);
        row[j] = s;
        mx = fmaxf(mx, s);
    }
    mx = warp_max(mx);
    double sum = 0.0;
    for (int j = lane; j < len; j += WARP) {
        const float e = exp_like_cpu(row[j] - mx);
        row[j] = e;
        sum += e;
    }
    sum = warp_sum(sum);
    for (int j = lane; j < len; j += WARP) {
        const float p = static_cast<float>(row[j] / sum);
        P[j] = p;
        row[j] = drop.on ? p * drop_factor(drop, mask_first + j) : p;
    }
}

__global__ void __launch_bounds__(FULL_THREADS_LONG)
    attention_forward_kernel(float* __restrict__ out, float* __restrict__ probs,
                             const float* __restrict__ q, const float* __restrict__ k,
                             const float* __restrict__ v, const int32_t* __restrict__ offsets,
                             Layout L, Dropout drop) {
    extern __shared__ float smem[];
    const BlockPair bp = block_pair(offsets, L, smem);
    if (bp.len == 0) return;  // the whole block, before any barrier
    const auto [len, lane, warp, nwarps, mask_first, at, row, slices] = bp;
    float* qi = row + L.max_len;
    const Rows K = stage(slices, k + at, len, L);
    const Rows V = stage(slices + len * L.stride, v + at, len, L);
    __syncthreads();
    float* P = probs + mask_first;  // the pair's len x len block
    for (int i = warp; i < len; i += nwarps) {
        for (int d = lane; d < L.HS; d += WARP) qi[d] = q[at + i * L.C + d];
        __syncwarp();
        softmax_row(
            row, P + i * len, qi, [&](int j, int d) { return K.at(j, d); }, len, L, drop,
            mask_first + i * len, lane);
        __syncwarp();
        for (int d = lane; d < L.HS; d += WARP) {
            float acc = 0.0f;
            for (int j = 0; j < len; ++j) acc += row[j] * V.at(j, d);
            out[at + i * L.C + d] = acc;
        }
        __syncwarp();  // row and qi are rewritten by the next row
    }
}

// Phase 1, a warp per query row i: dP = (dout V^T) o F, r = sum_j dP_ij P_ij (double),
// dS = P o (dP - r) * scale into scratch (and dropout(P) when dropout is on), dQ = dS K.
// Phase 2, a thread per (key j, dimension d): dK = dS^T Q and dV = dropout(P)^T dout, summed
// over i in order. scratch holds dS (and dropout(P)) in the probs' layout; pd_at is where the
// dropout(P) copy starts. Not restrict: phase 2 reads what phase 1 wrote.
__global__ void __launch_bounds__(FULL_THREADS_LONG)
    attention_backward_kernel(float* __restrict__ dq, float* __restrict__ dk,
                              float* __restrict__ dv, float* scratch, int64_t pd_at,
                              const float* __restrict__ dout, const float* __restrict__ q,
                              const float* __restrict__ k, const float* __restrict__ v,
                              const float* probs, const int32_t* __restrict__ offsets, Layout L,
                              Dropout drop) {
    extern __shared__ float smem[];
    const BlockPair bp = block_pair(offsets, L, smem);
    if (bp.len == 0) return;  // the whole block, before any barrier
    const auto [len, lane, warp, nwarps, mask_first, at, row, slices] = bp;
    float* gi = row + L.max_len;
    const float* P = probs + mask_first;
    float* dS = scratch + mask_first;
    float* PD = drop.on ? scratch + pd_at + mask_first : nullptr;

    const Rows K = stage(slices, k + at, len, L);
    const Rows V = stage(slices + len * L.stride, v + at, len, L);
    __syncthreads();
    for (int i = warp; i < len; i += nwarps) {
        for (int d = lane; d < L.HS; d += WARP) gi[d] = dout[at + i * L.C + d];
        __syncwarp();
        double r = 0.0;
        for (int j = lane; j < len; j += WARP) {
            float acc = 0.0f;
            for (int d = 0; d < L.HS; ++d) acc += gi[d] * V.at(j, d);
            const float pij = P[i * len + j];
            if (drop.on) {
                const float f = drop_factor(drop, mask_first + i * len + j);
                acc *= f;
                PD[i * len + j] = pij * f;
            }
            row[j] = acc;
            r += static_cast<double>(acc) * static_cast<double>(pij);
        }
        const float rt = static_cast<float>(warp_sum(r));
        for (int j = lane; j < len; j += WARP) {
            const float ds = P[i * len + j] * (row[j] - rt) * L.scale;
            row[j] = ds;
            dS[i * len + j] = ds;
        }
        __syncwarp();
        for (int d = lane; d < L.HS; d += WARP) {
            float acc = 0.0f;
            for (int j = 0; j < len; ++j) acc += row[j] * K.at(j, d);
            dq[at + i * L.C + d] = acc;
        }
        __syncwarp();
    }
    __syncthreads();  // dS and dropout(P) complete; K and V no longer read

    const Rows Q = stage(slices, q + at, len, L);
    const Rows G = stage(slices + len * L.stride, dout + at, len, L);
    __syncthreads();
    const float* PDr = drop.on ? PD : P;  // the P that multiplied dout in the forward
    for (int idx = threadIdx.x; idx < len * L.HS; idx += blockDim.x) {
        const int j = idx / L.HS, d = idx - j * L.HS;
        float ak = 0.0f, av = 0.0f;
        for (int i = 0; i < len; ++i) {
            ak += dS[i * len + j] * Q.at(i, d);
            av += PDr[i * len + j] * G.at(i, d);
        }
        dk[at + j * L.C + d] = ak;
        dv[at + j * L.C + d] = av;
    }
}

// ---- the first-query op: one warp per (sequence, head) pair, FIRST_QUERY_THREADS / 32 pairs a
// block. Lanes take keys, then head dimensions, as in the full op. probs_first holds the pair's
// row at NH * t0 + h * len.

struct Pair {
    int len;
    int64_t mask_first;  // row 0 of the pair's block in the full op's mask numbering
    int64_t at;          // the pair's key 0 in k, v, dk, dv: t0 * C + h * HS
    int64_t row_at;      // its row in q_first, out_first, ...: b * C + h * HS
    int64_t probs_at;    // its probabilities in probs_first: NH * t0 + h * len
};

// The warp's pair, or len 0 when there is none (past the end, or an empty sequence).
__device__ Pair first_query_pair(const int32_t* offsets, int64_t B, const Layout& L, int lane) {
    Pair pr{};
    const int64_t w = static_cast<int64_t>(blockIdx.x) * (blockDim.x / WARP) + threadIdx.x / WARP;
    if (w >= B * L.NH) return pr;
    const int64_t b = w / L.NH, h = w % L.NH, t0 = offsets[b];
    pr.len = offsets[b + 1] - offsets[b];
    if (pr.len == 0) return pr;
    pr.mask_first = sequence_base(offsets, b, L.NH, lane) + h * pr.len * pr.len;
    pr.at = t0 * L.C + h * L.HS;
    pr.row_at = b * L.C + h * L.HS;
    pr.probs_at = L.NH * t0 + h * pr.len;
    return pr;
}

__global__ void __launch_bounds__(FIRST_QUERY_THREADS)
    first_query_forward_kernel(float* __restrict__ out_first, float* __restrict__ probs_first,
                               const float* __restrict__ q_first, const float* __restrict__ k,
                               const float* __restrict__ v, const int32_t* __restrict__ offsets,
                               int64_t B, Layout L, Dropout drop) {
    extern __shared__ float smem[];
    const int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
    const Pair pr = first_query_pair(offsets, B, L, lane);
    if (pr.len == 0) return;  // the whole warp; this kernel has no block barrier
    const auto [len, mask_first, at, row_at, probs_at] = pr;
    float* row = smem + warp * (L.max_len + L.HS);
    float* q0 = row + L.max_len;
    float* P0 = probs_first + probs_at;
    for (int d = lane; d < L.HS; d += WARP) q0[d] = q_first[row_at + d];
    __syncwarp();
    softmax_row(
        row, P0, q0, [&](int j, int d) { return k[at + j * L.C + d]; }, len, L, drop, mask_first,
        lane);
    __syncwarp();
    for (int d = lane; d < L.HS; d += WARP) {
        float acc = 0.0f;
        for (int j = 0; j < len; ++j) acc += row[j] * v[at + j * L.C + d];
        out_first[row_at + d] = acc;
    }
}

// dP_j = (dout0 . v_j) F_j, r = sum_j dP_j P_j (double), dS_j = P_j (dP_j - r) scale;
// dq0 = sum_j dS_j k_j; dk_j = dS_j q0 and dv_j = P_j F_j dout0 for every key.
__global__ void __launch_bounds__(FIRST_QUERY_THREADS)
    first_query_backward_kernel(float* __restrict__ dq_first, float* __restrict__ dk,
                                float* __restrict__ dv, const float* __restrict__ dout_first,
                                const float* __restrict__ q_first, const float* __restrict__ k,
                                const float* __restrict__ v, const float* __restrict__ probs_first,
                                const int32_t* __restrict__ offsets, int64_t B, Layout L,
                                Dropout drop) {
    extern __shared__ float smem[];
    const int lane = threadIdx.x % WARP, warp = threadIdx.x / WARP;
    const Pair pr = first_query_pair(offsets, B, L, lane);
    if (pr.len == 0) return;  // the whole warp; this kernel has no block barrier
    const auto [len, mask_first, at, row_at, probs_at] = pr;
    float* ds = smem + warp * (2 * L.max_len + 2 * L.HS);
    float* pd = ds + L.max_len;
    float* q0 = pd + L.max_len;
    float* g0 = q0 + L.HS;
    const float* P0 = probs_first + probs_at;
    for (int d = lane; d < L.HS; d += WARP) {
        q0[d] = q_first[row_at + d];
        g0[d] = dout_first[row_at + d];
    }
    __syncwarp();
    double r = 0.0;
    for (int j = lane; j < len; j += WARP) {
        float acc = 0.0f;
        for (int d = 0; d < L.HS; ++d) acc += g0[d] * v[at + j * L.C + d];
        const float p = P0[j];
        float pdj = p;
        if (drop.on) {
            const float f = drop_factor(drop, mask_first + j);
            acc *= f;
            pdj = p * f;
        }
        ds[j] = acc;
        pd[j] = pdj;
        r += static_cast<double>(acc) * static_cast<double>(p);
    }
    const float rt = static_cast<float>(warp_sum(r));
    for (int j = lane; j < len; j += WARP) ds[j] = P0[j] * (ds[j] - rt) * L.scale;
    __syncwarp();
    for (int d = lane; d < L.HS; d += WARP) {
        float acc = 0.0f;
        for (int j = 0; j < len; ++j) acc += ds[j] * k[at + j * L.C + d];
        dq_first[row_at + d] = acc;
    }
    for (int j = 0; j < len; ++j)
        for (int d = lane; d < L.HS; d += WARP) {
            dk[at + j * L.C + d] = ds[j] * q0[d];
            dv[at + j * L.C + d] = pd[j] * g0[d];
        }
}

// ---- host side -----------------------------------------------------------------------------

int max_length(const int32_t* offsets, int64_t B) {
    int m = 0;
    for (int64_t b = 0; b < B; ++b) m = std::max(m, offsets[b + 1] - offsets[b]);
    return m;
}

Layout base_layout(int64_t NH, int64_t HS, int max_len) {
    Layout L;
    L.C = NH * HS;
    L.NH = static_cast<int>(NH);
    L.HS = static_cast<int>(HS);
    L.max_len = max_len;
    L.stride = 0;
    L.scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(HS)));
    return L;
}

// The full op's launch: block size, shared memory, and whether K and V are staged (an odd row
// stride spreads a column's reads over the banks when lanes take keys).
struct FullLaunch {
    Layout L;
    int threads;
    size_t smem;
};

FullLaunch full_launch(int64_t NH, int64_t HS, int max_len) {
    FullLaunch fl{base_layout(NH, HS, max_len),
                  max_len <= 64 ? FULL_THREADS_SHORT : FULL_THREADS_LONG, 0};
    const size_t per_warp = static_cast<size_t>(max_len + HS) * sizeof(float);
    const size_t rows = per_warp * static_cast<size_t>(fl.threads / WARP);
    const int stride = static_cast<int>(HS | 1);
    const size_t slices = 2 * static_cast<size_t>(max_len) * stride * sizeof(float);
    if (rows + slices <= STAGE_BUDGET) {
        fl.L.stride = stride;
        fl.smem = rows + slices;
    } else {
        fl.smem = rows;
    }
    return fl;
}

template <class Kernel>
void allow_smem(Kernel* kernel, size_t bytes) {
    if (bytes > DEFAULT_SMEM)
        FT_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                           static_cast<int>(bytes)));
}

unsigned pair_grid(int64_t B, int64_t NH, int pairs_per_block) {
    const int64_t pairs = B * NH;
    const int64_t blocks = (pairs + pairs_per_block - 1) / pairs_per_block;
    FT_ASSERT(blocks <= 0x7fffffff, "attention: too many (sequence, head) pairs for one grid");
    return static_cast<unsigned>(blocks);
}

// A first-query launch: the offsets on the device, the layout, a warp per pair, and each warp's
// shared memory, `rows` times (max_len + HS) floats. max_len 0: nothing to launch.
struct FirstQueryLaunch {
    const int32_t* offsets;
    Layout L;
    unsigned grid;
    size_t smem;
};

FirstQueryLaunch first_query_launch(const Context& ctx, const int32_t* host_offsets, int64_t B,
                                    int64_t NH, int64_t HS, int rows) {
    FirstQueryLaunch fq{};
    const int max_len = B > 0 ? max_length(host_offsets, B) : 0;
    fq.L = base_layout(NH, HS, max_len);
    if (max_len == 0) return fq;
    fq.offsets = offsets_and_scratch(ctx, host_offsets, B, 0).offsets;
    constexpr int pairs_per_block = FIRST_QUERY_THREADS / WARP;
    fq.grid = pair_grid(B, NH, pairs_per_block);
    fq.smem = static_cast<size_t>(pairs_per_block) * rows * (max_len + HS) * sizeof(float);
    return fq;
}

}  // namespace

void attention_forward(const Context& ctx, float* out, float* probs, const float* q, const float* k,
                       const float* v, const int32_t* offsets, int64_t B, int64_t NH, int64_t HS,
                       double dropout_p, const Philox* rng, uint64_t rng_offset) {
    const int max_len = B > 0 ? max_length(offsets, B) : 0;
    if (max_len == 0) return;  // no tokens: nothing to write
    const OffsetsAndScratch os = offsets_and_scratch(ctx, offsets, B, 0);
    const FullLaunch fl = full_launch(NH, HS, max_len);
    allow_smem(attention_forward_kernel, fl.smem);
    attention_forward_kernel<<<pair_grid(B, NH, 1), fl.threads, fl.smem, stream_of(ctx)>>>(
        out, probs, q, k, v, os.offsets, fl.L, make_dropout(dropout_p, rng, rng_offset));
    check_launch("attention_forward_kernel");
}

void attention_backward(const Context& ctx, float* dq, float* dk, float* dv, const float* dout,
                        const float* q, const float* k, const float* v, const float* probs,
                        const int32_t* offsets, int64_t B, int64_t NH, int64_t HS, double dropout_p,
                        const Philox* rng, uint64_t rng_offset) {
    const int max_len = B > 0 ? max_length(offsets, B) : 0;
    if (max_len == 0) return;
    const Dropout drop = make_dropout(dropout_p, rng, rng_offset);
    // Scratch: dS in the probs' layout, then dropout(P) in the same layout when dropout is on.
    const int64_t nprobs = ft::ops::attention_probs_size(offsets, B, NH);
    const size_t scratch_bytes = static_cast<size_t>(drop.on ? 2 * nprobs : nprobs) * sizeof(float);
    const OffsetsAndScratch os = offsets_and_scratch(ctx, offsets, B, scratch_bytes);
    const FullLaunch fl = full_launch(NH, HS, max_len);
    allow_smem(attention_backward_kernel, fl.smem);
    attention_backward_kernel<<<pair_grid(B, NH, 1), fl.threads, fl.smem, stream_of(ctx)>>>(
        dq, dk, dv, static_cast<float*>(os.rest), nprobs, dout, q, k, v, probs, os.offsets, fl.L,
        drop);
    check_launch("attention_backward_kernel");
}

void attention_first_query_forward(const Context& ctx, float* out_first, float* probs_first,
                                   const float* q_first, const float* k, const float* v,
                                   const int32_t* offsets, int64_t B, int64_t NH, int64_t HS,
                                   double dropout_p, const Philox* rng, uint64_t rng_offset) {
    const FirstQueryLaunch fq = first_query_launch(ctx, offsets, B, NH, HS, 1);
    if (fq.L.max_len == 0) return;
    allow_smem(first_query_forward_kernel, fq.smem);
    first_query_forward_kernel<<<fq.grid, FIRST_QUERY_THREADS, fq.smem, stream_of(ctx)>>>(
        out_first, probs_first, q_first, k, v, fq.offsets, B, fq.L,
        make_dropout(dropout_p, rng, rng_offset));
    check_launch("first_query_forward_kernel");
}

void attention_first_query_backward(const Context& ctx, float* dq_first, float* dk, float* dv,
                                    const float* dout_first, const float* q_first, const float* k,
                                    const float* v, const float* probs_first,
                                    const int32_t* offsets, int64_t B, int64_t NH, int64_t HS,
                                    double dropout_p, const Philox* rng, uint64_t rng_offset) {
    const FirstQueryLaunch fq = first_query_launch(ctx, offsets, B, NH, HS, 2);
    if (fq.L.max_len == 0) return;
    allow_smem(first_query_backward_kernel, fq.smem);
    first_query_backward_kernel<<<fq.grid, FIRST_QUERY_THREADS, fq.smem, stream_of(ctx)>>>(
        dq_first, dk, dv, dout_first, q_first, k, v, probs_first, fq.offsets, B, fq.L,
        make_dropout(dropout_p, rng, rng_offset));
    check_launch("first_query_backward_kernel");
}

}  // namespace ft::ops::cuda
