// Linear layers: a hand-worked product, finite differences (dinp written or accumulated,
// parameter gradients +=), the oneDNN float path against the double loops on model-like
// shapes, many batch sizes through the primitive cache, and run-to-run determinism.
#include <gtest/gtest.h>

#include "finetune/core.h"
#include "ops/ops.h"
#include "ops/ops_test_util.h"

namespace ft::ops {

using test::F32_TOL;
using test::FD_TOL;

TEST(OpsLinear, HandWorkedProduct) {
    // inp (2,3) x W^T with W (2,3) = [[1,0,-1],[2,1,0]], bias [10, 20].
    const std::vector<float> inp = {1, 2, 3, 4, 5, 6}, w = {1, 0, -1, 2, 1, 0}, b = {10, 20};
    std::vector<float> out(4);
    linear_forward(cpu_context(), out.data(), inp.data(), w.data(), b.data(), 2, 3, 2);
    EXPECT_EQ(out, (std::vector<float>{8, 24, 8, 33}));
    linear_forward(cpu_context(), out.data(), inp.data(), w.data(),
                   static_cast<const float*>(nullptr), 2, 3, 2);
    EXPECT_EQ(out, (std::vector<float>{-2, 4, -2, 13}));
}

class OpsLinearFd : public test::OpsTargetTestWith<bool> {};  // accumulate_dinp

TEST_P(OpsLinearFd, BackwardMatchesFiniteDifferences) {
    const bool accumulate = extra();
    const int64_t N = 4, I = 5, O = 3;
    auto x = test::random_vec(N * I, 1), w = test::random_vec(O * I, 2), b = test::random_vec(O, 3);
    const auto up = test::random_vec(N * O, 4);
    std::vector<double> y(N * O);
    auto f = [&] {
        linear_forward(ctx(), y.data(), x.data(), w.data(), b.data(), N, I, O);
        return test::dot(up, y);
    };
    const auto dx0 = test::random_vec(N * I, 5), dw0 = test::random_vec(O * I, 6),
               db0 = test::random_vec(O, 7);
    std::vector<double> dx = dx0, dw = dw0, db = db0;
    // Twice: parameter gradients must add up (gradient accumulation), dinp written or added.
    for (int call = 0; call < 2; ++call)
        linear_backward(ctx(), dx.data(), dw.data(), db.data(), up.data(), x.data(), w.data(), N, I,
                        O, accumulate);
    const auto nx = test::numeric_grad(x, f), nw = test::numeric_grad(w, f),
               nb = test::numeric_grad(b, f);
    std::vector<double> ex(N * I), ew(O * I), eb(O);
    for (size_t i = 0; i < ex.size(); ++i) ex[i] = accumulate ? dx0[i] + 2 * nx[i] : nx[i];
    for (size_t i = 0; i < ew.size(); ++i) ew[i] = dw0[i] + 2 * nw[i];
    for (size_t i = 0; i < eb.size(); ++i) eb[i] = db0[i] + 2 * nb[i];
    test::expect_close(dx, ex, tol().fd, "linear dinp");
    test::expect_close(dw, ew, tol().fd, "linear dweight");
    test::expect_close(db, eb, tol().fd, "linear dbias");
}

INSTANTIATE_TEST_SUITE_P(Ops, OpsLinearFd,
                         ::testing::Combine(::testing::ValuesIn(test::FD_TARGETS),
                                            ::testing::Bool()),
                         [](const auto& info) {
                             return test::ops_target_str(std::get<0>(info.param)) +
                                    (std::get<1>(info.param) ? "_Accumulate" : "_Write");
                         });

TEST(OpsLinear, TimingCountsTheGemmFlops) {
    // The benchmarks' GEMM rate divides this count by the GEMM time: forward (N,I)x(I,O) is
    // 2*N*I*O flops; the backward is two such products (dinp and dW), or one without dinp.
    const int64_t N = 3, I = 4, O = 5;
    std::vector<float> inp(N * I, 1.0f), w(O * I, 0.5f), out(N * O), dout(N * O, 1.0f), dinp(N * I),
        dw(O * I);
    timing_reset();
    linear_forward<float>(cpu_context(), out.data(), inp.data(), w.data(), nullptr, N, I, O);
    EXPECT_EQ(timing_totals().gemm_flop, 2.0 * N * I * O);
    linear_backward<float>(cpu_context(), dinp.data(), dw.data(), nullptr, dout.data(), inp.data(),
                           w.data(), N, I, O, false);
    EXPECT_EQ(timing_totals().gemm_flop, 6.0 * N * I * O);
    linear_backward<float>(cpu_context(), nullptr, dw.data(), nullptr, dout.data(), inp.data(),
                           w.data(), N, I, O, false);
    EXPECT_EQ(timing_totals().gemm_flop, 8.0 * N * I * O);
    EXPECT_GT(timing_totals().gemm_s, 0.0);
    timing_reset();
    EXPECT_EQ(timing_totals().gemm_flop, 0.0);
}

TEST(OpsLinear, NullBiasAndNullDinp) {
    const int64_t N = 3, I = 4, O = 2;
    auto x = test::random_vec(N * I, 1), w = test::random_vec(O * I, 2);
    const auto up = test::random_vec(N * O, 3);
    std::vector<double> y(N * O), dw(O * I, 0.0);
    auto f = [&] {
        linear_forward(cpu_context(), y.data(), x.data(), w.data(),
                       static_cast<const double*>(nullptr), N, I, O);
        return test::dot(up, y);
    };
    linear_backward(cpu_context(), static_cast<double*>(nullptr), dw.data(),
                    static_cast<double*>(nullptr), up.data(), x.data(), w.data(), N, I, O, false);
    test::expect_close(dw, test::numeric_grad(w, f), FD_TOL, "linear dweight");
}

namespace {

struct LinearCase {
    int64_t N, I, O;
    bool bias, accumulate;
};

// Runs forward + backward in float (oneDNN) and in double on the same float-representable data.
void check_float_against_double(const LinearCase& c, uint64_t seed) {
    const int64_t N = c.N, I = c.I, O = c.O;
    const auto xf = test::convert<float>(test::random_vec(N * I, seed));
    const auto wf = test::convert<float>(test::random_vec(O * I, seed + 1, -0.1, 0.1));
    const auto bf = test::convert<float>(test::random_vec(O, seed + 2));
    const auto upf = test::convert<float>(test::random_vec(N * O, seed + 3));
    const auto dx0f = test::convert<float>(test::random_vec(N * I, seed + 4));
    const auto dw0f = test::convert<float>(test::random_vec(O * I, seed + 5));
    const auto db0f = test::convert<float>(test::random_vec(O, seed + 6));
    const auto x = test::convert<double>(xf), w = test::convert<double>(wf),
               b = test::convert<double>(bf), up = test::convert<double>(upf);
    std::vector<double> y(N * O), dx = test::convert<double>(dx0f),
                                  dw = test::convert<double>(dw0f),
                                  db = test::convert<double>(db0f);
    std::vector<float> yf(N * O), dxf = dx0f, dwf = dw0f, dbf = db0f;
    linear_forward(cpu_context(), y.data(), x.data(), w.data(), c.bias ? b.data() : nullptr, N, I,
                   O);
    linear_forward(cpu_context(), yf.data(), xf.data(), wf.data(), c.bias ? bf.data() : nullptr, N,
                   I, O);
    linear_backward(cpu_context(), dx.data(), dw.data(), c.bias ? db.data() : nullptr, up.data(),
                    x.data(), w.data(), N, I, O, c.accumulate);
    linear_backward(cpu_context(), dxf.data(), dwf.data(), c.bias ? dbf.data() : nullptr,
                    upf.data(), xf.data(), wf.data(), N, I, O, c.accumulate);
    const std::string shape = "N=" + std::to_string(N) + " I=" + std::to_string(I) +
                              " O=" + std::to_string(O) + (c.bias ? " bias" : "") +
                              (c.accumulate ? " accumulate" : "");
    test::expect_close(yf, y, F32_TOL, "out " + shape);
    test::expect_close(dxf, dx, F32_TOL, "dinp " + shape);
    test::expect_close(dwf, dw, F32_TOL, "dweight " + shape);
    if (c.bias) test::expect_close(dbf, db, F32_TOL, "dbias " + shape);
}

}  // namespace

TEST(OpsLinear, OneDnnFloatMatchesDouble) {
    // DistilBERT's shapes (a packed batch of 180 tokens), the classifier, and odd sizes. Wide
    // backward-data products over 64 rows or more (I >= 2 O, O >= 256: the FFN output layer, and
    // two others, one accumulating) go through the transposed-weights route; the last case, the
    // last layer's [CLS] rows, does not.
    const LinearCase cases[] = {
        {180, 768, 768, true, false}, {180, 768, 3072, true, true}, {180, 3072, 768, true, false},
        {16, 768, 2, true, false},    {37, 65, 33, false, true},    {1, 7, 5, true, true},
        {70, 1024, 256, false, true}, {64, 600, 300, true, false},  {16, 3072, 768, false, false}};
    uint64_t seed = 100;
    for (const LinearCase& c : cases) check_float_against_double(c, seed += 10);
}

TEST(OpsLinear, WideBackwardDataThroughTheTransposedCopy) {
    // The transposed-weights route at sizes small enough for the sanitizer run (which skips the
    // test above): written and accumulated, and two shapes in turn (the scratch copy regrows).
    const LinearCase cases[] = {
        {64, 512, 256, false, false}, {65, 520, 260, true, true}, {64, 512, 256, true, true}};
    uint64_t seed = 700;
    for (const LinearCase& c : cases) check_float_against_double(c, seed += 10);
}

TEST(OpsLinear, ManyBatchSizesThroughThePrimitiveCache) {
    // A new token count per step is the normal case with packed batches.
    uint64_t seed = 500;
    for (int64_t N = 1; N <= 24; N += 1)
        check_float_against_double({N, 48, 40, true, N % 2 == 0}, seed += 10);
}

TEST(OpsLinear, PrimitiveCacheOverflowKeepsResultsRight) {
    // More distinct token counts than the cache holds (1024): it is cleared and refilled.
    const int64_t I = 3, O = 2, NMAX = 1100;
    const auto x = test::convert<float>(test::random_vec(NMAX * I, 1));
    const auto w = test::convert<float>(test::random_vec(O * I, 2));
    const auto b = test::convert<float>(test::random_vec(O, 3));
    std::vector<float> y(NMAX * O);
    for (int64_t n = 1; n <= NMAX; ++n) {
        linear_forward(cpu_context(), y.data(), x.data(), w.data(), b.data(), n, I, O);
        if (n % 97 != 0 && n != NMAX) continue;
        for (int64_t r = 0; r < n; ++r)
            for (int64_t o = 0; o < O; ++o) {
                double want = b[o];
                for (int64_t i = 0; i < I; ++i) want += double(x[r * I + i]) * w[o * I + i];
                ASSERT_NEAR(y[r * O + o], want, 1e-5) << "n=" << n << " row " << r;
            }
    }
}

TEST(OpsLinear, EmptyDimensions) {
    // No tokens: nothing to compute, parameter gradients unchanged. No inputs (I = 0): the output
    // is the bias and dbias still collects dout.
    const std::vector<float> w(6, 1.0f), b = {1, 2}, dout = {1, 2, 3, 4};
    std::vector<float> dw(6, 5.0f), db = {7, 8}, out(4, -1.0f);
    linear_backward(cpu_context(), static_cast<float*>(nullptr), dw.data(), db.data(), dout.data(),
                    static_cast<const float*>(nullptr), w.data(), 0, 3, 2, false);
    EXPECT_EQ(dw, std::vector<float>(6, 5.0f));
    EXPECT_EQ(db, (std::vector<float>{7, 8}));
    linear_forward(cpu_context(), out.data(), static_cast<const float*>(nullptr), w.data(),
                   b.data(), 2, 0, 2);
    EXPECT_EQ(out, (std::vector<float>{1, 2, 1, 2}));
    linear_backward(cpu_context(), static_cast<float*>(nullptr), dw.data(), db.data(), dout.data(),
                    static_cast<const float*>(nullptr), w.data(), 2, 0, 2, false);
    EXPECT_EQ(db, (std::vector<float>{11, 14}));
}

TEST(OpsLinear, FloatIsDeterministic) {
    const int64_t N = 180, I = 768, O = 3072;
    const auto x = test::convert<float>(test::random_vec(N * I, 1));
    const auto w = test::convert<float>(test::random_vec(O * I, 2));
    const auto b = test::convert<float>(test::random_vec(O, 3));
    const auto up = test::convert<float>(test::random_vec(N * O, 4));
    auto run = [&] {
        std::vector<float> y(N * O), dx(N * I), dw(O * I), db(O);
        linear_forward(cpu_context(), y.data(), x.data(), w.data(), b.data(), N, I, O);
        linear_backward(cpu_context(), dx.data(), dw.data(), db.data(), up.data(), x.data(),
                        w.data(), N, I, O, false);
        y.insert(y.end(), dx.begin(), dx.end());
        y.insert(y.end(), dw.begin(), dw.end());
        y.insert(y.end(), db.begin(), db.end());
        return y;
    };
    const auto first = run();
    EXPECT_TRUE(first == run());
}

}  // namespace ft::ops
