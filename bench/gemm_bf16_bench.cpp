// bf16 against float32 on DistilBERT's linear shapes: a packed batch of 16 CoLA-like sequences
// (N = 180 tokens) and a large one (N = 2048), weights 768x768, 768x3072 (FFN in) and 3072x768
// (FFN out). Args are (N, I, O); each GEMM is 2*N*I*O flops.
// - BM_gemm_<type>_<product>: the bare oneDNN matmul (DnnlBackend), operands already in the
//   type, float32 dst written (no accumulation): forward, backward data, backward weights.
// - BM_linear_<type>_{forward,backward}: the ops, as training calls them (bf16: the conversions
//   of the inputs and the roundings of the outputs included; f32: linear.cpp's routes).
// - BM_convert_*: float -> bf16 of an activation, the op's loop against oneDNN's reorder (the
//   choice linear_forward_bf16 makes).
// Threads: FT_NUM_THREADS (default: all cores).
#include <benchmark/benchmark.h>

#include <oneapi/dnnl/dnnl.hpp>
#include <vector>

#include "finetune/core.h"
#include "ops/cpu_features.h"
#include "ops/dnnl_backend.h"
#include "ops/ops.h"

namespace {

using ft::ops::Gemm;

std::vector<float> filled(int64_t n, uint64_t seed, float scale = 1.0f) {
    const ft::Philox rng(seed);
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[i] = scale * (2.0f * rng.uniform(i) - 1.0f);
    return v;
}

std::vector<uint16_t> bf16(const std::vector<float>& v) {
    std::vector<uint16_t> h(v.size());
    ft::ops::to_bf16(ft::ops::cpu_context(), h.data(), v.data(), static_cast<int64_t>(v.size()));
    return h;
}

benchmark::Counter gflops(double flop_per_iteration) {
    return benchmark::Counter(flop_per_iteration * 1e-9,
                              benchmark::Counter::kIsIterationInvariantRate);
}

bool skip_without_bf16(benchmark::State& state) {
    if (ft::ops::cpu_has_bf16_gemm()) return false;
    state.SkipWithError(ft::ops::cpu_bf16_missing().c_str());
    return true;
}

// The operands of one product of Gemm's table: src (M,K), weights (K,N'), dst (M,N').
struct Operands {
    std::vector<float> src, wei, dst;
    Operands(Gemm kind, int64_t N, int64_t I, int64_t O) {
        switch (kind) {
            case Gemm::FORWARD:  // x (N,I), W (O,I) -> (N,O)
                src = filled(N * I, 1), wei = filled(O * I, 2, 0.05f), dst.resize(N * O);
                break;
            case Gemm::BACKWARD_DATA:  // dout (N,O), W (O,I) -> (N,I)
                src = filled(N * O, 3), wei = filled(O * I, 2, 0.05f), dst.resize(N * I);
                break;
            case Gemm::BACKWARD_WEIGHTS:  // dout (N,O), x (N,I) -> (O,I)
                src = filled(N * O, 3), wei = filled(N * I, 1), dst.resize(O * I);
                break;
        }
    }
};

template <Gemm KIND, bool BF16>
void BM_gemm(benchmark::State& state) {
    if (BF16 && skip_without_bf16(state)) return;
    const int64_t N = state.range(0), I = state.range(1), O = state.range(2);
    Operands op(KIND, N, I, O);
    const auto src16 = bf16(op.src), wei16 = bf16(op.wei);
    ft::get_num_threads();  // FT_NUM_THREADS before oneDNN sizes its team
    ft::ops::DnnlBackend dnnl;
    for (auto _ : state) {
        if constexpr (BF16)
            dnnl.matmul_bf16(KIND, false, N, I, O, src16.data(), wei16.data(), nullptr,
                             op.dst.data());
        else
            dnnl.matmul(KIND, false, N, I, O, op.src.data(), op.wei.data(), nullptr, op.dst.data());
        benchmark::DoNotOptimize(op.dst.data());
    }
    state.counters["GFLOP/s"] = gflops(2.0 * N * I * O);
}

template <bool BF16>
void BM_linear_forward(benchmark::State& state) {
    if (BF16 && skip_without_bf16(state)) return;
    const int64_t N = state.range(0), I = state.range(1), O = state.range(2);
    const auto x = filled(N * I, 1), w = filled(O * I, 2, 0.05f), b = filled(O, 3);
    const auto w16 = bf16(w);
    std::vector<float> y(N * O);
    const auto& ctx = ft::ops::cpu_context();
    for (auto _ : state) {
        if constexpr (BF16)
            ft::ops::linear_forward_bf16(ctx, y.data(), x.data(), w16.data(), b.data(), N, I, O);
        else
            ft::ops::linear_forward(ctx, y.data(), x.data(), w.data(), b.data(), N, I, O);
        benchmark::DoNotOptimize(y.data());
    }
    state.counters["GFLOP/s"] = gflops(2.0 * N * I * O);
}

template <bool BF16>
void BM_linear_backward(benchmark::State& state) {
    if (BF16 && skip_without_bf16(state)) return;
    const int64_t N = state.range(0), I = state.range(1), O = state.range(2);
    const auto x = filled(N * I, 1), w = filled(O * I, 2, 0.05f), dy = filled(N * O, 3);
    const auto w16 = bf16(w);
    std::vector<float> dx(N * I), dw(O * I), db(O);
    const auto& ctx = ft::ops::cpu_context();
    for (auto _ : state) {
        if constexpr (BF16)
            ft::ops::linear_backward_bf16(ctx, dx.data(), dw.data(), db.data(), dy.data(), x.data(),
                                          w16.data(), N, I, O, false);
        else
            ft::ops::linear_backward(ctx, dx.data(), dw.data(), db.data(), dy.data(), x.data(),
                                     w.data(), N, I, O, false);
        benchmark::DoNotOptimize(dw.data());
    }
    state.counters["GFLOP/s"] = gflops(4.0 * N * I * O);  // dinp and dweight
}

// float -> bf16 of n = range(0) * range(1) elements.
void BM_convert_to_bf16_op(benchmark::State& state) {
    const int64_t n = state.range(0) * state.range(1);
    const auto x = filled(n, 1);
    std::vector<uint16_t> h(static_cast<size_t>(n));
    for (auto _ : state) {
        ft::ops::to_bf16(ft::ops::cpu_context(), h.data(), x.data(), n);
        benchmark::DoNotOptimize(h.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * n * 6);
}

void BM_convert_to_bf16_dnnl_reorder(benchmark::State& state) {
    const int64_t rows = state.range(0), cols = state.range(1), n = rows * cols;
    const auto x = filled(n, 1);
    std::vector<uint16_t> h(static_cast<size_t>(n));
    ft::get_num_threads();
    const dnnl::engine eng(dnnl::engine::kind::cpu, 0);
    dnnl::stream stream(eng);
    using md = dnnl::memory::desc;
    const md from({rows, cols}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::ab);
    const md to({rows, cols}, dnnl::memory::data_type::bf16, dnnl::memory::format_tag::ab);
    dnnl::memory mf(from, eng, const_cast<float*>(x.data())), mt(to, eng, h.data());
    const dnnl::reorder prim(dnnl::reorder::primitive_desc(eng, from, eng, to));
    for (auto _ : state) {
        prim.execute(stream, mf, mt);
        stream.wait();
        benchmark::DoNotOptimize(h.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * n * 6);
}

#define FT_SHAPES(N) ->Args({N, 768, 768})->Args({N, 768, 3072})->Args({N, 3072, 768})
#define FT_ALL_SHAPES FT_SHAPES(180) FT_SHAPES(2048)->UseRealTime()

BENCHMARK(BM_gemm<Gemm::FORWARD, false>) FT_ALL_SHAPES;
BENCHMARK(BM_gemm<Gemm::FORWARD, true>) FT_ALL_SHAPES;
BENCHMARK(BM_gemm<Gemm::BACKWARD_DATA, false>) FT_ALL_SHAPES;
BENCHMARK(BM_gemm<Gemm::BACKWARD_DATA, true>) FT_ALL_SHAPES;
BENCHMARK(BM_gemm<Gemm::BACKWARD_WEIGHTS, false>) FT_ALL_SHAPES;
BENCHMARK(BM_gemm<Gemm::BACKWARD_WEIGHTS, true>) FT_ALL_SHAPES;
BENCHMARK(BM_linear_forward<false>) FT_ALL_SHAPES;
BENCHMARK(BM_linear_forward<true>) FT_ALL_SHAPES;
BENCHMARK(BM_linear_backward<false>) FT_ALL_SHAPES;
BENCHMARK(BM_linear_backward<true>) FT_ALL_SHAPES;
BENCHMARK(BM_convert_to_bf16_op)->Args({180, 3072})->Args({2048, 3072})->UseRealTime();
BENCHMARK(BM_convert_to_bf16_dnnl_reorder)->Args({180, 3072})->Args({2048, 3072})->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
