// Dataset.map with the tokenizer (the seed's preprocess, truncation=True) over SST-2 train
// (67,349 rows, ../shared/data), on 1 and 2 threads: rows/s and tokens/s.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <string>

#include "finetune/data.h"
#include "finetune/tokenizer.h"

namespace {

std::string shared() {
    const char* d = std::getenv("FT_SHARED_DIR");
    return d ? d : "../shared";
}

void BM_map_tokenize_sst2_train(benchmark::State& state) {
    static const ft::Dataset train =
        ft::load_glue_from_dir(ft::glue_task("sst2"), shared() + "/data/glue/sst2")["train"];
    static const ft::BertTokenizer tok = ft::BertTokenizer::from_vocab_file(
        shared() + "/data/tokenizers/bert-base-uncased/vocab.txt", {}, {}, 512);
    ft::TokenizeColumns spec;
    spec.options.truncation = ft::Truncation::LongestFirst;
    ft::MapOptions options;
    options.batched = true;
    options.num_threads = int(state.range(0));
    int64_t tokens = 0;
    for (auto _ : state) {
        const ft::Dataset out = train.map(
            [&](const ft::Dataset& batch) { return ft::tokenize_columns(tok, batch, spec); },
            options);
        tokens = int64_t(out.column("input_ids").list_values().size());
        benchmark::DoNotOptimize(tokens);
    }
    state.counters["rows/s"] =
        benchmark::Counter(double(train.num_rows()), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["tokens/s"] =
        benchmark::Counter(double(tokens), benchmark::Counter::kIsIterationInvariantRate);
    state.SetLabel(std::to_string(train.num_rows()) + " rows, " + std::to_string(tokens) +
                   " tokens");
}
BENCHMARK(BM_map_tokenize_sst2_train)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
