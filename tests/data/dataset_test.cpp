// Dataset operations against hand-worked cases and CPython's documented repr rules: reprs,
// select / shuffle / filter / column edits, train_test_split sizes as HF rounds them, map.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <numeric>
#include <set>

#include "finetune/data.h"

namespace ft {

namespace {

// 10 rows: text "r0".."r9", label alternating 0/1, score i/4.
Dataset small() {
    std::vector<std::string> text;
    std::vector<int64_t> label, idx;
    std::vector<double> score;
    for (int i = 0; i < 10; ++i) {
        text.push_back(std::string("r").append(std::to_string(i)));
        label.push_back(i % 2);
        score.push_back(i / 4.0);
        idx.push_back(i);
    }
    return Dataset()
        .add_column("text", Column::strings(text))
        .add_column("label", Column::int64s(label, Feature::class_label({"neg", "pos"})))
        .add_column("score", Column::float64s(score))
        .add_column("idx", Column::int64s(idx, Feature::value("int32")));
}

std::vector<int64_t> idx_of(const Dataset& ds) {
    return ds.column("idx").as_int64();
}

}  // namespace

TEST(DatasetRepr, PythonStringQuotingFollowsCpython) {
    // CPython: single quotes unless the text holds ' and no ".
    EXPECT_EQ(python_repr("plain"), "'plain'");
    EXPECT_EQ(python_repr("won't"), "\"won't\"");
    EXPECT_EQ(python_repr("say \"hi\""), "'say \"hi\"'");
    EXPECT_EQ(python_repr("it's \"x\""), "'it\\'s \"x\"'");
    EXPECT_EQ(python_repr("a\\b"), "'a\\\\b'");
    EXPECT_EQ(python_repr("t\tn\nr\r"), "'t\\tn\\nr\\r'");
    EXPECT_EQ(python_repr(std::string("\x01\x7f", 2)), "'\\x01\\x7f'");
    // Printable non-ASCII stays; U+00A0 (Zs) and U+200B (Cf) are escaped like CPython does.
    EXPECT_EQ(python_repr("caf\xC3\xA9"), "'caf\xC3\xA9'");
    EXPECT_EQ(python_repr("a\xC2\xA0z"), "'a\\xa0z'");
    EXPECT_EQ(python_repr("a\xE2\x80\x8Bz"), "'a\\u200bz'");
    EXPECT_EQ(python_repr(""), "''");
}

TEST(DatasetRepr, PythonFloatReprFollowsCpython) {
    // Values from CPython's repr(): shortest round-trip, '.0' on integers, exponent outside
    // [-4, 16).
    EXPECT_EQ(python_float_repr(5.0), "5.0");
    EXPECT_EQ(python_float_repr(-1.0), "-1.0");
    EXPECT_EQ(python_float_repr(0.5), "0.5");
    EXPECT_EQ(python_float_repr(static_cast<float>(3.8)), "3.799999952316284");
    EXPECT_EQ(python_float_repr(static_cast<float>(0.2)), "0.20000000298023224");
    EXPECT_EQ(python_float_repr(1e-5), "1e-05");
    EXPECT_EQ(python_float_repr(0.0001), "0.0001");
    EXPECT_EQ(python_float_repr(1e16), "1e+16");
    EXPECT_EQ(python_float_repr(123456789012345678.0), "1.2345678901234568e+17");
    EXPECT_EQ(python_float_repr(-0.0), "-0.0");
}

TEST(DatasetRepr, RowsAndFeaturesPrintLikeHf) {
    const Dataset ds = small();
    EXPECT_EQ(ds[3].repr(), "{'text': 'r3', 'label': 1, 'score': 0.75, 'idx': 3}");
    EXPECT_EQ(ds.features_repr(),
              "{'text': Value('string'), 'label': ClassLabel(names=['neg', 'pos']), 'score': "
              "Value('float64'), 'idx': Value('int32')}");
    EXPECT_EQ(ds.repr(),
              "Dataset({\n    features: ['text', 'label', 'score', 'idx'],\n    num_rows: 10\n})");
    const Dataset lists =
        Dataset()
            .add_column("input_ids", Column::int32_lists({{101, 7592, 102}, {101, 102}}))
            .add_column("flag", Column::bools({1, 0}));
    EXPECT_EQ(lists[0].repr(), "{'input_ids': [101, 7592, 102], 'flag': True}");
    EXPECT_EQ(lists.features_repr(), "{'input_ids': List(Value('int32')), 'flag': Value('bool')}");
    EXPECT_THROW(ds[10], Error);
    EXPECT_THROW(ds[-1], Error);
}

TEST(DatasetOps, SelectKeepsTheGivenOrder) {
    const Dataset s = small().select(std::vector<int64_t>{7, 2, 2, 9});
    EXPECT_EQ(idx_of(s), (std::vector<int64_t>{7, 2, 2, 9}));
    EXPECT_EQ(s[0].str("text"), "r7");
    EXPECT_EQ(s.feature("label"), Feature::class_label({"neg", "pos"}));
    try {
        small().select(std::vector<int64_t>{0, 10});
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("index 10 (position 1)"), std::string::npos);
    }
}

