// The token-classification head (dropout -> classifier on every token, cross-entropy over the
// tokens whose label is not -100): the loss against a double-precision recomputation from the
// logits, backward against central differences with dropout on, the parameter table and config
// under HF's names, and its errors. Parity with HF's Trainer is
// tests/train/ner_trainer_parity_test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "finetune/finetune.h"

namespace ft {
namespace {

constexpr int64_t K = 5;

ModelConfig tiny_config(ModelFamily family) {
    ModelConfig c;
    c.family = family;
    c.task = ModelTask::TOKEN_CLASSIFICATION;
    c.id2label = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC"};
    auto bert_like = [](BertConfig& b) {
        b.vocab_size = 60;
        b.hidden_size = 16;
        b.num_hidden_layers = 2;
        b.num_attention_heads = 2;
        b.intermediate_size = 24;
        b.max_position_embeddings = 40;
    };
    switch (family) {
        case ModelFamily::DISTILBERT:
            c.distilbert.vocab_size = 60;
            c.distilbert.dim = 16;
            c.distilbert.n_layers = 2;
            c.distilbert.n_heads = 2;
            c.distilbert.hidden_dim = 24;
            c.distilbert.max_position_embeddings = 40;
            break;
        case ModelFamily::BERT:
            bert_like(c.bert);
            break;
        case ModelFamily::ROBERTA:
            bert_like(c.roberta);
            c.roberta.type_vocab_size = 1;
            break;
        case ModelFamily::XLM_ROBERTA:
            bert_like(c.xlm_roberta);
            c.xlm_roberta.type_vocab_size = 1;
            break;
    }
    return c;
}

// Three sequences of 7, 4 and 9 tokens; labels per token with -100 on the first and last token
// of each (the special tokens) and on one inner token (a continuation sub-token).
PackedBatch token_batch(int64_t vocab) {
    PackedBatch b;
    b.offsets = {0, 7, 11, 20};
    std::mt19937 rng(11);
    for (int i = 0; i < 20; ++i)
        b.input_ids.push_back(static_cast<int32_t>(3 + rng() % (vocab - 3)));
    for (int i = 0; i < 20; ++i) b.labels.push_back(static_cast<int64_t>(rng() % K));
    for (int i : {0, 6, 7, 10, 11, 19, 3, 14}) b.labels[static_cast<size_t>(i)] = -100;
    return b;
}

class TokenHead : public ::testing::TestWithParam<ModelFamily> {};

TEST_P(TokenHead, LossIsTheMeanCrossEntropyOverLabelledTokens) {
    auto m = AutoModelForTokenClassification::from_config(tiny_config(GetParam()), 3);
    SequenceClassifier model(m->config, m->weights);
    const PackedBatch batch = token_batch(m->config.vocab());
    const double loss = model.forward(batch, /*train=*/false);
    ASSERT_EQ(model.logit_rows(), batch.num_tokens());
    const float* logits = model.logits();
    double total = 0;
    int counted = 0;
    for (int64_t t = 0; t < batch.num_tokens(); ++t) {
        const int64_t y = batch.labels[static_cast<size_t>(t)];
        if (y == -100) continue;
        double mx = -INFINITY, sum = 0;
        for (int64_t k = 0; k < K; ++k) mx = std::max<double>(mx, logits[t * K + k]);
        for (int64_t k = 0; k < K; ++k) sum += std::exp(logits[t * K + k] - mx);
        total += mx + std::log(sum) - logits[t * K + y];
        ++counted;
    }
    ASSERT_EQ(counted, 12);
    EXPECT_NEAR(loss, total / counted, 1e-6);
    // Without labels: logits only; the same logits.
    PackedBatch unlabelled = batch;
    unlabelled.labels.clear();
    const std::vector<float> before(logits, logits + batch.num_tokens() * K);
    EXPECT_TRUE(std::isnan(model.forward(unlabelled, false)));
    for (size_t i = 0; i < before.size(); ++i) ASSERT_EQ(model.logits()[i], before[i]) << i;
}

TEST_P(TokenHead, BackwardMatchesCentralDifferencesWithDropoutOn) {
    ModelConfig c = tiny_config(GetParam());
    if (c.family == ModelFamily::DISTILBERT) {
        c.distilbert.dropout = 0.2;  // the token head's rate (not seq_classif_dropout)
    } else {
        BertConfig& b = c.family == ModelFamily::BERT      ? c.bert
                        : c.family == ModelFamily::ROBERTA ? static_cast<BertConfig&>(c.roberta)
                                                           : c.xlm_roberta;
        b.classifier_dropout = 0.3;
    }
    auto m = AutoModelForTokenClassification::from_config(c, 5);
    // Larger weights than the init's 0.02 so that the gradients are far above float rounding.
    for (size_t i = 0; i < m->weights.specs().size(); ++i)
        if (m->weights.specs()[i].kind == ParamKind::LINEAR_WEIGHT ||
            m->weights.specs()[i].kind == ParamKind::EMBEDDING) {
            Tensor& t = m->weights.tensor(i);
            for (int64_t j = 0; j < t.numel(); ++j) t.ptr<float>()[j] *= 10.0f;
        }
    SequenceClassifier model(m->config, m->weights);
    ModelWeights grads(m->config);
    const PackedBatch batch = token_batch(m->config.vocab());
    constexpr uint64_t SEED = 9, STEP = 2;
    const double l0 = model.forward(batch, true, SEED, STEP);
    model.backward(grads);
    // Dropout is on in the head: the training loss differs from the eval loss.
    EXPECT_NE(l0, model.forward(batch, false));
    model.forward(batch, true, SEED, STEP);

    const std::string base = m->config.family == ModelFamily::DISTILBERT ? "distilbert"
                             : m->config.family == ModelFamily::BERT     ? "bert"
                                                                         : "roberta";
    std::vector<std::string> names = {"classifier.weight", "classifier.bias",
                                      base + ".embeddings.word_embeddings.weight"};
    names.push_back(m->config.family == ModelFamily::DISTILBERT
                        ? "distilbert.transformer.layer.1.ffn.lin2.weight"
                        : base + ".encoder.layer.1.output.dense.weight");
    const double h = 1e-2;
    double worst = 0;
    for (const std::string& name : names) {
        const Tensor* gt = grads.find(name);
        ASSERT_NE(gt, nullptr) << name;
        const float* d = gt->ptr<const float>();
        std::vector<int64_t> order(static_cast<size_t>(gt->numel()));
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + 3, order.end(),
                          [&](int64_t a, int64_t b) { return std::fabs(d[a]) > std::fabs(d[b]); });
        for (int k = 0; k < 3; ++k) {
            const int64_t idx = order[static_cast<size_t>(k)];
            ASSERT_GT(std::fabs(d[idx]), 1e-3) << name << ": no gradient to check";
            float* w = m->weights.find(name)->ptr<float>() + idx;
            const float saved = *w;
            *w = saved + float(h);
            const double up = model.forward(batch, true, SEED, STEP);
            *w = saved - float(h);
            const double down = model.forward(batch, true, SEED, STEP);
            *w = saved;
            const double fd = (up - down) / (2 * h);
            worst = std::max(worst, std::fabs(fd - d[idx]));
            EXPECT_NEAR(fd, d[idx], 3e-4 + 3e-3 * std::fabs(d[idx])) << name << "[" << idx << "]";
        }
    }
    RecordProperty("max_abs_difference", std::to_string(worst));
}

TEST_P(TokenHead, TableConfigAndCheckpointUseHuggingFaceNames) {
    auto m = AutoModelForTokenClassification::from_config(tiny_config(GetParam()), 1);
    const auto& specs = m->weights.specs();
    // The head is one Linear named classifier: no pooler, pre_classifier or dense.
    EXPECT_EQ(specs[specs.size() - 2].name, "classifier.weight");
    EXPECT_EQ(specs.back().name, "classifier.bias");
    EXPECT_EQ(specs[specs.size() - 2].shape, Shape({K, m->config.hidden()}));
    for (const auto& s : specs) {
        EXPECT_EQ(s.name.find("pooler"), std::string::npos) << s.name;
        EXPECT_EQ(s.name.find("pre_classifier"), std::string::npos) << s.name;
    }
    const auto dir = std::filesystem::temp_directory_path() /
                     ("ft_token_head_" + std::to_string(static_cast<int>(GetParam())));
    std::filesystem::remove_all(dir);
    save_pretrained(m->config, m->weights, dir);
    const ModelConfig back = load_model_config(dir / "config.json");
    EXPECT_EQ(back.task, ModelTask::TOKEN_CLASSIFICATION);
    ASSERT_EQ(back.architectures.size(), 1u);
    EXPECT_TRUE(back.architectures[0].ends_with("ForTokenClassification")) << back.architectures[0];
    EXPECT_EQ(back.id2label, m->config.id2label);
    const PretrainedModel loaded = load_pretrained(dir);
    EXPECT_TRUE(loaded.report.missing_keys.empty());
    EXPECT_TRUE(loaded.report.unexpected_keys.empty());
    // AutoModelForSequenceClassification on the same folder builds the other head.
    const auto seq = AutoModelForSequenceClassification::from_pretrained(dir.string());
    EXPECT_EQ(seq->config.task, ModelTask::SEQUENCE_CLASSIFICATION);
    EXPECT_FALSE(seq->report.missing_keys.empty());
    std::filesystem::remove_all(dir);
}

TEST_P(TokenHead, LabelsThatDoNotFitTheTokensAreErrors) {
    auto m = AutoModelForTokenClassification::from_config(tiny_config(GetParam()), 1);
    SequenceClassifier model(m->config, m->weights);
    PackedBatch b = token_batch(m->config.vocab());
    b.labels.resize(3);  // one per sequence
    EXPECT_THROW(
        {
            try {
                model.forward(b, false);
            } catch (const Error& e) {
                EXPECT_NE(std::string(e.what()).find("3 labels for 20 tokens"), std::string::npos)
                    << e.what();
                throw;
            }
        },
        Error);
    b = token_batch(m->config.vocab());
    b.labels[4] = K;
    EXPECT_THROW(model.forward(b, false), Error);
}

INSTANTIATE_TEST_SUITE_P(Families, TokenHead,
                         ::testing::Values(ModelFamily::BERT, ModelFamily::DISTILBERT,
                                           ModelFamily::ROBERTA, ModelFamily::XLM_ROBERTA),
                         [](const auto& info) {
                             std::string n(family_name(info.param));
                             std::replace(n.begin(), n.end(), '-', '_');
                             return n;
                         });

}  // namespace
}  // namespace ft
