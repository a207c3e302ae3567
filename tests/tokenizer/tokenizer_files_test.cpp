// save_pretrained against the files the Hub gives: the saved vocab.txt is byte-identical to
// bert-base-uncased's, the saved tokenizer.json has the same pipeline as the Hub's newer
// serialisation, and every way of loading the saved directory gives HF's reference ids.
// Also: tokenizer_config.json overrides tokenizer.json, as BertTokenizerFast does.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

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

json read_json(const fs::path& p) {
    return json::parse(read_text_file(p));
}

std::vector<json> tricky_records() {
    std::ifstream in(test::shared_dir() / "reference/tokenization/tricky_strings_ids.jsonl");
    std::vector<json> out;
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
}

TEST(TokenizerFiles, SavedDirectoryMatchesTheHubFilesAndReloadsEveryWay) {
    const fs::path dir = test::make_temp_dir("tok_save");
    BertTokenizer::from_vocab_file(hub_dir() / "vocab.txt", {}, {}, 512).save_pretrained(dir);
    for (const char* f :
         {"vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
        EXPECT_TRUE(fs::exists(dir / f)) << f;
    EXPECT_EQ(read_text_file(dir / "vocab.txt"), read_text_file(hub_dir() / "vocab.txt"));

    const json saved = read_json(dir / "tokenizer.json");
    const json hub = read_json(hub_dir() / "tokenizer.resaved.json");
    for (const char* key : {"normalizer", "pre_tokenizer", "post_processor", "decoder"})
        EXPECT_EQ(saved[key], hub[key]) << key;
    EXPECT_EQ(saved["model"], hub["model"]);
    auto added = [](const json& j) {
        std::set<std::tuple<int, std::string, bool>> s;
        for (const json& t : j["added_tokens"])
            s.insert(
                {t["id"].get<int>(), t["content"].get<std::string>(), t["special"].get<bool>()});
        return s;
    };
    EXPECT_EQ(added(saved), added(hub));
    const json config = read_json(dir / "tokenizer_config.json");
    EXPECT_EQ(config["do_lower_case"], true);
    EXPECT_EQ(config["model_max_length"], 512);
    EXPECT_EQ(config["cls_token"], "[CLS]");

    const std::vector<std::pair<std::string, BertTokenizer>> reloaded = {
        {"from_pretrained", BertTokenizer::from_pretrained(dir)},
        {"vocab.txt", BertTokenizer::from_vocab_file(dir / "vocab.txt")},
        {"tokenizer.json", BertTokenizer::from_tokenizer_json(dir / "tokenizer.json")}};
    for (const auto& [how, tok] : reloaded) {
        int mismatches = 0;
        for (const json& r : tricky_records())
            mismatches += tok.encode(r["text"].get<std::string>()).input_ids !=
                          r["input_ids"].get<std::vector<int32_t>>();
        EXPECT_EQ(mismatches, 0) << how;
    }
    EXPECT_EQ(BertTokenizer::from_pretrained(dir).model_max_length(), 512);
    fs::remove_all(dir);
}

TEST(TokenizerFiles, ConfigOverridesTokenizerJsonAsBertTokenizerFastDoes) {
    const fs::path dir = test::make_temp_dir("tok_override");
    fs::copy_file(hub_dir() / "tokenizer.json", dir / "tokenizer.json");
    // No tokenizer_config.json: the class defaults (lower-case) stand.
    EXPECT_EQ(BertTokenizer::from_pretrained(dir).tokenize("Hello"),
              (std::vector<std::string>{"hello"}));
    write_text_atomic(
        dir / "tokenizer_config.json",
        R"({"do_lower_case": false, "model_max_length": 1000000000000000019884624838656,
                          "additional_special_tokens": ["[unused0]"]})");
    const BertTokenizer cased = BertTokenizer::from_pretrained(dir);
    EXPECT_EQ(cased.tokenize("Hello"), (std::vector<std::string>{"[UNK]"}));
    EXPECT_EQ(cased.model_max_length(), BertTokenizer::kNoMaxLength);
    // An additional special token is never split either.
    EXPECT_EQ(cased.tokenize("a[unused0]b"), (std::vector<std::string>{"a", "[unused0]", "b"}));
    fs::remove_all(dir);
}

TEST(TokenizerFiles, SpecialTokensMapRenamesTokens) {
    const fs::path dir = test::make_temp_dir("tok_special");
    fs::copy_file(hub_dir() / "vocab.txt", dir / "vocab.txt");
    write_text_atomic(dir / "special_tokens_map.json",
                      R"({"cls_token": {"content": "[unused1]", "lstrip": false},
                          "sep_token": "[unused2]"})");
    const BertTokenizer t = BertTokenizer::from_pretrained(dir);
    EXPECT_EQ(t.encode("hi").input_ids, (std::vector<int32_t>{2, 7632, 3}));
    fs::remove_all(dir);
}

// A minimal tokenizer.json in the newer serialisation, `model_extra` and `added` spliced in.
std::string small_tokenizer_json(const std::string& model_extra, const std::string& added) {
    return R"({"added_tokens": [)" + added + R"(],
        "normalizer": {"type": "BertNormalizer", "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
        "model": {"type": "WordPiece", "unk_token": "[UNK]")" +
           model_extra + R"(, "vocab": {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3,
                                      "[MASK]": 4, "hello": 5}}})";
}

// An added token's id was read with get<int64_t>(), which casts a float unchecked (UBSan:
// float-cast-overflow; found by fuzz/tokenizer_json_fuzz.cpp's harness).
TEST(TokenizerFiles, AddedTokenWithAFloatIdIsAClearError) {
    const BertTokenizer ok = BertTokenizer::from_tokenizer_json_text(
        small_tokenizer_json("", R"({"id": 6, "content": "<x>", "special": true})"), "t.json");
    EXPECT_EQ(ok.vocab_size(), 7);
    for (const char* id : {"6.5", "1e300"}) {
        const std::string error = test::error_of([&] {
            BertTokenizer::from_tokenizer_json_text(
                small_tokenizer_json(
                    "", std::string(R"({"id": )") + id + R"(, "content": "<x>", "special": true})"),
                "t.json");
        });
        EXPECT_NE(error.find("t.json: added token '<x>'"), std::string::npos)
            << id << ": " << error;
        EXPECT_NE(error.find("not an integer"), std::string::npos) << id << ": " << error;
    }
}

// max_input_chars_per_word was narrowed to int unchecked: 2^40 became 0, making every word [UNK].
TEST(TokenizerFiles, MaxInputCharsPerWordOutsideIntIsAClearError) {
    const BertTokenizer ok = BertTokenizer::from_tokenizer_json_text(
        small_tokenizer_json(R"(, "max_input_chars_per_word": 7)", ""), "t.json");
    EXPECT_EQ(ok.encode_ids("hello"), std::vector<int32_t>{5});
    for (const char* bad : {"1099511627776", "-1", "18446744073709551615"}) {
        const std::string error = test::error_of([&] {
            BertTokenizer::from_tokenizer_json_text(
                small_tokenizer_json(std::string(R"(, "max_input_chars_per_word": )") + bad, ""),
                "t.json");
        });
        EXPECT_NE(error.find("max_input_chars_per_word"), std::string::npos)
            << bad << ": " << error;
    }
}

}  // namespace
}  // namespace ft
