// Collation of token-classification rows: the packed batch concatenates each row's per-token
// labels; the padded view is DataCollatorForTokenClassification's (labels padded with -100 to the
// batch's length, ids with the pad id), and packing it back gives the packed batch. Hand-worked.
#include <gtest/gtest.h>

#include "finetune/data.h"

namespace ft {
namespace {

Dataset rows() {
    return Dataset()
        .add_column("input_ids", Column::int32_lists({{2, 7, 8, 3}, {2, 9, 3}}))
        .add_column("labels", Column::int32_lists({{-100, 1, -100, -100}, {-100, 4, -100}},
                                                  Feature::list("int64")));
}

TEST(TokenCollator, PackedBatchCarriesALabelPerToken) {
    const std::vector<int64_t> idx = {1, 0};
    const PackedBatch b = collate_packed(rows(), idx);
    EXPECT_EQ(b.offsets, (std::vector<int32_t>{0, 3, 7}));
    EXPECT_EQ(b.input_ids, (std::vector<int32_t>{2, 9, 3, 2, 7, 8, 3}));
    EXPECT_EQ(b.labels, (std::vector<int64_t>{-100, 4, -100, -100, 1, -100, -100}));
    EXPECT_TRUE(b.targets.empty());
}

TEST(TokenCollator, PaddedLabelsArePaddedWithMinus100AndPackBack) {
    const std::vector<int64_t> idx = {0, 1};
    PaddingOptions o;
    o.pad_to_multiple_of = 8;
    const PaddedBatch p = collate_padded(rows(), idx, o);
    ASSERT_EQ(p.length, 8);
    EXPECT_TRUE(p.token_labels);
    EXPECT_EQ(p.labels, (std::vector<int64_t>{-100, 1, -100, -100, -100, -100, -100, -100,  //
                                              -100, 4, -100, -100, -100, -100, -100, -100}));
    EXPECT_EQ(p.input_ids, (std::vector<int32_t>{2, 7, 8, 3, 0, 0, 0, 0, 2, 9, 3, 0, 0, 0, 0, 0}));
    const PackedBatch back = pack_padded_batch(p);
    const PackedBatch direct = collate_packed(rows(), idx);
    EXPECT_EQ(back.labels, direct.labels);
    EXPECT_EQ(back.input_ids, direct.input_ids);
    EXPECT_EQ(back.offsets, direct.offsets);
}

TEST(TokenCollator, LabelsOfAnotherLengthNameTheRow) {
    const Dataset bad =
        Dataset()
            .add_column("input_ids", Column::int32_lists({{2, 7, 3}, {2, 9, 3}}))
            .add_column("labels", Column::int32_lists({{-100, 1, -100}, {-100, 4}}));
    const std::vector<int64_t> idx = {0, 1};
    try {
        collate_packed(bad, idx);
        FAIL() << "2 labels for 3 tokens were accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("row 1 has 3 input_ids but 2 labels"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_THROW(collate_padded(bad, idx), Error);
}

}  // namespace
}  // namespace ft
