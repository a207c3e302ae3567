// Dropout on a bf16 tensor (pointwise_bf16.cpp) against its definition in docs/bf16-autocast.md:
// the float32 op's mask (the same elements dropped), kept values times r(1/(1-p)) (1.13 rounds
// the Python float to bf16: 1.109375 for p = 0.1) and the product rounded once.
#include <gtest/gtest.h>

#include <vector>

#include "finetune/core.h"
#include "ops/ops.h"
#include "ops/ops_test_util.h"

namespace ft::ops {

TEST(OpsBf16, DropoutKeepsTheFloatMaskAndRoundsItsScale) {
    const int64_t n = 1000;
    const Philox rng(5, 9);
    const uint64_t offset = 3ull << 40;
    for (const double p : {0.1, 0.2}) {
        SCOPED_TRACE(p);
        std::vector<float> x(n), ones(n, 1.0f), mask(n);
        const auto r = test::random_vec(n, 21, -3.0, 3.0);
        for (int64_t i = 0; i < n; ++i) x[i] = bf16_to_f32(f32_to_bf16(static_cast<float>(r[i])));
        dropout_forward(cpu_context(), mask.data(), ones.data(), n, p, rng, offset);
        const float keep = bf16_to_f32(f32_to_bf16(static_cast<float>(1.0 / (1.0 - p))));
        if (p == 0.1) {
            EXPECT_EQ(keep, 1.109375f);
        }
        std::vector<float> y = x;
        dropout_bf16(cpu_context(), y.data(), n, p, rng, offset);
        int64_t dropped = 0;
        for (int64_t i = 0; i < n; ++i) {
            const float want = mask[i] == 0.0f ? 0.0f : bf16_to_f32(f32_to_bf16(x[i] * keep));
            EXPECT_EQ(y[i], want) << i;
            dropped += mask[i] == 0.0f;
        }
        EXPECT_GT(dropped, 0);
    }
}

}  // namespace ft::ops
