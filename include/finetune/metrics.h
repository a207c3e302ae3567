// finetune/metrics.h — evaluation metrics: the GLUE metric as evaluate.load("glue", task) computes
// it (one-shot and streaming), HF's EvalPrediction, and the metric a Trainer calls at evaluation
// (MetricSpec: a streamed GLUE metric, a user compute_metrics, or an EvalMetric of your own),
// and seqeval's entity-level scores for token classification (SeqevalMetric, run_ner.py's).
// Values follow sklearn (matthews_corrcoef, f1_score) and scipy (pearsonr, spearmanr) exactly.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ft {

// What HF's Trainer hands compute_metrics after an evaluation loop. predictions are the logits,
// row-major (num_rows × num_labels); for regression num_labels = 1. label_ids holds the class
// labels of a classification task, float_labels the targets of a regression task.
struct EvalPrediction {
    std::vector<float> predictions;
    int64_t num_rows = 0;
    int64_t num_labels = 0;
    std::vector<int64_t> label_ids;
    std::vector<float> float_labels;
};

using ComputeMetrics = std::function<std::map<std::string, double>(const EvalPrediction&)>;

// np.argmax of one row: the first index of the maximum; the first NaN wins, as in numpy. An empty
// row gives 0. The one argmax of the library: metrics, predictions files and pipelines use it.
int64_t argmax(std::span<const float> row);

// np.argmax(predictions, axis=1): argmax() of every row.
// Throws ft::Error when predictions.size() is not num_rows × num_labels.
std::vector<int64_t> argmax_predictions(const EvalPrediction& p);

// The GLUE metric of one task. Keys, as evaluate returns them:
//   cola -> matthews_correlation; mrpc, qqp -> accuracy, f1; stsb -> pearson, spearmanr;
//   sst2, mnli, mnli_matched, mnli_mismatched, qnli, rte, wnli, hans -> accuracy.
// Streaming: add_batch() any number of times, then compute(). Classification keeps only the
// confusion counts (one counter per (reference, prediction) pair that occurs), never the rows.
// stsb keeps every (prediction, reference) pair as float32, 8 bytes a row, because Spearman's
// rho ranks the whole column; Pearson alone could be streamed, the ranks cannot.
// stsb values are rounded to float32 first, as evaluate's Value("float32") feature does.
// A correlation of a constant column is NaN, as scipy returns it (evaluate passes it on).
class GlueMetric {
  public:
    // Unknown task -> ft::Error listing the valid names (evaluate raises KeyError).
    static GlueMetric load(std::string_view task);

    const std::string& task() const { return task_; }
    bool is_regression() const { return task_ == "stsb"; }

    // One-shot: the metric of these rows alone (the streamed state is left untouched).
    std::map<std::string, double> compute(std::span<const int64_t> predictions,
                                          std::span<const int64_t> references) const;
    std::map<std::string, double> compute(std::span<const double> predictions,
                                          std::span<const double> references) const;

    // Streaming. The integer form is for classification tasks, the double form for stsb; the
    // wrong one, or predictions and references of different lengths, throw ft::Error.
    void add_batch(std::span<const int64_t> predictions, std::span<const int64_t> references);
    void add_batch(std::span<const double> predictions, std::span<const double> references);
    // The metric of everything added since load() or the last compute(); resets the state, as
    // evaluate's compute() does. Throws ft::Error when nothing was added.
    std::map<std::string, double> compute();

  private:
    explicit GlueMetric(std::string task) : task_(std::move(task)) {}
    std::map<std::string, double> compute_pending() const;

    std::string task_;
    std::map<std::pair<int64_t, int64_t>, int64_t> confusion_;  // (reference, prediction) -> rows
    std::vector<float> predicted_scores_, reference_scores_;    // stsb only
};

// run_glue.py's compute_metrics for a task: np.squeeze for stsb, np.argmax(axis=1) otherwise,
// then the GLUE metric against label_ids (float_labels for stsb).
ComputeMetrics glue_compute_metrics(std::string_view task);

// One evaluation batch as the Trainer hands it to a metric: views of the batch's logits
// (num_rows × num_labels) and of its class labels or float targets (empty when unlabelled).
// A token classifier's batch has a row per token: sequence b owns rows sequence_offsets[b] ..
// sequence_offsets[b+1]-1 (empty for a sequence classifier), and label_ids has -100 for the
// tokens that carry no label.
struct EvalBatch {
    std::span<const float> predictions;
    int64_t num_rows = 0;
    int64_t num_labels = 0;
    std::span<const int64_t> label_ids;
    std::span<const float> float_labels;
    std::span<const int32_t> sequence_offsets{};
};

// What the Trainer calls at evaluation (HF's compute_metrics; batch by batch, as HF's
// batch_eval_metrics does): add_batch() for every batch, then compute() once when the dataset is
// labelled. compute() returns the metrics of the batches since the last compute() and resets.
class EvalMetric {
  public:
    virtual ~EvalMetric() = default;
    virtual void add_batch(const EvalBatch& batch) = 0;
    virtual std::map<std::string, double> compute() = 0;
};

// run_glue.py's compute_metrics for a GLUE task, streamed: each batch's argmax (stsb: each row's
// one logit) goes into a GlueMetric, so only the confusion counts are kept; compute() adds
// run_glue's combined_score (the mean) when the task has more than one metric. Batches without
// labels are skipped. Unknown task -> ft::Error.
std::unique_ptr<EvalMetric> glue_eval_metric(std::string_view task);
// A compute_metrics over the whole EvalPrediction: keeps every batch's rows and calls it once.
std::unique_ptr<EvalMetric> whole_set_eval_metric(ComputeMetrics compute_metrics);

