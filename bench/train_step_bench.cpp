// One optimizer step of full-size DistilBERT (distilbert-base-uncased shape, random init) on real
// CoLA train batches of 16 in file order: forward (train mode, dropout on), backward, clipping,
// AdamW. Prints the median seconds per step, tokens/s, where the time goes, and AdamW's effective
// bandwidth, as one JSON line. scripts/run-benchmarks.sh runs it beside the PyTorch peer
// (tools/bench_train_step_peer.py) on the same checkpoint and batches.
//
//   train_step_bench --checkpoint DIR --ids cola_bert_uncased_ids.jsonl [--steps 20 --warmup 3]
//                    [--bf16 1]   (bf16 autocast: bf16 GEMMs, the AdamW pass keeps the bf16 copy)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numeric>
#include <string>
#include <vector>

#include "finetune/train.h"
#include "ops/ops.h"

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// CoLA train sentences as HF's tokenizer encodes them, in file order, batched by 16.
std::vector<ft::PackedBatch> load_batches(const std::string& ids_path, int batch_size, int count) {
    std::ifstream f(ids_path);
    if (!f) throw ft::Error(ids_path + ": cannot open");
    std::vector<ft::PackedBatch> out;
    std::string line;
    ft::PackedBatch b;
    b.offsets = {0};
    int64_t row = 0;
    while (static_cast<int>(out.size()) < count && std::getline(f, line)) {
        const auto j = nlohmann::json::parse(line);
        if (j["split"] != "train") continue;
        for (int id : j["input_ids"]) b.input_ids.push_back(id);
        b.offsets.push_back(static_cast<int32_t>(b.input_ids.size()));
        b.labels.push_back(row++ % 2);
        if (b.num_sequences() == batch_size) {
            out.push_back(b);
            b = {};
            b.offsets = {0};
        }
    }
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    std::string checkpoint = "build/bench_data/full_distilbert/safetensors";
    std::string ids = "../shared/reference/tokenization/cola_bert_uncased_ids.jsonl";
    int steps = 20, warmup = 3, batch_size = 16;
    bool bf16 = false;
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string a = argv[i];
        if (a == "--checkpoint")
            checkpoint = argv[i + 1];
        else if (a == "--ids")
            ids = argv[i + 1];
        else if (a == "--steps")
            steps = std::stoi(argv[i + 1]);
        else if (a == "--warmup")
            warmup = std::stoi(argv[i + 1]);
        else if (a == "--batch")
            batch_size = std::stoi(argv[i + 1]);
        else if (a == "--bf16")
            bf16 = std::string(argv[i + 1]) != "0";
    }
    try {
        auto m = ft::load_pretrained(checkpoint);
        ft::ModelWeights grads(m.config);
        ft::SequenceClassifier model(m.config, m.weights);
        ft::AdamW opt(m.weights, {.weight_decay = 0.01});
        std::unique_ptr<ft::Bf16Weights> copy;
        if (bf16) {
            copy = std::make_unique<ft::Bf16Weights>(m.weights);
            model.set_autocast_bf16(copy.get());
        }
        const auto batches = load_batches(ids, batch_size, warmup + steps);
        int64_t max_tokens = 0, max_len = 0;
        for (const auto& b : batches) {
            max_tokens = std::max(max_tokens, b.num_tokens());
            max_len = std::max(max_len, b.max_length());
        }
        model.reserve(max_tokens, batch_size, max_len);

        std::vector<double> t_step, t_fwd, t_bwd, t_clip, t_opt;
        double tokens = 0;
        for (size_t i = 0; i < batches.size(); ++i) {
            const bool timed = static_cast<int>(i) >= warmup;
            if (static_cast<int>(i) == warmup) ft::ops::timing_reset();
            const auto t0 = Clock::now();
            // ft::train_step's sequence, timed piece by piece: the gradients start at zero and
            // the optimizer pass applies the clipping factor and clears them again.
            model.forward(batches[i], /*train=*/true, 42, i);
            const double f = seconds_since(t0);
            const auto t1 = Clock::now();
            model.backward(grads);
            const double b = seconds_since(t1);
            const auto t2 = Clock::now();
            const double norm = ft::global_grad_norm(grads.flat(), grads.flat_size());
            const float scale = ft::clip_coefficient(norm, 1.0);
            const double c = seconds_since(t2);
            const auto t3 = Clock::now();
            opt.step_and_zero_grads(m.weights, grads, 2e-5, scale, copy.get());
            const double o = seconds_since(t3);
            if (!timed) continue;
            t_step.push_back(seconds_since(t0));
            t_fwd.push_back(f);
            t_bwd.push_back(b);
            t_clip.push_back(c);
            t_opt.push_back(o);
            tokens += static_cast<double>(batches[i].num_tokens());
        }
        const double step = median(t_step);
        const auto ops = ft::ops::timing_totals();  // accumulated over the timed steps
        const double n = static_cast<double>(t_step.size());
        // AdamW reads p, g, m, v and writes p, m, v: 7 floats per parameter (the measure;
        // the pass also writes g back as zeros, an eighth).
        const double adamw_bytes = 7.0 * 4.0 * static_cast<double>(m.weights.flat_size());
        nlohmann::json out = {
            {"impl", "finetune"},
            {"precision", bf16 ? "bf16 autocast" : "fp32"},
            {"threads", ft::get_num_threads()},
            {"steps", t_step.size()},
            {"median_step_s", step},
            {"real_tokens_per_s", tokens / n / step},
            {"median_forward_s", median(t_fwd)},
            {"median_backward_s", median(t_bwd)},
            {"median_clip_s", median(t_clip)},  // the norm; the scaling is in the AdamW pass
            {"median_adamw_s", median(t_opt)},
            {"adamw_effective_GBps", adamw_bytes / median(t_opt) / 1e9},
            {"mean_gemm_s", ops.gemm_s / n},
            // The GEMMs' arithmetic per step and its rate: against machine_limits_bench's FMA
            // peak this is how close the dominant share of the step runs to the hardware.
            {"mean_gemm_gflop", ops.gemm_flop / n / 1e9},
            {"gemm_gflops", ops.gemm_flop / ops.gemm_s / 1e9},
            {"mean_attention_s", ops.attention_s / n},
            {"mean_other_ops_s", (std::accumulate(t_fwd.begin(), t_fwd.end(), 0.0) +
                                  std::accumulate(t_bwd.begin(), t_bwd.end(), 0.0)) /
                                         n -
                                     (ops.gemm_s + ops.attention_s) / n},
            {"arena_MB", static_cast<double>(model.arena_bytes()) / 1e6},
        };
        std::printf("%s\n", out.dump().c_str());
    } catch (const ft::Error& e) {
        std::fprintf(stderr, "train_step_bench: %s\n", e.what());
        return 1;
    }
    return 0;
}
