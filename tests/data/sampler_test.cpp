// Samplers: sequential and seeded random orders, and HF's get_length_grouped_indices worked by
// hand on small permutations (megabatch sort, stable ties, longest item moved to the front).
#include <gtest/gtest.h>

#include <algorithm>

#include "finetune/data.h"

namespace ft {

TEST(SamplerOrder, SequentialAndRandom) {
    EXPECT_EQ(sequential_sampler(4), (std::vector<int64_t>{0, 1, 2, 3}));
    const auto a = random_sampler(500, 7), b = random_sampler(500, 7), c = random_sampler(500, 8);
    EXPECT_EQ(a, b);
    EXPECT_NE(a, c);
    auto s = a;
    std::sort(s.begin(), s.end());
    EXPECT_EQ(s, sequential_sampler(500));
    EXPECT_TRUE(random_sampler(0, 1).empty());
    EXPECT_EQ(random_sampler(1, 1), (std::vector<int64_t>{0}));
}

TEST(SamplerGroupByLength, HandWorkedMegabatches) {
    const std::vector<int64_t> lengths = {3, 9, 1, 7, 5, 2, 8, 4};
    // Megabatches of 2 * 2 = 4: [0,1,2,3] by length desc -> [1,3,0,2]; [4,5,6,7] -> [6,4,7,5].
    // The longest head (9, item 1) is already first.
    EXPECT_EQ(group_by_length_from_permutation(lengths, {0, 1, 2, 3, 4, 5, 6, 7}, 2, 2),
              (std::vector<int64_t>{1, 3, 0, 2, 6, 4, 7, 5}));
    // [4,5,6,7] -> [6,4,7,5]; [0,1,2,3] -> [1,3,0,2]; the second head (9) beats 8, so items 1
    // and 6 swap places.
    EXPECT_EQ(group_by_length_from_permutation(lengths, {4, 5, 6, 7, 0, 1, 2, 3}, 2, 2),
              (std::vector<int64_t>{1, 4, 7, 5, 6, 3, 0, 2}));
    // Ties keep the permutation's order, like Python's stable sorted().
    EXPECT_EQ(
        group_by_length_from_permutation(std::vector<int64_t>{2, 2, 2, 1}, {3, 2, 1, 0}, 2, 2),
        (std::vector<int64_t>{2, 1, 0, 3}));
    // Default multiplier: min(8 / (2 * 4), 50) = 1, so megabatches are single batches of 2:
    // [0,1]->[1,0], [2,3]->[3,2], [4,5]->[4,5], [6,7]->[6,7]; 9 leads already.
    EXPECT_EQ(group_by_length_from_permutation(lengths, {0, 1, 2, 3, 4, 5, 6, 7}, 2, 0),
              (std::vector<int64_t>{1, 0, 3, 2, 4, 5, 6, 7}));
}

TEST(SamplerGroupByLength, LengthsComeFromTheInputIdsColumn) {
    const Dataset ds = Dataset().add_column("input_ids", Column::int32_lists({{1, 2, 3}, {}, {4}}));
    EXPECT_EQ(list_lengths(ds), (std::vector<int64_t>{3, 0, 1}));
    EXPECT_THROW(list_lengths(Dataset().add_column("input_ids", Column::strings({"a"}))), Error);
}

TEST(SamplerGroupByLength, SeededSamplerKeepsHfInvariants) {
    std::vector<int64_t> lengths(1000);
    for (size_t i = 0; i < lengths.size(); ++i) lengths[i] = static_cast<int64_t>((i * 37) % 101);
    const auto order = group_by_length_sampler(lengths, 4, 3);
    EXPECT_EQ(order, group_by_length_sampler(lengths, 4, 3));
    auto sorted = order;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, sequential_sampler(1000));
    EXPECT_EQ(lengths[static_cast<size_t>(order[0])], 100);  // the longest item leads
    // Default multiplier min(1000 / 16, 50) = 50: megabatches of 200, each sorted descending
    // apart from the one slot that received the first megabatch's head.
    int breaks = 0;
    for (size_t m = 0; m < 1000; m += 200)
        for (size_t i = m + 1; i < m + 200; ++i)
            breaks +=
                lengths[static_cast<size_t>(order[i])] > lengths[static_cast<size_t>(order[i - 1])];
    EXPECT_LE(breaks, 1);
    EXPECT_THROW(group_by_length_sampler(lengths, 0, 3), Error);
}

}  // namespace ft
