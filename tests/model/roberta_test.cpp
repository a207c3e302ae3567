// What RoBERTa and XLM-R change over BERT, beyond the goldens' forward, gradients and trajectory
// (classifier_test.cpp, trajectory_test.cpp run tools/gen_roberta_goldens.py's models from current
// transformers): roberta-base's config.json read and written back, RobertaConfig's defaults, the
// names HF gives every parameter, the position row of the pad zeroed at init, the position limit
// of 514 positions starting at pad + 1, and the head's dropout before its dense layer.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "finetune/io.h"
#include "finetune/model.h"
#include "model/family.h"
#include "model/golden_model.h"
#include "model/param_views.h"
#include "test_env.h"

namespace ft {

namespace {

// roberta-base's config.json as the Hub has it.
const char* ROBERTA_BASE = R"({
  "architectures": ["RobertaForMaskedLM"], "attention_probs_dropout_prob": 0.1,
  "bos_token_id": 0, "eos_token_id": 2, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
  "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072,
  "layer_norm_eps": 1e-05, "max_position_embeddings": 514, "model_type": "roberta",
  "num_attention_heads": 12, "num_hidden_layers": 12, "pad_token_id": 1, "type_vocab_size": 1,
  "vocab_size": 50265})";

}  // namespace

TEST(Roberta, BaseConfigReadsAndWritesBack) {
    const ModelConfig c = parse_model_config(ROBERTA_BASE, "config.json");
    EXPECT_EQ(c.family, ModelFamily::ROBERTA);
    EXPECT_EQ(c.hidden(), 768);
    EXPECT_EQ(c.max_positions(), 514);
    EXPECT_EQ(c.vocab(), 50265);
    EXPECT_DOUBLE_EQ(c.layer_norm_eps(), 1e-5);
    EXPECT_TRUE(c.uses_token_types());  // one token-type row, all zeros
    EXPECT_EQ(c.classifier_architecture(), "RobertaForSequenceClassification");
    const nlohmann::json back = nlohmann::json::parse(model_config_to_json(c));
    const nlohmann::json hub = nlohmann::json::parse(ROBERTA_BASE);
    for (auto it = hub.begin(); it != hub.end(); ++it) {
        if (it.key() == "architectures") continue;  // written as the classifier's
        EXPECT_EQ(back.at(it.key()), it.value()) << it.key();
    }
    // RobertaConfig's defaults where config.json is silent; XLM-R keeps BERT's vocabulary size.
    const ModelConfig d = parse_model_config(R"({"model_type": "roberta"})", "c.json");
    EXPECT_EQ(d.vocab(), 50265);
    EXPECT_EQ(d.roberta.pad_token_id, 1);
    const ModelConfig x = parse_model_config(R"({"model_type": "xlm-roberta"})", "c.json");
    EXPECT_EQ(x.family, ModelFamily::XLM_ROBERTA);
    EXPECT_EQ(x.vocab(), 30522);
    EXPECT_EQ(x.xlm_roberta.pad_token_id, 1);
    EXPECT_EQ(x.classifier_architecture(), "XLMRobertaForSequenceClassification");
}

TEST(Roberta, ParametersHaveHuggingFacesNamesAndThePadPositionStartsAtZero) {
    ModelConfig c = parse_model_config(ROBERTA_BASE, "config.json");
    c.roberta.num_hidden_layers = 1;
    c.roberta.vocab_size = 40;
    const auto specs = parameter_table(c);
    std::vector<std::string> names;
    for (const auto& s : specs) names.push_back(s.name);
    const std::vector<std::string> head = {"classifier.dense.weight", "classifier.dense.bias",
                                           "classifier.out_proj.weight",
                                           "classifier.out_proj.bias"};
    EXPECT_EQ(std::vector<std::string>(names.end() - 4, names.end()), head);
    EXPECT_EQ(names[0], "roberta.embeddings.word_embeddings.weight");
    EXPECT_EQ(names[1], "roberta.embeddings.position_embeddings.weight");
    EXPECT_EQ(names[2], "roberta.embeddings.token_type_embeddings.weight");
    EXPECT_EQ(names[5], "roberta.encoder.layer.0.attention.self.query.weight");
    ModelWeights w(c);
    for (size_t i = 0; i < specs.size(); ++i)
        init_parameter(w.tensor(i), specs[i], c.initializer_range(), 42, i);
    for (const char* t : {"roberta.embeddings.word_embeddings.weight",
                          "roberta.embeddings.position_embeddings.weight"}) {
        const float* row1 = w.find(t)->ptr<const float>() + 768;  // the pad's row
        const float* row2 = row1 + 768;
        double s1 = 0, s2 = 0;
        for (int j = 0; j < 768; ++j) s1 += std::fabs(row1[j]), s2 += std::fabs(row2[j]);
        EXPECT_EQ(s1, 0.0) << t;
        EXPECT_GT(s2, 0.0) << t;
    }
}

