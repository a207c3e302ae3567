// finetune/metrics.h — evaluation metrics: the GLUE metric as evaluate.load("glue", task) computes
// it (one-shot and streaming), HF's EvalPrediction, and the metric a Trainer calls at evaluation
// (MetricSpec: a streamed GLUE metric, a user compute_metrics, or an EvalMetric of your own).
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
struct EvalBatch {
    std::span<const float> predictions;
    int64_t num_rows = 0;
    int64_t num_labels = 0;
    std::span<const int64_t> label_ids;
    std::span<const float> float_labels;
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

}  // namespace ft
