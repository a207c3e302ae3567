// Fully connected layers on the GPU (ops.h's linear_forward / linear_backward, torch.nn.Linear's
// layout): the three products through cuBLASLt, fp32-exact unless the context's GEMM state asks
// for TF32, and the bias gradient as a column sum of fixed order, so that it is the same bits on
// every run.
#include <cublasLt.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "ops/cuda/cublaslt_api.cuh"
#include "ops/cuda/cuda_backend.cuh"
#include "ops/cuda/cuda_common.cuh"
#include "ops/ops_cuda.h"

// Row-major operands, column-major library. A row-major (r, c) matrix is, byte for byte, the
// column-major (c, r) matrix of its transpose with leading dimension c: W (O,I) is the
// column-major W^T (I x O), ld I. So each product is asked for transposed, and its result lands
// row-major. In cuBLAS's terms, D (m x n) = op(A) (m x k) op(B) (k x n), column-major:
//   forward          out (N,O) = inp W^T      ->  out^T (O x N) = (W^T)^T inp^T
//                    A = W^T (I x O) with op T, B = inp^T (I x N);  m = O, n = N, k = I
//   backward data    dinp (N,I) = dout W      ->  dinp^T (I x N) = W^T dout^T
//                    A = W^T (I x O), B = dout^T (O x N);           m = I, n = N, k = O
//   backward weights dW (O,I) += dout^T inp   ->  dW^T (I x O) += inp^T (dout^T)^T
//                    A = inp^T (I x N), B = dout^T (O x N) with op T; m = I, n = O, k = N
// The forward bias is a vector over D's rows (O): what CUBLASLT_EPILOGUE_BIAS adds.

namespace ft::ops::cuda {

// The three products of a linear layer (the table above).
enum class LinearProduct : uint8_t { FORWARD, BACKWARD_DATA, BACKWARD_WEIGHTS };

// cuBLASLt's handle, its workspace and the plans of the shapes seen so far, one per GPU context
// (created by the context's first GEMM, destroyed with its backend).
struct GemmState {
    // Element and compute types of a product: fp32 now; bf16 operands with fp32 accumulation
    // later (a,b,c bf16, compute 32F), through the same plan code.
    struct Types {
        cudaDataType_t a, b, c, bias, scale;
        cublasComputeType_t compute;
    };

    // Everything a plan depends on. The algorithm the heuristic returns assumes the alignments
    // it was asked for (the library's default is 256 bytes, more than views carved out of flat
    // buffers have), so they are part of the key; the bias pointer's alignment too, since the
    // heuristic reads it from the descriptor.
    struct PlanKey {
        LinearProduct product;
        int64_t N, I, O;
        bool accumulate;  // beta 1 (C = D is read) or 0
        bool bias;        // CUBLASLT_EPILOGUE_BIAS
        cublasComputeType_t compute;
        uint16_t align_a, align_b, align_d, align_bias;
        bool operator==(const PlanKey&) const = default;
    };
    struct PlanKeyHash {
        size_t operator()(const PlanKey& k) const noexcept {
            uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a over the fields' values
            const uint64_t fields[] = {
                static_cast<uint64_t>(k.product),
                static_cast<uint64_t>(k.N),
                static_cast<uint64_t>(k.I),
                static_cast<uint64_t>(k.O),
                static_cast<uint64_t>(k.accumulate) | static_cast<uint64_t>(k.bias) << 1,
                static_cast<uint64_t>(k.compute),
                static_cast<uint64_t>(k.align_a) | static_cast<uint64_t>(k.align_b) << 16 |
                    static_cast<uint64_t>(k.align_d) << 32 |
                    static_cast<uint64_t>(k.align_bias) << 48};
            for (uint64_t f : fields) h = (h ^ f) * 0x100000001b3ull;
            return static_cast<size_t>(h);
        }
    };
    // The descriptors and the chosen algorithm of one key; C and D share a layout (and memory).
    // A key the heuristic has no algorithm for is kept too (has_algo false), so that it is not
    // asked again.
    struct Plan {
        cublasLtMatmulDesc_t desc = nullptr;
        cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
        cublasLtMatmulAlgo_t algo{};
        bool has_algo = false;
    };

    // A packed batch's token count changes from batch to batch, and with it every key; past this
    // many plans the cache starts over rather than grow without bound (a plan is ~1 KB of host
    // memory; a heuristic query costs tens of microseconds of host time).
    static constexpr size_t MAX_PLANS = 4096;
    // NVIDIA's recommendation for Hopper; every plan may use all of it.
    static constexpr size_t WORKSPACE_BYTES = size_t{32} << 20;

