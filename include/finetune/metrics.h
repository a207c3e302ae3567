// finetune/metrics.h — evaluation metrics: the GLUE metric as evaluate.load("glue", task) computes
// it (one-shot and streaming), HF's EvalPrediction, and the compute_metrics hook a Trainer calls.
// Values follow sklearn (matthews_corrcoef, f1_score) and scipy (pearsonr, spearmanr) exactly.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
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

// np.argmax(predictions, axis=1): the first index of the row maximum; a NaN wins, as in numpy.
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

}  // namespace ft
