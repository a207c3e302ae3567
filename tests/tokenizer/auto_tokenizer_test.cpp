// load_tokenizer's choice of kind (tokenizer_config.json's class, tokenizer.json's model type,
// config.json's model_type, vocab.txt alone, in that order), its errors naming the file and the
// value, and the interface giving BertTokenizer's ids on the CoLA reference and tricky strings.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "finetune/finetune.h"
#include "finetune/io.h"
#include "finetune/tokenizer.h"
#include "test_env.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path hub_dir() {
    return test::bert_uncased_tokenizer_dir();
}

void write_json(const fs::path& path, const json& j) {
    std::ofstream(path) << j.dump();
}

// A directory with bert-base-uncased's vocab.txt and the given JSON files.
fs::path dir_with(const std::string& tag, const std::vector<std::pair<std::string, json>>& files) {
    const fs::path dir = test::make_temp_dir(tag);
    fs::copy_file(hub_dir() / "vocab.txt", dir / "vocab.txt");
    for (const auto& [name, j] : files) write_json(dir / name, j);
    return dir;
}

// bert-base-uncased's tokenizer.json with model.type set (it has none: the original format).
json tokenizer_json_of_type(const std::string& type) {
    json j = json::parse(read_text_file(hub_dir() / "tokenizer.json"));
    EXPECT_FALSE(j["model"].contains("type"));
    j["model"]["type"] = type;
    return j;
}

void expect_refused(const fs::path& dir, const std::string& file, const std::string& value) {
    const std::string err = test::error_of([&] { load_tokenizer(dir); });
    EXPECT_NE(err.find((dir / file).string()), std::string::npos) << err;
    EXPECT_NE(err.find("'" + value + "'"), std::string::npos) << err;
    EXPECT_NE(err.find("is not a known tokenizer"), std::string::npos) << err;
}

TEST(AutoTokenizerChoice, TokenizerConfigClassComesFirst) {
    // config.json names a model type no tokenizer has: the class must decide before it.
    for (const char* cls : {"BertTokenizer", "BertTokenizerFast", "DistilBertTokenizerFast"}) {
        const fs::path dir =
            dir_with("auto_tok_class", {{"tokenizer_config.json", {{"tokenizer_class", cls}}},
                                        {"config.json", {{"model_type", "gpt2"}}}});
        const auto tok = load_tokenizer(dir);
        EXPECT_EQ(tok->tokenizer_class(), "BertTokenizer") << cls;
        EXPECT_EQ(tok->vocab_size(), 30522) << cls;
    }
    const fs::path bad = dir_with("auto_tok_class_bad",
                                  {{"tokenizer_config.json", {{"tokenizer_class", "T5Tokenizer"}}},
                                   {"config.json", {{"model_type", "bert"}}}});
    expect_refused(bad, "tokenizer_config.json", "T5Tokenizer");
    // HF's generic class for a bare tokenizer.json leaves the choice to the next file.
    const fs::path generic =
        dir_with("auto_tok_generic",
                 {{"tokenizer_config.json", {{"tokenizer_class", "PreTrainedTokenizerFast"}}},
                  {"config.json", {{"model_type", "gpt2"}}}});
    expect_refused(generic, "config.json", "gpt2");
    // "Fast" is a suffix to drop, not a name on its own.
    expect_refused(
        dir_with("auto_tok_fast", {{"tokenizer_config.json", {{"tokenizer_class", "Fast"}}}}),
        "tokenizer_config.json", "Fast");
}

TEST(AutoTokenizerChoice, TokenizerJsonModelTypeComesBeforeConfigJson) {
    const fs::path dir =
        dir_with("auto_tok_json", {{"tokenizer.json", tokenizer_json_of_type("WordPiece")},
                                   {"tokenizer_config.json", {{"do_lower_case", true}}},
                                   {"config.json", {{"model_type", "gpt2"}}}});
    EXPECT_EQ(load_tokenizer(dir)->encode("Hello world").input_ids,
              (std::vector<int32_t>{101, 7592, 2088, 102}));
    const fs::path bad =
        dir_with("auto_tok_json_bad", {{"tokenizer.json", tokenizer_json_of_type("WordLevel")},
                                       {"config.json", {{"model_type", "bert"}}}});
    expect_refused(bad, "tokenizer.json", "WordLevel");
}

TEST(AutoTokenizerChoice, ConfigJsonModelTypeComesBeforeVocabTxt) {
    for (const char* type : {"bert", "distilbert"}) {
        const fs::path dir = dir_with("auto_tok_config", {{"config.json", {{"model_type", type}}}});
        EXPECT_EQ(load_tokenizer(dir)->tokenizer_class(), "BertTokenizer") << type;
    }
    expect_refused(dir_with("auto_tok_config_bad", {{"config.json", {{"model_type", "t5"}}}}),
                   "config.json", "t5");
    // A model_type of the wrong JSON type is named too.
    const fs::path odd = dir_with("auto_tok_config_odd", {{"config.json", {{"model_type", 3}}}});
    const std::string err = test::error_of([&] { load_tokenizer(odd); });
    EXPECT_NE(err.find((odd / "config.json").string()), std::string::npos) << err;
    EXPECT_NE(err.find("model_type"), std::string::npos) << err;
}