    const CublasLtApi* lt = nullptr;
    cudaStream_t stream = nullptr;  // the backend's, for the wait before teardown
    cublasLtHandle_t handle = nullptr;
    void* workspace = nullptr;
    std::unordered_map<PlanKey, Plan, PlanKeyHash> plans;

    GemmState() = default;
    GemmState(const GemmState&) = delete;
    GemmState& operator=(const GemmState&) = delete;
    // Never throws: runs from the backend's destructor.
    ~GemmState() {
        if (stream) cudaStreamSynchronize(stream);  // queued GEMMs may still use the workspace
        clear_plans();
        if (workspace) cudaFree(workspace);
        if (handle) lt->destroy(handle);
    }

    void clear_plans() noexcept {
        for (auto& [key, plan] : plans) destroy_plan(plan);
        plans.clear();
    }
    void destroy_plan(Plan& plan) const noexcept {
        if (plan.a) lt->matrix_layout_destroy(plan.a);
        if (plan.b) lt->matrix_layout_destroy(plan.b);
        if (plan.d) lt->matrix_layout_destroy(plan.d);
        if (plan.desc) lt->matmul_desc_destroy(plan.desc);
    }
};

namespace {

// The column-major GEMM behind a product (see the table at the top): op(A) is m x k, op(B) k x n,
// D m x n; A and B are described as stored (a_rows x a_cols), before their transposition.
struct ColumnMajorShape {
    cublasOperation_t trans_a, trans_b;
    uint64_t a_rows, a_cols, b_rows, b_cols, m, n;
    int64_t lda, ldb, ldd;
};

ColumnMajorShape column_major_shape(LinearProduct product, int64_t N, int64_t I, int64_t O) {
    const auto u = [](int64_t x) { return static_cast<uint64_t>(x); };
    switch (product) {
        case LinearProduct::FORWARD:
            return {CUBLAS_OP_T, CUBLAS_OP_N, u(I), u(O), u(I), u(N), u(O), u(N), I, I, O};
        case LinearProduct::BACKWARD_DATA:
            return {CUBLAS_OP_N, CUBLAS_OP_N, u(I), u(O), u(O), u(N), u(I), u(N), I, O, I};
        case LinearProduct::BACKWARD_WEIGHTS:
            return {CUBLAS_OP_N, CUBLAS_OP_T, u(I), u(N), u(O), u(N), u(I), u(O), I, O, I};
    }
    FT_ASSERT(false, "column_major_shape: unknown product");
    return {};
}

const char* product_name(LinearProduct product) {
    switch (product) {
        case LinearProduct::FORWARD:
            return "forward";
        case LinearProduct::BACKWARD_DATA:
            return "backward data";
        case LinearProduct::BACKWARD_WEIGHTS:
            return "backward weights";
    }
    return "?";
}

GemmState::Types fp32_types(bool tf32) {
    return {CUDA_R_32F, CUDA_R_32F, CUDA_R_32F,
            CUDA_R_32F, CUDA_R_32F, tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F};
}

// The largest power of two (up to the library's 256) that divides the address.
uint16_t alignment_of(const void* p) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    uintptr_t align = 256;
    while (align > 1 && a % align != 0) align /= 2;
    return static_cast<uint16_t>(align);
}

void destroy_gemm_state(GemmState* state) {
    delete state;
}

// The context's GEMM state, created on its first GEMM: loading cuBLASLt happens here, so a
// machine without the library fails at the first linear layer with the loader's message.
GemmState& gemm_state(const Context& ctx) {
    CudaBackendImpl& backend = backend_of(ctx);
    if (backend.gemm) return *backend.gemm;
    auto state = std::make_unique<GemmState>();
    state->lt = &cublaslt();
    check_cublaslt(state->lt->create(&state->handle), "cublasLtCreate");
    FT_CUDA_CHECK(cudaMalloc(&state->workspace, GemmState::WORKSPACE_BYTES));
    state->stream = backend.cuda_stream();
    backend.destroy_gemm = &destroy_gemm_state;
    backend.gemm = state.release();
    return *backend.gemm;
}

template <class T>
void set_desc(const CublasLtApi& lt, cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attr,
              const T& value, const char* what) {
    check_cublaslt(lt.matmul_desc_set_attribute(desc, attr, &value, sizeof value), what);
}

void set_preference(const CublasLtApi& lt, cublasLtMatmulPreference_t pref,
                    cublasLtMatmulPreferenceAttributes_t attr, uint64_t value) {
    check_cublaslt(lt.preference_set_attribute(pref, attr, &value, sizeof value),
                   "cublasLtMatmulPreferenceSetAttribute");
}
void set_preference(const CublasLtApi& lt, cublasLtMatmulPreference_t pref,
                    cublasLtMatmulPreferenceAttributes_t attr, uint32_t value) {
    check_cublaslt(lt.preference_set_attribute(pref, attr, &value, sizeof value),
                   "cublasLtMatmulPreferenceSetAttribute");
}

// Builds the descriptors of `key` and asks the heuristic for its best algorithm (has_algo false
// when there is none). `plan` owns what was created so far when a call throws (the caller
// destroys it).
void build_plan(const GemmState& g, const GemmState::PlanKey& key, const GemmState::Types& types,
                const float* bias, GemmState::Plan& plan) {
    const CublasLtApi& lt = *g.lt;
    const ColumnMajorShape s = column_major_shape(key.product, key.N, key.I, key.O);

    check_cublaslt(lt.matmul_desc_create(&plan.desc, types.compute, types.scale),
                   "cublasLtMatmulDescCreate");
    set_desc(lt, plan.desc, CUBLASLT_MATMUL_DESC_TRANSA, static_cast<int32_t>(s.trans_a),
             "cublasLtMatmulDescSetAttribute(TRANSA)");
    set_desc(lt, plan.desc, CUBLASLT_MATMUL_DESC_TRANSB, static_cast<int32_t>(s.trans_b),
             "cublasLtMatmulDescSetAttribute(TRANSB)");
    if (key.bias) {
        set_desc(lt, plan.desc, CUBLASLT_MATMUL_DESC_EPILOGUE,
                 static_cast<uint32_t>(CUBLASLT_EPILOGUE_BIAS),
                 "cublasLtMatmulDescSetAttribute(EPILOGUE)");
        set_desc(lt, plan.desc, CUBLASLT_MATMUL_DESC_BIAS_DATA_TYPE,
                 static_cast<int32_t>(types.bias),
                 "cublasLtMatmulDescSetAttribute(BIAS_DATA_TYPE)");
        // The heuristic reads the pointer's alignment from here; each call sets its own.
        set_desc(lt, plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias,
                 "cublasLtMatmulDescSetAttribute(BIAS_POINTER)");
    }

    check_cublaslt(lt.matrix_layout_create(&plan.a, types.a, s.a_rows, s.a_cols, s.lda),
                   "cublasLtMatrixLayoutCreate(A)");
    check_cublaslt(lt.matrix_layout_create(&plan.b, types.b, s.b_rows, s.b_cols, s.ldb),
                   "cublasLtMatrixLayoutCreate(B)");
    check_cublaslt(lt.matrix_layout_create(&plan.d, types.c, s.m, s.n, s.ldd),
                   "cublasLtMatrixLayoutCreate(D)");

    cublasLtMatmulPreference_t pref = nullptr;
    check_cublaslt(lt.preference_create(&pref), "cublasLtMatmulPreferenceCreate");
    cublasLtMatmulHeuristicResult_t result{};
    int found = 0;
    cublasStatus_t status = CUBLAS_STATUS_SUCCESS;
    try {
        set_preference(lt, pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                       uint64_t{GemmState::WORKSPACE_BYTES});
        set_preference(lt, pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, uint32_t{key.align_a});
        set_preference(lt, pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, uint32_t{key.align_b});
        set_preference(lt, pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, uint32_t{key.align_d});
        set_preference(lt, pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, uint32_t{key.align_d});
        status = lt.algo_get_heuristic(g.handle, plan.desc, plan.a, plan.b, plan.d, plan.d, pref, 1,
                                       &result, &found);
    } catch (...) {
        lt.preference_destroy(pref);
        throw;
    }
    lt.preference_destroy(pref);
    if (status == CUBLAS_STATUS_NOT_SUPPORTED) return;  // the heuristic's "nothing fits"
    check_cublaslt(status, "cublasLtMatmulAlgoGetHeuristic");
    if (found < 1 || result.state != CUBLAS_STATUS_SUCCESS) return;
    plan.algo = result.algo;
    plan.has_algo = true;
}

Error no_algorithm(LinearProduct product, int64_t N, int64_t I, int64_t O) {
    return Error(std::string("cuBLASLt has no algorithm for the linear layer's ") +
                 product_name(product) + " product (N=" + std::to_string(N) +
                 ", I=" + std::to_string(I) + ", O=" + std::to_string(O) + ", fp32)");
}

const GemmState::Plan& plan_for(GemmState& g, const GemmState::PlanKey& key,
                                const GemmState::Types& types, const float* bias) {
    if (auto it = g.plans.find(key); it != g.plans.end()) return it->second;
    if (g.plans.size() >= GemmState::MAX_PLANS) g.clear_plans();
    GemmState::Plan plan;
    try {
        build_plan(g, key, types, bias, plan);
    } catch (...) {
        g.destroy_plan(plan);
        throw;
    }
    return g.plans.emplace(key, plan).first->second;
}

// d = op(a) op(b) (see the table at the top), plus the bias (forward only), plus d itself when
// accumulate, queued on the context's stream; false (nothing queued) when cuBLASLt has no
// algorithm for the shape, alignments and epilogue.
bool gemm(const Context& ctx, LinearProduct product, int64_t N, int64_t I, int64_t O,
          const float* a, const float* b, float* d, const float* bias, bool accumulate) {
    GemmState& g = gemm_state(ctx);
    const GemmState::Types types = fp32_types(ctx.tf32);
    const GemmState::PlanKey key{product,
                                 N,
                                 I,
                                 O,
                                 accumulate,
                                 bias != nullptr,
                                 types.compute,
                                 alignment_of(a),
                                 alignment_of(b),
                                 alignment_of(d),
                                 static_cast<uint16_t>(bias ? alignment_of(bias) : 0)};
    const GemmState::Plan& plan = plan_for(g, key, types, bias);
    if (!plan.has_algo) return false;
    if (bias)
        set_desc(*g.lt, plan.desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias,
                 "cublasLtMatmulDescSetAttribute(BIAS_POINTER)");
    // Host scalars (the default pointer mode), read when the call is queued.
    const float alpha = 1.0f, beta = accumulate ? 1.0f : 0.0f;
    check_cublaslt(
        g.lt->matmul(g.handle, plan.desc, &alpha, a, plan.a, b, plan.b, &beta, d, plan.d, d, plan.d,
                     &plan.algo, g.workspace, GemmState::WORKSPACE_BYTES, stream_of(ctx)),
        "cublasLtMatmul");
    return true;
}

constexpr int THREADS = 256;

// out (N,O) = bias broadcast over the rows, or 0: the product over an empty I.
__global__ void bias_rows_kernel(float* out, const float* bias, int64_t N, int64_t O) {
    const int64_t total = N * O;
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x)
        out[i] = bias ? bias[i % O] : 0.0f;
}

