// `finetune tokenize` end to end: HF's reference ids for the 256 tricky strings (and their
// truncated forms), pairs, errors that name the line, and an output file written atomically.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "finetune/io.h"
#include "test_env.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string tokenizer_dir() {
    return (test::bert_uncased_tokenizer_dir()).string();
}

std::vector<json> lines_of(const std::string& text) {
    std::vector<json> out;
    size_t pos = 0;
    while (pos < text.size()) {
        const size_t end = text.find('\n', pos);
        out.push_back(json::parse(text.substr(pos, end - pos)));
        pos = end + 1;
    }
    return out;
}

std::vector<json> tricky_records() {
    std::ifstream in(test::shared_dir() / "reference/tokenization/tricky_strings_ids.jsonl");
    std::vector<json> out;
    for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
    return out;
}

TEST(CliTokenize, TrickyStringsGiveHuggingFaceIds) {
    const fs::path dir = test::make_temp_dir("cli_tok");
    std::string input;
    const auto records = tricky_records();
    for (const json& r : records) input += json{{"text", r["text"]}}.dump() + "\n";
    write_text_atomic(dir / "in.jsonl", input);

    std::string out;
    ASSERT_EQ(test::run_command(test::cli() + " tokenize --tokenizer " + tokenizer_dir() +
                                    " --input " + (dir / "in.jsonl").string() + " --output " +
                                    (dir / "out.jsonl").string(),
                                &out),
              0)
        << out;
    const auto got = lines_of(read_text_file(dir / "out.jsonl"));
    ASSERT_EQ(got.size(), records.size());
    for (size_t i = 0; i < records.size(); ++i) {
        EXPECT_EQ(got[i]["input_ids"], records[i]["input_ids"]) << i;
        EXPECT_EQ(got[i]["attention_mask"].size(), got[i]["input_ids"].size());
    }
    // --max_length alone truncates longest_first, as HF's max_length without truncation does.
    ASSERT_EQ(test::run_command(test::cli() + " tokenize --tokenizer " + tokenizer_dir() +
                                    " --input " + (dir / "in.jsonl").string() +
                                    " --max_length 512 --output " + (dir / "cut.jsonl").string(),
                                &out),
              0)
        << out;
    const auto cut = lines_of(read_text_file(dir / "cut.jsonl"));
    for (size_t i = 0; i < records.size(); ++i)
        EXPECT_EQ(cut[i]["input_ids"],
                  records[i].value("input_ids_truncation_512", records[i]["input_ids"]))
            << i;
    fs::remove_all(dir);
}

TEST(CliTokenize, PairsGetTokenTypesAndTruncation) {
    const fs::path dir = test::make_temp_dir("cli_tok_pair");
    write_text_atomic(dir / "in.jsonl",
                      "{\"text\": \"The cat sat.\", \"text_pair\": \"On the mat?\"}\n\n"
                      "{\"text\": \"Hello\"}\n");
    std::string out;
    ASSERT_EQ(test::run_command(test::cli() + " tokenize --tokenizer " + tokenizer_dir() +
                                    " --input " + (dir / "in.jsonl").string() +
                                    " --max_length 6 --truncation only_second",
                                &out),
              1);
    EXPECT_NE(out.find("in.jsonl:1: truncation only_second"), std::string::npos) << out;
    ASSERT_EQ(test::run_command(test::cli() + " tokenize --tokenizer " + tokenizer_dir() +
                                    " --input " + (dir / "in.jsonl").string() + " --max_length 6",
                                &out),
              0)
        << out;
    const auto got = lines_of(out);
    ASSERT_EQ(got.size(), 2u);  // the blank line is not a record
    // 4 + 4 pieces + 3 specials = 11 > 6: longest_first leaves the cat | on.
    EXPECT_EQ(got[0]["input_ids"], json({101, 1996, 4937, 102, 2006, 102}));
    EXPECT_EQ(got[0]["token_type_ids"], json({0, 0, 0, 0, 1, 1}));
    EXPECT_EQ(got[1]["input_ids"], json({101, 7592, 102}));
    fs::remove_all(dir);
}

// The other kinds through the same command: XLM-R's SentencePiece folder on the GLUE sample
// (texts and pairs) and RoBERTa's byte-level BPE folder (tools/make_roberta_vocab.py, built here)
// on its tricky strings give the goldens' transformers 5 ids, with no token_type_ids.
std::vector<json> golden_records(const std::string& file) {
    std::ifstream in(test::tools_dir() / ".." / "tests" / "goldens" / file);
    std::vector<json> out;
    for (std::string line; std::getline(in, line);) {
        const json r = json::parse(line);
        if (r.contains("ids") && r.contains("text")) out.push_back(r);
    }
    return out;
}

