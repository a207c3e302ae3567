// Finite differences on what RoBERTa and XLM-R add over BERT: the position rows from pad + 1
// (the pad's row and the rows past the longest sequence get no gradient), the head that drops
// its input before the dense layer, and the layers between, on the goldens' tiny models with
// every dropout on. The mask is a function of (seed, step) only, so the loss is a deterministic
// function of the weights and central differences check backward() with the masks in place.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "finetune/model.h"
#include "model/golden_model.h"

namespace ft {
namespace {

constexpr uint64_t SEED = 7, STEP = 3;

struct Probe {
    std::string tensor;
    int64_t index;
    double analytic;
};

class RobertaGradcheck : public ::testing::TestWithParam<const char*> {};

TEST_P(RobertaGradcheck, BackwardMatchesCentralDifferences) {
    auto g = test::load_golden_model(GetParam());
    // Dropout on everywhere, with the head's rate high enough that its mask drops inputs.
    BertConfig& r = g.config.family == ModelFamily::XLM_ROBERTA
                        ? static_cast<BertConfig&>(g.config.xlm_roberta)
                        : g.config.roberta;
    ASSERT_TRUE(g.config.family == ModelFamily::XLM_ROBERTA ||
                g.config.family == ModelFamily::ROBERTA);
    r.hidden_dropout_prob = 0.1;
    r.attention_probs_dropout_prob = 0.1;
    r.classifier_dropout = 0.3;
    SequenceClassifier model(g.config, *g.weights);
    ModelWeights grads(g.config);
    model.forward(g.batch, /*train=*/true, SEED, STEP);
    model.backward(grads);

    const int64_t C = g.config.hidden();
    const int64_t pad = r.pad_token_id;
    int64_t longest = 0;
    for (size_t i = 0; i + 1 < g.batch.offsets.size(); ++i)
        longest = std::max<int64_t>(longest, g.batch.offsets[i + 1] - g.batch.offsets[i]);
    ASSERT_LT(pad + 1 + longest, g.config.max_positions()) << "no unused position row to probe";

    // Per tensor: its three largest gradients, plus the position rows that must get none.
    std::vector<Probe> probes;
    for (const char* name :
         {"roberta.embeddings.position_embeddings.weight",
          "roberta.embeddings.word_embeddings.weight", "roberta.embeddings.LayerNorm.weight",
          "roberta.encoder.layer.0.attention.self.query.weight",
          "roberta.encoder.layer.1.output.dense.weight", "classifier.dense.weight",
          "classifier.out_proj.weight", "classifier.out_proj.bias"}) {
        const Tensor* t = grads.find(name);
        ASSERT_NE(t, nullptr) << name;
        const float* d = t->ptr<const float>();
        std::vector<int64_t> order(static_cast<size_t>(t->numel()));
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + 3, order.end(),
                          [&](int64_t a, int64_t b) { return std::fabs(d[a]) > std::fabs(d[b]); });
        for (int k = 0; k < 3; ++k) probes.push_back({name, order[size_t(k)], d[order[size_t(k)]]});
    }
    const std::string pos = "roberta.embeddings.position_embeddings.weight";
    const float* dpos = grads.find(pos)->ptr<const float>();
    for (int64_t row : {pad, pad + 1 + longest}) {
        for (int64_t j = 0; j < C; ++j) ASSERT_EQ(dpos[row * C + j], 0.0f) << "row " << row;
        probes.push_back({pos, row * C, 0.0});
    }
    for (int64_t j = 0; j < C; ++j) ASSERT_NE(dpos[(pad + 1) * C + j], 0.0f) << "first position";

    // h = 1e-2 balances float32's rounding in the loss (~1e-7 of ~1.1) against the O(h^2)
    // truncation; agreement measured at most 1.8e-4 absolute (XLM-R; RoBERTa 6.3e-5).
    const double h = 1e-2;
    double worst = 0;
    for (const Probe& p : probes) {
        float* w = g.weights->find(p.tensor)->ptr<float>() + p.index;
        const float saved = *w;
        *w = saved + float(h);
        const double up = model.forward(g.batch, true, SEED, STEP);
        *w = saved - float(h);
        const double down = model.forward(g.batch, true, SEED, STEP);
        *w = saved;
        const double fd = (up - down) / (2 * h);
        worst = std::max(worst, std::fabs(fd - p.analytic));
        EXPECT_NEAR(fd, p.analytic, 3e-4 + 2e-3 * std::fabs(p.analytic))
            << p.tensor << "[" << p.index << "]";
    }
    RecordProperty("max_abs_difference", std::to_string(worst));
}

INSTANTIATE_TEST_SUITE_P(Models, RobertaGradcheck,
                         ::testing::Values("roberta_cls.safetensors",
                                           "xlm_roberta_cls.safetensors"),
                         [](const auto& info) {
                             std::string n = info.param;
                             return n.substr(0, n.find('.'));
                         });

}  // namespace
}  // namespace ft
