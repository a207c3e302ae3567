// AdamW (torch and HF-legacy forms), gradient clipping: hand-worked cases, and the HF parameter
// groups over a real parameter table.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "finetune/train.h"
#include "test_env.h"

namespace ft {

TEST(AdamW, TorchFormHandWorkedFirstStep) {
    // p=1, g=0.5, lr=0.1, wd=0.01, t=1: decay p to 0.999; m=0.05, v=0.00025;
    // step size lr/(1-b1) = 1; denominator sqrt(v)/sqrt(1-b2) + eps = 0.5 + 1e-8.
    float p = 1.0f, g = 0.5f, m = 0.0f, v = 0.0f;
    adamw_update(&p, &g, &m, &v, 1, 0.1, 0.01, 1, {});
    EXPECT_NEAR(m, 0.05f, 1e-9);
    EXPECT_NEAR(v, 0.00025f, 1e-10);
    EXPECT_NEAR(p, 0.999 - 0.05 / (0.5 + 1e-8), 1e-7);
}

TEST(AdamW, HfFormDecaysAfterTheUpdate) {
    // Same inputs: p -= lr*sqrt(1-b2)/(1-b1) * m/(sqrt(v)+eps) = 1 - 0.1*(1-1e-8/0.0158...) ~ 0.9,
    // then p -= lr*wd*p: 0.9 * (1 - 0.001).
    float p = 1.0f, g = 0.5f, m = 0.0f, v = 0.0f;
    AdamWSettings s;
    s.kind = OptimizerKind::ADAMW_HF;
    adamw_update(&p, &g, &m, &v, 1, 0.1, 0.01, 1, s);
    const double after_adam =
        1.0 - 0.1 * std::sqrt(0.001) / 0.1 * 0.05 / (std::sqrt(0.00025) + 1e-8);
    EXPECT_NEAR(p, after_adam * (1 - 0.001), 1e-7);
}

TEST(AdamW, SecondStepUsesBiasCorrection) {
    // Two steps with g = 1 then g = -1 (torch form, no decay), worked out in double.
    float p = 0.0f, m = 0.0f, v = 0.0f;
    const float g1 = 1.0f, g2 = -1.0f;
    adamw_update(&p, &g1, &m, &v, 1, 0.01, 0.0, 1, {});
    adamw_update(&p, &g2, &m, &v, 1, 0.01, 0.0, 2, {});
    double pm = 0, pv = 0, pp = 0;
    for (int t = 1; t <= 2; ++t) {
        const double g = t == 1 ? 1.0 : -1.0;
        pm = 0.9 * pm + 0.1 * g;
        pv = 0.999 * pv + 0.001 * g * g;
        pp -= 0.01 / (1 - std::pow(0.9, t)) * pm /
              (std::sqrt(pv) / std::sqrt(1 - std::pow(0.999, t)) + 1e-8);
    }
    EXPECT_NEAR(p, pp, 1e-7);
}

TEST(AdamW, NoDecayForBiasesAndLayerNormWeights) {
    // With zero gradients only weight decay moves parameters: decayed ones shrink by 1 - lr*wd.
    auto config =
        load_model_config(test::shared_dir() / "reference/tiny_distilbert/init/config.json");
    ModelWeights w(config), g(config);
    std::fill_n(w.flat(), w.flat_size(), 1.0f);
    AdamWSettings s;
    s.weight_decay = 0.5;
    AdamW opt(w, s);
    opt.step(w, g, 0.1);
    for (size_t i = 0; i < w.specs().size(); ++i) {
        const float expected = w.specs()[i].no_weight_decay() ? 1.0f : 0.95f;
        EXPECT_EQ(w.tensors()[i].ptr<float>()[0], expected) << w.specs()[i].name;
    }
    // HF's groups: LayerNorm weights and every bias are exempt, embeddings and Linear weights not.
    EXPECT_TRUE(w.specs()[2].no_weight_decay());  // distilbert.embeddings.LayerNorm.weight
    EXPECT_FALSE(w.specs()[0].no_weight_decay());
    EXPECT_EQ(opt.step_count(), 1);
}

TEST(ClipGradNorm, ReturnsNormBeforeClippingAndScalesLikeTorch) {
    float g[] = {3.0f, 4.0f};  // norm 5
    EXPECT_DOUBLE_EQ(clip_grad_norm(g, 2, 10.0), 5.0);
    EXPECT_EQ(g[0], 3.0f);  // under the limit: untouched
    EXPECT_DOUBLE_EQ(clip_grad_norm(g, 2, 1.0), 5.0);
    EXPECT_FLOAT_EQ(g[0], static_cast<float>(3.0 / (5.0 + 1e-6)));
    EXPECT_FLOAT_EQ(g[1], static_cast<float>(4.0 / (5.0 + 1e-6)));
}

TEST(AdamW, FusedStepEqualsClipThenStepThenZeroBitForBit) {
    // The training loops' single pass against the three separate ones it replaces (the oracle:
    // clip_grad_norm, step, zero), over a real parameter table, for both update forms, with the
    // clipping active and not, over three steps so that the moments carry over.
    auto config =
        load_model_config(test::shared_dir() / "reference/tiny_distilbert/init/config.json");
    for (const auto kind : {OptimizerKind::ADAMW_TORCH, OptimizerKind::ADAMW_HF}) {
        for (const double max_norm : {0.5, 1e6}) {
            ModelWeights w1(config), w2(config), g1(config), g2(config);
            for (int64_t i = 0; i < w1.flat_size(); ++i)
                w1.flat()[i] = w2.flat()[i] = std::sin(0.37 * static_cast<double>(i));
            AdamWSettings s;
            s.kind = kind;
            s.weight_decay = 0.01;
            AdamW separate(w1, s), fused(w2, s);
            for (int step = 0; step < 3; ++step) {
                for (int64_t i = 0; i < g1.flat_size(); ++i)
                    g1.flat()[i] = g2.flat()[i] =
                        static_cast<float>(0.01 * std::cos(1.3 * static_cast<double>(i + step)));
                const double norm1 = clip_grad_norm(g1.flat(), g1.flat_size(), max_norm);
                separate.step(w1, g1, 1e-3);
                g1.zero();
                const double norm2 = global_grad_norm(g2.flat(), g2.flat_size());
                fused.step_and_zero_grads(w2, g2, 1e-3, clip_coefficient(norm2, max_norm));
                ASSERT_EQ(norm1, norm2);
                ASSERT_EQ(std::memcmp(w1.flat(), w2.flat(), w1.flat_size() * sizeof(float)), 0)
                    << "max_norm " << max_norm << " step " << step;
                ASSERT_EQ(std::memcmp(separate.exp_avg(), fused.exp_avg(),
                                      w1.flat_size() * sizeof(float)),
                          0);
                ASSERT_EQ(std::memcmp(separate.exp_avg_sq(), fused.exp_avg_sq(),
                                      w1.flat_size() * sizeof(float)),
                          0);
                ASSERT_TRUE(std::all_of(g2.flat(), g2.flat() + g2.flat_size(),
                                        [](float x) { return x == 0.0f; }));
            }
        }
    }
}

TEST(ClipGradNorm, CoefficientIsTorchsClampedFactor) {
    EXPECT_EQ(clip_coefficient(5.0, 10.0), 1.0f);  // under the limit: no scaling
    EXPECT_EQ(clip_coefficient(5.0, 1.0), static_cast<float>(1.0 / (5.0 + 1e-6)));
    // torch's clamp(max=1) keeps a NaN: a NaN norm gives a NaN coefficient, an infinite one 0.
    EXPECT_TRUE(std::isnan(clip_coefficient(std::nan(""), 1.0)));
    EXPECT_EQ(clip_coefficient(INFINITY, 1.0), 0.0f);
}

TEST(ClipGradNorm, NonFiniteNormsDoWhatTorchDoes) {
    // torch.nn.utils.clip_grad_norm_(max_norm=1): a NaN anywhere makes every gradient NaN; an
    // inf makes the finite ones 0 and the inf one NaN (inf * 0).
    std::vector<float> g = {1.0f, std::nanf(""), -2.0f};
    EXPECT_TRUE(std::isnan(clip_grad_norm(g.data(), 3, 1.0)));
    for (float x : g) EXPECT_TRUE(std::isnan(x));
    g = {3.0f, INFINITY, -4.0f};
    EXPECT_EQ(clip_grad_norm(g.data(), 3, 1.0), INFINITY);
    EXPECT_EQ(g[0], 0.0f);
    EXPECT_TRUE(std::isnan(g[1]));
    EXPECT_EQ(g[2], 0.0f);
}

}  // namespace ft