TEST(Roberta, PositionsStartAfterThePadSo514Take512Tokens) {
    ModelConfig c = parse_model_config(ROBERTA_BASE, "config.json");
    c.roberta.num_hidden_layers = 1;
    c.roberta.hidden_size = 8;
    c.roberta.num_attention_heads = 2;
    c.roberta.intermediate_size = 8;
    c.roberta.vocab_size = 10;
    ModelWeights w(c);
    SequenceClassifier model(c, w);
    auto batch = [](int32_t n) {
        PackedBatch b;
        b.input_ids.assign(static_cast<size_t>(n), 5);
        b.offsets = {0, n};
        return b;
    };
    EXPECT_TRUE(std::isnan(model.forward(batch(512), false)));  // no labels, but it runs
    const std::string e = test::error_of([&] { model.forward(batch(513), false); });
    EXPECT_NE(e.find("513 tokens; the model takes at most 512 (max_position_embeddings = 514, "
                     "positions from 2)"),
              std::string::npos)
        << e;
}

// The head drops its input before the dense layer: on one sequence the dense weight's gradient
// is g_pre (outer) x_dropped, so its column j is zero exactly where input j was dropped. At rate
// 0.5 some of the 16 columns are (all kept has chance 2^-16); with the rate 0, none is.
int zero_dense_weight_columns(double classifier_dropout) {
    auto g = test::load_golden_model("roberta_cls.safetensors");
    test::zero_dropout(g.config);
    g.config.roberta.classifier_dropout = classifier_dropout;
    PackedBatch one;
    one.offsets = {0, g.batch.offsets[1]};
    one.input_ids.assign(g.batch.input_ids.begin(), g.batch.input_ids.begin() + one.offsets[1]);
    one.labels = {g.batch.labels[0]};
    SequenceClassifier model(g.config, *g.weights);
    ModelWeights grads(g.config);
    model.forward(one, /*train=*/true, 3, 1);
    model.backward(grads);
    const int64_t C = g.config.hidden();
    const float* dw = grads.find("classifier.dense.weight")->ptr<const float>();
    int zero = 0;
    for (int64_t j = 0; j < C; ++j) {
        bool all = true;
        for (int64_t o = 0; o < C; ++o) all = all && dw[o * C + j] == 0.0f;
        zero += all;
    }
    return zero;
}

TEST(Roberta, HeadDropsItsInputBeforeTheDenseLayer) {
    EXPECT_EQ(zero_dense_weight_columns(0.0), 0);
    const int dropped = zero_dense_weight_columns(0.5);
    EXPECT_GT(dropped, 0);
    EXPECT_LT(dropped, 16);
}

}  // namespace ft

namespace ft {

// The MaskedLM checkpoints users start from (roberta-base, xlm-roberta-base are such) load as
// classifiers with the keys HF's from_pretrained reports (tests/goldens/roberta_mlm, made by
// tools/make_roberta_mlm_fixture.py with transformers 5.25): lm_head.* unexpected, the
// classification head missing (initialised), everything else loaded.
TEST(Roberta, MaskedLmCheckpointsListTheKeysHuggingFaceLists) {
    const auto dir = test::goldens_dir() / "roberta_mlm";
    const auto hf = nlohmann::json::parse(read_text_file(dir / "hf_loading_info.json"));
    for (const char* family : {"roberta", "xlm-roberta"}) {
        SCOPED_TRACE(family);
        const PretrainedModel m = load_pretrained(dir / family, {.num_labels = 2});
        auto missing = m.report.missing_keys, unexpected = m.report.unexpected_keys;
        std::sort(missing.begin(), missing.end());
        std::sort(unexpected.begin(), unexpected.end());
        EXPECT_EQ(missing, hf[family]["missing_keys"].get<std::vector<std::string>>());
        EXPECT_EQ(unexpected, hf[family]["unexpected_keys"].get<std::vector<std::string>>());
        EXPECT_EQ(m.weights.numel(), hf[family]["num_parameters"].get<int64_t>());
        EXPECT_EQ(m.config.family, std::string(family) == "roberta" ? ModelFamily::ROBERTA
                                                                    : ModelFamily::XLM_ROBERTA);
    }
}

}  // namespace ft
