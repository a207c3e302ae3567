// The CoNLL-2003 column reader: HF conll2003's columns for 4 columns, ner_tags for 2, tags_k
// otherwise; -DOCSTART- and blank lines; the last sentence without a blank line; ragged lines
// and single-column lines named by file:line; load_dataset by extension and as "conll".
#include <gtest/gtest.h>

#include <fstream>

#include "finetune/data.h"
#include "test_env.h"

namespace ft {

namespace {
std::string error_of(const std::string& text) {
    return test::error_of([&] { parse_conll(text, "ner.conll"); });
}
}  // namespace

TEST(ConllReader, Conll2003FourColumns) {
    const std::string text =
        "-DOCSTART- -X- -X- O\n"
        "\n"
        "EU NNP B-NP B-ORG\n"
        "rejects VBZ B-VP O\n"
        "German JJ B-NP B-MISC\n"
        "\n"
        "\n"
        "Peter NNP B-NP B-PER\n"
        "Blackburn NNP I-NP I-PER\n"
        "-DOCSTART- -X- -X- O\n"
        "BRUSSELS\tNNP  B-NP\tB-LOC\r\n";  // tabs, runs of spaces, CRLF; no final newline
    const Dataset ds = parse_conll(text, "c.conll");
    ASSERT_EQ(ds.num_rows(), 3);
    EXPECT_EQ(ds.features_repr(),
              "{'id': Value('string'), 'tokens': List(Value('string')), 'pos_tags': "
              "List(Value('string')), 'chunk_tags': List(Value('string')), 'ner_tags': "
              "List(Value('string'))}");
    EXPECT_EQ(ds[0].repr(),
              "{'id': '0', 'tokens': ['EU', 'rejects', 'German'], 'pos_tags': ['NNP', 'VBZ', "
              "'JJ'], 'chunk_tags': ['B-NP', 'B-VP', 'B-NP'], 'ner_tags': ['B-ORG', 'O', "
              "'B-MISC']}");
    EXPECT_EQ(ds[1].string_list("tokens"), (std::vector<std::string>{"Peter", "Blackburn"}));
    // -DOCSTART- ends a sentence even without a blank line before it.
    EXPECT_EQ(ds[2].repr(),
              "{'id': '2', 'tokens': ['BRUSSELS'], 'pos_tags': ['NNP'], 'chunk_tags': ['B-NP'], "
              "'ner_tags': ['B-LOC']}");
    EXPECT_EQ(ds.row_origin(0)->str(), "c.conll:3");
    EXPECT_EQ(ds.row_origin(1)->str(), "c.conll:8");
    EXPECT_EQ(ds.row_origin(2)->str(), "c.conll:11");
}

TEST(ConllReader, TwoColumnsAndOtherCounts) {
    const Dataset two = parse_conll("a O\nb B-X\n\nc I-X\n", "t.conll");
    EXPECT_EQ(two.column_names(), (std::vector<std::string>{"id", "tokens", "ner_tags"}));
    EXPECT_EQ(two[1].string_list("ner_tags"), (std::vector<std::string>{"I-X"}));
    const Dataset three = parse_conll("a x O\n", "t.conll");
    EXPECT_EQ(three.column_names(), (std::vector<std::string>{"id", "tokens", "tags_1", "tags_2"}));
    const Dataset empty = parse_conll("-DOCSTART- O\n\n\n", "e.conll");
    EXPECT_EQ(empty.num_rows(), 0);
    EXPECT_EQ(empty.column_names(), (std::vector<std::string>{"id", "tokens", "ner_tags"}));
}

TEST(ConllReader, ErrorsNameFileAndLine) {
    EXPECT_NE(error_of("a NN B-NP O\nb NN B-NP O\n\nc NN O\n")
                  .find("ner.conll:4: 3 columns, but line 1 has 4"),
              std::string::npos)
        << error_of("a NN B-NP O\nb NN B-NP O\n\nc NN O\n");
    EXPECT_NE(error_of("-DOCSTART- -X- O\n\na O\nb\n").find("ner.conll:4: a token line needs"),
              std::string::npos)
        << error_of("-DOCSTART- -X- O\n\na O\nb\n");
    EXPECT_NE(error_of("a O\n\n\nb \xC3\n").find("ner.conll:4: invalid UTF-8"), std::string::npos);
}

TEST(ConllReader, LoadDatasetByExtensionAndAsConll) {
    const fs::path dir = test::make_temp_dir("conll_load");
    std::ofstream(dir / "train.txt") << "a O\nb B-PER\n";
    std::ofstream(dir / "valid.txt") << "c O\n";
    std::ofstream(dir / "x.conll") << "d O\n";
    LoadDatasetArgs a;
    a.name_or_path = "conll";
    a.data_files = {{"train", {dir / "train.txt"}}, {"validation", {dir / "valid.txt"}}};
    const DatasetDict dd = load_dataset(a);
    EXPECT_EQ(dd["train"][0].string_list("ner_tags"), (std::vector<std::string>{"O", "B-PER"}));
    EXPECT_EQ(dd["validation"].row_origin(0)->str(), (dir / "valid.txt").string() + ":1");
    EXPECT_EQ(load_dataset((dir / "x.conll").string())["train"][0].string_list("tokens"),
              (std::vector<std::string>{"d"}));
    // Without the builder name a .txt file is not a data file.
    a.name_or_path = "csv";
    EXPECT_NE(test::error_of([&] { load_dataset(a); }).find("unknown data file type '.txt'"),
              std::string::npos);
}

}  // namespace ft
