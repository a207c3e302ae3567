// finetune/finetune.h — the seed's workflow in one include, named as in Python:
//   load_dataset -> AutoTokenizer -> Dataset::map -> DataCollatorWithPadding ->
//   AutoModelForSequenceClassification -> evaluate::load -> TrainingArguments + Trainer.
// examples/cola.cpp is the seed's script written with it, line for line.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "finetune/core.h"
#include "finetune/data.h"
#include "finetune/hub.h"
#include "finetune/io.h"
#include "finetune/metrics.h"
#include "finetune/model.h"
#include "finetune/pipeline.h"
#include "finetune/report.h"
#include "finetune/run_glue.h"
#include "finetune/run_ner.h"
#include "finetune/tokenizer.h"
#include "finetune/train.h"
#include "finetune/trainer.h"

namespace ft {

// What tokenizer(texts, truncation=True, ...) takes.
struct TokenizerCall {
    bool truncation = false;  // true: HF's truncation=True (longest_first)
    Padding padding = Padding::None;
    std::optional<int64_t> max_length{};
};

// AutoTokenizer.from_pretrained: a directory, a repo id in the HF cache, or a Hub download; the
// kind of tokenizer is load_tokenizer's choice. Calling it on a batch's text column (and
// optionally a pair column) returns the columns HF's tokenizer returns: input_ids,
// attention_mask, and token_type_ids when the tokenizer makes them and the checkpoint is not a
// DistilBERT (whose tokenizer has none), ready for Dataset::map.
class AutoTokenizer {
  public:
    static AutoTokenizer from_pretrained(const std::string& name_or_path);
    // token_type_ids unset: as the tokenizer returns them.
    explicit AutoTokenizer(std::shared_ptr<const Tokenizer> tokenizer,
                           std::optional<bool> token_type_ids = std::nullopt);

    Dataset operator()(const Column& texts, const TokenizerCall& call = {}) const;
    Dataset operator()(const Column& texts, const Column& pairs,
                       const TokenizerCall& call = {}) const;
    Encoding operator()(std::string_view text, const TokenizerCall& call = {}) const;

    const Tokenizer& tokenizer() const { return *tokenizer_; }
    operator const Tokenizer&() const { return *tokenizer_; }
    const Tokenizer* operator->() const { return tokenizer_.get(); }

  private:
    std::shared_ptr<const Tokenizer> tokenizer_;
    bool token_type_ids_;
};

// AutoModelForSequenceClassification: from_pretrained(name_or_path, num_labels) loads (directory,
// cache or Hub); from_config initialises at random as HF's _init_weights does, seeded.
struct AutoModelForSequenceClassification {
    static std::unique_ptr<PretrainedModel> from_pretrained(const std::string& name_or_path,
                                                            std::optional<int64_t> num_labels = {});
    static std::unique_ptr<PretrainedModel> from_config(const ModelConfig& config,
                                                        uint64_t seed = 42);
};

// AutoModelForTokenClassification: the same with a classifier on every token (config.task);
// id2label names the tags (run_ner passes num_labels, id2label and label2id).
struct AutoModelForTokenClassification {
    static std::unique_ptr<PretrainedModel> from_pretrained(
        const std::string& name_or_path, std::optional<std::vector<std::string>> id2label = {});
    static std::unique_ptr<PretrainedModel> from_config(ModelConfig config, uint64_t seed = 42);
};

namespace evaluate {
// evaluate.load("glue", "cola"): the GLUE metric of a task (path must be "glue").
GlueMetric load(std::string_view path, std::string_view config_name);
}  // namespace evaluate

}  // namespace ft