// The bias gradient, dbias += column sums of dout, in two passes of fixed shape: the rows are cut
// into parts of a size that depends on N alone; a block sums COLS columns of one part (LANES
// rows at a time, each lane a fixed stride of rows, the lanes then added in order) into one
// double per column; the second pass adds each column's parts in order. No atomics, and no
// order that depends on the GPU: the same bits on every run.
constexpr int DBIAS_COLS = 32;  // one warp reads 32 consecutive floats of a row
constexpr int DBIAS_LANES = 8;
constexpr int64_t DBIAS_MIN_ROWS_PER_PART = 256;
constexpr int64_t MAX_GRID_Y = 65535;

__global__ void column_part_sums_kernel(double* part_sums /*(parts, O)*/,
                                        const float* dout /*(N,O)*/, int64_t N, int64_t O,
                                        int64_t rows_per_part) {
    __shared__ double lane_sums[DBIAS_LANES][DBIAS_COLS];
    const int64_t col = static_cast<int64_t>(blockIdx.x) * DBIAS_COLS + threadIdx.x;
    const int64_t row_begin = static_cast<int64_t>(blockIdx.y) * rows_per_part;
    const int64_t row_end = row_begin + rows_per_part < N ? row_begin + rows_per_part : N;
    double sum = 0.0;
    if (col < O)
        for (int64_t r = row_begin + threadIdx.y; r < row_end; r += DBIAS_LANES)
            sum += static_cast<double>(dout[r * O + col]);
    lane_sums[threadIdx.y][threadIdx.x] = sum;
    __syncthreads();
    if (threadIdx.y == 0 && col < O) {
        double total = 0.0;
        for (int lane = 0; lane < DBIAS_LANES; ++lane) total += lane_sums[lane][threadIdx.x];
        part_sums[blockIdx.y * O + col] = total;
    }
}

