// Accuracy of the vectorisable float exp and normal CDF behind the float GELU and softmax,
// against libm in double, over dense grids (the header inline here and the kernels as built).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "ops/ops.h"
#include "ops/vec_math.h"

namespace ft::ops {

namespace {
double phi(double x) {
    return 0.5 * std::erfc(-x / std::sqrt(2.0));
}
}  // namespace

TEST(OpsVecMath, ExpWithinThreeUlp) {
    double worst = 0;
    for (int i = 0; i <= 2000000; ++i) {
        const float x = -87.0f + 175.0f * static_cast<float>(i) / 2000000.0f;
        const double want = std::exp(static_cast<double>(x));
        worst = std::max(worst, std::abs(detail::exp_f32(x) - want) / want);
    }
    EXPECT_LT(worst, 3 * 5.97e-8) << "max relative error";
    EXPECT_EQ(detail::exp_f32(0.0f), 1.0f);
    EXPECT_EQ(detail::exp_f32(-100.0f), 0.0f);
    EXPECT_EQ(detail::exp_f32(-std::numeric_limits<float>::infinity()), 0.0f);
}

TEST(OpsVecMath, NormalCdfAbsoluteAndTailErrors) {
    double worst_abs = 0, worst_tail = 0;
    for (int i = 0; i <= 2400000; ++i) {
        const float x = -12.0f + 24.0f * static_cast<float>(i) / 2400000.0f;
        const double got = detail::normal_cdf_f32(x), want = phi(x);
        worst_abs = std::max(worst_abs, std::abs(got - want));
        // The lower tail keeps its relative accuracy (no 1 + erf cancellation) while Phi is a
        // normal float: up to ~1e-5, from rounding x / sqrt 2 and its square in float.
        if (x < 0 && x > -12) worst_tail = std::max(worst_tail, std::abs(got - want) / want);
    }
    EXPECT_LT(worst_abs, 2e-7);
    EXPECT_LT(worst_tail, 2e-5);
    EXPECT_EQ(detail::normal_cdf_f32(0.0f), 0.5f);
    EXPECT_EQ(detail::normal_cdf_f32(20.0f), 1.0f);
    EXPECT_EQ(detail::normal_cdf_f32(-20.0f), 0.0f);
}

TEST(OpsVecMath, GeluKernelAsBuilt) {
    // The library's clone for this machine (AVX2 + FMA or baseline), element by element.
    const int n = 240001;
    std::vector<float> x(n), y(n), dy(n), ones(n, 1.0f);
    for (int i = 0; i < n; ++i) x[i] = -12.0f + 24.0f * static_cast<float>(i) / (n - 1);
    activation_forward(cpu_context(), Activation::GELU, y.data(), x.data(), n);
    activation_backward<float>(cpu_context(), Activation::GELU, dy.data(), ones.data(), x.data(),
                               nullptr, n);
    // Absolute error scaled by max(1, |x|) everywhere, and relative error where the value is
    // not small: the lower tail has the input-rounding floor of the CDF test above, and
    // GELU's derivative cancels (Phi(x) + x phi(x)) around its zero at x = -0.75.
    double abs_y = 0, abs_d = 0, rel_y = 0, rel_d = 0;
    for (int i = 0; i < n; ++i) {
        const double xd = x[i], scale = std::max(1.0, std::abs(xd));
        const double want = xd * phi(xd);
        const double dwant = phi(xd) + xd * std::exp(-0.5 * xd * xd) / std::sqrt(2 * M_PI);
        abs_y = std::max(abs_y, std::abs(y[i] - want) / scale);
        abs_d = std::max(abs_d, std::abs(dy[i] - dwant) / scale);
        if (std::abs(want) > 0.05) rel_y = std::max(rel_y, std::abs(y[i] - want) / std::abs(want));
        if (std::abs(dwant) > 0.05)
            rel_d = std::max(rel_d, std::abs(dy[i] - dwant) / std::abs(dwant));
    }
    EXPECT_LT(abs_y, 3e-7);
    EXPECT_LT(abs_d, 3e-7);
    EXPECT_LT(rel_y, 1e-6);
    EXPECT_LT(rel_d, 2e-6);
}

}  // namespace ft::ops