TEST(AutoTokenizerChoice, VocabTxtAloneIsBert) {
    const fs::path dir = dir_with("auto_tok_vocab", {});
    const auto tok = load_tokenizer(dir);
    EXPECT_EQ(tok->tokenizer_class(), "BertTokenizer");
    EXPECT_EQ(tok->encode("Hello world").input_ids, (std::vector<int32_t>{101, 7592, 2088, 102}));
    fs::remove(dir / "vocab.txt");
    const std::string err = test::error_of([&] { load_tokenizer(dir); });
    EXPECT_NE(err.find(dir.string() + ": no tokenizer found"), std::string::npos) << err;
    EXPECT_NE(err.find("vocab.txt"), std::string::npos) << err;
    EXPECT_NE(test::error_of([&] { load_tokenizer(dir / "nope"); }).find("not a directory"),
              std::string::npos);
}

std::vector<std::string> tricky_texts() {
    std::ifstream in(test::shared_dir() / "reference/tokenization/tricky_strings_ids.jsonl");
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(json::parse(line)["text"].get<std::string>());
    return out;
}

std::vector<std::string> cola_train_sentences() {
    std::ifstream in(test::shared_dir() / "data/glue/cola/train.tsv");
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) {
        size_t tab = 0;
        for (int k = 0; k < 3; ++k) tab = line.find('\t', tab) + 1;
        out.push_back(line.substr(tab));
    }
    return out;
}

TEST(AutoTokenizerInterface, GivesBertTokenizersIdsOnRealData) {
    const auto loaded = load_tokenizer(hub_dir());  // no class, no model.type: config.json's bert
    const Tokenizer& tok = *loaded;
    const BertTokenizer bert = BertTokenizer::from_pretrained(hub_dir());
    EXPECT_EQ(tok.tokenizer_class(), "BertTokenizer");
    EXPECT_EQ(tok.vocab_size(), bert.vocab_size());
    EXPECT_EQ(tok.model_max_length(), bert.model_max_length());
    EXPECT_EQ(tok.pad_token_id(), 0);
    EXPECT_EQ(tok.unk_token_id(), 100);
    EXPECT_EQ(tok.cls_token_id(), 101);
    EXPECT_EQ(tok.sep_token_id(), 102);
    EXPECT_EQ(tok.mask_token_id(), 103);
    EXPECT_EQ(tok.num_special_tokens_to_add(false), 2);
    EXPECT_EQ(tok.num_special_tokens_to_add(true), 3);
    EXPECT_TRUE(tok.returns_token_type_ids());

    std::vector<std::string> texts = cola_train_sentences();
    const std::vector<std::string> tricky = tricky_texts();
    ASSERT_GT(texts.size(), 8000u);
    ASSERT_GT(tricky.size(), 20u);
    texts.insert(texts.end(), tricky.begin(), tricky.end());
    std::vector<std::string> pairs(texts.rbegin(), texts.rend());
    EncodeOptions options;
    options.truncation = Truncation::LongestFirst;
    options.max_length = 24;
    options.padding = Padding::Longest;
    const auto via_interface = tok.encode_batch(texts, pairs, options);
    const auto direct = bert.encode_batch(texts, pairs, options);
    ASSERT_EQ(via_interface.size(), direct.size());
    int mismatches = 0;
    for (size_t i = 0; i < texts.size(); ++i) {
        const Encoding& a = via_interface[i];
        const Encoding& b = direct[i];
        const bool same = a.input_ids == b.input_ids && a.token_type_ids == b.token_type_ids &&
                          a.attention_mask == b.attention_mask && a.length == b.length &&
                          tok.encode(texts[i]).input_ids == bert.encode(texts[i]).input_ids &&
                          tok.tokenize(texts[i]) == bert.tokenize(texts[i]) &&
                          tok.decode(a.input_ids, true) == bert.decode(b.input_ids, true);
        if (!same && ++mismatches <= 3) ADD_FAILURE() << "text " << i << ": " << texts[i];
    }
    EXPECT_EQ(mismatches, 0);
    // The CoLA reference's first sentence, through the interface.
    EXPECT_EQ(tok.encode(texts[0]).input_ids,
              (std::vector<int32_t>{101, 2256, 2814, 2180, 1005, 1056, 4965, 2023, 4106, 1010, 2292,
                                    2894, 1996, 2279, 2028, 2057, 16599, 1012, 102}));
    EXPECT_EQ(tok.token_to_id("hello"), 7592);
    EXPECT_EQ(tok.id_to_token(7592), "hello");
    EXPECT_EQ(tok.encode_ids("hello"), (std::vector<int32_t>{7592}));
}

TEST(AutoTokenizerInterface, SavedDirectoryNamesItsClassAndReloads) {
    const auto tok = load_tokenizer(hub_dir());
    const fs::path dir = test::make_temp_dir("auto_tok_save");
    tok->save_pretrained(dir);
    EXPECT_EQ(json::parse(read_text_file(dir / "tokenizer_config.json"))["tokenizer_class"],
              "BertTokenizer");
    const auto again = load_tokenizer(dir);
    EXPECT_EQ(again->encode("Hello, World!", "pairs too").input_ids,
              tok->encode("Hello, World!", "pairs too").input_ids);
}

TEST(AutoTokenizerInterface, AutoTokenizerDropsTokenTypesForDistilbert) {
    const Column texts = Column::strings({"Hello world", "a b c"});
    const AutoTokenizer bert = AutoTokenizer::from_pretrained(hub_dir().string());
    EXPECT_EQ(bert.tokenizer().tokenizer_class(), "BertTokenizer");
    EXPECT_TRUE(bert(texts).has_column("token_type_ids"));
    const fs::path distil =
        dir_with("auto_tok_distil", {{"config.json", {{"model_type", "distilbert"}}}});
    const Dataset d = AutoTokenizer::from_pretrained(distil.string())(texts);
    EXPECT_FALSE(d.has_column("token_type_ids"));
    EXPECT_TRUE(d.has_column("input_ids"));
}

}  // namespace
}  // namespace ft
