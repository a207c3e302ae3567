// from_pretrained / save_pretrained against PyTorch's view of the same checkpoints
// (tools/make_test_data.py dumps every tensor as torch.load reads it).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "finetune/model.h"
#include "test_env.h"

namespace ft {

namespace {

fs::path tiny_distilbert() {
    return test::shared_dir() / "reference/tiny_distilbert/init";
}

// Every model parameter equals the PyTorch dump's tensor of the same name, bit for bit.
void expect_matches_dump(const PretrainedModel& m, const fs::path& dump,
                         const std::string& file_prefix = "") {
    const auto ref = read_safetensors(dump).tensors;
    for (size_t i = 0; i < m.weights.specs().size(); ++i) {
        const auto& name = m.weights.specs()[i].name;
        const Tensor* r = ref.find(name);
        if (!r) r = ref.find(name.substr(file_prefix.size()));
        ASSERT_NE(r, nullptr) << name;
        EXPECT_TRUE(bit_equal(m.weights.tensors()[i], *r)) << name;
    }
}

void expect_same_weights(const ModelWeights& a, const ModelWeights& b) {
    ASSERT_EQ(a.specs().size(), b.specs().size());
    for (size_t i = 0; i < a.specs().size(); ++i)
        EXPECT_TRUE(bit_equal(a.tensors()[i], b.tensors()[i])) << a.specs()[i].name;
}

std::vector<std::string> names_in_group(const ModelWeights& w, const std::string& group) {
    std::vector<std::string> out;
    for (const auto& s : w.specs())
        if (s.group == group) out.push_back(s.name);
    return out;
}

}  // namespace

TEST(Pretrained, TinyDistilbertParameterCountMatchesPyTorch) {
    // 1,007,852 is what PyTorch's num_parameters() reports for this checkpoint; it is also the
    // sum of the element counts of the tensors PyTorch saved (no buffers in this file).
    auto m = load_pretrained(tiny_distilbert());
    EXPECT_EQ(m.weights.numel(), 1007852);
    int64_t in_file = 0;
    const auto dump = read_safetensors(test::testdata_dir() / "tiny_distilbert_dump.safetensors");
    for (const auto& [n, t] : dump.tensors.entries()) in_file += t.numel();
    EXPECT_EQ(m.weights.numel(), in_file);
}

TEST(Pretrained, TinyDistilbertLoadsBitExactFromBin) {
    auto m = load_pretrained(tiny_distilbert());
    EXPECT_EQ(m.report.format, "pytorch_model.bin");
    EXPECT_TRUE(m.report.missing_keys.empty());
    EXPECT_TRUE(m.report.unexpected_keys.empty());
    expect_matches_dump(m, test::testdata_dir() / "tiny_distilbert_dump.safetensors");
    // HF's named_parameters() order is the file's order.
    const auto ref =
        read_safetensors(test::testdata_dir() / "tiny_distilbert_dump.safetensors").tensors;
    ASSERT_EQ(ref.size(), m.weights.specs().size());
    for (size_t i = 0; i < ref.size(); ++i)
        EXPECT_EQ(ref.entries()[i].first, m.weights.specs()[i].name);
}

TEST(Pretrained, SaveThenReloadIsBitIdentical) {
    for (const fs::path& src : {tiny_distilbert(), test::testdata_dir() / "tiny_bert"}) {
        auto m = load_pretrained(src);
        const auto dir = test::make_temp_dir("save");
        save_pretrained(m.config, m.weights, dir);
        auto again = load_pretrained(dir);
        EXPECT_EQ(again.report.format, "safetensors");
        EXPECT_TRUE(again.report.missing_keys.empty());
        EXPECT_TRUE(again.report.unexpected_keys.empty());
        expect_same_weights(m.weights, again.weights);
        EXPECT_EQ(model_config_to_json(again.config), model_config_to_json(m.config));
        fs::remove_all(dir);
    }
}

TEST(Pretrained, SavedCheckpointLoadsInPlainPythonWithIdenticalTensors) {
    const std::pair<fs::path, fs::path> cases[] = {
        {tiny_distilbert(), tiny_distilbert() / "pytorch_model.bin"},
        {test::testdata_dir() / "tiny_bert", test::testdata_dir() / "tiny_bert/pytorch_model.bin"},
    };
    for (const auto& [src, reference] : cases) {
        auto m = load_pretrained(src);
        const auto dir = test::make_temp_dir("py");
        save_pretrained(m.config, m.weights, dir);
        std::string out;
        const int rc = test::run_command(
            test::python() + " " + (test::tools_dir() / "check_saved_checkpoint.py").string() +
                " " + dir.string() + " " + reference.string(),
            &out);
        EXPECT_EQ(rc, 0) << out;
        fs::remove_all(dir);
    }
}

TEST(Pretrained, TinyBertClassifierWithPositionIdsBuffer) {
    auto m = load_pretrained(test::testdata_dir() / "tiny_bert");
    EXPECT_EQ(m.config.family, ModelFamily::BERT);
    EXPECT_EQ(m.config.num_labels(), 3);
    EXPECT_TRUE(m.report.missing_keys.empty());
    EXPECT_TRUE(m.report.unexpected_keys.empty());
    ASSERT_EQ(m.report.ignored_buffers.size(), 1u);
    EXPECT_EQ(m.report.ignored_buffers[0], "bert.embeddings.position_ids");
    EXPECT_EQ(m.report.file_dtypes.at("I64"), 1);
    expect_matches_dump(m, test::testdata_dir() / "tiny_bert_dump.safetensors");
}

TEST(Pretrained, BaseModelWithMlmHeadGetsFreshClassifier) {
    auto m = load_pretrained(test::testdata_dir() / "tiny_bert_mlm", {.num_labels = 2});
    const std::vector<std::string> missing = {"bert.pooler.dense.weight", "bert.pooler.dense.bias",
                                              "classifier.weight", "classifier.bias"};
    EXPECT_EQ(m.report.missing_keys, missing);
    for (const auto& k : m.report.unexpected_keys)
        EXPECT_EQ(k.rfind("cls.predictions.", 0), 0u) << k;
    EXPECT_EQ(m.report.unexpected_keys.size(),
              7u);  // transform dense w/b, LayerNorm w/b, decoder w/b, bias

    // HF init: weights ~ N(0, initializer_range), biases 0. Check the sample moments of the
    // 32x32 pooler weight (1024 draws: the std estimate is within ~10% with overwhelming odds).
    const Tensor& w = *m.weights.find("bert.pooler.dense.weight");
    double sum = 0, sq = 0;
    for (int64_t i = 0; i < w.numel(); ++i) {
        sum += w.ptr<float>()[i];
        sq += w.ptr<float>()[i] * w.ptr<float>()[i];
    }
    const double mean = sum / w.numel(), std = std::sqrt(sq / w.numel() - mean * mean);
    EXPECT_NEAR(mean, 0.0, 0.004);
    EXPECT_NEAR(std, 0.02, 0.002);
    const Tensor& b = *m.weights.find("classifier.bias");
    for (int64_t i = 0; i < b.numel(); ++i) EXPECT_EQ(b.ptr<float>()[i], 0.0f);

    // Seeded: the same seed gives the same head, another seed another one.
    auto same = load_pretrained(test::testdata_dir() / "tiny_bert_mlm", {.num_labels = 2});
    auto other =
        load_pretrained(test::testdata_dir() / "tiny_bert_mlm", {.num_labels = 2, .init_seed = 7});
    EXPECT_TRUE(bit_equal(w, *same.weights.find("bert.pooler.dense.weight")));
    EXPECT_FALSE(bit_equal(w, *other.weights.find("bert.pooler.dense.weight")));
}

TEST(Pretrained, BareBaseModelKeysGetThePrefix) {
    auto m = load_pretrained(test::testdata_dir() / "tiny_bert_bare");
    EXPECT_EQ(m.report.missing_keys,
              (std::vector<std::string>{"classifier.weight", "classifier.bias"}));
    EXPECT_TRUE(m.report.unexpected_keys.empty());
    // The loaded base weights are the file's "embeddings.word_embeddings.weight", etc.
    const auto file = read_pytorch_bin(test::testdata_dir() / "tiny_bert_bare/pytorch_model.bin");
    for (const auto& name : names_in_group(m.weights, "layer.1"))
        EXPECT_TRUE(bit_equal(*m.weights.find(name), file.at(name.substr(5)))) << name;
}

TEST(Pretrained, DistilbertMlmCheckpointListsHeadKeys) {
    auto m = load_pretrained(test::testdata_dir() / "tiny_distilbert_mlm");
    EXPECT_EQ(m.report.missing_keys,
              (std::vector<std::string>{"pre_classifier.weight", "pre_classifier.bias",
                                        "classifier.weight", "classifier.bias"}));
    EXPECT_EQ(m.report.unexpected_keys,
              (std::vector<std::string>{"vocab_transform.weight", "vocab_transform.bias",
                                        "vocab_layer_norm.weight", "vocab_layer_norm.bias",
                                        "vocab_projector.weight", "vocab_projector.bias"}));
}

TEST(Pretrained, LegacyGammaBetaNamesAndHalfPrecisionLoad) {
    // Re-save the tiny BERT with TF-era LayerNorm names and bf16 weights, as old Hub files are.
    auto m = load_pretrained(test::testdata_dir() / "tiny_bert");
    const auto dir = test::make_temp_dir("legacy");
    StateDict sd;
    std::vector<Tensor> keep;
    for (size_t i = 0; i < m.weights.specs().size(); ++i) {
        std::string name = m.weights.specs()[i].name;
        const bool is_ln = name.find("LayerNorm") != std::string::npos;
        if (is_ln)
            name =
                name.substr(0, name.rfind('.')) + (name.ends_with(".weight") ? ".gamma" : ".beta");
        const Tensor& src = m.weights.tensors()[i];
        Tensor h = Tensor::empty(DType::BF16, src.shape);
        for (int64_t k = 0; k < src.numel(); ++k)
            h.ptr<uint16_t>()[k] = f32_to_bf16(src.ptr<float>()[k]);
        sd.insert(name, h);
    }
    write_safetensors(dir / "model.safetensors", sd);
    write_text_atomic(dir / "config.json", model_config_to_json(m.config));
    auto again = load_pretrained(dir);
    EXPECT_TRUE(again.report.missing_keys.empty());
    EXPECT_TRUE(again.report.unexpected_keys.empty());
    EXPECT_EQ(again.report.file_dtypes.at("BF16"), static_cast<int64_t>(sd.size()));
    for (size_t i = 0; i < m.weights.specs().size(); ++i) {
        const float* a = m.weights.tensors()[i].ptr<float>();
        const float* b = again.weights.tensors()[i].ptr<float>();
        for (int64_t k = 0; k < m.weights.tensors()[i].numel(); ++k)
            ASSERT_EQ(b[k], bf16_to_f32(f32_to_bf16(a[k])))
                << m.weights.specs()[i].name << "[" << k << "]";
    }
    fs::remove_all(dir);
}

TEST(Pretrained, ErrorsNameTheProblem) {
    auto message = [](const std::function<void()>& f) -> std::string {
        try {
            f();
        } catch (const Error& e) {
            return e.what();
        }
        return "no error";
    };
    // num_labels that disagrees with the saved classifier: HF refuses the size mismatch too.
    EXPECT_NE(message([] {
                  load_pretrained(tiny_distilbert(), {.num_labels = 3});
              }).find("classifier.weight"),
              std::string::npos);
    EXPECT_NE(message([] {
                  load_pretrained(tiny_distilbert(), {.num_labels = 3});
              }).find("ignore_mismatched_sizes"),
              std::string::npos);
    const auto dir = test::make_temp_dir("err");
    EXPECT_NE(message([&] { load_pretrained(dir); }).find("config.json is missing"),
              std::string::npos);
    fs::copy_file(tiny_distilbert() / "config.json", dir / "config.json");
    EXPECT_NE(message([&] { load_pretrained(dir); }).find("no model weights found"),
              std::string::npos);
    EXPECT_NE(message([&] { load_pretrained(dir / "nope"); }).find("not a model directory"),
              std::string::npos);
    fs::remove_all(dir);
}

// HF's ignore_mismatched_sizes (transformers 5.25 on this checkpoint with num_labels=3 reports
// mismatched_keys classifier.weight [2, 32] -> [3, 32] and classifier.bias [2] -> [3], nothing
// missing): those two are initialised afresh, every other weight is the checkpoint's.
TEST(Pretrained, IgnoreMismatchedSizesInitialisesTheHeadAfresh) {
    auto m = load_pretrained(tiny_distilbert(), {.num_labels = 3, .ignore_mismatched_sizes = true});
    std::vector<std::string> got;
    for (const auto& w : m.report.mismatched)
        got.push_back(w.key + " " + w.checkpoint_shape + " -> " + w.model_shape);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, (std::vector<std::string>{"classifier.bias [2] -> [3]",
                                             "classifier.weight [2, 32] -> [3, 32]"}));
    EXPECT_TRUE(m.report.missing_keys.empty());
    EXPECT_TRUE(m.report.unexpected_keys.empty());
    const auto same = load_pretrained(tiny_distilbert());
    for (size_t i = 0; i < m.weights.specs().size(); ++i) {
        const std::string& name = m.weights.specs()[i].name;
        if (name.rfind("classifier.", 0) == 0) continue;
        EXPECT_TRUE(bit_equal(m.weights.tensors()[i], *same.weights.find(name))) << name;
    }
    const Tensor& b = *m.weights.find("classifier.bias");
    for (int64_t i = 0; i < b.numel(); ++i) EXPECT_EQ(b.ptr<float>()[i], 0.0f);
    const Tensor& w = *m.weights.find("classifier.weight");
    double sq = 0;
    for (int64_t i = 0; i < w.numel(); ++i) sq += double(w.ptr<float>()[i]) * w.ptr<float>()[i];
    EXPECT_GT(sq, 0.0);  // drawn, not left zero
}

TEST(Pretrained, HalfConversionsMatchKnownValues) {
    // Hand-worked: 1.0 = 0x3F80 (bf16) = 0x3C00 (f16); 65504 is f16's max; 2^-24 its least
    // subnormal.
    EXPECT_EQ(f32_to_bf16(1.0f), 0x3F80);
    EXPECT_EQ(f32_to_f16(1.0f), 0x3C00);
    EXPECT_EQ(f16_to_f32(0x7BFF), 65504.0f);
    EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
    EXPECT_EQ(f32_to_f16(std::ldexp(1.0f, -24)), 0x0001);
    EXPECT_EQ(f32_to_f16(-2.5f), 0xC100);
    EXPECT_EQ(f32_to_bf16(1.00390625f), 0x3F80);  // exactly halfway: ties to even
    EXPECT_EQ(f32_to_bf16(1.01171875f), 0x3F82);  // halfway above odd: rounds up
    for (uint32_t h = 0; h < 0x7C00; ++h)
        ASSERT_EQ(f32_to_f16(f16_to_f32(static_cast<uint16_t>(h))), h);
}

}  // namespace ft
