// Load time of a full-size checkpoint (distilbert-base-uncased shape, 66,955,010 parameters):
// safetensors (mmap, zero-copy views) against pytorch_model.bin (zip + restricted unpickler),
// the raw readers and the whole from_pretrained (which copies into the flat f32 weights).
// Data: FT_BENCH_CHECKPOINTS=DIR from tools/make_full_checkpoint.py (scripts/run-benchmarks.sh).
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "finetune/model.h"

namespace {

ft::fs::path checkpoints() {
    const char* d = std::getenv("FT_BENCH_CHECKPOINTS");
    return d ? d : "build/bench_data/full_distilbert";
}

// Touch one float per page so that lazily mapped bytes are really read, as training would.
double touch(const ft::StateDict& sd) {
    double s = 0;
    for (const auto& [name, t] : sd.entries()) {
        const auto* p = static_cast<const unsigned char*>(t.data);
        for (size_t i = 0; i < t.nbytes(); i += 4096) s += p[i];
    }
    return s;
}

void BM_read_safetensors(benchmark::State& state) {
    for (auto _ : state) {
        auto f = ft::read_safetensors(checkpoints() / "safetensors/model.safetensors");
        benchmark::DoNotOptimize(touch(f.tensors));
    }
}

void BM_read_pytorch_bin(benchmark::State& state) {
    for (auto _ : state) {
        auto sd = ft::read_pytorch_bin(checkpoints() / "bin/pytorch_model.bin");
        benchmark::DoNotOptimize(touch(sd));
    }
}

void BM_from_pretrained_safetensors(benchmark::State& state) {
    for (auto _ : state) {
        auto m = ft::load_pretrained(checkpoints() / "safetensors");
        benchmark::DoNotOptimize(m.weights.flat());
    }
}

void BM_from_pretrained_bin(benchmark::State& state) {
    for (auto _ : state) {
        auto m = ft::load_pretrained(checkpoints() / "bin");
        benchmark::DoNotOptimize(m.weights.flat());
    }
}

}  // namespace

BENCHMARK(BM_read_safetensors)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_read_pytorch_bin)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_from_pretrained_safetensors)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_from_pretrained_bin)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK_MAIN();
