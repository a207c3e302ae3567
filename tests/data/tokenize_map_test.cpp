// map with the tokenizer over all of glue/cola equals tokenizing row by row, equals HF's
// reference ids (../shared/reference/tokenization), and does not depend on the thread count.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "finetune/data.h"
#include "finetune/tokenizer.h"
#include "test_env.h"

namespace ft {
namespace {

TEST(DatasetTokenizeMap, ColaMapEqualsRowByRowAndHuggingFace) {
    const BertTokenizer tok = BertTokenizer::from_pretrained(test::bert_uncased_tokenizer_dir());
    const DatasetDict cola = load_dataset("glue", "cola");
    TokenizeColumns spec;
    spec.options.truncation = Truncation::LongestFirst;
    spec.token_type_ids = false;  // as DistilBERT's tokenizer returns
    auto preprocess = [&](const Dataset& batch) { return tokenize_columns(tok, batch, spec); };
    MapOptions two;
    two.batched = true;
    two.num_threads = 2;
    const DatasetDict mapped = cola.map(preprocess, two);
    EXPECT_EQ(
        mapped["train"].column_names(),
        (std::vector<std::string>{"sentence", "label", "idx", "input_ids", "attention_mask"}));
    EXPECT_EQ(mapped["train"].feature("input_ids").repr(), "List(Value('int32'))");

    // Row by row, on one thread.
    for (const char* split : {"train", "validation", "test"}) {
        const Dataset& src = cola[split];
        const Dataset& out = mapped[split];
        ASSERT_EQ(out.num_rows(), src.num_rows());
        const auto& sentences = src.column("sentence").as_strings();
        for (int64_t r = 0; r < src.num_rows(); ++r) {
            const Encoding e = tok.encode(sentences[size_t(r)]);
            const auto ids = out.column("input_ids").list_at(r);
            ASSERT_EQ(std::vector<int32_t>(ids.begin(), ids.end()), e.input_ids) << split << r;
        }
    }
    // HF's ids for train and dev.
    std::ifstream in(test::shared_dir() / "reference/tokenization/cola_bert_uncased_ids.jsonl");
    int compared = 0;
    for (std::string line; std::getline(in, line); ++compared) {
        const auto r = nlohmann::json::parse(line);
        const Dataset& ds = mapped[r["split"] == "train" ? "train" : "validation"];
        const auto ids = ds.column("input_ids").list_at(r["idx"].get<int64_t>());
        EXPECT_EQ(std::vector<int32_t>(ids.begin(), ids.end()),
                  r["input_ids"].get<std::vector<int32_t>>());
    }
    EXPECT_EQ(compared, 9594);

    // One thread gives the same columns.
    MapOptions one = two;
    one.num_threads = 1;
    const Dataset single = cola["train"].map(preprocess, one);
    EXPECT_EQ(single.column("input_ids").list_values(),
              mapped["train"].column("input_ids").list_values());
    EXPECT_EQ(single.column("input_ids").list_offsets(),
              mapped["train"].column("input_ids").list_offsets());
}

TEST(DatasetTokenizeMap, PairsGetTokenTypesAndErrorsNameTheRow) {
    const BertTokenizer tok = BertTokenizer::from_pretrained(test::bert_uncased_tokenizer_dir());
    Dataset ds;
    ds = ds.add_column("a", Column::strings({"the cat", "hello"}));
    ds = ds.add_column("b", Column::strings({"sat", "world again"}));
    TokenizeColumns spec;
    spec.text_column = "a";
    spec.pair_column = "b";
    const Dataset out = tokenize_columns(tok, ds, spec);
    const auto types = out.column("token_type_ids").list_at(1);
    EXPECT_EQ(std::vector<int32_t>(types.begin(), types.end()),
              (std::vector<int32_t>{0, 0, 0, 1, 1, 1}));
    spec.options.truncation = Truncation::OnlySecond;
    spec.options.max_length = 4;
    try {
        tokenize_columns(tok, ds, spec);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("row 0"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace ft