// The metric a Trainer computes at evaluation: a GLUE task's (streamed), a user compute_metrics
// over the whole EvalPrediction, as HF calls it, or an EvalMetric of your own (make_metric).
struct MetricSpec {
    std::string glue_task;           // e.g. "cola"; streamed
    ComputeMetrics compute_metrics;  // used when glue_task is empty
    // Used when both are empty. Initialised, so MetricSpec{"cola", {}} stays warning-free.
    std::function<std::unique_ptr<EvalMetric>()> make_metric{};
    bool empty() const { return glue_task.empty() && !compute_metrics && !make_metric; }
    // A fresh metric for one evaluation loop; null when the spec is empty.
    std::unique_ptr<EvalMetric> make() const;
};

// ---------------------------------------------------------------------------------------------
// seqeval, as evaluate.load("seqeval") computes it for run_ner.py: entity-level precision, recall
// and F1 (micro over types, and per type) plus token accuracy, over sentences of tag strings such
// as "B-PER", "I-LOC", "O". Follows seqeval 1.2.2 exactly, including its quirks:
//   DEFAULT mode is conlleval's lenient chunking over all sentences joined with an "O" between
//   them (an "I-X" without "B-X" opens a chunk; a type change closes one); the scheme is ignored.
//   STRICT mode chunks each sentence by the scheme's patterns (IOB1: "B-" only after a same-type
//   chunk; ...) and throws on a prefix the scheme does not allow; AUTO detects IOB2, IOE2, IOBES
//   or BILOU from the references' prefixes, as seqeval does for scheme=None.
// Tags are split at their first (suffix: last) character: the prefix; the rest is the type.

enum class SeqevalMode { DEFAULT, STRICT };
enum class TaggingScheme { AUTO, IOB1, IOB2, IOE1, IOE2, IOBES, BILOU };
// What a ratio with a zero denominator becomes; WARN acts as ZERO (seqeval also warns).
enum class ZeroDivision { WARN, ZERO, ONE };

struct SeqevalOptions {
    SeqevalMode mode = SeqevalMode::DEFAULT;
    TaggingScheme scheme = TaggingScheme::AUTO;  // STRICT only
    bool suffix = false;                         // tags like "PER-B"
    ZeroDivision zero_division = ZeroDivision::WARN;
};

// Parses "IOB1", "IOB2", "IOE1", "IOE2", "IOBES", "BILOU" (evaluate's scheme names) -> ft::Error
// for anything else.
TaggingScheme parse_tagging_scheme(std::string_view name);

using TagSequences = std::vector<std::vector<std::string>>;  // sentences of tags

struct SeqevalTypeScores {
    double precision = 0, recall = 0, f1 = 0;
    int64_t number = 0;  // entities of this type in the references (seqeval's support)
};

// evaluate's seqeval result: one entry per entity type found in references or predictions
// (sorted by name), and the micro-averaged overall scores.
struct SeqevalResult {
    std::map<std::string, SeqevalTypeScores> types;
    double overall_precision = 0, overall_recall = 0, overall_f1 = 0, overall_accuracy = 0;

    // run_ner.py's compute_metrics: {precision, recall, f1, accuracy}, or with
    // return_entity_level_metrics every "<TYPE>_precision|recall|f1|number" plus the
    // "overall_*" keys, as it flattens evaluate's nested dict.
    std::map<std::string, double> run_ner_metrics(bool return_entity_level_metrics) const;
};

// run_ner.py's compute_metrics, streamed: per sequence, each token's argmax where its label is not
// -100, both mapped to label_names, then seqeval (DEFAULT mode) and run_ner's keys
// (SeqevalResult::run_ner_metrics). Batches without labels are skipped.
std::unique_ptr<EvalMetric> token_classification_eval_metric(std::vector<std::string> label_names,
                                                             bool return_entity_level_metrics,
                                                             SeqevalOptions options = {});

// One-shot compute(), or add_batch() any number of times then compute(). Streaming keeps counts
// only (per type: entities true, predicted, matched; tokens correct and total) and the chunker's
// state across batches, except STRICT with AUTO, which keeps the sentences until compute()
// because the scheme is detected from all references. Errors are ft::Error naming the sentence
// (0-based, counted across batches) and the tag: different numbers of sentences, a sentence of
// another length, an empty tag, a prefix the STRICT scheme rejects or AUTO cannot place, and no
// tokens at all at compute() (seqeval divides by zero).
class SeqevalMetric {
  public:
    explicit SeqevalMetric(SeqevalOptions options = {});

    const SeqevalOptions& options() const { return options_; }

    SeqevalResult compute(const TagSequences& predictions, const TagSequences& references) const;

    void add_batch(const TagSequences& predictions, const TagSequences& references);
    // Everything added since construction or the last compute(); resets the state.
    SeqevalResult compute();

    struct Counts {
        int64_t true_entities = 0, predicted = 0, matched = 0;
    };
    // Lenient chunker state carried from one sentence (and batch) to the next.
    struct ChunkState {
        std::string prev_prefix = "O", prev_type;
        int64_t begin = 0;
    };

  private:
    void add_counts(const TagSequences& predictions, const TagSequences& references,
                    TaggingScheme scheme);
    SeqevalResult result() const;

    SeqevalOptions options_;
    std::map<std::string, Counts> counts_;
    int64_t correct_tokens_ = 0, total_tokens_ = 0, sentences_ = 0, position_ = 0;
    ChunkState true_state_, pred_state_;
    TagSequences held_predictions_, held_references_;  // STRICT + AUTO only
};

}  // namespace ft
