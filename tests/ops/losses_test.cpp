// The heads' losses: hand-worked values (cross-entropy with an ignored label, MSE, BCE with
// logits), finite differences of every gradient, and float against double.
#include <gtest/gtest.h>

#include <cmath>

#include "ops/ops.h"
#include "ops/ops_test_util.h"

namespace ft::ops {

using test::F32_TOL;

namespace {

// The hand-worked cases read the loss as a value: run the op on the CPU context, read its slot.
template <class T>
double cross_entropy_forward_backward(T* dlogits, const T* logits, const int64_t* labels, int64_t B,
                                      int64_t K) {
    double loss = 0.0;
    cross_entropy_forward_backward(cpu_context(), &loss, dlogits, logits, labels, B, K);
    return loss;
}
template <class T>
double mse_forward_backward(T* dpred, const T* pred, const T* target, int64_t B) {
    double loss = 0.0;
    mse_forward_backward(cpu_context(), &loss, dpred, pred, target, B);
    return loss;
}
template <class T>
double bce_with_logits_forward_backward(T* dlogits, const T* logits, const T* target, int64_t B,
                                        int64_t K) {
    double loss = 0.0;
    bce_with_logits_forward_backward(cpu_context(), &loss, dlogits, logits, target, B, K);
    return loss;
}

}  // namespace

TEST(OpsLosses, CrossEntropyHandWorked) {
    // Row 0: logits [0, ln 3], label 1: p = [1/4, 3/4], loss ln(4/3), grad [1/4, -1/4].
    // Row 1 is ignored (-100): no loss, zero gradient, and not counted in the mean.
    // Row 2: logits [0, 0], label 0: loss ln 2, grad [-1/2, 1/2]. Mean over 2 rows.
    const std::vector<double> logits = {0, std::log(3.0), 5, -5, 0, 0};
    const std::vector<int64_t> labels = {1, -100, 0};
    std::vector<double> d(6, 9.0);
    const double loss =
        cross_entropy_forward_backward(d.data(), logits.data(), labels.data(), 3, 2);
    EXPECT_NEAR(loss, (std::log(4.0 / 3.0) + std::log(2.0)) / 2, 1e-15);
    const std::vector<double> expected = {0.125, -0.125, 0, 0, -0.25, 0.25};
    for (int i = 0; i < 6; ++i) EXPECT_NEAR(d[i], expected[i], 1e-15) << i;
}

TEST(OpsLosses, CrossEntropyAllIgnoredIsNanWithZeroGradient) {
    const std::vector<float> logits = {1, 2};
    const std::vector<int64_t> labels = {-100};
    std::vector<float> d(2, 9.0f);
    EXPECT_TRUE(
        std::isnan(cross_entropy_forward_backward(d.data(), logits.data(), labels.data(), 1, 2)));
    EXPECT_EQ(d, (std::vector<float>{0, 0}));
}

TEST(OpsLosses, CrossEntropyIsStableForLargeLogits) {
    const std::vector<float> logits = {1000, 0, -1000};
    const std::vector<int64_t> labels = {1};
    std::vector<float> d(3);
    EXPECT_NEAR(cross_entropy_forward_backward(d.data(), logits.data(), labels.data(), 1, 3),
                1000.0, 1e-9);
    EXPECT_EQ(d, (std::vector<float>{1, -1, 0}));
}

TEST(OpsLosses, MseAndBceHandWorked) {
    const std::vector<double> pred = {1, 2}, target = {0, 0};
    std::vector<double> d(2);
    EXPECT_DOUBLE_EQ(mse_forward_backward(d.data(), pred.data(), target.data(), 2), 2.5);
    EXPECT_EQ(d, (std::vector<double>{1, 2}));
    // logit 0, target 1: ln 2 and grad (1/2 - 1) / 2; logit 100, target 1: loss ~ e^-100.
    const std::vector<double> logits = {0, 100}, y = {1, 1};
    EXPECT_NEAR(bce_with_logits_forward_backward(d.data(), logits.data(), y.data(), 1, 2),
                std::log(2.0) / 2, 1e-15);
    EXPECT_NEAR(d[0], -0.25, 1e-15);
    EXPECT_NEAR(d[1], 0.0, 1e-40);
}

class OpsLossesFd : public test::OpsTargetTest {};

TEST_P(OpsLossesFd, GradientsMatchFiniteDifferences) {
    const int64_t B = 4, K = 3;
    auto logits = test::random_vec(B * K, 1, -3.0, 3.0);
    const std::vector<int64_t> labels = {2, -100, 0, 1};
    std::vector<double> d(B * K), scratch(B * K);
    double loss = 0.0;  // the value slot of the Context forms
    cross_entropy_forward_backward(ctx(), &loss, d.data(), logits.data(), labels.data(), B, K);
    test::expect_close(d,
                       test::numeric_grad(logits,
                                          [&] {
                                              cross_entropy_forward_backward(
                                                  ctx(), &loss, scratch.data(), logits.data(),
                                                  labels.data(), B, K);
                                              return loss;
                                          }),
                       tol().fd, "cross-entropy dlogits");

    const auto target = test::random_vec(B * K, 2, 0.0, 1.0);
    bce_with_logits_forward_backward(ctx(), &loss, d.data(), logits.data(), target.data(), B, K);
    test::expect_close(d,
                       test::numeric_grad(logits,
                                          [&] {
                                              bce_with_logits_forward_backward(
                                                  ctx(), &loss, scratch.data(), logits.data(),
                                                  target.data(), B, K);
                                              return loss;
                                          }),
                       tol().fd, "bce dlogits");

    auto pred = test::random_vec(B, 3);
    const auto y = test::random_vec(B, 4);
    std::vector<double> dp(B), sp(B);
    mse_forward_backward(ctx(), &loss, dp.data(), pred.data(), y.data(), B);
    test::expect_close(dp,
                       test::numeric_grad(pred,
                                          [&] {
                                              mse_forward_backward(ctx(), &loss, sp.data(),
                                                                   pred.data(), y.data(), B);
                                              return loss;
                                          }),
                       tol().fd, "mse dpred");
}

INSTANTIATE_TEST_SUITE_P(Ops, OpsLossesFd, ::testing::ValuesIn(test::FD_TARGETS),
                         test::ops_target_name);

TEST(OpsLosses, FloatMatchesDouble) {
    const int64_t B = 16, K = 5;
    const auto lf = test::convert<float>(test::random_vec(B * K, 1, -4.0, 4.0));
    const auto l = test::convert<double>(lf);
    std::vector<int64_t> labels(B);
    for (int64_t b = 0; b < B; ++b) labels[b] = b % K;
    std::vector<float> df(B * K);
    std::vector<double> d(B * K);
    const double lossf = cross_entropy_forward_backward(df.data(), lf.data(), labels.data(), B, K);
    const double loss = cross_entropy_forward_backward(d.data(), l.data(), labels.data(), B, K);
    EXPECT_NEAR(lossf, loss, 1e-5 * loss);
    test::expect_close(df, d, F32_TOL, "cross-entropy dlogits");
}

}  // namespace ft::ops
