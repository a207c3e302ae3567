// LayerNorm: a hand-worked row, finite differences for dinp / dweight / dbias (with the +=
// semantics of the parameter gradients), float against double, and thread-count independence.
#include <gtest/gtest.h>

#include <cmath>

#include "finetune/core.h"
#include "ops/ops.h"
#include "ops/ops_test_util.h"

namespace ft::ops {

using test::F32_TOL;

TEST(OpsLayerNorm, HandWorkedRow) {
    // [1, 2, 3]: mean 2, biased variance 2/3, rstd = sqrt(3/2); out = 2 * xhat + 1.
    const std::vector<double> x = {1, 2, 3}, w = {2, 2, 2}, b = {1, 1, 1};
    std::vector<double> y(3), mean(1), rstd(1);
    layernorm_forward(cpu_context(), y.data(), mean.data(), rstd.data(), x.data(), w.data(),
                      b.data(), 1, 3, 0.0);
    const double r = std::sqrt(1.5);
    EXPECT_DOUBLE_EQ(mean[0], 2.0);
    EXPECT_DOUBLE_EQ(rstd[0], r);
    EXPECT_NEAR(y[0], 1 - 2 * r, 1e-15);
    EXPECT_NEAR(y[1], 1.0, 1e-15);
    EXPECT_NEAR(y[2], 1 + 2 * r, 1e-15);
    // eps enters under the square root: a constant row normalises to zero, rstd = 1/sqrt(eps).
    const std::vector<double> c = {5, 5, 5};
    layernorm_forward(cpu_context(), y.data(), mean.data(), rstd.data(), c.data(), w.data(),
                      b.data(), 1, 3, 1e-4);
    EXPECT_DOUBLE_EQ(rstd[0], 100.0);
    EXPECT_EQ(y, (std::vector<double>{1, 1, 1}));
}

class OpsLayerNormFd : public test::OpsTargetTest {};

TEST_P(OpsLayerNormFd, BackwardMatchesFiniteDifferences) {
    const int64_t T = 5, C = 7;
    const double eps = 1e-12;  // DistilBERT's
    auto x = test::random_vec(T * C, 1, -2.0, 2.0);
    auto w = test::random_vec(C, 2, 0.5, 1.5);
    auto b = test::random_vec(C, 3);
    const auto up = test::random_vec(T * C, 4);
    std::vector<double> y(T * C), mean(T), rstd(T);
    auto f = [&] {
        layernorm_forward(ctx(), y.data(), mean.data(), rstd.data(), x.data(), w.data(), b.data(),
                          T, C, eps);
        return test::dot(up, y);
    };
    f();
    // Parameter gradients accumulate: start from non-zero values and subtract them after.
    const auto dw0 = test::random_vec(C, 5), db0 = test::random_vec(C, 6);
    std::vector<double> dx(T * C, 123.0), dw = dw0, db = db0;
    layernorm_backward(ctx(), dx.data(), dw.data(), db.data(), up.data(), x.data(), w.data(),
                       mean.data(), rstd.data(), T, C);
    for (int64_t c = 0; c < C; ++c) dw[c] -= dw0[c], db[c] -= db0[c];
    test::expect_close(dx, test::numeric_grad(x, f), tol().fd, "layernorm dinp");
    test::expect_close(dw, test::numeric_grad(w, f), tol().fd, "layernorm dweight");
    test::expect_close(db, test::numeric_grad(b, f), tol().fd, "layernorm dbias");
}

INSTANTIATE_TEST_SUITE_P(Ops, OpsLayerNormFd, ::testing::ValuesIn(test::FD_TARGETS),
                         test::ops_target_name);

TEST(OpsLayerNorm, FloatMatchesDouble) {
    const int64_t T = 180, C = 768;
    const auto xf = test::convert<float>(test::random_vec(T * C, 7, -3.0, 3.0));
    const auto wf = test::convert<float>(test::random_vec(C, 8, 0.5, 1.5));
    const auto bf = test::convert<float>(test::random_vec(C, 9));
    const auto upf = test::convert<float>(test::random_vec(T * C, 10));
    const auto x = test::convert<double>(xf), w = test::convert<double>(wf),
               b = test::convert<double>(bf), up = test::convert<double>(upf);
    std::vector<double> y(T * C), mean(T), rstd(T), dx(T * C), dw(C), db(C);
    std::vector<float> yf(T * C), meanf(T), rstdf(T), dxf(T * C), dwf(C), dbf(C);
    layernorm_forward(cpu_context(), y.data(), mean.data(), rstd.data(), x.data(), w.data(),
                      b.data(), T, C, 1e-12);
    layernorm_forward(cpu_context(), yf.data(), meanf.data(), rstdf.data(), xf.data(), wf.data(),
                      bf.data(), T, C, 1e-12);
    test::expect_close(yf, y, F32_TOL, "out");
    test::expect_close(meanf, mean, F32_TOL, "mean");
    test::expect_close(rstdf, rstd, F32_TOL, "rstd");
    layernorm_backward(cpu_context(), dx.data(), dw.data(), db.data(), up.data(), x.data(),
                       w.data(), mean.data(), rstd.data(), T, C);
    layernorm_backward(cpu_context(), dxf.data(), dwf.data(), dbf.data(), upf.data(), xf.data(),
                       wf.data(), meanf.data(), rstdf.data(), T, C);
    test::expect_close(dxf, dx, F32_TOL, "dinp");
    test::expect_close(dwf, dw, F32_TOL, "dweight");
    test::expect_close(dbf, db, F32_TOL, "dbias");
}

TEST(OpsLayerNorm, ResultsDoNotDependOnThreadCount) {
    const int64_t T = 300, C = 768;
    const auto x = test::convert<float>(test::random_vec(T * C, 11));
    const auto w = test::convert<float>(test::random_vec(C, 12));
    const auto b = test::convert<float>(test::random_vec(C, 13));
    const auto up = test::convert<float>(test::random_vec(T * C, 14));
    auto run = [&](int threads) {
        const int saved = get_num_threads();
        set_num_threads(threads);
        std::vector<float> y(T * C), mean(T), rstd(T), dx(T * C), dw(C), db(C);
        layernorm_forward(cpu_context(), y.data(), mean.data(), rstd.data(), x.data(), w.data(),
                          b.data(), T, C, 1e-12);
        layernorm_backward(cpu_context(), dx.data(), dw.data(), db.data(), up.data(), x.data(),
                           w.data(), mean.data(), rstd.data(), T, C);
        set_num_threads(saved);
        y.insert(y.end(), dx.begin(), dx.end());
        y.insert(y.end(), dw.begin(), dw.end());
        y.insert(y.end(), db.begin(), db.end());
        return y;
    };
    const auto one = run(1);
    EXPECT_EQ(run(2), one);
    EXPECT_EQ(run(2), one);
}

}  // namespace ft::ops
