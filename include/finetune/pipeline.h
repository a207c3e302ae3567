// finetune/pipeline.h — HF's pipeline("text-classification"): tokenise a text (and pair), run the
// model, and turn its logits into labels and scores as the pipeline's postprocess does. And
// pipeline("token-classification" / "ner", aggregation_strategy=...): a label per token, grouped
// into entities, plus run_ner's label per word.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
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

// ---------------------------------------------------------------------------------------------
// Token classification.

// HF's aggregation_strategy: NONE gives one entity per token; SIMPLE groups the tokens' labels;
// FIRST, AVERAGE and MAX first give each word one label (its first token's; the argmax of its
// tokens' mean scores; that of its most confident token), then group as SIMPLE does.
enum class AggregationStrategy { NONE, SIMPLE, FIRST, AVERAGE, MAX };
// "none", "simple", "first", "average", "max" (any case); anything else is an ft::Error.
AggregationStrategy parse_aggregation_strategy(std::string_view name);
std::string_view aggregation_strategy_name(AggregationStrategy s);

// One token as the pipeline's postprocess sees it (HF's pre-entity).
struct TokenScores {
    std::vector<double> scores;  // (K) softmax of the token's logits
    std::string token;           // its vocabulary entry ("##ing"); an unknown token's own text
    int64_t index = 0;           // its position in input_ids ([CLS] is 0)
    int64_t start = 0, end = 0;  // its bytes in the text
    bool start_exact = true;     // false: start is its word's start (see TokenEntity)
    bool end_exact = true;       // false: end is its word's end
    bool is_subword = false;     // continues the previous token's word (FIRST/AVERAGE/MAX)
};

// One entity: HF's {"entity" or "entity_group", "score", "word", "start", "end", "index"}.
struct TokenEntity {
    // NONE: the token's label ("B-PER"). Grouped: the group's type, its first label without what
    // precedes the first "-" ("PER"; a bare "DATE" stays "DATE").
    std::string entity;
    double score = 0.0;  // the label's probability; a group's is the mean of its members'
    std::string word;    // the tokens joined back (HF's convert_tokens_to_string)
    // Byte offsets in the text. HF's character offsets come from the tokenizer's offset mapping,
    // which ours lack: a boundary is exact at a word's edge, or inside a word whose pieces spell
    // it (WordPiece on ASCII words); otherwise its flag is false and it is moved out to the edge
    // of the word it falls in, so that [start, end) always covers HF's span.
    int64_t start = 0, end = 0;
    bool start_exact = true, end_exact = true;
    int64_t index = -1;  // NONE: the token's position in input_ids; -1 for groups
};

// convert_tokens_to_string: the text of some tokens (or of words already joined).
using TokensToString = std::function<std::string(std::span<const std::string>)>;

// tokenizers' WordPiece decoder (prefix "##", cleanup on), which is what HF's BERT tokenizers'
// convert_tokens_to_string runs: a token after the first loses its "##" or gains a space, and
// each token then goes through the clean-up (" ." -> ".", " ," -> ",", ...) on its own.
std::string wordpiece_tokens_to_string(std::span<const std::string> tokens);

// HF's get_tag: "B-X" is (B, X), "I-X" is (I, X), any other label (I, the whole label).
std::pair<char, std::string_view> entity_tag(std::string_view label);

// HF's group_entities on per-token or per-word entities carrying full labels: an entity joins
// the group before it when its tag (entity_tag) equals the group's last one and it is not a B-;
// each group is named, scored and spelled as TokenEntity says, `join` giving its word.
std::vector<TokenEntity> group_entities(std::span<const TokenEntity> entities,
                                        const TokensToString& join);

// HF's postprocess after the softmax: aggregate (per token, or per word for FIRST/AVERAGE/MAX;
// a word is a token and the is_subword tokens after it), group unless NONE, then drop entities
// whose label (NONE) or group is in ignore_labels. Labels are id2label[argmax].
std::vector<TokenEntity> aggregate_tokens(std::span<const TokenScores> tokens,
                                          const std::vector<std::string>& id2label,
                                          AggregationStrategy strategy, const TokensToString& join,
                                          const std::vector<std::string>& ignore_labels = {"O"});

// One input word and run_ner's prediction for it: the label of its first token and that label's
// probability. No tag where the word has no token: cut by truncation, or a word that gives none.
struct WordTag {
    std::string word;
    int64_t start = 0, end = 0;  // its bytes in the text
    std::optional<LabelScore> tag;
};

// The pipeline's answer for one input.
struct TokenClassification {
    std::string text;            // what offsets index: the input text, or the words joined by " "
    std::vector<WordTag> words;  // every input word, in order
    std::vector<TokenEntity> entities;  // HF's output for the strategy
};

// pipeline("token-classification", model=..., aggregation_strategy=...). Inputs are cut to what
// the model and tokenizer take (HF's truncation=True): the tokens past it, and the words they
// hold, get no prediction (HF's stride windows are not implemented).
class TokenClassificationPipeline {
  public:
    // A directory, the cache or the Hub; the token head is built whatever config.json names, as
    // AutoModelForTokenClassification does.
    static TokenClassificationPipeline from_pretrained(const std::string& name_or_path);
    // The model must be a token classifier (config.task); an ft::Error otherwise.
    TokenClassificationPipeline(std::unique_ptr<PretrainedModel> model,
                                std::unique_ptr<Tokenizer> tokenizer);
    TokenClassificationPipeline(TokenClassificationPipeline&&) noexcept;
    ~TokenClassificationPipeline();

    // Pre-split words (HF's is_split_into_words=True, delimiter " "): each word is tokenised on
    // its own and offsets index the words joined by single spaces.
    TokenClassification operator()(const std::vector<std::string>& words,
                                   AggregationStrategy strategy = AggregationStrategy::NONE);
    // A text, split on ASCII whitespace into words; offsets index the text itself. For BERT's
    // tokenizers this gives HF's tokens on the text (their pre-tokenizer splits there too).
    TokenClassification operator()(std::string_view text,
                                   AggregationStrategy strategy = AggregationStrategy::NONE);

    // HF's ignore_labels (default {"O"}): entities with these labels or groups are dropped.
    void set_ignore_labels(std::vector<std::string> labels) { ignore_labels_ = std::move(labels); }
    const ModelConfig& config() const { return model_->config; }

  private:
    TokenClassification run(std::string text, std::vector<std::string> words,
                            std::vector<std::pair<int64_t, int64_t>> spans,
                            AggregationStrategy strategy);
    std::string tokens_to_string(std::span<const std::string> tokens) const;

    std::unique_ptr<PretrainedModel> model_;
    std::unique_ptr<Tokenizer> tokenizer_;
    std::unique_ptr<SequenceClassifier> engine_;
    std::vector<std::string> ignore_labels_ = {"O"};
    bool wordpiece_ = false;  // BERT's tokenizers: "##" pieces, HF's word-aware path
};

}  // namespace ft
