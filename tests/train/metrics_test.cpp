// The GLUE metric against sklearn and scipy (tests/goldens/metrics.json, made by
// tools/gen_metric_goldens.py the way evaluate's glue metric calls them), the streaming form
// against the one-shot form, and hand-worked cases; no Python is needed at test time.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "finetune/core.h"
#include "finetune/metrics.h"
#include "test_env.h"

namespace ft {
namespace {

using json = nlohmann::json;
using Scores = std::map<std::string, double>;

const json& goldens() {
    static const json doc = [] {
        const auto path = test::tools_dir() / ".." / "tests" / "goldens" / "metrics.json";
        std::ifstream in(path);
        if (!in) return json();
        return json::parse(in);
    }();
    return doc;
}

#define REQUIRE_GOLDENS()                                                                 \
    if (goldens().is_null())                                                              \
    GTEST_SKIP() << "tests/goldens/metrics.json is missing (tools/gen_metric_goldens.py " \
                    "makes it)"

// Counts, and MCC's integer-valued terms, make accuracy and matthews_correlation bit-exact;
// f1 (sklearn 1.2 divides p and r, we divide the counts once) and the correlations (numpy and
// BLAS sum in their own order) agree to rounding.
bool must_be_exact(const std::string& key) {
    return key == "accuracy" || key == "matthews_correlation";
}

void expect_close(double ours, double theirs, const std::string& what) {
    const double tolerance = 1e-12 * std::max(std::abs(ours), std::abs(theirs)) + 1e-15;
    EXPECT_NEAR(ours, theirs, tolerance) << what;
}

Scores compute_case(const GlueMetric& metric, const json& c) {
    if (metric.is_regression())
        return metric.compute(c["predictions"].get<std::vector<double>>(),
                              c["references"].get<std::vector<double>>());
    return metric.compute(c["predictions"].get<std::vector<int64_t>>(),
                          c["references"].get<std::vector<int64_t>>());
}

std::string describe(const json& c) {
    return c["task"].get<std::string>() + " (" + c["why"].get<std::string>() + ")";
}

TEST(MetricsGolden, OneShotMatchesSklearnAndScipy) {
    REQUIRE_GOLDENS();
    const json& cases = goldens()["cases"];
    ASSERT_GE(cases.size(), 90u);
    int compared = 0;
    for (const json& c : cases) {
        const GlueMetric metric = GlueMetric::load(c["task"].get<std::string>());
        if (c.contains("error")) {
            // sklearn / scipy raised ValueError: we throw ft::Error naming the task.
            const std::string msg = test::error_of([&] { compute_case(metric, c); });
            EXPECT_NE(msg.find("'" + metric.task() + "'"), std::string::npos)
                << describe(c) << ": " << msg;
            continue;
        }
        const Scores ours = compute_case(metric, c);
        const json& expected = c["expected"];
        ASSERT_EQ(ours.size(), expected.size()) << describe(c);
        for (const auto& [key, value] : expected.items()) {
            ASSERT_TRUE(ours.contains(key)) << describe(c) << " lacks " << key;
            const double got = ours.at(key);
            const std::string what = describe(c) + " " + key;
            if (value.is_null())
                EXPECT_TRUE(std::isnan(got)) << what << ": expected NaN, got " << got;
            else if (must_be_exact(key))
                EXPECT_EQ(got, value.get<double>()) << what;
            else
                expect_close(got, value.get<double>(), what);
            ++compared;
        }
    }
    EXPECT_GT(compared, 120);
}

// Adds the case's rows in random batches (empty ones included) and returns compute().
template <class T>
Scores stream_in_batches(GlueMetric& metric, const std::vector<T>& preds,
                         const std::vector<T>& refs, std::mt19937_64& rng) {
    size_t begin = 0;
    while (begin < preds.size()) {
        std::uniform_int_distribution<size_t> length(0, std::min<size_t>(preds.size() - begin, 37));
        const size_t n = length(rng);
        metric.add_batch(std::span<const T>(preds).subspan(begin, n),
                         std::span<const T>(refs).subspan(begin, n));
        begin += n;
    }
    return metric.compute();
}

TEST(MetricsStreaming, RandomBatchSplitsEqualOneShot) {
    REQUIRE_GOLDENS();
    std::mt19937_64 rng(7);
    for (const json& c : goldens()["cases"]) {
        if (c.contains("error")) continue;
        GlueMetric metric = GlueMetric::load(c["task"].get<std::string>());
        for (int split = 0; split < 3; ++split) {
            const Scores one_shot = compute_case(metric, c);
            const Scores streamed =
                metric.is_regression()
                    ? stream_in_batches(metric, c["predictions"].get<std::vector<double>>(),
                                        c["references"].get<std::vector<double>>(), rng)
                    : stream_in_batches(metric, c["predictions"].get<std::vector<int64_t>>(),
                                        c["references"].get<std::vector<int64_t>>(), rng);
            ASSERT_EQ(streamed.size(), one_shot.size()) << describe(c);
            for (const auto& [key, value] : one_shot) {
                if (std::isnan(value))
                    EXPECT_TRUE(std::isnan(streamed.at(key))) << describe(c) << " " << key;
                else
                    EXPECT_EQ(streamed.at(key), value) << describe(c) << " " << key;
            }
        }
        // compute() flushed the state, as evaluate's does.
        EXPECT_THROW(metric.compute(), Error) << describe(c);
    }
}

TEST(MetricsHand, TwoByTwoMatthewsF1AndAccuracy) {
    // tp 3, tn 4, fp 1, fn 2 (references first, as sklearn's y_true).
    const std::vector<int64_t> refs = {1, 1, 1, 0, 0, 0, 0, 0, 1, 1};
    const std::vector<int64_t> preds = {1, 1, 1, 0, 0, 0, 0, 1, 0, 0};
    // MCC = (tp tn - fp fn) / sqrt((tp+fp)(tp+fn)(tn+fp)(tn+fn)) = 10 / sqrt(4·5·5·6).
    const double mcc = GlueMetric::load("cola").compute(preds, refs).at("matthews_correlation");
    EXPECT_DOUBLE_EQ(mcc, 10.0 / std::sqrt(600.0));
    const Scores mrpc = GlueMetric::load("mrpc").compute(preds, refs);
    EXPECT_DOUBLE_EQ(mrpc.at("f1"), 2.0 / 3.0);  // 2·3 / (2·3 + 1 + 2)
    EXPECT_EQ(mrpc.at("accuracy"), 0.7);
    // MCC is 0.0, not NaN, when a column is constant (sklearn's zero-denominator rule).
    EXPECT_EQ(GlueMetric::load("cola")
                  .compute(std::vector<int64_t>(10, 1), refs)
                  .at("matthews_correlation"),
              0.0);
}

TEST(MetricsHand, PearsonAndSpearmanWithTies) {
    const GlueMetric stsb = GlueMetric::load("stsb");
    // x = 1,2,3, y = 1,2,4: sxy = 3, sxx = 2, syy = 14/3.
    const Scores a = stsb.compute(std::vector<double>{1, 2, 3}, std::vector<double>{1, 2, 4});
    EXPECT_NEAR(a.at("pearson"), 3.0 / std::sqrt(2.0 * 14.0 / 3.0), 1e-15);
    EXPECT_DOUBLE_EQ(a.at("spearmanr"), 1.0);
    // Average ranks 1, 2.5, 2.5, 4 against 1..4: rho = 4.5 / sqrt(4.5 · 5) = sqrt(0.9).
    const Scores b = stsb.compute(std::vector<double>{1, 2, 2, 3}, std::vector<double>{1, 2, 3, 4});
    EXPECT_NEAR(b.at("spearmanr"), std::sqrt(0.9), 1e-15);
    // A NaN prediction (a diverged model) gives NaN, as scipy's propagate policy does.
    const Scores c = stsb.compute(std::vector<double>{1, NAN, 3}, std::vector<double>{1, 2, 4});
    EXPECT_TRUE(std::isnan(c.at("pearson")) && std::isnan(c.at("spearmanr")));
}

TEST(MetricsArgmax, FirstMaximumAndNanLikeNumpy) {
    EvalPrediction p;
    p.num_rows = 4;
    p.num_labels = 3;
    p.predictions = {0.1f, 0.7f, 0.7f,  // tie -> first
                     -2.f, -3.f, -1.f,  // all negative
                     5.f,  5.f,  5.f,   // all equal -> 0
                     1.f,  NAN,  NAN};  // NaN is numpy's maximum, first one wins
    EXPECT_EQ(argmax_predictions(p), (std::vector<int64_t>{1, 2, 0, 1}));
    p.num_rows = 5;
    const std::string msg = test::error_of([&] { argmax_predictions(p); });
    EXPECT_NE(msg.find("12 values"), std::string::npos) << msg;
    EXPECT_NE(msg.find("5 × 3"), std::string::npos) << msg;
}

TEST(MetricsErrors, UnknownTaskListsTheValidOnes) {
    const std::string msg = test::error_of([] { GlueMetric::load("colaa"); });
    EXPECT_NE(msg.find("'colaa'"), std::string::npos) << msg;
    for (const char* t : {"sst2", "mnli", "mnli_mismatched", "mnli_matched", "cola", "stsb", "mrpc",
                          "qqp", "qnli", "rte", "wnli", "hans"})
        EXPECT_NE(msg.find(t), std::string::npos) << t << " missing from: " << msg;
    EXPECT_THROW(GlueMetric::load("CoLA"), Error);  // evaluate's names are lower case
    EXPECT_THROW(GlueMetric::load(""), Error);
}

TEST(MetricsErrors, BadInputsNameTheProblem) {
    GlueMetric cola = GlueMetric::load("cola");
    const std::vector<int64_t> three = {0, 1, 1}, two = {0, 1};
    std::string msg = test::error_of([&] { cola.add_batch(three, two); });
    EXPECT_NE(msg.find("3 rows"), std::string::npos) << msg;
    EXPECT_NE(msg.find("has 2"), std::string::npos) << msg;
    msg = test::error_of([&] { cola.compute(); });
    EXPECT_NE(msg.find("no predictions"), std::string::npos) << msg;
    msg =
        test::error_of([&] { cola.add_batch(std::vector<double>{0.5}, std::vector<double>{1.0}); });
    EXPECT_NE(msg.find("classification"), std::string::npos) << msg;
    GlueMetric stsb = GlueMetric::load("stsb");
    msg = test::error_of([&] { stsb.add_batch(three, three); });
    EXPECT_NE(msg.find("regression"), std::string::npos) << msg;
}

TEST(MetricsComputeMetrics, ArgmaxThenGlueAndSqueezeForStsb) {
    EvalPrediction p;
    p.num_rows = 4;
    p.num_labels = 2;
    p.predictions = {0.9f, 0.1f, 0.2f, 0.8f, 0.3f, 0.4f, 0.6f, -1.f};  // argmax 0, 1, 1, 0
    p.label_ids = {0, 1, 0, 0};
    const Scores mrpc = glue_compute_metrics("mrpc")(p);
    EXPECT_EQ(mrpc.at("accuracy"), 0.75);
    EXPECT_DOUBLE_EQ(mrpc.at("f1"), 2.0 / 3.0);  // tp 1, fp 1, fn 0
    EXPECT_EQ(glue_compute_metrics("cola")(p),
              GlueMetric::load("cola").compute(std::vector<int64_t>{0, 1, 1, 0}, p.label_ids));

    EvalPrediction r;
    r.num_rows = 3;
    r.num_labels = 1;
    r.predictions = {0.5f, 2.5f, 1.5f};
    r.float_labels = {1.f, 3.f, 2.f};
    const Scores stsb = glue_compute_metrics("stsb")(r);
    EXPECT_DOUBLE_EQ(stsb.at("pearson"), 1.0);
    EXPECT_DOUBLE_EQ(stsb.at("spearmanr"), 1.0);
    r.num_labels = 3;
    r.num_rows = 1;
    EXPECT_NE(test::error_of([&] { glue_compute_metrics("stsb")(r); }).find("num_labels 1"),
              std::string::npos);
}

}  // namespace
}  // namespace ft
