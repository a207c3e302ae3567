// The metric objects the Trainer feeds batch by batch (MetricSpec -> EvalMetric): the streamed
// GLUE metric equals the one-shot GlueMetric plus run_glue's combined_score, a compute_metrics
// sees every batch's rows at once, and compute() starts over.
#include <gtest/gtest.h>

#include "finetune/core.h"
#include "finetune/metrics.h"
#include "test_env.h"

namespace ft {
namespace {

using Scores = std::map<std::string, double>;

EvalBatch batch_of(const std::vector<float>& logits, int64_t K, const std::vector<int64_t>& ids,
                   const std::vector<float>& targets = {}) {
    return {logits, static_cast<int64_t>(logits.size()) / K, K, ids, targets};
}

TEST(EvalMetricGlue, StreamedBatchesEqualTheOneShotMetricWithCombinedScore) {
    const std::vector<float> a = {0.9f, 0.1f, 0.2f, 0.8f}, b = {0.3f, 0.4f, 0.6f, -1.f};
    const std::vector<int64_t> la = {0, 1}, lb = {0, 0};
    const auto mrpc = glue_eval_metric("mrpc");
    mrpc->add_batch(batch_of(a, 2, la));
    mrpc->add_batch(batch_of(b, 2, lb));
    mrpc->add_batch(batch_of({5.f, 1.f}, 2, {}));  // unlabelled: skipped
    const Scores got = mrpc->compute();
    // argmax 0, 1, 1, 0 against 0, 1, 0, 0: accuracy 3/4, f1 2/3.
    const Scores one = GlueMetric::load("mrpc").compute(std::vector<int64_t>{0, 1, 1, 0},
                                                        std::vector<int64_t>{0, 1, 0, 0});
    EXPECT_EQ(got.at("accuracy"), one.at("accuracy"));
    EXPECT_EQ(got.at("f1"), one.at("f1"));
    // And the hand-worked values themselves, not only our one-shot metric's.
    EXPECT_DOUBLE_EQ(got.at("accuracy"), 0.75);
    EXPECT_DOUBLE_EQ(got.at("f1"), 2.0 / 3.0);
    EXPECT_EQ(got.at("combined_score"), (0.75 + 2.0 / 3.0) / 2);
    EXPECT_EQ(got.size(), 3u);
    // compute() reset the state; a task with one metric has no combined_score.
    EXPECT_THROW(mrpc->compute(), Error);
    const auto cola = glue_eval_metric("cola");
    cola->add_batch(batch_of(a, 2, la));
    EXPECT_EQ(cola->compute(), (Scores{{"matthews_correlation", 1.0}}));
    EXPECT_THROW(glue_eval_metric("colaa"), Error);
}

TEST(EvalMetricGlue, StsbTakesEachRowsLogitAgainstItsTarget) {
    const auto stsb = glue_eval_metric("stsb");
    stsb->add_batch(batch_of({0.5f, 2.5f}, 1, {}, {1.f, 3.f}));
    stsb->add_batch(batch_of({9.f}, 1, {}));  // unlabelled: skipped
    stsb->add_batch(batch_of({1.5f, 0.f}, 1, {}, {2.f, 4.f}));
    const Scores got = stsb->compute();
    const Scores one = GlueMetric::load("stsb").compute(std::vector<double>{0.5, 2.5, 1.5, 0.0},
                                                        std::vector<double>{1, 3, 2, 4});
    EXPECT_EQ(got.at("pearson"), one.at("pearson"));
    EXPECT_EQ(got.at("spearmanr"), one.at("spearmanr"));
    EXPECT_EQ(got.at("combined_score"), (one.at("pearson") + one.at("spearmanr")) / 2);
}

TEST(EvalMetricWholeSet, ComputeMetricsSeesEveryBatchOnce) {
    int calls = 0;
    EvalPrediction seen;
    MetricSpec spec;
    spec.compute_metrics = [&](const EvalPrediction& p) {
        ++calls;
        seen = p;
        return Scores{{"rows", static_cast<double>(p.num_rows)}};
    };
    const auto m = spec.make();
    ASSERT_TRUE(m);
    m->add_batch(batch_of({1.f, 2.f, 3.f, 4.f}, 2, {1, 0}));
    m->add_batch(batch_of({5.f, 6.f}, 2, {1}));
    EXPECT_EQ(m->compute(), (Scores{{"rows", 3.0}}));
    EXPECT_EQ(calls, 1);
    EXPECT_EQ(seen.predictions, (std::vector<float>{1, 2, 3, 4, 5, 6}));
    EXPECT_EQ(seen.label_ids, (std::vector<int64_t>{1, 0, 1}));
    EXPECT_EQ(seen.num_labels, 2);
    m->add_batch(batch_of({7.f, 8.f}, 2, {0}));
    EXPECT_EQ(m->compute(), (Scores{{"rows", 1.0}}));  // started over
    EXPECT_EQ(seen.predictions, (std::vector<float>{7, 8}));
}

TEST(EvalMetricSpec, GlueTaskThenComputeMetricsThenOwnMetric) {
    EXPECT_TRUE(MetricSpec{}.empty());
    EXPECT_EQ(MetricSpec{}.make(), nullptr);
    // glue_task wins over compute_metrics.
    MetricSpec both{"cola", [](const EvalPrediction&) { return Scores{{"user", 1.0}}; }};
    auto m = both.make();
    m->add_batch(batch_of({0.f, 1.f}, 2, {1}));
    EXPECT_TRUE(m->compute().contains("matthews_correlation"));
    // An EvalMetric of one's own.
    struct Count : EvalMetric {
        double n = 0;
        void add_batch(const EvalBatch& b) override { n += static_cast<double>(b.num_rows); }
        Scores compute() override { return {{"n", n}}; }
    };
    MetricSpec own;
    own.make_metric = [] { return std::make_unique<Count>(); };
    EXPECT_FALSE(own.empty());
    m = own.make();
    m->add_batch(batch_of({0.f, 1.f, 2.f, 3.f}, 2, {}));
    EXPECT_EQ(m->compute(), (Scores{{"n", 2.0}}));
}

}  // namespace
}  // namespace ft
