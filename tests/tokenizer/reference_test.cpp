// Ids against HuggingFace's own (../shared/reference/tokenization, made by transformers'
// BertTokenizer through from_pretrained): every CoLA sentence and the 256 tricky strings, with
// the tokenizer loaded from vocab.txt, from tokenizer.json and from the re-saved tokenizer.json.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "finetune/tokenizer.h"
#include "test_env.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

fs::path tokenizer_dir() {
    return test::bert_uncased_tokenizer_dir();
}
fs::path reference_dir() {
    return test::shared_dir() / "reference/tokenization";
}

std::vector<json> read_jsonl(const fs::path& path) {
    std::ifstream in(path);
    EXPECT_TRUE(in) << path;
    std::vector<json> out;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(json::parse(line));
    return out;
}

// The sentence column (the 4th) of a CoLA TSV, by line number.
std::vector<std::string> cola_sentences(const std::string& file) {
    std::ifstream in(test::shared_dir() / "data/glue/cola" / file);
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) {
        size_t tab = 0;
        for (int k = 0; k < 3; ++k) tab = line.find('\t', tab) + 1;
        out.push_back(line.substr(tab));
    }
    return out;
}

// The three ways a user's directory can give the tokenizer.
std::vector<std::pair<std::string, BertTokenizer>> loaded_tokenizers() {
    std::vector<std::pair<std::string, BertTokenizer>> out;
    out.emplace_back("vocab.txt", BertTokenizer::from_vocab_file(tokenizer_dir() / "vocab.txt", {},
                                                                 {}, /*model_max_length=*/512));
    out.emplace_back("tokenizer.json",
                     BertTokenizer::from_tokenizer_json(tokenizer_dir() / "tokenizer.json"));
    out.emplace_back("tokenizer.resaved.json", BertTokenizer::from_tokenizer_json(
                                                   tokenizer_dir() / "tokenizer.resaved.json"));
    out.emplace_back("from_pretrained(dir)", BertTokenizer::from_pretrained(tokenizer_dir()));
    return out;
}

std::vector<int32_t> ids_of(const json& j) {
    return j.get<std::vector<int32_t>>();
}

TEST(TokenizerReference, AllColaSentencesMatchHuggingFace) {
    const auto train = cola_sentences("train.tsv");
    const auto dev = cola_sentences("dev.tsv");
    const auto records = read_jsonl(reference_dir() / "cola_bert_uncased_ids.jsonl");
    ASSERT_EQ(records.size(), 9594u);
    for (const auto& [source, tok] : loaded_tokenizers()) {
        int mismatches = 0;
        for (const json& r : records) {
            const auto& sentences = r["split"] == "train" ? train : dev;
            const std::string& text = sentences.at(r["idx"].get<size_t>());
            const Encoding e = tok.encode(text);
            if (e.input_ids != ids_of(r["input_ids"])) {
                if (++mismatches <= 3)
                    ADD_FAILURE() << source << ": " << r["split"] << " line " << r["idx"] << ": "
                                  << text;
            }
            EXPECT_EQ(e.token_type_ids, std::vector<int32_t>(e.input_ids.size(), 0));
            EXPECT_EQ(e.attention_mask, std::vector<int32_t>(e.input_ids.size(), 1));
        }
        EXPECT_EQ(mismatches, 0) << source;
    }
}

TEST(TokenizerReference, TrickyStringsMatchHuggingFace) {
    const auto records = read_jsonl(reference_dir() / "tricky_strings_ids.jsonl");
    ASSERT_EQ(records.size(), 256u);
    for (const auto& [source, tok] : loaded_tokenizers()) {
        int mismatches = 0, truncated = 0;
        for (const json& r : records) {
            const std::string text = r["text"];
            const Encoding e = tok.encode(text);
            if (e.input_ids != ids_of(r["input_ids"])) {
                if (++mismatches <= 5)
                    ADD_FAILURE() << source << ": tricky string " << r["i"] << ": " << r["text"];
                continue;
            }
            std::vector<std::string> tokens;
            for (int32_t id : e.input_ids) tokens.push_back(tok.id_to_token(id));
            EXPECT_EQ(tokens, r["tokens"].get<std::vector<std::string>>()) << r["i"];
            if (r.contains("input_ids_truncation_512")) {
                ++truncated;
                EncodeOptions o;
                o.truncation = Truncation::LongestFirst;
                o.max_length = 512;
                EXPECT_EQ(tok.encode(text, std::nullopt, o).input_ids,
                          ids_of(r["input_ids_truncation_512"]))
                    << source << ": " << r["i"];
            }
        }
        EXPECT_EQ(mismatches, 0) << source;
        EXPECT_EQ(truncated, 2) << source;
    }
}

// The vocab.txt tokenizer says model_max_length 512, as the reference's saved config does, so
// truncation=True alone must cut the long strings to 512 as HF did.
TEST(TokenizerReference, TruncationTrueUsesModelMaxLength) {
    const auto tok =
        BertTokenizer::from_vocab_file(tokenizer_dir() / "vocab.txt", {}, {}, /*max_length=*/512);
    for (const json& r : read_jsonl(reference_dir() / "tricky_strings_ids.jsonl")) {
        if (!r.contains("input_ids_truncation_512")) continue;
        EncodeOptions o;
        o.truncation = Truncation::LongestFirst;
        EXPECT_EQ(tok.encode(r["text"].get<std::string>(), std::nullopt, o).input_ids,
                  ids_of(r["input_ids_truncation_512"]));
    }
}

}  // namespace
}  // namespace ft
