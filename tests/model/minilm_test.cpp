// The real pretrained all-MiniLM-L6-v2 (a BertModel checkpoint with sentence-transformers extras)
// against current HuggingFace: parameter counts, loading as a classifier, tokenizer ids, and the
// eval-mode pooler output and logits (tests/goldens/minilm, made by tools/make_minilm_goldens.py).
// The model is not in the repository: tools/get_minilm.py fetches it; without it these skip.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "finetune/model.h"
#include "finetune/tokenizer.h"
#include "model/golden_model.h"
#include "model/minilm_fixture.h"
#include "test_env.h"
#include "tolerances.h"

namespace ft {

namespace {

using test::minilm_dir;

fs::path golden_dir() {
    return test::minilm_golden_dir();
}

nlohmann::json golden() {
    std::ifstream f(golden_dir() / "forward.json");
    return nlohmann::json::parse(f);
}

std::string thousands(int64_t n) {
    std::string s = std::to_string(n);
    for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3)
        s.insert(static_cast<size_t>(i), ",");
    return s;
}

int64_t head_numel(const ModelWeights& w) {
    int64_t n = 0;
    for (const auto& s : w.specs())
        if (s.group == "classifier") n += s.shape.numel();
    return n;
}

// The golden rows as one packed batch (each row was run alone by HF: no padding).
PackedBatch golden_batch(const nlohmann::json& g) {
    PackedBatch b;
    b.offsets = {0};
    for (const auto& row : g["rows"]) {
        for (int64_t id : row["input_ids"]) b.input_ids.push_back(static_cast<int32_t>(id));
        for (int64_t t : row["token_type_ids"]) b.token_type_ids.push_back(static_cast<int32_t>(t));
        b.offsets.push_back(static_cast<int32_t>(b.input_ids.size()));
    }
    return b;
}

double max_abs_diff(const float* got, const std::vector<float>& want) {
    double m = 0;
    for (size_t i = 0; i < want.size(); ++i)
        m = std::max(m, std::abs(static_cast<double>(got[i]) - want[i]));
    return m;
}

// Runs the golden rows through `m` in eval mode; its logits must equal each row's `key` values.
void expect_eval_logits_are(const PretrainedModel& m, const nlohmann::json& g,
                            const std::string& key) {
    SequenceClassifier model(m.config, m.weights);
    const PackedBatch batch = golden_batch(g);
    model.forward(batch, /*train=*/false);
    std::vector<float> want;
    for (const auto& row : g["rows"])
        for (double x : row[key]) want.push_back(static_cast<float>(x));
    ASSERT_EQ(static_cast<int64_t>(want.size()), batch.num_sequences() * m.config.num_labels());
    EXPECT_TRUE(test::all_close(model.logits(), want.data(), static_cast<int64_t>(want.size()),
                                test::F32.pretrained_forward_abs, test::Scale::ABSOLUTE));
    std::printf("%s: max |ours - HF| = %.3g over %zu values\n", key.c_str(),
                max_abs_diff(model.logits(), want), want.size());
}

}  // namespace

