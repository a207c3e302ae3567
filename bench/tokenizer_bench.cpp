// Tokenizer throughput: every CoLA and SST-2 train sentence (../shared/data) encoded as the
// seed's map(preprocess) does ([CLS] A [SEP] or <s> A </s>, truncation), on 1 and 2 threads, by
// the BERT WordPiece, the RoBERTa byte-level BPE and the XLM-R SentencePiece tokenizers (the last
// on the 8000-piece model of tests/goldens/xlm_roberta_tokenizer). Reports sentences/s and
// tokens/s. The peer is tools/bench_tokenizer_peer.py (scripts/run-benchmarks.sh).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
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

// RoBERTa's tokenizer as tools/make_roberta_vocab.py builds it from GPT-2's files: <s> <pad>
// </s> <unk>, GPT-2's tokens in id order, <mask>; GPT-2's merges.
ft::RobertaTokenizer roberta_from_gpt2() {
    const std::string dir = shared() + "/data/tokenizers/gpt2-bpe";
    std::ifstream encoder_file(dir + "/encoder.json");
    const auto encoder = nlohmann::json::parse(encoder_file);
    std::vector<std::string> vocab = {"<s>", "<pad>", "</s>", "<unk>"};
    vocab.resize(4 + encoder.size());
    for (const auto& [token, id] : encoder.items()) vocab[4 + id.get<size_t>()] = token;
    vocab.push_back("<mask>");
    std::vector<std::pair<std::string, std::string>> merges;
    std::ifstream bpe(dir + "/vocab.bpe");
    for (std::string line; std::getline(bpe, line);) {
        const size_t space = line.find(' ');
        if (line.starts_with("#version") || space == std::string::npos) continue;
        merges.emplace_back(line.substr(0, space), line.substr(space + 1));
    }
    ft::RobertaOptions options;
    options.model_max_length = 512;
    return ft::RobertaTokenizer(std::move(vocab), std::move(merges), options);
}

void encode_all(benchmark::State& state, const ft::Tokenizer& tok) {
    static const std::vector<std::string> texts = sentences();
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

void BM_encode_cola_sst2_train(benchmark::State& state) {
    static const ft::BertTokenizer tok = ft::BertTokenizer::from_vocab_file(
        shared() + "/data/tokenizers/bert-base-uncased/vocab.txt", {}, {}, 512);
    encode_all(state, tok);
}
BENCHMARK(BM_encode_cola_sst2_train)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// The first iteration fills the merge cache, as the first pass over a dataset does.
void BM_roberta_encode_cola_sst2_train(benchmark::State& state) {
    static const ft::RobertaTokenizer tok = roberta_from_gpt2();
    encode_all(state, tok);
}
BENCHMARK(BM_roberta_encode_cola_sst2_train)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_xlm_roberta_encode_cola_sst2_train(benchmark::State& state) {
    static const std::string repo = FT_SOURCE_DIR;
    static const auto tok = ft::XlmRobertaTokenizer::from_pretrained(
        repo + "/tests/goldens/xlm_roberta_tokenizer/model");
    encode_all(state, tok);
}
BENCHMARK(BM_xlm_roberta_encode_cola_sst2_train)
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
