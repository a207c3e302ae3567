// Collation: DataCollatorWithPadding's padded view worked by hand, and the invariant that the
// packed batch holds exactly the padded batch's non-pad tokens with the right offsets.
#include <gtest/gtest.h>

#include "finetune/data.h"

namespace ft {

namespace {
Dataset tokenised() {
    return Dataset()
        .add_column("input_ids",
                    Column::int32_lists({{101, 7, 102}, {101, 8, 9, 10, 102}, {101, 102}}))
        .add_column("token_type_ids", Column::int32_lists({{0, 0, 0}, {0, 0, 1, 1, 1}, {0, 0}}))
        .add_column("label", Column::int64s({1, 0, 1}, Feature::class_label({"a", "b"})));
}
}  // namespace

TEST(CollatorPadded, LongestWithPadToMultipleOf) {
    const Dataset ds = tokenised();
    const std::vector<int64_t> rows = {0, 1, 2};
    PaddingOptions o;
    PaddedBatch p = collate_padded(ds, rows, o);
    EXPECT_EQ(p.length, 5);  // the longest row
    p = collate_padded(ds, rows, PaddingOptions{Padding::Longest, 0, 4, 0, 0});
    EXPECT_EQ(p.length, 8);  // 5 rounded up to a multiple of 4
    EXPECT_EQ(p.input_ids, (std::vector<int32_t>{101, 7,   102, 0,  0,   0, 0, 0,  //
                                                 101, 8,   9,   10, 102, 0, 0, 0,  //
                                                 101, 102, 0,   0,  0,   0, 0, 0}));
    EXPECT_EQ(p.attention_mask, (std::vector<int32_t>{1, 1, 1, 0, 0, 0, 0, 0,  //
                                                      1, 1, 1, 1, 1, 0, 0, 0,  //
                                                      1, 1, 0, 0, 0, 0, 0, 0}));
    EXPECT_EQ(p.token_type_ids[8 + 2], 1);
    EXPECT_EQ(p.token_type_ids[8 + 5], 0);
    EXPECT_EQ(p.labels, (std::vector<int64_t>{1, 0, 1}));
    p = collate_padded(ds, std::vector<int64_t>{2, 0},
                       PaddingOptions{Padding::MaxLength, 6, 0, 0, 0});
    EXPECT_EQ(p.length, 6);
    EXPECT_EQ(p.input_ids[6], 101);  // row 0 of the dataset is the batch's second row
    EXPECT_THROW(collate_padded(ds, rows, PaddingOptions{Padding::MaxLength, 4, 0, 0, 0}), Error);
}

TEST(CollatorPacked, EqualsThePaddedViewsNonPadTokens) {
    const Dataset ds = tokenised();
    const std::vector<int64_t> rows = {1, 2, 0};
    const PackedBatch packed = collate_packed(ds, rows);
    EXPECT_EQ(packed.offsets, (std::vector<int32_t>{0, 5, 7, 10}));
    EXPECT_EQ(packed.input_ids, (std::vector<int32_t>{101, 8, 9, 10, 102, 101, 102, 101, 7, 102}));
    EXPECT_EQ(packed.token_type_ids, (std::vector<int32_t>{0, 0, 1, 1, 1, 0, 0, 0, 0, 0}));
    EXPECT_EQ(packed.labels, (std::vector<int64_t>{0, 1, 1}));
    EXPECT_EQ(packed.max_length(), 5);
    const PackedBatch from_padded =
        pack_padded_batch(collate_padded(ds, rows, PaddingOptions{Padding::Longest, 0, 8, 0, 0}));
    EXPECT_EQ(from_padded.input_ids, packed.input_ids);
    EXPECT_EQ(from_padded.token_type_ids, packed.token_type_ids);
    EXPECT_EQ(from_padded.offsets, packed.offsets);
    EXPECT_EQ(from_padded.labels, packed.labels);
}

TEST(CollatorPacked, FloatLabelsBecomeTargetsAndBadInputFails) {
    Dataset ds =
        tokenised()
            .remove_columns({"label", "token_type_ids"})
            .add_column("labels", Column::float64s({0.5, 4.25, 3.0}, Feature::value("float32")));
    const PackedBatch b = collate_packed(ds, std::vector<int64_t>{0, 1});
    EXPECT_TRUE(b.labels.empty());
    EXPECT_TRUE(b.token_type_ids.empty());
    EXPECT_EQ(b.targets, (std::vector<float>{0.5f, 4.25f}));
    EXPECT_THROW(collate_packed(ds, std::vector<int64_t>{3}), Error);
    const Dataset text = Dataset().add_column("input_ids", Column::strings({"a"}));
    EXPECT_THROW(collate_packed(text, std::vector<int64_t>{0}), Error);
    const Dataset ragged = Dataset()
                               .add_column("input_ids", Column::int32_lists({{101, 102}}))
                               .add_column("token_type_ids", Column::int32_lists({{0}}));
    EXPECT_THROW(collate_packed(ragged, std::vector<int64_t>{0}), Error);
}

}  // namespace ft
