// The GLUE metric as evaluate's metrics/glue computes it: sklearn's matthews_corrcoef and binary
// f1_score from confusion counts, numpy's accuracy, scipy's pearsonr and spearmanr (average ranks
// for ties); plus argmax over logits, run_glue.py's compute_metrics and the EvalMetric forms the
// Trainer calls (GLUE streamed, or a compute_metrics over the whole set).
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include "finetune/core.h"
#include "finetune/metrics.h"

namespace ft {

namespace {

// evaluate's own list and order of the glue configurations.
constexpr std::string_view GLUE_TASKS[] = {
    "sst2", "mnli", "mnli_mismatched", "mnli_matched", "cola", "stsb", "mrpc", "qqp", "qnli", "rte",
    "wnli", "hans"};

using Confusion = std::map<std::pair<int64_t, int64_t>, int64_t>;
constexpr double NaN = std::numeric_limits<double>::quiet_NaN();

std::string valid_task_list() {
    std::string s;
    for (std::string_view t : GLUE_TASKS) s += (s.empty() ? "" : ", ") + std::string(t);
    return s;
}

[[noreturn]] void fail(const std::string& task, const std::string& msg) {
    throw Error("glue metric '" + task + "': " + msg);
}

void check_lengths(const std::string& task, size_t predictions, size_t references) {
    if (predictions != references)
        fail(task, "predictions has " + std::to_string(predictions) + " rows but references has " +
                       std::to_string(references));
}

int64_t row_count(const Confusion& c) {
    int64_t n = 0;
    for (const auto& [cell, count] : c) n += count;
    return n;
}

// numpy's (preds == labels).mean(): an exact count over n, rounded once.
double accuracy(const Confusion& c) {
    int64_t correct = 0;
    for (const auto& [cell, count] : c)
        if (cell.first == cell.second) correct += count;
    return static_cast<double>(correct) / static_cast<double>(row_count(c));
}

// sklearn.metrics.matthews_corrcoef, the multiclass form over the labels that occur:
// cov(t,p) / sqrt(cov(t,t) cov(p,p)) from the confusion matrix, 0.0 when the denominator is 0.
// The counts are integers held exactly in double (n < 2^26 keeps n^2 exact), so the terms are
// the same numbers sklearn forms and the result matches bit for bit.
double matthews_correlation(const Confusion& c) {
    std::map<int64_t, double> true_sum, pred_sum;
    double n_correct = 0;
    for (const auto& [cell, count] : c) {
        true_sum[cell.first] += static_cast<double>(count);
        pred_sum[cell.second] += static_cast<double>(count);
        if (cell.first == cell.second) n_correct += static_cast<double>(count);
    }
    const double n = static_cast<double>(row_count(c));
    double t_dot_p = 0, p_dot_p = 0, t_dot_t = 0;
    for (const auto& [label, t] : true_sum) {
        t_dot_t += t * t;
        const auto it = pred_sum.find(label);
        if (it != pred_sum.end()) t_dot_p += t * it->second;
    }
    for (const auto& [label, p] : pred_sum) p_dot_p += p * p;
    const double cov_ytyp = n_correct * n - t_dot_p;
    const double cov_ypyp = n * n - p_dot_p;
    const double cov_ytyt = n * n - t_dot_t;
    if (cov_ypyp * cov_ytyt == 0) return 0.0;
    return cov_ytyp / std::sqrt(cov_ytyt * cov_ypyp);
}

// sklearn.metrics.f1_score(average="binary", pos_label=1): 2 tp / (2 tp + fp + fn), 0.0 when no
// row is positive in either column (zero_division). Like sklearn, more than two labels, or two
// labels without 1 among them, are an error.
double binary_f1(const std::string& task, const Confusion& c) {
    std::set<int64_t> labels;
    for (const auto& [cell, count] : c) labels.insert({cell.first, cell.second});
    if (labels.size() > 2 || (labels.size() == 2 && !labels.contains(1))) {
        std::string found;
        for (int64_t l : labels) found += (found.empty() ? "" : ", ") + std::to_string(l);
        fail(task, "f1 needs binary labels with positive label 1, found labels {" + found + "}");
    }
    int64_t tp = 0, true_pos = 0, pred_pos = 0;
    for (const auto& [cell, count] : c) {
        if (cell.first == 1) true_pos += count;
        if (cell.second == 1) pred_pos += count;
        if (cell.first == 1 && cell.second == 1) tp += count;
    }
    const int64_t denominator = true_pos + pred_pos;
    if (denominator == 0) return 0.0;
    return static_cast<double>(2 * tp) / static_cast<double>(denominator);
}

// Pearson's r of two columns in long double, two-pass; scipy.stats.pearsonr's special cases:
// NaN when either column is constant or holds a NaN, the sign product for two rows.
double pearson(const std::vector<double>& x, const std::vector<double>& y) {
    const size_t n = x.size();
    for (size_t i = 0; i < n; ++i)
        if (std::isnan(x[i]) || std::isnan(y[i])) return NaN;
    const bool x_constant = std::all_of(x.begin(), x.end(), [&](double v) { return v == x[0]; });
    const bool y_constant = std::all_of(y.begin(), y.end(), [&](double v) { return v == y[0]; });
    if (x_constant || y_constant) return NaN;
    if (n == 2) {
        const auto sign = [](double d) { return static_cast<double>((d > 0) - (d < 0)); };
        return sign(x[1] - x[0]) * sign(y[1] - y[0]);
    }
    long double mean_x = 0, mean_y = 0;
    for (size_t i = 0; i < n; ++i) {
        mean_x += x[i];
        mean_y += y[i];
    }
    mean_x /= static_cast<long double>(n);
    mean_y /= static_cast<long double>(n);
    long double sxx = 0, syy = 0, sxy = 0;
    for (size_t i = 0; i < n; ++i) {
        const long double dx = x[i] - mean_x, dy = y[i] - mean_y;
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    const double r = static_cast<double>(sxy / std::sqrt(sxx * syy));
    return std::clamp(r, -1.0, 1.0);
}

// scipy.stats.rankdata(method="average"): 1-based ranks, tied values share the mean rank.
std::vector<double> average_ranks(const std::vector<double>& v) {
    std::vector<size_t> order(v.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
    std::vector<double> ranks(v.size());
    for (size_t i = 0; i < order.size();) {
        size_t j = i;
        while (j < order.size() && v[order[j]] == v[order[i]]) ++j;
        const double rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
        for (size_t k = i; k < j; ++k) ranks[order[k]] = rank;
        i = j;
    }
    return ranks;
}

// scipy.stats.spearmanr: Pearson's r of the average ranks; NaN for a constant column or a NaN.
double spearman(const std::vector<double>& x, const std::vector<double>& y) {
    for (size_t i = 0; i < x.size(); ++i)
        if (std::isnan(x[i]) || std::isnan(y[i])) return NaN;
    const std::vector<double> rx = average_ranks(x), ry = average_ranks(y);
    // Ranks of two distinct values are 1 and 2, so pearson's two-row rule gives the same ±1.
    return pearson(rx, ry);
}

}  // namespace

int64_t argmax(std::span<const float> row) {
    int64_t best = 0;
    for (size_t k = 0; k < row.size(); ++k) {
        if (std::isnan(row[k])) return static_cast<int64_t>(k);  // numpy: NaN is the maximum
        if (row[k] > row[static_cast<size_t>(best)]) best = static_cast<int64_t>(k);
    }
    return best;
}

std::vector<int64_t> argmax_predictions(const EvalPrediction& p) {
    if (p.num_rows < 0 || p.num_labels <= 0 ||
        p.predictions.size() != static_cast<size_t>(p.num_rows * p.num_labels))
        throw Error("EvalPrediction: predictions has " + std::to_string(p.predictions.size()) +
                    " values, expected num_rows × num_labels = " + std::to_string(p.num_rows) +
                    " × " + std::to_string(p.num_labels));
    std::vector<int64_t> out(static_cast<size_t>(p.num_rows));
    const std::span<const float> all(p.predictions);
    const size_t K = static_cast<size_t>(p.num_labels);
    for (size_t r = 0; r < out.size(); ++r) out[r] = argmax(all.subspan(r * K, K));
    return out;
}

GlueMetric GlueMetric::load(std::string_view task) {
    for (std::string_view t : GLUE_TASKS)
        if (t == task) return GlueMetric(std::string(task));
    throw Error("glue metric: unknown configuration '" + std::string(task) +
                "'; choose one of: " + valid_task_list());
}

void GlueMetric::add_batch(std::span<const int64_t> predictions,
                           std::span<const int64_t> references) {
    if (is_regression())
        fail(task_, "stsb is a regression task: pass float predictions and references");
    check_lengths(task_, predictions.size(), references.size());
    for (size_t i = 0; i < predictions.size(); ++i) ++confusion_[{references[i], predictions[i]}];
}

void GlueMetric::add_batch(std::span<const double> predictions,
                           std::span<const double> references) {
    if (!is_regression())
        fail(task_, "a classification task: pass integer class predictions and references");
    check_lengths(task_, predictions.size(), references.size());
    // evaluate stores stsb columns as Value("float32"): round as it does.
    for (size_t i = 0; i < predictions.size(); ++i) {
        predicted_scores_.push_back(static_cast<float>(predictions[i]));
        reference_scores_.push_back(static_cast<float>(references[i]));
    }
}

std::map<std::string, double> GlueMetric::compute_pending() const {
    if (is_regression()) {
        if (predicted_scores_.size() < 2)
            fail(task_,
                 "pearson needs at least 2 rows, got " + std::to_string(predicted_scores_.size()));
        const std::vector<double> x(predicted_scores_.begin(), predicted_scores_.end());
        const std::vector<double> y(reference_scores_.begin(), reference_scores_.end());
        return {{"pearson", pearson(x, y)}, {"spearmanr", spearman(x, y)}};
    }
    if (confusion_.empty()) fail(task_, "no predictions to score (add_batch was not called)");
    if (task_ == "cola") return {{"matthews_correlation", matthews_correlation(confusion_)}};
    if (task_ == "mrpc" || task_ == "qqp")
        return {{"accuracy", accuracy(confusion_)}, {"f1", binary_f1(task_, confusion_)}};
    return {{"accuracy", accuracy(confusion_)}};
}

std::map<std::string, double> GlueMetric::compute() {
    // evaluate's compute() flushes what was added, also when it raises.
    GlueMetric pending(task_);
    std::swap(pending.confusion_, confusion_);
    std::swap(pending.predicted_scores_, predicted_scores_);
    std::swap(pending.reference_scores_, reference_scores_);
    return pending.compute_pending();
}

std::map<std::string, double> GlueMetric::compute(std::span<const int64_t> predictions,
                                                  std::span<const int64_t> references) const {
    GlueMetric one_shot(task_);
    one_shot.add_batch(predictions, references);
    return one_shot.compute_pending();
}

std::map<std::string, double> GlueMetric::compute(std::span<const double> predictions,
                                                  std::span<const double> references) const {
    GlueMetric one_shot(task_);
    one_shot.add_batch(predictions, references);
    return one_shot.compute_pending();
}

ComputeMetrics glue_compute_metrics(std::string_view task) {
    const GlueMetric metric = GlueMetric::load(task);
    return [metric](const EvalPrediction& p) {
        if (!metric.is_regression()) return metric.compute(argmax_predictions(p), p.label_ids);
        if (p.num_labels != 1 || p.predictions.size() != static_cast<size_t>(p.num_rows))
            throw Error("glue metric 'stsb': expects one prediction per row (num_labels 1), got " +
                        std::to_string(p.predictions.size()) + " values for " +
                        std::to_string(p.num_rows) + " rows × " + std::to_string(p.num_labels) +
                        " labels");
        const std::vector<double> predictions(p.predictions.begin(), p.predictions.end());
        const std::vector<double> references(p.float_labels.begin(), p.float_labels.end());
        return metric.compute(predictions, references);
    };
}

namespace {

// run_glue's compute_metrics fed batch by batch: only the GlueMetric's streamed state is kept.
class GlueEvalMetric : public EvalMetric {
  public:
    explicit GlueEvalMetric(GlueMetric metric) : metric_(std::move(metric)) {}

    void add_batch(const EvalBatch& b) override {
        const size_t B = static_cast<size_t>(b.num_rows), K = static_cast<size_t>(b.num_labels);
        if (metric_.is_regression()) {
            if (b.float_labels.empty()) return;
            // np.squeeze: the one logit of each row against its target.
            std::vector<double> p(B), t(B);
            for (size_t r = 0; r < B; ++r) {
                p[r] = b.predictions[r * K];
                t[r] = b.float_labels[r * K];
            }
            metric_.add_batch(std::span<const double>(p), std::span<const double>(t));
        } else if (!b.label_ids.empty()) {
            std::vector<int64_t> pred(B);
            for (size_t r = 0; r < B; ++r) pred[r] = argmax(b.predictions.subspan(r * K, K));
            metric_.add_batch(std::span<const int64_t>(pred), b.label_ids);
        }
    }

    std::map<std::string, double> compute() override {
        std::map<std::string, double> out = metric_.compute();
        if (out.size() > 1) {
            double sum = 0;
            for (const auto& [k, v] : out) sum += v;
            out["combined_score"] = sum / static_cast<double>(out.size());
        }
        return out;
    }

  private:
    GlueMetric metric_;
};

// HF's default: the logits and labels of every batch gathered into one EvalPrediction.
class WholeSetEvalMetric : public EvalMetric {
  public:
    explicit WholeSetEvalMetric(ComputeMetrics fn) : fn_(std::move(fn)) {}

    void add_batch(const EvalBatch& b) override {
        all_.predictions.insert(all_.predictions.end(), b.predictions.begin(), b.predictions.end());
        all_.label_ids.insert(all_.label_ids.end(), b.label_ids.begin(), b.label_ids.end());
        all_.float_labels.insert(all_.float_labels.end(), b.float_labels.begin(),
                                 b.float_labels.end());
        all_.num_rows += b.num_rows;
        all_.num_labels = b.num_labels;
    }

    std::map<std::string, double> compute() override {
        EvalPrediction p = std::move(all_);
        all_ = {};
        return fn_(p);
    }

  private:
    ComputeMetrics fn_;
    EvalPrediction all_;
};

}  // namespace

std::unique_ptr<EvalMetric> glue_eval_metric(std::string_view task) {
    return std::make_unique<GlueEvalMetric>(GlueMetric::load(task));
}

std::unique_ptr<EvalMetric> whole_set_eval_metric(ComputeMetrics compute_metrics) {
    return std::make_unique<WholeSetEvalMetric>(std::move(compute_metrics));
}

std::unique_ptr<EvalMetric> MetricSpec::make() const {
    if (!glue_task.empty()) return glue_eval_metric(glue_task);
    if (compute_metrics) return whole_set_eval_metric(compute_metrics);
    if (make_metric) return make_metric();
    return nullptr;
}

}  // namespace ft
