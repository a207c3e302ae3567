// Speed of the encoder's kernels on DistilBERT's real shapes: a packed batch of 16 CoLA-like
// sequences (~11 tokens, so N = 180 tokens), C = 768, F = 3072, NH = 12, HS = 64. Reports GFLOP/s
// for the GEMM-shaped ops, on wall-clock time. Threads: FT_NUM_THREADS (default: all cores).
#include <benchmark/benchmark.h>

#include <vector>

#include "finetune/core.h"
#include "ops/ops.h"

namespace {

constexpr int64_t N_TOKENS = 180;

std::vector<float> filled(int64_t n, uint64_t seed, float scale = 1.0f) {
    const ft::Philox rng(seed);
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[i] = scale * (2.0f * rng.uniform(i) - 1.0f);
    return v;
}

benchmark::Counter gflops(double flop_per_iteration) {
    return benchmark::Counter(flop_per_iteration * 1e-9,
                              benchmark::Counter::kIsIterationInvariantRate);
}

// ---- linear: args (I, O) -------------------------------------------------------------------

void BM_linear_forward(benchmark::State& state) {
    const int64_t N = N_TOKENS, I = state.range(0), O = state.range(1);
    const auto x = filled(N * I, 1), w = filled(O * I, 2, 0.05f), b = filled(O, 3);
    std::vector<float> y(N * O);
    for (auto _ : state) {
        ft::ops::linear_forward(ft::ops::cpu_context(), y.data(), x.data(), w.data(), b.data(), N,
                                I, O);
        benchmark::DoNotOptimize(y.data());
    }
    state.counters["GFLOP/s"] = gflops(2.0 * N * I * O);
}

void BM_linear_backward(benchmark::State& state) {
    const int64_t N = N_TOKENS, I = state.range(0), O = state.range(1);
    const auto x = filled(N * I, 1), w = filled(O * I, 2, 0.05f), dy = filled(N * O, 3);
    std::vector<float> dx(N * I), dw(O * I), db(O);
    for (auto _ : state) {
        ft::ops::linear_backward(ft::ops::cpu_context(), dx.data(), dw.data(), db.data(), dy.data(),
                                 x.data(), w.data(), N, I, O, false);
        benchmark::DoNotOptimize(dw.data());
    }
    state.counters["GFLOP/s"] = gflops(4.0 * N * I * O);  // dinp and dweight
}

#define FT_LINEAR_SHAPES ->Args({768, 768})->Args({768, 3072})->Args({3072, 768})
BENCHMARK(BM_linear_forward) FT_LINEAR_SHAPES->UseRealTime();
BENCHMARK(BM_linear_backward) FT_LINEAR_SHAPES->UseRealTime();

// ---- attention: args (sequence length, dropout in percent); 16 sequences, NH 12, HS 64 --------

struct AttentionData {
    static constexpr int64_t B = 16, NH = 12, HS = 64, C = NH * HS;
    int64_t len, ntok;
    std::vector<int32_t> offsets;
    std::vector<float> q, k, v, ctx, probs, dctx, dq, dk, dv;
    explicit AttentionData(int64_t l) : len(l), ntok(B * l) {
        for (int64_t b = 0; b <= B; ++b) offsets.push_back(static_cast<int32_t>(b * len));
        q = filled(ntok * C, 1), k = filled(ntok * C, 2), v = filled(ntok * C, 3);
        dctx = filled(ntok * C, 4);
        ctx.resize(ntok * C), dq.resize(ntok * C), dk.resize(ntok * C), dv.resize(ntok * C);
        probs.resize(ft::ops::attention_probs_size(offsets.data(), B, NH));
    }
    double flop_per_product() const { return 2.0 * B * NH * len * len * HS; }
};

void BM_attention_forward(benchmark::State& state) {
    AttentionData a(state.range(0));
    const double p = static_cast<double>(state.range(1)) / 100.0;
    const ft::Philox rng(7);
    for (auto _ : state) {
        ft::ops::attention_forward(ft::ops::cpu_context(), a.ctx.data(), a.probs.data(), a.q.data(),
                                   a.k.data(), a.v.data(), a.offsets.data(), a.B, a.NH, a.HS, p,
                                   &rng, 0);
        benchmark::DoNotOptimize(a.ctx.data());
    }
    state.counters["GFLOP/s"] = gflops(2 * a.flop_per_product());  // QK^T and PV
}

void BM_attention_backward(benchmark::State& state) {
    AttentionData a(state.range(0));
    const double p = static_cast<double>(state.range(1)) / 100.0;
    const ft::Philox rng(7);
    ft::ops::attention_forward(ft::ops::cpu_context(), a.ctx.data(), a.probs.data(), a.q.data(),
                               a.k.data(), a.v.data(), a.offsets.data(), a.B, a.NH, a.HS, p, &rng,
                               0);
    for (auto _ : state) {
        ft::ops::attention_backward(ft::ops::cpu_context(), a.dq.data(), a.dk.data(), a.dv.data(),
                                    a.dctx.data(), a.q.data(), a.k.data(), a.v.data(),
                                    a.probs.data(), a.offsets.data(), a.B, a.NH, a.HS, p, &rng, 0);
        benchmark::DoNotOptimize(a.dq.data());
    }
    state.counters["GFLOP/s"] = gflops(4 * a.flop_per_product());  // dP, dV, dQ, dK
}

#define FT_ATTENTION_ARGS ->Args({11, 0})->Args({11, 10})->Args({64, 10})->Args({128, 10})
BENCHMARK(BM_attention_forward) FT_ATTENTION_ARGS->UseRealTime();
BENCHMARK(BM_attention_backward) FT_ATTENTION_ARGS->UseRealTime();

// ---- the memory-bound ops of one layer, for scale ----------------------------------------------

void BM_layernorm_forward_backward(benchmark::State& state) {
    const int64_t T = N_TOKENS, C = 768;
    const auto x = filled(T * C, 1), w = filled(C, 2), b = filled(C, 3), dy = filled(T * C, 4);
    std::vector<float> y(T * C), mean(T), rstd(T), dx(T * C), dw(C), db(C);
    for (auto _ : state) {
        ft::ops::layernorm_forward(ft::ops::cpu_context(), y.data(), mean.data(), rstd.data(),
                                   x.data(), w.data(), b.data(), T, C, 1e-12);
        ft::ops::layernorm_backward(ft::ops::cpu_context(), dx.data(), dw.data(), db.data(),
                                    dy.data(), x.data(), w.data(), mean.data(), rstd.data(), T, C);
        benchmark::DoNotOptimize(dx.data());
    }
}
BENCHMARK(BM_layernorm_forward_backward)->UseRealTime();

void BM_gelu_forward_backward(benchmark::State& state) {
    const int64_t n = N_TOKENS * 3072;
    const auto x = filled(n, 1, 3.0f), dy = filled(n, 2);
    std::vector<float> y(n), dx(n);
    for (auto _ : state) {
        ft::ops::activation_forward(ft::ops::cpu_context(), ft::Activation::GELU, y.data(),
                                    x.data(), n);
        ft::ops::activation_backward<float>(ft::ops::cpu_context(), ft::Activation::GELU, dx.data(),
                                            dy.data(), x.data(), nullptr, n);
        benchmark::DoNotOptimize(dx.data());
    }
}
BENCHMARK(BM_gelu_forward_backward)->UseRealTime();

void BM_dropout_forward(benchmark::State& state) {
    const int64_t n = N_TOKENS * 768;
    const auto x = filled(n, 1);
    std::vector<float> y(n);
    const ft::Philox rng(3);
    for (auto _ : state) {
        ft::ops::dropout_forward(ft::ops::cpu_context(), y.data(), x.data(), n, 0.1, rng, 0);
        benchmark::DoNotOptimize(y.data());
    }
}
BENCHMARK(BM_dropout_forward)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
