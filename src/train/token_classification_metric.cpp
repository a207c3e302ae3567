// run_ner.py's compute_metrics as a streamed EvalMetric: argmax per token, the -100 positions
// dropped, ids mapped to names, then seqeval over the sentences.
#include <memory>

#include "finetune/core.h"
#include "finetune/metrics.h"

namespace ft {

namespace {

class TokenClassificationMetric final : public EvalMetric {
  public:
    TokenClassificationMetric(std::vector<std::string> names, bool entity_level,
                              SeqevalOptions options)
        : names_(std::move(names)), entity_level_(entity_level), seqeval_(options) {}

    void add_batch(const EvalBatch& b) override {
        if (b.label_ids.empty()) return;
        if (b.sequence_offsets.empty())
            throw Error(
                "token classification metric: the batch has no sequence boundaries (is "
                "the model a token classifier?)");
        const auto K = static_cast<size_t>(b.num_labels);
        if (static_cast<int64_t>(b.label_ids.size()) != b.num_rows ||
            b.predictions.size() != static_cast<size_t>(b.num_rows) * K ||
            b.sequence_offsets.back() != b.num_rows)
            throw Error("token classification metric: " + std::to_string(b.label_ids.size()) +
                        " labels and " + std::to_string(b.predictions.size()) + " logits for " +
                        std::to_string(b.num_rows) + " tokens of " + std::to_string(K) + " labels");
        TagSequences predictions, references;
        for (size_t s = 0; s + 1 < b.sequence_offsets.size(); ++s) {
            std::vector<std::string> pred, ref;
            for (int32_t t = b.sequence_offsets[s]; t < b.sequence_offsets[s + 1]; ++t) {
                const int64_t label = b.label_ids[static_cast<size_t>(t)];
                if (label == -100) continue;
                const int64_t p = argmax(b.predictions.subspan(static_cast<size_t>(t) * K, K));
                pred.push_back(name(p));
                ref.push_back(name(label));
            }
            predictions.push_back(std::move(pred));
            references.push_back(std::move(ref));
        }
        seqeval_.add_batch(predictions, references);
        added_ = true;
    }

    std::map<std::string, double> compute() override {
        if (!added_) throw Error("token classification metric: no labelled batch was added");
        added_ = false;
        return seqeval_.compute().run_ner_metrics(entity_level_);
    }

  private:
    const std::string& name(int64_t id) const {
        if (id < 0 || id >= static_cast<int64_t>(names_.size()))
            throw Error("token classification metric: label id " + std::to_string(id) +
                        " has no name (" + std::to_string(names_.size()) + " labels)");
        return names_[static_cast<size_t>(id)];
    }

    std::vector<std::string> names_;
    bool entity_level_;
    SeqevalMetric seqeval_;
    bool added_ = false;
};

}  // namespace

std::unique_ptr<EvalMetric> token_classification_eval_metric(std::vector<std::string> label_names,
                                                             bool return_entity_level_metrics,
                                                             SeqevalOptions options) {
    return std::make_unique<TokenClassificationMetric>(std::move(label_names),
                                                       return_entity_level_metrics, options);
}

}  // namespace ft
