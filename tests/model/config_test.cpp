// config.json parsing against HF's own files (../shared) and hand-written edge cases.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "finetune/model.h"
#include "test_env.h"

namespace ft {

namespace {
std::string error_of(const std::string& json_text) {
    try {
        parse_model_config(json_text, "cfg.json");
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST(ModelConfig, ReadsTinyDistilbertReferenceConfig) {
    auto c = load_model_config(test::shared_dir() / "reference/tiny_distilbert/init/config.json");
    EXPECT_EQ(c.family, ModelFamily::DISTILBERT);
    EXPECT_EQ(c.distilbert.dim, 32);
    EXPECT_EQ(c.distilbert.n_layers, 2);
    EXPECT_EQ(c.distilbert.n_heads, 2);
    EXPECT_EQ(c.distilbert.hidden_dim, 37);
    EXPECT_DOUBLE_EQ(c.distilbert.seq_classif_dropout, 0.2);
    EXPECT_EQ(c.num_labels(), 2);  // HF default when neither id2label nor num_labels is given
    EXPECT_EQ(c.id2label[1], "LABEL_1");
}

TEST(ModelConfig, FamilyFromArchitecturesWhenModelTypeIsAbsent) {
    // distilbert-base-uncased's config.json has no model_type, only architectures.
    auto c =
        load_model_config(test::shared_dir() / "data/models/distilbert-base-uncased/config.json");
    EXPECT_EQ(c.family, ModelFamily::DISTILBERT);
    EXPECT_EQ(c.hidden(), 768);
    EXPECT_EQ(c.layers(), 6);
    EXPECT_EQ(c.ffn(), 3072);
    EXPECT_EQ(c.num_labels(), 2);
}

TEST(ModelConfig, ReadsBertBaseUncasedConfig) {
    auto c =
        load_model_config(test::shared_dir() / "data/tokenizers/bert-base-uncased/config.json");
    EXPECT_EQ(c.family, ModelFamily::BERT);
    EXPECT_EQ(c.bert.num_hidden_layers, 12);
    EXPECT_EQ(c.bert.type_vocab_size, 2);
    EXPECT_DOUBLE_EQ(c.bert.layer_norm_eps, 1e-12);
    EXPECT_FALSE(c.bert.classifier_dropout.has_value());
}

TEST(ModelConfig, LabelsFromId2LabelOrNumLabels) {
    auto c = parse_model_config(
        R"({"model_type":"bert","id2label":{"1":"acceptable","0":"unacceptable"},"num_labels":5})",
        "x");
    ASSERT_EQ(c.num_labels(), 2);  // id2label wins over num_labels, as in PretrainedConfig
    EXPECT_EQ(c.id2label[0], "unacceptable");
    EXPECT_EQ(c.label2id().at("acceptable"), 1);
    auto d = parse_model_config(R"({"model_type":"distilbert","num_labels":3})", "x");
    EXPECT_EQ(d.num_labels(), 3);
    EXPECT_EQ(d.id2label[2], "LABEL_2");
}

TEST(ModelConfig, RoundTripKeepsUnknownKeysAndLabels) {
    const std::string text =
        R"({"model_type":"bert","hidden_size":64,"num_attention_heads":4,"my_key":[1,2],)"
        R"("id2label":{"0":"neg","1":"pos"},"problem_type":"single_label_classification"})";
    auto c = parse_model_config(text, "x");
    auto j = nlohmann::json::parse(model_config_to_json(c));
    EXPECT_EQ(j["my_key"], nlohmann::json::parse("[1,2]"));
    EXPECT_EQ(j["hidden_size"], 64);
    EXPECT_EQ(j["label2id"]["pos"], 1);
    EXPECT_EQ(j["problem_type"], "single_label_classification");
    EXPECT_EQ(j["architectures"][0], "BertForSequenceClassification");
    auto again = parse_model_config(j.dump(), "y");
    EXPECT_EQ(again.bert.hidden_size, 64);
    EXPECT_EQ(again.id2label, c.id2label);
}

TEST(ModelConfig, UnsupportedSettingsAreClearErrors) {
    EXPECT_NE(error_of(R"({"model_type":"distilbert","sinusoidal_pos_embds":true})")
                  .find("sinusoidal_pos_embds"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"model_type":"bert","position_embedding_type":"relative_key"})")
                  .find("relative_key"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"model_type":"bert","hidden_act":"swish"})").find("swish"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"model_type":"distilbert","dim":"32"})").find("'dim'"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"model_type":"gpt2"})").find("gpt2"), std::string::npos);
    EXPECT_NE(error_of(R"({"dim":32})").find("model_type"), std::string::npos);
    EXPECT_NE(error_of(R"({"model_type":"bert","hidden_size":30,"num_attention_heads":4})")
                  .find("multiple"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"model_type":"bert","id2label":{"0":"a","2":"b"}})").find("id2label"),
              std::string::npos);
    EXPECT_NE(error_of("{not json").find("cfg.json: invalid JSON"), std::string::npos);
}

// The family key tables' value checks: each bad value names its key and what it must be.
TEST(ModelConfig, FamilyKeyChecksNameTheKey) {
    const auto has = [](const std::string& json_text, const std::string& needle) {
        const std::string e = error_of(json_text);
        EXPECT_NE(e.find(needle), std::string::npos) << json_text << " -> '" << e << "'";
    };
    for (const char* key :
         {"hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout"})
        has(std::string(R"({"model_type":"bert",")") + key + R"(":1.5})",
            std::string("'") + key + "' is a dropout probability");
    for (const char* key : {"dropout", "attention_dropout", "seq_classif_dropout", "qa_dropout"})
        has(std::string(R"({"model_type":"distilbert",")") + key + R"(":-0.1})",
            std::string("'") + key + "' is a dropout probability");
    has(R"({"model_type":"bert","type_vocab_size":0})", "'type_vocab_size' must be positive");
    has(R"({"model_type":"distilbert","activation":"tanh"})", "activation 'tanh'");
    EXPECT_EQ(error_of(R"({"model_type":"bert","classifier_dropout":null})"), "");
    EXPECT_EQ(error_of(R"({"model_type":"bert","hidden_dropout_prob":1.0})"), "");
}

// Found by fuzz/config_fuzz.cpp: a number past double's range is valid JSON syntax, but nlohmann
// reports it as out_of_range, not parse_error; it escaped as a foreign exception.
// Found by fuzz/config_fuzz.cpp (out-of-memory): num_labels 1e11 made LABEL_0..LABEL_{N-1}
// until malloc failed.
TEST(ModelConfig, AbsurdNumLabelsIsAClearError) {
    EXPECT_NE(error_of(R"({"model_type":"bert","num_labels":100000000000})")
                  .find("cfg.json: num_labels 100000000000 is more than"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"model_type":"distilbert","_num_labels":2097152})").find("num_labels"),
              std::string::npos);
    EXPECT_EQ(parse_model_config(R"({"model_type":"bert","num_labels":1000})", "x").num_labels(),
              1000);
}

TEST(ModelConfig, NumberPastDoubleRangeIsAClearError) {
    EXPECT_NE(error_of(R"({"model_type":"bert","layer_norm_eps":2e502949863})")
                  .find("cfg.json: invalid JSON"),
              std::string::npos);
    EXPECT_NE(error_of(R"({"model_type":"distilbert","dim":-1e400})").find("cfg.json"),
              std::string::npos);
}

}  // namespace ft
