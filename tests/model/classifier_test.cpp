// The engine against PyTorch goldens (tools/gen_goldens.py, HF's math verified against real HF
// outputs) and the real HF reference (../shared/reference/tiny_distilbert): eval logits and
// losses of the packed model equal the padded HF model's; every parameter gradient.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "model/golden_model.h"
#include "test_env.h"
#include "tolerances.h"

namespace ft {

namespace {

// RoBERTa's and XLM-R's are current transformers' own models (tools/gen_roberta_goldens.py).
const char* GOLDENS[] = {"distilbert_cls.safetensors", "bert_cls.safetensors",
                         "bert_reg.safetensors", "roberta_cls.safetensors",
                         "xlm_roberta_cls.safetensors"};

double scalar(const StateDict& t, const std::string& name) {
    return test::doubles(t.at(name))[0];
}

nlohmann::json read_json(const fs::path& p) {
    std::ifstream f(p);
    return nlohmann::json::parse(f);
}

}  // namespace

TEST(ClassifierGolden, EvalLogitsAndLossEqualPaddedPyTorch) {
    for (const char* name : GOLDENS) {
        SCOPED_TRACE(name);
        auto g = test::load_golden_model(name);
        SequenceClassifier model(g.config, *g.weights);
        const double loss = model.forward(g.batch, /*train=*/false);
        const Tensor& want = g.file.tensors.at("eval.logits");
        EXPECT_TRUE(test::all_close(model.logits(), want.ptr<const float>(), want.numel(),
                                    test::F32.logits_rel, test::Scale::RELATIVE));
        EXPECT_TRUE(test::close(loss, scalar(g.file.tensors, "eval.loss"), test::F32.logits_rel));
    }
}

TEST(ClassifierGolden, EveryParameterGradientEqualsPyTorch) {
    for (const char* name : GOLDENS) {
        SCOPED_TRACE(name);
        auto g = test::load_golden_model(name);
        test::zero_dropout(g.config);
        SequenceClassifier model(g.config, *g.weights);
        ModelWeights grads(g.config);
        const double loss = model.forward(g.batch, /*train=*/true, 1, 0);
        model.backward(grads);
        EXPECT_TRUE(test::close(loss, scalar(g.file.tensors, "grad.loss"), test::F32.logits_rel));
        // The key bias's true gradient is 0 (softmax ignores a per-row shift); PyTorch's values
        // are rounding noise, so it is compared against the scale of all the gradients.
        double max_all = 0;
        for (const auto& [n, t] : g.file.tensors.entries())
            if (n.rfind("grad.", 0) == 0 && n != "grad.loss")
                for (int64_t k = 0; k < t.numel(); ++k)
                    max_all = std::max(max_all, std::fabs(double(t.ptr<const float>()[k])));
        for (size_t i = 0; i < grads.specs().size(); ++i) {
            const auto& spec = grads.specs()[i];
            const Tensor& want = g.file.tensors.at("grad." + spec.name);
            const bool noise = spec.name.find("k_lin.bias") != std::string::npos ||
                               spec.name.find("key.bias") != std::string::npos;
            EXPECT_TRUE(
                noise ? test::all_close(grads.tensors()[i].ptr<float>(), want.ptr<const float>(),
                                        want.numel(), test::F32.grad_rel_max * max_all,
                                        test::Scale::ABSOLUTE)
                      : test::all_close(grads.tensors()[i].ptr<float>(), want.ptr<const float>(),
                                        want.numel(), test::F32.grad_rel_max,
                                        test::Scale::RELATIVE_TO_MAX))
                << spec.name;
        }
    }
}

TEST(ClassifierReference, TinyDistilbertEvalLogitsEqualRealHuggingFace) {
    // The real HF model on 4 padded CoLA batches (eval mode) against our packed batches.
    const fs::path ref = test::shared_dir() / "reference/tiny_distilbert";
    auto m = load_pretrained(ref / "init");
    SequenceClassifier model(m.config, m.weights);
    const auto batches = read_json(ref / "batches.json")["batches"];
    const auto eval = read_json(ref / "eval_init.json")["per_batch"];
    ASSERT_EQ(batches.size(), 4u);
    for (size_t b = 0; b < batches.size(); ++b) {
        SCOPED_TRACE("batch " + std::to_string(b));
        const auto packed = test::pack_padded(batches[b]["input_ids"], batches[b]["attention_mask"],
                                              batches[b]["labels"]);
        const double loss = model.forward(packed, /*train=*/false);
        std::vector<float> want;
        for (const auto& row : eval[b]["logits"])
            for (double x : row) want.push_back(static_cast<float>(x));
        EXPECT_TRUE(test::all_close(model.logits(), want.data(), static_cast<int64_t>(want.size()),
                                    test::F32.reference_logits_abs, test::Scale::ABSOLUTE));
        EXPECT_TRUE(test::close(loss, eval[b]["loss"].get<double>(), test::F32.logits_rel));
    }
}

TEST(Classifier, DeterministicAndDropoutFollowsSeedAndStep) {
    auto g = test::load_golden_model("bert_cls.safetensors");
    SequenceClassifier model(g.config, *g.weights);
    ModelWeights g1(g.config), g2(g.config);
    const double a = model.forward(g.batch, true, 42, 7);
    model.backward(g1);
    const double b = model.forward(g.batch, true, 42, 7);
    model.backward(g2);
    EXPECT_EQ(a, b);  // bit-identical: same seed, step and thread count
    EXPECT_EQ(0, std::memcmp(g1.flat(), g2.flat(), g1.flat_size() * sizeof(float)));
    const double c = model.forward(g.batch, true, 42, 8);
    EXPECT_NE(a, c);  // another step, another dropout mask
    const double e1 = model.forward(g.batch, false, 1, 1), e2 = model.forward(g.batch, false, 2, 2);
    EXPECT_EQ(e1, e2);  // eval mode: no dropout
    EXPECT_NE(a, e1);
}

TEST(Classifier, LossScaleScalesGradients) {
    auto g = test::load_golden_model("distilbert_cls.safetensors");
    test::zero_dropout(g.config);
    SequenceClassifier model(g.config, *g.weights);
    ModelWeights full(g.config), half(g.config);
    model.forward(g.batch, true);
    model.backward(full);
    model.forward(g.batch, true);
    model.backward(half, 0.5f);
    for (int64_t i = 0; i < full.flat_size(); ++i)
        ASSERT_FLOAT_EQ(half.flat()[i], 0.5f * full.flat()[i]) << i;
}

TEST(Classifier, BadBatchesAreClearErrors) {
    auto g = test::load_golden_model("distilbert_cls.safetensors");
    SequenceClassifier model(g.config, *g.weights);
    PackedBatch b = g.batch;
    b.input_ids[3] = 64;  // vocab is 64
    EXPECT_THROW(model.forward(b, false), Error);
    b = g.batch;
    b.labels[0] = 3;  // 3 labels
    EXPECT_THROW(model.forward(b, false), Error);
    b = g.batch;
    b.offsets = {0, 33};  // 32 positions
    b.input_ids.assign(33, 5);
    b.labels = {0};
    EXPECT_THROW(model.forward(b, false), Error);
}

}  // namespace ft