TEST(DatasetOps, ShuffleIsASeededPermutation) {
    std::vector<std::string> text(1000);
    for (int i = 0; i < 1000; ++i) text[static_cast<size_t>(i)] = std::to_string(i);
    const Dataset ds = Dataset().add_column("t", Column::strings(text));
    const auto a = ds.shuffle(42).column("t").as_strings();
    const auto b = ds.shuffle(42).column("t").as_strings();
    const auto c = ds.shuffle(43).column("t").as_strings();
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    EXPECT_NE(a, text);
    auto sorted = a;
    std::sort(sorted.begin(), sorted.end());
    auto want = text;
    std::sort(want.begin(), want.end());
    EXPECT_EQ(sorted, want);  // a permutation: every row once
    // Not a trivial rotation: about n/e fixed points would be a sign of a broken shuffle; a
    // uniform permutation has about one.
    int fixed = 0;
    for (size_t i = 0; i < a.size(); ++i) fixed += a[i] == text[i];
    EXPECT_LT(fixed, 10);
}

TEST(DatasetOps, FilterRenameRemoveAdd) {
    const Dataset ds = small();
    const Dataset odd = ds.filter([](const Row& r) { return r.int64("label") == 1; });
    EXPECT_EQ(idx_of(odd), (std::vector<int64_t>{1, 3, 5, 7, 9}));
    const Dataset renamed = ds.rename_column("label", "labels");
    EXPECT_EQ(renamed.column_names(), (std::vector<std::string>{"text", "labels", "score", "idx"}));
    EXPECT_THROW(ds.rename_column("nope", "x"), Error);
    EXPECT_THROW(ds.rename_column("text", "idx"), Error);
    const Dataset removed = ds.remove_columns({"text", "score"});
    EXPECT_EQ(removed.column_names(), (std::vector<std::string>{"label", "idx"}));
    EXPECT_EQ(removed.num_rows(), 10);
    EXPECT_THROW(ds.remove_columns({"missing"}), Error);
    EXPECT_THROW(ds.add_column("extra", Column::int64s({1, 2})), Error);  // wrong length
    EXPECT_THROW(ds.add_column("idx", Column::int64s(std::vector<int64_t>(10))), Error);
    EXPECT_THROW(Column::int64s({0, 2}, Feature::class_label({"a", "b"})), Error);
    const Dataset cast = ds.cast_column("score", Feature::value("float32"));
    EXPECT_EQ(cast.feature("score").repr(), "Value('float32')");
}

TEST(DatasetSplit, TrainTestSplitSizesFollowHfRounding) {
    const Dataset ds = small();
    // HF: test = ceil(0.25 * 10) = 3, train = 7; test = ceil(0.33 * 10) = 4 (3.3 rounds up).
    auto s = train_test_split(ds, SplitSize::of(0.25), 1);
    EXPECT_EQ(s["train"].num_rows(), 7);
    EXPECT_EQ(s["test"].num_rows(), 3);
    EXPECT_EQ(s.split_names(), (std::vector<std::string>{"train", "test"}));
    s = train_test_split(ds, SplitSize::of(0.33), 1);
    EXPECT_EQ(s["test"].num_rows(), 4);
    EXPECT_EQ(s["train"].num_rows(), 6);
    // Integer counts are exact; a float train_size floors: floor(0.55 * 10) = 5.
    s = train_test_split(ds, SplitSize::rows(2), 1, SplitSize::of(0.55));
    EXPECT_EQ(s["test"].num_rows(), 2);
    EXPECT_EQ(s["train"].num_rows(), 5);
    // The two sides never share a row and the seed fixes them.
    s = train_test_split(ds, SplitSize::of(0.3), 7);
    std::set<int64_t> seen;
    for (int64_t i : idx_of(s["train"])) seen.insert(i);
    for (int64_t i : idx_of(s["test"])) EXPECT_TRUE(seen.insert(i).second);
    EXPECT_EQ(seen.size(), 10u);
    EXPECT_EQ(idx_of(train_test_split(ds, SplitSize::of(0.3), 7)["test"]), idx_of(s["test"]));
    // Without shuffling, train is the head and test the tail.
    s = train_test_split(ds, SplitSize::of(0.2), 0, std::nullopt, false);
    EXPECT_EQ(idx_of(s["test"]), (std::vector<int64_t>{8, 9}));
    EXPECT_THROW(train_test_split(ds, SplitSize::of(1.0), 0), Error);
    EXPECT_THROW(train_test_split(ds, SplitSize::rows(10), 0), Error);
    EXPECT_THROW(train_test_split(ds, SplitSize::of(0.5), 0, SplitSize::of(0.6)), Error);
    // 0.01 * 10 = 0.1 -> ceil 1 row: HF allows it.
    EXPECT_EQ(train_test_split(ds, SplitSize::of(0.01), 0)["test"].num_rows(), 1);
}

