// run_ner.py's preprocessing: UD English-EWT read by our CoNLL-U reader, tag columns made
// ClassLabels, words tokenised with is_split_into_words and labels aligned by word_ids(), must
// give the input_ids and labels HF computed for tests/goldens/trainer_ner (transformers 5.25.0);
// plus hand-worked alignment cases (first sub-token, label_all_tokens with B- -> I-).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "finetune/data.h"
#include "finetune/tokenizer.h"
#include "test_env.h"
#include "train/parity_helpers.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

fs::path ner_goldens() {
    return test::tools_dir() / ".." / "tests" / "goldens" / "trainer_ner";
}

void check_case(const std::string& name) {
    const json g = test::read_golden("trainer_ner", name);
    ASSERT_FALSE(g.is_null()) << name;
    const fs::path ud = test::shared_dir() / "data" / "ud" / "en_ewt";
    if (!fs::exists(ud / "en_ewt-ud-train.conllu")) GTEST_SKIP() << "no UD EWT under " << ud;
    const std::string column = g["label_column"].get<std::string>();
    DatasetDict raw;
    raw.set("train",
            read_conllu(ud / "en_ewt-ud-train.conllu")
                .select_range(0, g["data_files"]["train"]["first_sentences"].get<int64_t>()));
    raw.set("validation",
            read_conllu(ud / "en_ewt-ud-dev.conllu")
                .select_range(0, g["data_files"]["validation"]["first_sentences"].get<int64_t>()));
    const DatasetDict dd = class_label_tag_columns(raw, {column});
    EXPECT_EQ(dd["train"].feature(column).names, g["label_list"].get<std::vector<std::string>>());
    const auto tok = load_tokenizer(ner_goldens() / g["model_dir"].get<std::string>());
    TokenizeAndAlignLabels spec;
    spec.label_column = column;
    spec.options.truncation = Truncation::LongestFirst;
    spec.options.max_length = g["max_seq_length"].get<int64_t>();
    spec.label_all_tokens = g["label_all_tokens"].get<bool>();
    MapOptions mo;
    mo.batched = true;
    for (const auto& [split, rows] :
         {std::pair<std::string, const json*>{"train", &g["train_rows"]},
          {"validation", &g["eval_rows"]}}) {
        const Dataset ds = dd[split].map(
            [&](const Dataset& b) { return tokenize_and_align_labels(*tok, b, spec); }, mo);
        ASSERT_EQ(ds.num_rows(), static_cast<int64_t>(rows->size()));
        for (int64_t r = 0; r < ds.num_rows(); ++r) {
            const json& want = (*rows)[static_cast<size_t>(r)];
            ASSERT_EQ(ds[r].str("idx"), want["sent_id"].get<std::string>()) << split << " " << r;
            EXPECT_EQ(ds[r].int_list("input_ids"), want["input_ids"].get<std::vector<int32_t>>())
                << name << " " << split << " row " << r;
            EXPECT_EQ(ds[r].int_list("labels"), want["labels"].get<std::vector<int32_t>>())
                << name << " " << split << " row " << r;
        }
    }
}

TEST(TokenLabelAlignment, UposFirstSubTokenIsHuggingFaces) {
    check_case("bert_upos");
}
TEST(TokenLabelAlignment, DistilBertHasNoTokenTypes) {
    check_case("distilbert_upos");
}
TEST(TokenLabelAlignment, LabelAllTokensAndTruncationAreHuggingFaces) {
    check_case("bert_upos_label_all_tokens_max24");
}
TEST(TokenLabelAlignment, StringTagsGetTheSortedTrainLabelList) {
    check_case("bert_xpos");
}

// A hand-made vocabulary: "playing" -> play ##ing, "Paris" -> paris, "New" -> new,
// "Yorkers" -> york ##ers.
BertTokenizer tiny_tokenizer() {
    return BertTokenizer({"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "play", "##ing", "paris",
                          "new", "york", "##ers", "in"},
                         {}, {});
}

TEST(TokenLabelAlignment, HandWorkedFirstSubTokenAndLabelAllTokens) {
    const std::vector<std::string> names = {"O", "B-LOC", "I-LOC", "B-MISC", "I-MISC"};
    EXPECT_EQ(b_to_i_label(names), (std::vector<int32_t>{0, 2, 2, 4, 4}));
    EXPECT_EQ(b_to_i_label({"B-X", "O"}), (std::vector<int32_t>{0, 1}));  // no I-X: itself
    Dataset ds;
    ds = ds.add_column("tokens", Column::string_lists({{"playing", "in", "New", "Yorkers"}}))
             .add_column("ner_tags",
                         Column::int32_lists({{0, 0, 3, 4}}, Feature::class_label_list(names)));
    const BertTokenizer tok = tiny_tokenizer();
    TokenizeAndAlignLabels spec;
    // [CLS] play ##ing in new york ##ers [SEP]
    Dataset out = tokenize_and_align_labels(tok, ds, spec);
    EXPECT_EQ(out[0].int_list("input_ids"), (std::vector<int32_t>{2, 5, 6, 11, 8, 9, 10, 3}));
    EXPECT_EQ(out[0].int_list("labels"),
              (std::vector<int32_t>{-100, 0, -100, 0, 3, 4, -100, -100}));
    spec.label_all_tokens = true;
    out = tokenize_and_align_labels(tok, ds, spec);
    EXPECT_EQ(out[0].int_list("labels"), (std::vector<int32_t>{-100, 0, 0, 0, 3, 4, 4, -100}));
    // B- on a word's later sub-tokens becomes I-.
    ds = Dataset()
             .add_column("tokens", Column::string_lists({{"Yorkers"}}))
             .add_column("ner_tags", Column::int32_lists({{3}}, Feature::class_label_list(names)));
    out = tokenize_and_align_labels(tok, ds, spec);
    EXPECT_EQ(out[0].int_list("labels"), (std::vector<int32_t>{-100, 3, 4, -100}));
    // Truncation cuts inside a word; its first piece keeps the label.
    spec.label_all_tokens = false;
    spec.options.truncation = Truncation::LongestFirst;
    spec.options.max_length = 3;
    out = tokenize_and_align_labels(tok, ds, spec);
    EXPECT_EQ(out[0].int_list("labels"), (std::vector<int32_t>{-100, 3, -100}));
}

TEST(TokenLabelAlignment, ErrorsNameTheColumnAndRow) {
    const BertTokenizer tok = tiny_tokenizer();
    Dataset ds;
    ds = ds.add_column("tokens", Column::string_lists({{"in"}, {"in", "paris"}}))
             .add_column("ner_tags",
                         Column::int32_lists({{0}, {0}}, Feature::class_label_list({"O", "B-LOC"})))
             .add_column("raw", Column::string_lists({{"O"}, {"O"}}));
    TokenizeAndAlignLabels spec;
    try {
        tokenize_and_align_labels(tok, ds, spec);
        FAIL() << "a row with 2 words and 1 tag was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("row 1 of the batch has 2 words"), std::string::npos)
            << e.what();
    }
    spec.label_column = "raw";
    try {
        tokenize_and_align_labels(tok, ds, spec);
        FAIL() << "string tags were accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("class_label_tag_columns"), std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace ft
