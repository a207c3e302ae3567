// `finetune info MODEL`: what a checkpoint (a directory, or a Hub repo id fetched into the cache)
// holds — family, shape, parameter count as HF's num_parameters() counts it, file format and
// dtypes, keys — and the devices training can use (`finetune info` alone: the devices only).
#include <cstdio>
#include <map>
#include <string>

#include "cli/commands.h"
#include "core/device_cuda.h"
#include "finetune/hub.h"
#include "finetune/model.h"
#include "ops/cpu_features.h"

namespace ft::cli {

namespace {

std::string thousands(int64_t n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
        s.insert(static_cast<size_t>(i), ",");
    return s;
}

void print_keys(const char* title, const std::vector<std::string>& keys) {
    std::printf("%-18s%s\n", title, keys.empty() ? "none" : std::to_string(keys.size()).c_str());
    for (const auto& k : keys) std::printf("  %s\n", k.c_str());
}

// The devices training can use, as HF's Trainer would pick among them.
void print_devices() {
    std::printf("%-18s%s\n", "devices:", "cpu");
    const int n = cuda::device_count();
    for (int i = 0; i < n; ++i)
        std::printf("  cuda:%d           %s\n", i, cuda::device_description(i).c_str());
    if (n == 0) std::printf("  (no GPU: %s)\n", cuda::unavailable_reason().c_str());
    // Whether --bf16 --use_cpu can run here (check_bf16_support refuses it otherwise).
    const std::string missing = ops::cpu_bf16_missing();
    std::printf("%-18s%s\n", "cpu bf16:",
                missing.empty() ? "yes (--bf16 --use_cpu)" : ("no: " + missing).c_str());
}

int run_info(const std::string& name_or_path) {
    if (name_or_path.empty()) {
        print_devices();
        return 0;
    }
    // A directory as it is; otherwise a Hub repo id, fetched into (or found in) the HF cache.
    const std::string dir = hub::resolve_pretrained(name_or_path).string();
    const PretrainedModel m = load_pretrained(dir);
    const ModelConfig& c = m.config;
    std::printf("%-18s%s\n", "model:", dir.c_str());
    std::printf("%-18s%s (%s)\n", "family:", std::string(family_name(c.family)).c_str(),
                c.classifier_architecture().c_str());
    std::string labels;
    for (size_t i = 0; i < c.id2label.size(); ++i) labels += (i ? ", " : "") + c.id2label[i];
    std::printf(
        "%-18shidden %lld, %lld layers, %lld heads, FFN %lld, vocab %lld, %lld positions, %s\n",
        "config:", static_cast<long long>(c.hidden()), static_cast<long long>(c.layers()),
        static_cast<long long>(c.heads()), static_cast<long long>(c.ffn()),
        static_cast<long long>(c.vocab()), static_cast<long long>(c.max_positions()),
        c.activation() == Activation::GELU ? "gelu" : "relu");
    std::printf("%-18s%lld (%s)\n", "labels:", static_cast<long long>(c.num_labels()),
                labels.c_str());
    std::printf("%-18s%s\n", "format:", m.report.format.c_str());
    std::string dtypes;
    for (const auto& [name, count] : m.report.file_dtypes)
        dtypes += (dtypes.empty() ? "" : ", ") + name + " x " + std::to_string(count);
    std::printf("%-18s%s\n", "file dtypes:", dtypes.c_str());
    // HF's num_parameters() counts the checkpoint's own architecture. A base model (BertModel,
    // DistilBertModel: all-MiniLM-L6-v2, say) has no classification head; BertModel keeps its
    // pooler. As a classifier it gains the "classifier" group, newly initialised.
    int64_t head = 0;
    for (const auto& s : m.weights.specs())
        if (s.group == "classifier") head += s.shape.numel();
    const std::string arch = c.architectures.empty() ? "" : c.architectures[0];
    if (arch == "BertModel" || arch == "DistilBertModel") {
        std::printf("%-18s%s (%s, as HF's num_parameters() counts it)\n",
                    "parameters:", thousands(m.weights.numel() - head).c_str(), arch.c_str());
        std::printf("%-18s%s (+ %s in the head)\n",
                    "as a classifier:", thousands(m.weights.numel()).c_str(),
                    thousands(head).c_str());
    } else {
        std::printf("%-18s%s\n", "parameters:", thousands(m.weights.numel()).c_str());
    }
    std::vector<std::pair<std::string, int64_t>> groups;  // in table order
    for (const auto& s : m.weights.specs()) {
        if (groups.empty() || groups.back().first != s.group) groups.push_back({s.group, 0});
        groups.back().second += s.shape.numel();
    }
    for (const auto& [g, n] : groups) std::printf("  %-16s%14s\n", g.c_str(), thousands(n).c_str());
    print_keys("missing keys:", m.report.missing_keys);
    if (!m.report.missing_keys.empty())
        std::printf("  (newly initialised, as HF does: train before use)\n");
    print_keys("unexpected keys:", m.report.unexpected_keys);
    print_keys("ignored buffers:", m.report.ignored_buffers);
    print_devices();
    return 0;
}

}  // namespace

Command register_info(CLI::App& app) {
    auto* sub = app.add_subcommand(
        "info", "Describe a model checkpoint (directory or Hub repo id), and the devices");
    auto dir = std::make_shared<std::string>();
    sub->add_option("model", *dir,
                    "Directory with config.json and model weights, or a Hub repo id (none: the "
                    "devices only)");
    return {sub, [dir] { return run_info(*dir); }};
}

}  // namespace ft::cli
