// Token-classification columns: List(Value('string')) and List(ClassLabel) features and storage
// through every Dataset operation, row origins, JSON Lines token/tag lists, and run_ner's label
// lists (class_label_tag_columns) with errors that name the split, file and line.
#include <gtest/gtest.h>

#include "finetune/data.h"
#include "test_env.h"

namespace ft {

namespace {

Dataset tagged() {
    return Dataset()
        .add_column("tokens", Column::string_lists({{"a", "b"}, {}, {"c"}}))
        .add_column("tags", Column::int32_lists({{1, 0}, {}, {2}},
                                                Feature::class_label_list({"O", "B-X", "I-X"})))
        .add_column("n", Column::int64s({10, 11, 12}))
        .with_row_origins("f.jsonl", {3, 5, 9});
}

}  // namespace

TEST(TokenColumns, FeatureReprsAsDatasets5) {
    EXPECT_EQ(Feature::list("string").repr(), "List(Value('string'))");
    EXPECT_EQ(Feature::class_label_list({"B-PER", "O"}).repr(),
              "List(ClassLabel(names=['B-PER', 'O']))");
    EXPECT_EQ(Feature::list("int32").repr(), "List(Value('int32'))");
    EXPECT_EQ(Feature::list("string").storage(), ColumnType::STRING_LIST);
    EXPECT_EQ(Feature::class_label_list({"a"}).storage(), ColumnType::INT32_LIST);
    EXPECT_TRUE(Feature::class_label_list({}).is_class_label_list());
    EXPECT_FALSE(Feature::list("int64").is_class_label_list());
    EXPECT_NE(Feature::class_label_list({"a"}), Feature::list("int64"));
    EXPECT_EQ(Feature::class_label_list({"a", "b"}).element(), Feature::class_label({"a", "b"}));
    EXPECT_EQ(Feature::class_label_list({"a", "b"}).int2str(1), "b");
    EXPECT_THROW(Feature::list("float32"), Error);
    EXPECT_THROW(Feature::value("string").element(), Error);
}

TEST(TokenColumns, ColumnsCheckTheirFeature) {
    EXPECT_NE(test::error_of([] {
                  Column::string_lists({{"a"}}, Feature::list("int32"));
              }).find("cannot describe a list<string> column"),
              std::string::npos);
    EXPECT_NE(test::error_of([] {
                  Column::int32_lists({{0}, {1, 3}}, Feature::class_label_list({"a", "b", "c"}));
              }).find("row 1: label 3 is outside"),
              std::string::npos);
    EXPECT_NO_THROW(Column::int32_lists({{-1, 2}}, Feature::class_label_list({"a", "b", "c"})));
    const Column c = Column::string_lists({{"x"}});
    EXPECT_THROW(c.list_values(), Error);
    EXPECT_THROW(c.as_strings(), Error);
    EXPECT_THROW(c.list_at(0), Error);
    EXPECT_EQ(c.list_offsets(), (std::vector<int64_t>{0, 1}));
}

TEST(TokenColumns, DatasetOperationsKeepListsAndOrigins) {
    const Dataset ds = tagged();
    EXPECT_EQ(ds[0].repr(), "{'tokens': ['a', 'b'], 'tags': [1, 0], 'n': 10}");
    EXPECT_EQ(ds[1].repr(), "{'tokens': [], 'tags': [], 'n': 11}");
    const Dataset picked = ds.select(std::vector<int64_t>{2, 0});
    EXPECT_EQ(picked[0].string_list("tokens"), (std::vector<std::string>{"c"}));
    EXPECT_EQ(picked[1].int_list("tags"), (std::vector<int32_t>{1, 0}));
    EXPECT_EQ(picked.feature("tags"), ds.feature("tags"));
    EXPECT_EQ(picked.row_origin(0)->str(), "f.jsonl:9");
    EXPECT_EQ(picked.row_origin(1)->str(), "f.jsonl:3");
    const Dataset kept = ds.filter([](const Row& r) { return !r.string_list("tokens").empty(); });
    EXPECT_EQ(kept.column("n").as_int64(), (std::vector<int64_t>{10, 12}));
    EXPECT_EQ(kept.row_origin(1)->line, 9);
    const Dataset shuffled = ds.shuffle(3);
    const std::vector<int64_t> line_of_n = {3, 5, 9};
    for (int64_t r = 0; r < 3; ++r)  // each row's parts and origin travel together
        EXPECT_EQ(shuffled.row_origin(r)->line,
                  line_of_n[static_cast<size_t>(shuffled[r].int64("n") - 10)]);
    const Dataset other = Dataset()
                              .add_column("tokens", Column::string_lists({{"z"}}))
                              .add_column("tags", Column::int32_lists({{2}}, ds.feature("tags")))
                              .add_column("n", Column::int64s({13}))
                              .with_row_origins("g.jsonl", {1});
    const Dataset both = Dataset::concatenate({ds, other});
    EXPECT_EQ(both.num_rows(), 4);
    EXPECT_EQ(both.column("tokens").string_list_values(),
              (std::vector<std::string>{"a", "b", "c", "z"}));
    EXPECT_EQ(both.column("tokens").list_offsets(), (std::vector<int64_t>{0, 2, 2, 3, 4}));
    EXPECT_EQ(both.row_origin(3)->str(), "g.jsonl:1");
    EXPECT_EQ(both.row_origin(2)->str(), "f.jsonl:9");
    // Concatenating with a part of unknown origin drops the record rather than guess.
    const Dataset no_origin =
        Dataset()
            .add_column("tokens", Column::string_lists({{"q"}}))
            .add_column("tags", Column::int32_lists({{0}}, ds.feature("tags")))
            .add_column("n", Column::int64s({1}));
    EXPECT_FALSE(Dataset::concatenate({ds, no_origin}).row_origin(0).has_value());
    EXPECT_THROW(Dataset::concatenate({ds, ds.cast_column("tags", Feature::list("int32"))}), Error);
    // map: per-row and batched functions see and return list columns; origins stay.
    const Dataset upper = ds.map(
        [](const Dataset& b) {
            std::vector<std::vector<std::string>> out;
            for (int64_t r = 0; r < b.num_rows(); ++r) {
                auto t = b[r].string_list("tokens");
                for (auto& s : t) s += "!";
                out.push_back(t);
            }
            return Dataset().add_column("tokens", Column::string_lists(out));
        },
        MapOptions{.batched = true, .batch_size = 2, .num_threads = 2});
    EXPECT_EQ(upper.column("tokens").string_list_values(),
              (std::vector<std::string>{"a!", "b!", "c!"}));
    EXPECT_EQ(upper.column_names(), ds.column_names());
    EXPECT_EQ(upper.row_origin(2)->line, 9);
    EXPECT_EQ(ds.rename_column("tags", "labels").remove_columns({"n"}).row_origin(1)->line, 5);
    // cast_column between features of the same storage: strings stay strings.
    EXPECT_EQ(ds.cast_column("tags", Feature::list("int32")).feature("tags").repr(),
              "List(Value('int32'))");
    EXPECT_NE(test::error_of([&] {
                  ds.cast_column("tokens", Feature::list("int32"));
              }).find("cannot become"),
              std::string::npos);
    EXPECT_FALSE(ds.row_origin(3).has_value());
    EXPECT_FALSE(ds.remove_columns({"n"}).row_origin(-1).has_value());
}

TEST(TokenColumns, JsonLinesTokenAndTagLists) {
    const Dataset ds = parse_json(
        "{\"tokens\": [\"EU\", \"rejects\"], \"ner_tags\": [\"B-ORG\", \"O\"], \"ids\": [3]}\n"
        "\n"
        "{\"tokens\": [], \"ner_tags\": [], \"ids\": []}\n",
        "t.jsonl");
    EXPECT_EQ(ds.features_repr(),
              "{'tokens': List(Value('string')), 'ner_tags': List(Value('string')), 'ids': "
              "List(Value('int32'))}");
    EXPECT_EQ(ds[0].repr(),
              "{'tokens': ['EU', 'rejects'], 'ner_tags': ['B-ORG', 'O'], 'ids': [3]}");
    EXPECT_EQ(ds.row_origin(1)->str(), "t.jsonl:3");
    // Empty lists first: the column takes the kind of the first non-empty list.
    const Dataset late = parse_json("{\"t\": []}\n{\"t\": [\"x\"]}\n{\"t\": []}\n", "l.jsonl");
    EXPECT_EQ(late.feature("t").repr(), "List(Value('string'))");
    EXPECT_EQ(late.column("t").list_offsets(), (std::vector<int64_t>{0, 0, 1, 1}));
    EXPECT_EQ(parse_json("{\"t\": []}\n", "e.jsonl").feature("t").repr(), "List(Value('int32'))");
    // A JSON array of objects has no line per row.
    EXPECT_FALSE(parse_json("[{\"t\": [\"a\"]}]", "a.json").row_origin(0).has_value());
}

TEST(TokenColumns, JsonListErrorsNameFileLineAndField) {
    auto err = [](const std::string& text) {
        return test::error_of([&] { parse_json(text, "bad.jsonl"); });
    };
    EXPECT_NE(err("{\"t\": [\"a\"]}\n{\"t\": [1]}\n")
                  .find("bad.jsonl:2: key 't': a list of integers, but earlier rows hold a list "
                        "of strings"),
              std::string::npos)
        << err("{\"t\": [\"a\"]}\n{\"t\": [1]}\n");
    EXPECT_NE(err("{\"t\": [1]}\n{\"t\": []}\n{\"t\": [\"a\"]}\n")
                  .find("bad.jsonl:3: key 't': a list of strings, but earlier rows hold a list of "
                        "integers"),
              std::string::npos);
    EXPECT_NE(err("{\"t\": [\"a\"]}\n{\"t\": \"a\"}\n").find("bad.jsonl:2: key 't': a string"),
              std::string::npos);
    EXPECT_NE(err("{\"t\": \"a\"}\n{\"t\": []}\n").find("bad.jsonl:2: key 't': a list"),
              std::string::npos);
    EXPECT_NE(err("{\"t\": [\"a\", 1]}\n").find("bad.jsonl:1: key 't': a list mixing strings"),
              std::string::npos);
    EXPECT_NE(err("{\"t\": [1, \"a\"]}\n").find("bad.jsonl:1: key 't': a list holding string"),
              std::string::npos);
    EXPECT_NE(err("{\"t\": [5000000000]}\n").find("bad.jsonl:1: key 't': a list holding number"),
              std::string::npos);
}

TEST(TokenColumns, ClassLabelTagColumnsUseTrainsSortedTags) {
    DatasetDict raw;
    raw.set("train", parse_conll("a B-PER\nb O\n\nc I-PER\nd B-LOC\n", "train.conll"));
    raw.set("validation", parse_conll("e O\n\nf B-LOC\n", "dev.conll"));
    raw.set("test", parse_conll("g O\n", "test.conll"));
    const DatasetDict dd = class_label_tag_columns(raw, {"ner_tags"});
    for (const auto& [split, ds] : dd.splits()) {
        EXPECT_EQ(ds.column_names(), (std::vector<std::string>{"id", "tokens", "ner_tags"}));
        EXPECT_EQ(ds.feature("ner_tags").repr(),
                  "List(ClassLabel(names=['B-LOC', 'B-PER', 'I-PER', 'O']))");
    }
    EXPECT_EQ(dd["train"].column("ner_tags").list_values(), (std::vector<int32_t>{1, 3, 2, 0}));
    EXPECT_EQ(dd["validation"][1].int_list("ner_tags"), (std::vector<int32_t>{0}));
    EXPECT_EQ(dd["validation"].row_origin(1)->str(), "dev.conll:3");
    // raw is untouched.
    EXPECT_EQ(raw["train"].feature("ner_tags").repr(), "List(Value('string'))");
    // Applying it again keeps the ClassLabel names.
    EXPECT_EQ(class_label_tag_columns(dd, {"ner_tags"})["test"].feature("ner_tags"),
              dd["test"].feature("ner_tags"));
}

TEST(TokenColumns, ClassLabelKeepsNamesAndChecksOtherSplits) {
    // A List(ClassLabel) column (UD's upos) keeps HF's order, not a sorted one.
    DatasetDict ud;
    ud.set("train", parse_conllu("1\tx\tx\tVERB\tVB\t_\t0\troot\t_\t_\n", "t.conllu"));
    EXPECT_EQ(class_label_tag_columns(ud, {"upos", "xpos"})["train"].feature("upos").names,
              upos_names());
    EXPECT_EQ(class_label_tag_columns(ud, {"upos", "xpos"})["train"].feature("xpos").repr(),
              "List(ClassLabel(names=['VB']))");

    DatasetDict raw;
    raw.set("train", parse_conll("a B-PER\nb O\n", "train.conll"));
    raw.set("validation", parse_conll("c O\n\nd O\ne B-MISC\n", "dev.conll"));
    const std::string e = test::error_of([&] { class_label_tag_columns(raw, {"ner_tags"}); });
    EXPECT_NE(e.find("split 'validation', the sentence at dev.conll:3 (row 1), token 1: tag "
                     "'B-MISC' of column 'ner_tags' is not in split 'train's labels"),
              std::string::npos)
        << e;
    // Without recorded origins the error names the row.
    DatasetDict bare;
    bare.set("train", Dataset().add_column("t", Column::string_lists({{"A"}})));
    bare.set("test", Dataset().add_column("t", Column::string_lists({{"A"}, {"A", "B"}})));
    EXPECT_NE(test::error_of([&] {
                  class_label_tag_columns(bare, {"t"});
              }).find("split 'test', row 1, token 1: tag 'B'"),
              std::string::npos);
    EXPECT_NE(test::error_of([&] { class_label_tag_columns(bare, {"x"}); }).find("no column 'x'"),
              std::string::npos);
    EXPECT_NE(test::error_of([&] {
                  class_label_tag_columns(bare, {"t"}, "validation");
              }).find("no split 'validation'"),
              std::string::npos);
    DatasetDict ints;
    ints.set("train", Dataset().add_column("t", Column::int64s({1})));
    EXPECT_NE(test::error_of([&] {
                  class_label_tag_columns(ints, {"t"});
              }).find("split 'train', column 't': Value('int64') is not a tag column"),
              std::string::npos);
}

}  // namespace ft
