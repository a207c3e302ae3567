// The GEMM bake-off behind the choice of oneDNN: the linear layers' forward product
// out (N,O) = inp (N,I) W^T on DistilBERT's shapes (N = 180 packed tokens) through cblas_sgemm of
// one BLAS library (OpenBLAS or BLIS, picked at build time: both export cblas_sgemm, so each gets
// its own executable) and through ft::ops::linear_forward (oneDNN) in the same process.
// Threads: FT_NUM_THREADS (default: all cores), applied to the BLAS too.
#include <benchmark/benchmark.h>

#include <cblas.h>

#include <string>
#include <vector>

#include "finetune/core.h"
#include "ops/ops.h"

#if defined(FT_GEMM_BLIS)
#include <blis.h>
#endif

namespace {

constexpr int64_t N_TOKENS = 180;

std::vector<float> filled(int64_t n, uint64_t seed) {
    const ft::Philox rng(seed);
    std::vector<float> v(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) v[i] = 2.0f * rng.uniform(i) - 1.0f;
    return v;
}

void set_blas_threads(int n) {
#if defined(FT_GEMM_OPENBLAS)
    openblas_set_num_threads(n);
#elif defined(FT_GEMM_BLIS)
    bli_thread_set_num_threads(n);
#endif
}

struct Operands {
    int64_t N, I, O;
    std::vector<float> x, w, y;
    Operands(int64_t i, int64_t o)
        : N(N_TOKENS), I(i), O(o), x(filled(N * I, 1)), w(filled(O * I, 2)), y(N * O) {}
    benchmark::Counter gflops() const {
        return benchmark::Counter(2.0 * N * I * O * 1e-9,
                                  benchmark::Counter::kIsIterationInvariantRate);
    }
};

void BM_sgemm_blas(benchmark::State& state) {
    Operands m(state.range(0), state.range(1));
    set_blas_threads(ft::get_num_threads());
    for (auto _ : state) {
        // Row-major out = x W^T, W stored (O, I) as torch.nn.Linear keeps it.
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m.N),
                    static_cast<int>(m.O), static_cast<int>(m.I), 1.0f, m.x.data(),
                    static_cast<int>(m.I), m.w.data(), static_cast<int>(m.I), 0.0f, m.y.data(),
                    static_cast<int>(m.O));
        benchmark::DoNotOptimize(m.y.data());
    }
    state.counters["GFLOP/s"] = m.gflops();
    state.SetLabel(FT_GEMM_NAME);
}

void BM_sgemm_onednn(benchmark::State& state) {
    Operands m(state.range(0), state.range(1));
    for (auto _ : state) {
        ft::ops::linear_forward(m.y.data(), m.x.data(), m.w.data(),
                                static_cast<const float*>(nullptr), m.N, m.I, m.O);
        benchmark::DoNotOptimize(m.y.data());
    }
    state.counters["GFLOP/s"] = m.gflops();
    state.SetLabel("oneDNN");
}

#define FT_LINEAR_SHAPES ->Args({768, 768})->Args({768, 3072})->Args({3072, 768})
BENCHMARK(BM_sgemm_blas) FT_LINEAR_SHAPES->UseRealTime();
BENCHMARK(BM_sgemm_onednn) FT_LINEAR_SHAPES->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
