// finetune/pipeline.h — HF's pipeline("text-classification"): tokenise a text (and pair), run the
// model, and turn its logits into labels and scores as the pipeline's postprocess does.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "finetune/model.h"
#include "finetune/tokenizer.h"

namespace ft {

// One label and its score: HF's {"label": ..., "score": ...}.
struct LabelScore {
    std::string label;
    double score = 0.0;
};

// The pipeline's answer for one input: the top label (HF's default, top_k=1) and every label's
// score in id order (top_k=None gives the same, sorted by score).
struct TextClassification {
    LabelScore top;
    std::vector<LabelScore> scores;
};

// The postprocessing of one row of logits, K = id2label.size() of them, by the model's problem:
//   single-label classification: softmax (in double); top is the argmax and its probability;
//   multi-label classification: a sigmoid per label; top is the highest;
//   regression: the raw values; top is the largest (label 0 and its value when K = 1).
// NONE is read as the model reads it: regression when K = 1, else single-label.
// A row of another length than id2label is an ft::Error.
TextClassification classify_logits(std::span<const float> logits,
                                   const std::vector<std::string>& id2label, ProblemType problem);

class TextClassificationPipeline {
  public:
    // pipeline("text-classification", model=name_or_path): a directory, the cache or the Hub.
    static TextClassificationPipeline from_pretrained(const std::string& name_or_path);
    TextClassificationPipeline(std::unique_ptr<PretrainedModel> model,
                               std::unique_ptr<Tokenizer> tokenizer);
    TextClassificationPipeline(TextClassificationPipeline&&) noexcept;
    ~TextClassificationPipeline();

    // Tokenised with truncation to what the model and tokenizer take, then classified.
    TextClassification operator()(std::string_view text,
                                  std::optional<std::string_view> text_pair = std::nullopt);

    const ModelConfig& config() const { return model_->config; }
    // The model's problem, NONE resolved (regression for one label, else single-label).
    ProblemType problem_type() const;

  private:
    std::unique_ptr<PretrainedModel> model_;
    std::unique_ptr<Tokenizer> tokenizer_;
    std::unique_ptr<SequenceClassifier> engine_;
};

}  // namespace ft