__global__ void add_part_sums_kernel(float* dbias /*(O)*/, const double* part_sums, int64_t parts,
                                     int64_t O) {
    for (int64_t col = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; col < O;
         col += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        double total = 0.0;
        for (int64_t p = 0; p < parts; ++p) total += part_sums[p * O + col];
        // As the CPU's column_sums_add: the float gradient plus the double sum, rounded once.
        dbias[col] = static_cast<float>(static_cast<double>(dbias[col]) + total);
    }
}

void add_column_sums(const Context& ctx, float* dbias, const float* dout, int64_t N, int64_t O) {
    FT_ASSERT(ctx.workspace, "linear_backward: the context has no workspace");
    const int64_t rows_per_part =
        std::max(DBIAS_MIN_ROWS_PER_PART, (N + MAX_GRID_Y - 1) / MAX_GRID_Y);
    const int64_t parts = (N + rows_per_part - 1) / rows_per_part;
    double* part_sums =
        static_cast<double*>(ctx.workspace->get(static_cast<size_t>(parts * O) * sizeof(double)));
    const dim3 grid(static_cast<unsigned>((O + DBIAS_COLS - 1) / DBIAS_COLS),
                    static_cast<unsigned>(parts));
    const dim3 block(DBIAS_COLS, DBIAS_LANES);
    column_part_sums_kernel<<<grid, block, 0, stream_of(ctx)>>>(part_sums, dout, N, O,
                                                                rows_per_part);
    check_launch("column_part_sums_kernel");
    add_part_sums_kernel<<<blocks_for(O, THREADS), THREADS, 0, stream_of(ctx)>>>(dbias, part_sums,
                                                                                 parts, O);
    check_launch("add_part_sums_kernel");
}

}  // namespace