TEST(DatasetMap, BatchedMapAddsColumnsInOrderOnAnyThreadCount) {
    std::vector<std::string> text(2503);
    for (size_t i = 0; i < text.size(); ++i) text[i] = std::string(i % 17, 'x');
    const Dataset ds = Dataset().add_column("text", Column::strings(text));
    std::atomic<int> calls{0};
    auto fn = [&](const Dataset& batch) {
        ++calls;
        std::vector<std::vector<int32_t>> ids;
        std::vector<int64_t> len;
        for (const auto& s : batch.column("text").as_strings()) {
            ids.push_back(std::vector<int32_t>(s.size() + 2, static_cast<int32_t>(s.size())));
            len.push_back(static_cast<int64_t>(s.size()));
        }
        return Dataset()
            .add_column("input_ids", Column::int32_lists(ids))
            .add_column("length", Column::int64s(len));
    };
    MapOptions one{true, 100, {}, 1};
    MapOptions two{true, 100, {}, 2};
    const Dataset a = ds.map(fn, one);
    EXPECT_EQ(calls.load(), 26);  // ceil(2503 / 100) batches
    const Dataset b = ds.map(fn, two);
    ASSERT_EQ(a.num_rows(), 2503);
    EXPECT_EQ(a.column_names(), (std::vector<std::string>{"text", "input_ids", "length"}));
    EXPECT_EQ(a.column("input_ids").list_values(), b.column("input_ids").list_values());
    EXPECT_EQ(a.column("input_ids").list_offsets(), b.column("input_ids").list_offsets());
    for (int64_t r = 0; r < a.num_rows(); ++r) {  // row by row, the function's own answer
        const auto s = a.column("input_ids").list_at(r);
        ASSERT_EQ(s.size(), static_cast<size_t>(r % 17 + 2));
        ASSERT_EQ(a[r].int64("length"), r % 17);
    }
}

TEST(DatasetMap, RemoveColumnsReplaceAndUnbatched) {
    const Dataset ds = small();
    // Unbatched: one row per call, like HF's default.
    int rows_seen = 0;
    const Dataset up = ds.map(
        [&](const Dataset& b) {
            ++rows_seen;
            EXPECT_EQ(b.num_rows(), 1);
            return Dataset().add_column("text", Column::strings({b[0].str("text") + "!"}));
        },
        MapOptions{false, 1000, {}, 1});
    EXPECT_EQ(rows_seen, 10);
    EXPECT_EQ(up.column_names(), small().column_names());  // replaced in place
    EXPECT_EQ(up[4].str("text"), "r4!");
    // remove_columns drops inputs; an output of a removed name survives (HF's rule).
    const Dataset rm = ds.map(
        [](const Dataset& b) {
            return Dataset().add_column("score", Column::float64s(std::vector<double>(
                                                     static_cast<size_t>(b.num_rows()), 1.0)));
        },
        MapOptions{true, 3, {"text", "score"}, 2});
    EXPECT_EQ(rm.column_names(), (std::vector<std::string>{"label", "idx", "score"}));
    // A function returning the wrong number of rows, or throwing, fails with its message.
    EXPECT_THROW(
        ds.map([](const Dataset&) { return Dataset().add_column("x", Column::int64s({1})); },
               MapOptions{true, 4, {}, 2}),
        Error);
    try {
        ds.map(
            [](const Dataset& b) -> Dataset {
                if (b[0].int64("idx") == 6) throw Error("bad row 6");
                return Dataset();
            },
            MapOptions{true, 2, {}, 2});
        FAIL();
    } catch (const Error& e) {
        EXPECT_STREQ(e.what(), "bad row 6");
    }
}

TEST(DatasetDictOps, SplitOrderAndLookup) {
    DatasetDict dd;
    dd.set("train", small());
    dd.set("validation", small().select_range(0, 3));
    dd.set("test", small().select_range(0, 1));
    EXPECT_EQ(dd.split_names(), (std::vector<std::string>{"train", "validation", "test"}));
    EXPECT_EQ(dd["validation"].num_rows(), 3);
    try {
        dd["dev"];
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("no split 'dev' (splits: train, validation, test)"),
                  std::string::npos);
    }
    const DatasetDict r = dd.rename_column("label", "labels").remove_columns({"score"});
    EXPECT_EQ(r["test"].column_names(), (std::vector<std::string>{"text", "labels", "idx"}));
}

}  // namespace ft