TEST(MiniLM, ParameterCountIsHuggingFaces) {
    REQUIRE_MINILM();
    const auto g = golden();
    const int64_t hf_base = g["num_parameters"]["BertModel"];
    const int64_t hf_classifier = g["num_parameters"]["BertForSequenceClassification"];
    const auto m = load_pretrained(minilm_dir());
    EXPECT_EQ(m.weights.numel() - head_numel(m.weights), hf_base);
    EXPECT_EQ(m.weights.numel(), hf_classifier);

    int rc;
    const auto out = test::run_cli("info " + minilm_dir().string(), &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("parameters:       " + thousands(hf_base) +
                       " (BertModel, as HF's num_parameters() counts it)"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("as a classifier:  " + thousands(hf_classifier)), std::string::npos) << out;
    EXPECT_NE(out.find("bert (BertForSequenceClassification)"), std::string::npos) << out;
    EXPECT_NE(out.find("hidden 384, 6 layers, 12 heads, FFN 1536, vocab 30522, 512 positions"),
              std::string::npos)
        << out;
    std::printf("HF BertModel.num_parameters() %lld, ours %lld; as a classifier %lld / %lld\n",
                static_cast<long long>(hf_base),
                static_cast<long long>(m.weights.numel() - head_numel(m.weights)),
                static_cast<long long>(hf_classifier), static_cast<long long>(m.weights.numel()));
}

TEST(MiniLM, LoadsTheBertModelCheckpointAsAClassifier) {
    REQUIRE_MINILM();
    const auto g = golden();
    const fs::path dir = minilm_dir();
    const auto m = load_pretrained(dir, {.num_labels = 2});
    const ModelConfig& c = m.config;
    EXPECT_EQ(c.family, ModelFamily::BERT);
    EXPECT_EQ(c.hidden(), 384);
    EXPECT_EQ(c.layers(), 6);
    EXPECT_EQ(c.heads(), 12);
    EXPECT_EQ(c.ffn(), 1536);
    EXPECT_EQ(c.vocab(), 30522);
    EXPECT_EQ(c.bert.type_vocab_size, 2);
    EXPECT_EQ(c.activation(), Activation::GELU);
    EXPECT_EQ(c.architectures, std::vector<std::string>{"BertModel"});
    // Keys BertConfig does not model are kept as they are, as HF keeps unknown attributes.
    const auto extra = nlohmann::json::parse(c.extra_json);
    EXPECT_EQ(extra.at("gradient_checkpointing"), false);
    EXPECT_EQ(extra.at("transformers_version"), "4.8.2");
    EXPECT_EQ(extra.at("use_cache"), true);
    EXPECT_EQ(extra.at("_name_or_path"), "nreimers/MiniLM-L6-H384-uncased");

    // The same keys as HF's loading info; the files' names have no "bert." prefix.
    EXPECT_EQ(m.report.format, "safetensors");
    const std::set<std::string> missing(m.report.missing_keys.begin(), m.report.missing_keys.end());
    const auto& info = g["loading_info"];
    EXPECT_EQ(missing, info["missing_keys"].get<std::set<std::string>>());
    EXPECT_TRUE(m.report.unexpected_keys.empty());
    EXPECT_TRUE(info["unexpected_keys"].empty());
    EXPECT_EQ(m.report.ignored_buffers, std::vector<std::string>{"embeddings.position_ids"});

    // Every loaded parameter is the file's tensor of the prefix-less name, bit for bit.
    const auto file = read_safetensors(dir / "model.safetensors");
    int64_t loaded = 0;
    for (size_t i = 0; i < m.weights.specs().size(); ++i) {
        const auto& s = m.weights.specs()[i];
        if (s.group == "classifier") continue;
        ASSERT_EQ(s.name.rfind("bert.", 0), 0u) << s.name;
        const Tensor* t = file.tensors.find(s.name.substr(5));
        ASSERT_NE(t, nullptr) << s.name;
        EXPECT_EQ(t->shape, s.shape) << s.name;
        EXPECT_TRUE(bit_equal(m.weights.tensors()[i], *t)) << s.name;
        ++loaded;
    }
    EXPECT_EQ(loaded + 1, static_cast<int64_t>(file.tensors.size()));  // + position_ids
    const Tensor* head = m.weights.find("classifier.weight");
    ASSERT_NE(head, nullptr);
    EXPECT_EQ(head->shape, (Shape{2, 384}));
}

TEST(MiniLM, TokenizerIdsAreHuggingFaces) {
    REQUIRE_MINILM();
    const auto g = golden();
    const auto tok = BertTokenizer::from_pretrained(minilm_dir());
    for (const auto& row : g["rows"]) {
        const auto& text = row["text"];
        const std::string a = text[0];
        const auto e = text.size() > 1 ? tok.encode(a, text[1].get<std::string>()) : tok.encode(a);
        EXPECT_EQ(e.input_ids, row["input_ids"].get<std::vector<int32_t>>()) << a;
        EXPECT_EQ(e.token_type_ids, row["token_type_ids"].get<std::vector<int32_t>>()) << a;
    }
}

TEST(MiniLM, EvalLogitsAreHuggingFaces) {
    // HF's classifier head (seeded init, saved once) on the pretrained encoder, eval mode.
    REQUIRE_MINILM();
    const auto g = golden();
    auto m = load_pretrained(minilm_dir(), {.num_labels = 2});
    test::load_golden_head(m.weights);
    if (HasFatalFailure()) return;
    expect_eval_logits_are(m, g, "logits");
}

TEST(MiniLM, PoolerOutputIsHuggingFaces) {
    // A 384-label head that is the identity makes the logits the pooler output (tanh of the
    // pooler on [CLS]): the whole encoder compared, not a 2-d projection of it.
    REQUIRE_MINILM();
    const auto g = golden();
    auto m = load_pretrained(minilm_dir(), {.num_labels = 384});
    for (size_t i = 0; i < m.weights.specs().size(); ++i) {
        const auto& s = m.weights.specs()[i];
        if (s.group != "classifier") continue;
        Tensor& t = m.weights.tensor(i);
        std::fill_n(t.ptr<float>(), t.numel(), 0.0f);
        if (s.kind == ParamKind::LINEAR_WEIGHT)
            for (int64_t j = 0; j < 384; ++j) t.ptr<float>()[j * 384 + j] = 1.0f;
    }
    expect_eval_logits_are(m, g, "pooler_output");
}

TEST(MiniLM, TrainOnColaLoadsItAndIgnoresTheSentenceTransformersFiles) {
    // modules.json, 1_Pooling/, config_sentence_transformers.json, sentence_bert_config.json,
    // data_config.json and README.md sit beside the model; `finetune train` reads none of them.
    REQUIRE_MINILM();
    const fs::path out = test::make_temp_dir("minilm_train");
    int rc;
    const auto log = test::run_cli(
        "train --model_name_or_path " + minilm_dir().string() +
            " --task_name cola --max_train_samples 32 --max_eval_samples 16 --max_steps 2"
            " --per_device_train_batch_size 16 --eval_strategy no --save_strategy no"
            " --load_best_model_at_end false --output_dir " +
            out.string(),
        &rc);
    ASSERT_EQ(rc, 0) << log;
    const int64_t params = golden()["num_parameters"]["BertForSequenceClassification"];
    EXPECT_NE(log.find("(BertForSequenceClassification, " + std::to_string(params) +
                       " parameters, 2 labels)"),
              std::string::npos)
        << log;
    EXPECT_NE(log.find("Some weights of BertForSequenceClassification were not initialized from "
                       "the model checkpoint at " +
                       minilm_dir().string() +
                       " and are newly initialized: ['classifier.weight', 'classifier.bias']"),
              std::string::npos)
        << log;
    EXPECT_EQ(log.find("were not used"), std::string::npos) << log;
    // The saved model is a BertForSequenceClassification with the checkpoint's extra keys.
    const auto saved = load_pretrained(out);
    EXPECT_TRUE(saved.report.missing_keys.empty());
    EXPECT_EQ(saved.config.architectures,
              std::vector<std::string>{"BertForSequenceClassification"});
    EXPECT_EQ(saved.config.id2label, (std::vector<std::string>{"unacceptable", "acceptable"}));
}

}  // namespace ft
