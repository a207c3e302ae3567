// The text-classification pipeline: its postprocessing against hand-worked softmax and sigmoid
// values on known logits, regression's raw values, and the whole pipeline against the engine.
#include <gtest/gtest.h>

#include <cmath>

#include "finetune/finetune.h"
#include "test_env.h"

namespace ft {
namespace {

const std::vector<std::string> ABC = {"a", "b", "c"};

TEST(TextClassificationPipeline, SoftmaxScoresAndTheArgmaxLabel) {
    const std::vector<float> logits = {1.f, 2.f, 3.f};
    // By hand: e^-2, e^-1, e^0 over their sum 1.5032147244080551.
    const double want[] = {0.09003057317038046, 0.24472847105479764, 0.6652409557748218};
    const TextClassification r = classify_logits(logits, ABC, ProblemType::NONE);
    ASSERT_EQ(r.scores.size(), 3u);
    for (size_t k = 0; k < 3; ++k) {
        EXPECT_EQ(r.scores[k].label, ABC[k]);
        EXPECT_NEAR(r.scores[k].score, want[k], 1e-15) << k;
    }
    EXPECT_EQ(r.top.label, "c");
    EXPECT_NEAR(r.top.score, want[2], 1e-15);
    // Large logits do not overflow, the top is where the maximum is, a tie takes the first.
    const TextClassification big = classify_logits(std::vector<float>{1000.f, 999.f, 1000.f}, ABC,
                                                   ProblemType::SINGLE_LABEL_CLASSIFICATION);
    EXPECT_EQ(big.top.label, "a");
    EXPECT_NEAR(big.top.score, 1.0 / (2.0 + std::exp(-1.0)), 1e-15);
    EXPECT_NEAR(big.scores[1].score, std::exp(-1.0) / (2.0 + std::exp(-1.0)), 1e-15);
}

TEST(TextClassificationPipeline, RegressionGivesTheRawValue) {
    const std::vector<std::string> one = {"LABEL_0"};
    TextClassification r = classify_logits(std::vector<float>{2.5f}, one, ProblemType::NONE);
    EXPECT_EQ(r.top.label, "LABEL_0");
    EXPECT_EQ(r.top.score, 2.5);
    r = classify_logits(std::vector<float>{-0.75f}, one, ProblemType::REGRESSION);
    EXPECT_EQ(r.top.score, -0.75);
    ASSERT_EQ(r.scores.size(), 1u);
    EXPECT_EQ(r.scores[0].score, -0.75);
}

TEST(TextClassificationPipeline, MultiLabelTakesASigmoidPerLabel) {
    const TextClassification r = classify_logits(std::vector<float>{0.f, 2.f, -1.f}, ABC,
                                                 ProblemType::MULTI_LABEL_CLASSIFICATION);
    // By hand: 1 / (1 + e^-x) for x = 0, 2, -1.
    EXPECT_EQ(r.scores[0].score, 0.5);
    EXPECT_NEAR(r.scores[1].score, 0.88079707797788231, 1e-15);
    EXPECT_NEAR(r.scores[2].score, 0.26894142136999512, 1e-15);
    EXPECT_EQ(r.top.label, "b");
    EXPECT_NEAR(r.top.score, 0.88079707797788231, 1e-15);
}

TEST(TextClassificationPipeline, LogitsThatDoNotMatchTheLabelsAreAnError) {
    const std::string msg = test::error_of([] {
        classify_logits(std::vector<float>{1.f, 2.f}, ABC, ProblemType::NONE);
    });
    EXPECT_NE(msg.find("2 logits"), std::string::npos) << msg;
    EXPECT_NE(msg.find("3 labels"), std::string::npos) << msg;
}

// The whole pipeline equals the engine's logits on the tokenizer's ids, postprocessed.
TEST(TextClassificationPipeline, EqualsTheEngineOnATinyCheckpoint) {
    const fs::path dir = test::tiny_distilbert_model_dir();
    TextClassificationPipeline classify = TextClassificationPipeline::from_pretrained(dir.string());
    EXPECT_EQ(classify.problem_type(), ProblemType::SINGLE_LABEL_CLASSIFICATION);
    const std::string text = "The sailors rode the breeze clear of the rocks.";
    const TextClassification got = classify(text);

    // The engine by hand on the tokenizer's ids (what `finetune predict` is checked against).
    const PretrainedModel m = load_pretrained(dir);
    const Encoding ids = BertTokenizer::from_pretrained(dir).encode(text);
    PackedBatch b{ids.input_ids, {}, {0, static_cast<int32_t>(ids.input_ids.size())}, {}, {}};
    SequenceClassifier engine(m.config, m.weights);
    engine.forward(b, false);
    const std::span<const float> logits(engine.logits(), 2);
    const TextClassification want = classify_logits(logits, m.config.id2label, ProblemType::NONE);
    ASSERT_EQ(got.scores.size(), 2u);
    for (size_t k = 0; k < 2; ++k) EXPECT_EQ(got.scores[k].score, want.scores[k].score) << k;
    EXPECT_EQ(got.top.label, logits[1] > logits[0] ? "LABEL_1" : "LABEL_0");
    EXPECT_NEAR(got.scores[0].score + got.scores[1].score, 1.0, 1e-15);
}

}  // namespace
}  // namespace ft
