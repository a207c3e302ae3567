// Pointwise ops (GELU, ReLU, tanh, add, dropout): hand-worked values, finite-difference checks of
// every backward in double, float against double, and the dropout mask's contract with Philox.
#include <gtest/gtest.h>

#include <cmath>

#include "finetune/core.h"
#include "ops/ops.h"
#include "ops/ops_internal.h"
#include "ops/ops_test_util.h"

namespace ft::ops {

using test::F32_TOL;
using test::FD_TOL;

namespace {

// Checks backward(up, x) = d/dx sum(up * forward(x)) for a pointwise op whose backward takes
// the input (from_output false) or the forward's output (true).
template <class Fwd, class Bwd>
void check_pointwise_fd(Fwd fwd, Bwd bwd, bool from_output, std::vector<double> x,
                        const std::string& what, test::Tolerance tol = FD_TOL) {
    const int64_t n = static_cast<int64_t>(x.size());
    const auto up = test::random_vec(x.size(), 99);
    std::vector<double> out(x.size()), dx(x.size());
    fwd(out.data(), x.data(), n);
    bwd(dx.data(), up.data(), from_output ? out.data() : x.data(), n);
    auto numeric = test::numeric_grad(x, [&] {
        fwd(out.data(), x.data(), n);
        return test::dot(up, out);
    });
    test::expect_close(dx, numeric, tol, what);
}

// Values at least 0.05 from zero, so ReLU's kink is never within h.
std::vector<double> away_from_zero(size_t n, uint64_t seed) {
    auto x = test::random_vec(n, seed, -2.0, 2.0);
    for (double& v : x)
        if (std::abs(v) < 0.05) v = v < 0 ? -0.05 : 0.05;
    return x;
}

}  // namespace

TEST(OpsPointwise, GeluHandWorkedValues) {
    // x * Phi(x): Phi(1) = 0.8413447460685429, and gelu(-x) = gelu(x) - x.
    const std::vector<double> x = {1.0, 0.0, -1.0, 3.0};
    std::vector<double> y(4);
    activation_forward(cpu_context(), Activation::GELU, y.data(), x.data(), 4);
    EXPECT_NEAR(y[0], 0.8413447460685429, 1e-15);
    EXPECT_EQ(y[1], 0.0);
    EXPECT_NEAR(y[2], -0.15865525393145707, 1e-15);
    EXPECT_NEAR(y[3], 2.99595030590511, 1e-14);
    std::vector<float> xf = test::convert<float>(x), yf(4);
    activation_forward(cpu_context(), Activation::GELU, yf.data(), xf.data(), 4);
    test::expect_close(yf, y, F32_TOL, "gelu float");
}

class OpsPointwiseFd : public test::OpsTargetTest {
  protected:
    // The activation's op pair on this test's context, as check_pointwise_fd calls them: the
    // backward gets the saved tensor in the slot the activation reads (input or output).
    void check(Activation act, bool from_output, std::vector<double> x, const std::string& what) {
        check_pointwise_fd([&](double* out, const double* inp,
                               int64_t n) { activation_forward(ctx(), act, out, inp, n); },
                           [&](double* dinp, const double* dout, const double* saved, int64_t n) {
                               activation_backward(ctx(), act, dinp, dout,
                                                   from_output ? nullptr : saved,
                                                   from_output ? saved : nullptr, n);
                           },
                           from_output, std::move(x), what, tol().fd);
    }
};

TEST_P(OpsPointwiseFd, GeluBackwardMatchesFiniteDifferences) {
    check(Activation::GELU, false, test::random_vec(64, 1, -4.0, 4.0), "gelu dinp");
}

TEST_P(OpsPointwiseFd, ReluBackwardMatchesFiniteDifferences) {
    check(Activation::RELU, true, away_from_zero(64, 2), "relu dinp");
}

TEST_P(OpsPointwiseFd, TanhBackwardMatchesFiniteDifferences) {
    check(Activation::TANH, true, test::random_vec(64, 3, -3.0, 3.0), "tanh dinp");
}

TEST(OpsPointwise, FloatMatchesDouble) {
    // Large enough to take the multi-threaded path.
    const size_t n = 100000;
    const auto x = test::random_vec(n, 4, -5.0, 5.0), up = test::random_vec(n, 5);
    const auto xf = test::convert<float>(x), upf = test::convert<float>(up);
    const auto xr = test::convert<double>(xf), upr = test::convert<double>(upf);
    std::vector<double> y(n), dy(n);
    std::vector<float> yf(n), dyf(n);
    activation_forward(cpu_context(), Activation::GELU, y.data(), xr.data(), n);
    activation_forward(cpu_context(), Activation::GELU, yf.data(), xf.data(), n);
    test::expect_close(yf, y, F32_TOL, "gelu");
    activation_backward<double>(cpu_context(), Activation::GELU, dy.data(), upr.data(), xr.data(),
                                nullptr, n);
    activation_backward<float>(cpu_context(), Activation::GELU, dyf.data(), upf.data(), xf.data(),
                               nullptr, n);
    test::expect_close(dyf, dy, F32_TOL, "gelu backward");
    activation_forward(cpu_context(), Activation::TANH, y.data(), xr.data(), n);
    activation_forward(cpu_context(), Activation::TANH, yf.data(), xf.data(), n);
    test::expect_close(yf, y, F32_TOL, "tanh");
    activation_forward(cpu_context(), Activation::RELU, yf.data(), xf.data(), n);
    for (size_t i = 0; i < n; ++i) ASSERT_EQ(yf[i], std::max(xf[i], 0.0f)) << i;
}

TEST(OpsPointwise, AddIsElementwiseSum) {
    const std::vector<float> a = {1, 2, 3}, b = {0.5f, -2, 4};
    std::vector<float> out(3);
    add_forward(cpu_context(), out.data(), a.data(), b.data(), 3);
    EXPECT_EQ(out, (std::vector<float>{1.5f, 0, 7}));
}

TEST(OpsDropout, MaskFollowsPhiloxUniform) {
    // The contract of ops.h: element i dropped iff rng.uniform(offset + i) < p, else scaled.
    const Philox rng(1234, 5);
    const double p = 0.3;
    const size_t n = 1001;  // odd, so the tail is not a whole Philox block
    const auto x = test::convert<float>(test::random_vec(n, 6));
    std::vector<float> y(n);
    const uint64_t offset = 7;  // not a multiple of 4 either
    dropout_forward(cpu_context(), y.data(), x.data(), n, p, rng, offset);
    const float scale = static_cast<float>(1.0 / (1.0 - p));
    size_t dropped = 0;
    for (size_t i = 0; i < n; ++i) {
        if (rng.uniform(offset + i) < p) {
            EXPECT_EQ(y[i], 0.0f) << i;
            ++dropped;
        } else {
            EXPECT_EQ(y[i], x[i] * scale) << i;
        }
    }
    EXPECT_GT(dropped, 250u);
    EXPECT_LT(dropped, 350u);
}

TEST(OpsDropout, IntegerThresholdEqualsTheUniformComparison) {
    // bits < drop_threshold(p) must mean exactly bits / 2^24 < p, also at p = m / 2^24.
    for (double p : {0.1, 0.3, 0.5, 1e-9, 0.999999, 3.0 / 16777216.0, 1234567.0 / 16777216.0}) {
        const uint32_t t = detail::drop_threshold(p);
        for (int64_t d = -2; d <= 2; ++d) {
            const int64_t bits = static_cast<int64_t>(t) + d;
            if (bits < 0 || bits >= (1 << 24)) continue;
            const float u = static_cast<float>(bits) * (1.0f / 16777216.0f);
            EXPECT_EQ(bits < t, static_cast<double>(u) < p) << "p=" << p << " bits=" << bits;
        }
    }
}

TEST(OpsDropout, MaskDependsOnPositionNotOnCallSplit) {
    // One call over n elements equals two calls over the halves with shifted offsets, and the
    // multi-threaded path (large n) equals the element-by-element definition.
    const Philox rng(42);
    const size_t n = 70001;
    const auto x = test::convert<float>(test::random_vec(n, 7));
    std::vector<float> whole(n), parts(n);
    dropout_forward(cpu_context(), whole.data(), x.data(), n, 0.1, rng, 3);
    const size_t half = 33333;
    dropout_forward(cpu_context(), parts.data(), x.data(), half, 0.1, rng, 3);
    dropout_forward(cpu_context(), parts.data() + half, x.data() + half, n - half, 0.1, rng,
                    3 + half);
    EXPECT_EQ(whole, parts);
}

TEST(OpsDropout, InPlaceAndBackwardRegenerateTheMask) {
    const Philox rng(9);
    const size_t n = 500;
    const auto x = test::convert<float>(test::random_vec(n, 8));
    std::vector<float> y(n), inplace = x, dx(n);
    dropout_forward(cpu_context(), y.data(), x.data(), n, 0.25, rng, 100);
    dropout_forward(cpu_context(), inplace.data(), inplace.data(), n, 0.25, rng, 100);
    EXPECT_EQ(y, inplace);
    // dropout is linear: its backward applied to x is its forward applied to x.
    dropout_backward(cpu_context(), dx.data(), x.data(), n, 0.25, rng, 100);
    EXPECT_EQ(dx, y);
}

TEST(OpsDropout, ProbabilityZeroCopiesAndOneZeroes) {
    const Philox rng(1);
    const std::vector<float> x = {1, -2, 3};
    std::vector<float> y(3, 9.0f);
    dropout_forward(cpu_context(), y.data(), x.data(), 3, 0.0, rng, 0);
    EXPECT_EQ(y, x);
    dropout_forward(cpu_context(), y.data(), x.data(), 3, 1.0, rng, 0);
    EXPECT_EQ(y, (std::vector<float>{0, 0, 0}));
}

TEST_P(OpsPointwiseFd, DropoutBackwardMatchesFiniteDifferences) {
    const Philox rng(77, 1);
    const double p = 0.3;
    auto fwd = [&](double* out, const double* inp, int64_t n) {
        dropout_forward(ctx(), out, inp, n, p, rng, 11);
    };
    auto bwd = [&](double* dinp, const double* dout, const double*, int64_t n) {
        dropout_backward(ctx(), dinp, dout, n, p, rng, 11);
    };
    check_pointwise_fd(fwd, bwd, false, test::random_vec(64, 10), "dropout dinp", tol().fd);
}

INSTANTIATE_TEST_SUITE_P(Ops, OpsPointwiseFd, ::testing::ValuesIn(test::FD_TARGETS),
                         test::ops_target_name);

TEST(OpsPointwise, ResultsDoNotDependOnThreadCount) {
    const int saved = get_num_threads();
    const size_t n = 200000;
    const auto x = test::convert<float>(test::random_vec(n, 12, -3.0, 3.0));
    const Philox rng(5);
    std::vector<float> ref_g(n), ref_d(n), g(n), d(n);
    set_num_threads(1);
    activation_forward(cpu_context(), Activation::GELU, ref_g.data(), x.data(), n);
    dropout_forward(cpu_context(), ref_d.data(), x.data(), n, 0.1, rng, 0);
    set_num_threads(2);
    activation_forward(cpu_context(), Activation::GELU, g.data(), x.data(), n);
    dropout_forward(cpu_context(), d.data(), x.data(), n, 0.1, rng, 0);
    set_num_threads(saved);
    EXPECT_EQ(g, ref_g);
    EXPECT_EQ(d, ref_d);
}

}  // namespace ft::ops
