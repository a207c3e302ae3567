// Tokenizer throughput: every CoLA and SST-2 train sentence (../shared/data) encoded as the
// seed's map(preprocess) does ([CLS] A [SEP], truncation), on 1 and 2 threads. Reports
// sentences/s and tokens/s. The peer is tools/bench_tokenizer_peer.py (scripts/run-benchmarks.sh).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "finetune/tokenizer.h"

namespace {

std::string shared() {
    const char* d = std::getenv("FT_SHARED_DIR");
    return d ? d : "../shared";
}

// The sentence column of a GLUE TSV: CoLA's 4th (no header), SST-2's 1st (after a header).
std::vector<std::string> sentences() {
    std::vector<std::string> out;
    std::ifstream cola(shared() + "/data/glue/cola/train.tsv");
    for (std::string line; std::getline(cola, line);) {
        size_t tab = 0;
        for (int k = 0; k < 3; ++k) tab = line.find('\t', tab) + 1;
        out.push_back(line.substr(tab));
    }
    std::ifstream sst2(shared() + "/data/glue/sst2/train.tsv");
    std::string line;
    std::getline(sst2, line);  // header
    while (std::getline(sst2, line)) out.push_back(line.substr(0, line.find('\t')));
    return out;
}

void BM_encode_cola_sst2_train(benchmark::State& state) {
    static const std::vector<std::string> texts = sentences();
    static const ft::BertTokenizer tok = ft::BertTokenizer::from_vocab_file(
        shared() + "/data/tokenizers/bert-base-uncased/vocab.txt", {}, {}, 512);
    const int threads = int(state.range(0));
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    ft::EncodeOptions options;
    options.truncation = ft::Truncation::LongestFirst;
    int64_t tokens = 0;
    for (auto _ : state) {
        const auto encodings = tok.encode_batch(texts, {}, options);
        tokens = 0;
        for (const auto& e : encodings) tokens += e.length;
        benchmark::DoNotOptimize(tokens);
    }
    omp_set_num_threads(saved);
    state.counters["sentences/s"] =
        benchmark::Counter(double(texts.size()), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["tokens/s"] =
        benchmark::Counter(double(tokens), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["tokens/s/thread"] =
        benchmark::Counter(double(tokens) / threads, benchmark::Counter::kIsIterationInvariantRate);
    state.SetLabel(std::to_string(texts.size()) + " sentences, " + std::to_string(tokens) +
                   " tokens");
}
BENCHMARK(BM_encode_cola_sst2_train)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