void expect_cli_ids(const fs::path& tokenizer, const std::vector<json>& records,
                    const fs::path& dir) {
    std::string input;
    for (const json& r : records) {
        json line = {{"text", r["text"]}};
        if (r.contains("pair")) line["text_pair"] = r["pair"];
        input += line.dump() + "\n";
    }
    write_text_atomic(dir / "in.jsonl", input);
    std::string out;
    ASSERT_EQ(test::run_command(test::cli() + " tokenize --tokenizer " + tokenizer.string() +
                                    " --input " + (dir / "in.jsonl").string() + " --output " +
                                    (dir / "out.jsonl").string(),
                                &out),
              0)
        << out;
    const auto got = lines_of(read_text_file(dir / "out.jsonl"));
    ASSERT_EQ(got.size(), records.size());
    for (size_t i = 0; i < records.size(); ++i) {
        EXPECT_EQ(got[i]["input_ids"], records[i]["ids"]) << records[i]["text"];
        EXPECT_FALSE(got[i].contains("token_type_ids"));
    }
}

TEST(CliTokenize, XlmRobertaAndRobertaFoldersGiveHuggingFaceIds) {
    const fs::path dir = test::make_temp_dir("cli_tok_kinds");
    const auto xlmr = golden_records("xlm_roberta_tokenizer/glue_sample.jsonl");
    ASSERT_GT(xlmr.size(), 100u);
    expect_cli_ids(test::tools_dir() / ".." / "tests/goldens/xlm_roberta_tokenizer/model", xlmr,
                   dir);
    std::string out;
    ASSERT_EQ(test::run_command(
                  test::python() + " " + (test::tools_dir() / "make_roberta_vocab.py").string() +
                      " --gpt2 " + (test::shared_dir() / "data/tokenizers/gpt2-bpe").string() +
                      " --out " + (dir / "roberta").string(),
                  &out),
              0)
        << out;
    std::vector<json> roberta;
    for (const json& r : golden_records("roberta_tokenizer/tricky.jsonl"))
        if (!r.contains("pair")) roberta.push_back(r);
    ASSERT_GT(roberta.size(), 100u);
    expect_cli_ids(dir / "roberta", roberta, dir);
    fs::remove_all(dir);
}

TEST(CliTokenize, BadInputNamesTheLineAndWritesNothing) {
    const fs::path dir = test::make_temp_dir("cli_tok_bad");
    write_text_atomic(dir / "utf8.jsonl",
                      "{\"text\": \"ok\"}\n{\"text\": \"ok\"}\n{\"text\": \"\xFF\"}\n");
    write_text_atomic(dir / "json.jsonl", "{\"text\": \"ok\"}\n{\"text\": \n");
    write_text_atomic(dir / "field.jsonl", "{\"sentence\": \"ok\"}\n");
    const std::string base = test::cli() + " tokenize --tokenizer " + tokenizer_dir() + " --input ";
    std::string out;
    EXPECT_EQ(test::run_command(base + (dir / "utf8.jsonl").string() + " --output " +
                                    (dir / "out.jsonl").string(),
                                &out),
              1);
    EXPECT_NE(out.find("utf8.jsonl:3: invalid UTF-8"), std::string::npos) << out;
    EXPECT_FALSE(fs::exists(dir / "out.jsonl"));
    EXPECT_EQ(test::run_command(base + (dir / "json.jsonl").string(), &out), 1);
    EXPECT_NE(out.find("json.jsonl:2: invalid JSON"), std::string::npos) << out;
    EXPECT_EQ(test::run_command(base + (dir / "field.jsonl").string(), &out), 1);
    EXPECT_NE(out.find("field.jsonl:1: expected an object with a string field \"text\""),
              std::string::npos)
        << out;
    EXPECT_EQ(
        test::run_command(base + (dir / "field.jsonl").string() + " --truncation sideways", &out),
        2);
    EXPECT_EQ(test::run_command(base + (dir / "absent.jsonl").string(), &out), 1);
    EXPECT_NE(out.find("absent.jsonl: cannot open"), std::string::npos) << out;
    fs::remove_all(dir);
}

}  // namespace
}  // namespace ft
