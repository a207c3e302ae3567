// The [CLS] gather of the classification heads and its backward (finite differences; the
// backward writes every row, zero where no [CLS] token sits).
#include <gtest/gtest.h>

#include "ops/ops.h"
#include "ops/ops_test_util.h"

namespace ft::ops {

TEST(OpsHeads, GatherTakesEachSequencesFirstToken) {
    const std::vector<int32_t> offsets = {0, 3, 8, 10};
    const int64_t C = 2;
    std::vector<float> hidden(10 * C);
    for (size_t i = 0; i < hidden.size(); ++i) hidden[i] = static_cast<float>(i);
    std::vector<float> out(3 * C);
    gather_first_token(cpu_context(), out.data(), hidden.data(), offsets.data(), 3, C);
    EXPECT_EQ(out, (std::vector<float>{0, 1, 6, 7, 16, 17}));
}

class OpsHeadsFd : public test::OpsTargetTest {};

TEST_P(OpsHeadsFd, GatherBackwardMatchesFiniteDifferences) {
    const std::vector<int32_t> offsets = {0, 3, 8, 10};
    const int64_t B = 3, C = 4, T = 10;
    auto hidden = test::random_vec(T * C, 1);
    const auto up = test::random_vec(B * C, 2);
    std::vector<double> out(B * C);
    auto f = [&] {
        gather_first_token(ctx(), out.data(), hidden.data(), offsets.data(), B, C);
        return test::dot(up, out);
    };
    std::vector<double> dhidden(T * C, 42.0);  // written in full, not accumulated
    gather_first_token_backward(ctx(), dhidden.data(), up.data(), offsets.data(), B, C, T);
    test::expect_close(dhidden, test::numeric_grad(hidden, f), tol().fd, "dhidden");
}

INSTANTIATE_TEST_SUITE_P(Ops, OpsHeadsFd, ::testing::ValuesIn(test::FD_TARGETS),
                         test::ops_target_name);

}  // namespace ft::ops