void linear_forward(const Context& ctx, float* out, const float* inp, const float* weight,
                    const float* bias, int64_t N, int64_t I, int64_t O) {
    if (N == 0 || O == 0) return;
    if (I == 0) {  // no product (cuBLASLt rejects k = 0): only the bias, or zeros
        bias_rows_kernel<<<blocks_for(N * O, THREADS), THREADS, 0, stream_of(ctx)>>>(out, bias, N,
                                                                                     O);
        check_launch("bias_rows_kernel");
        return;
    }
    if (gemm(ctx, LinearProduct::FORWARD, N, I, O, weight, inp, out, bias, /*accumulate=*/false))
        return;
    // No algorithm takes the bias epilogue here (an odd alignment, say): the bias rows first,
    // then the product added onto them.
    if (bias) {
        bias_rows_kernel<<<blocks_for(N * O, THREADS), THREADS, 0, stream_of(ctx)>>>(out, bias, N,
                                                                                     O);
        check_launch("bias_rows_kernel");
        if (gemm(ctx, LinearProduct::FORWARD, N, I, O, weight, inp, out, nullptr,
                 /*accumulate=*/true))
            return;
    }
    throw no_algorithm(LinearProduct::FORWARD, N, I, O);
}

void linear_backward(const Context& ctx, float* dinp, float* dweight, float* dbias,
                     const float* dout, const float* inp, const float* weight, int64_t N, int64_t I,
                     int64_t O, bool accumulate_dinp) {
    if (N > 0 && I > 0 && O > 0) {
        if (dinp && !gemm(ctx, LinearProduct::BACKWARD_DATA, N, I, O, weight, dout, dinp, nullptr,
                          accumulate_dinp))
            throw no_algorithm(LinearProduct::BACKWARD_DATA, N, I, O);
        if (!gemm(ctx, LinearProduct::BACKWARD_WEIGHTS, N, I, O, inp, dout, dweight, nullptr,
                  /*accumulate=*/true))
            throw no_algorithm(LinearProduct::BACKWARD_WEIGHTS, N, I, O);
    } else if (dinp && !accumulate_dinp && N * I > 0) {  // nothing flows; a written dinp is 0
        FT_CUDA_CHECK(
            cudaMemsetAsync(dinp, 0, static_cast<size_t>(N * I) * sizeof(float), stream_of(ctx)));
    }
    if (dbias && N > 0 && O > 0) add_column_sums(ctx, dbias, dout, N, O);
}

}  // namespace ft::ops::cuda
