// Shared helpers of the ops tests: seeded random tensors, central finite differences, and one
// tolerance table per comparison kind with a checker that prints the first mismatches.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

namespace ft::test {

// Pass when |actual - expected| <= rtol * |expected| + atol * max|expected| elementwise: relative
// where values are large, and scaled to the tensor where a sum cancels to near zero.
struct Tolerance {
    double rtol;
    double atol;
};
// Analytic backward (double) against central differences with h = 1e-6.
constexpr Tolerance FD_TOL{1e-6, 1e-7};
// A float kernel against the same op in double, or against PyTorch's f32 result.
constexpr Tolerance F32_TOL{1e-5, 1e-5};
// Two double computations of the same math in a different order.
constexpr Tolerance F64_TOL{1e-12, 1e-12};

inline std::vector<double> random_vec(size_t n, uint64_t seed, double lo = -1.0, double hi = 1.0) {
    std::mt19937_64 gen(seed);
    std::uniform_real_distribution<double> dist(lo, hi);
    std::vector<double> v(n);
    for (double& x : v) x = dist(gen);
    return v;
}

template <class To, class From>
std::vector<To> convert(const std::vector<From>& v) {
    return std::vector<To>(v.begin(), v.end());
}

inline double dot(const std::vector<double>& a, const std::vector<double>& b) {
    double s = 0;
    for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
    return s;
}

// d f / d x by central differences, perturbing x in place (restored afterwards).
inline std::vector<double> numeric_grad(std::vector<double>& x, const std::function<double()>& f,
                                        double h = 1e-6) {
    std::vector<double> g(x.size());
    for (size_t i = 0; i < x.size(); ++i) {
        const double x0 = x[i];
        x[i] = x0 + h;
        const double fp = f();
        x[i] = x0 - h;
        const double fm = f();
        x[i] = x0;
        g[i] = (fp - fm) / (2 * h);
    }
    return g;
}

template <class A, class E>
void expect_close(const std::vector<A>& actual, const std::vector<E>& expected, Tolerance tol,
                  const std::string& what) {
    ASSERT_EQ(actual.size(), expected.size()) << what;
    double scale = 0;
    for (const E& e : expected) scale = std::max(scale, std::abs(static_cast<double>(e)));
    size_t bad = 0, worst = 0;
    double worst_diff = 0;
    std::string first;
    for (size_t i = 0; i < actual.size(); ++i) {
        const double a = static_cast<double>(actual[i]), e = static_cast<double>(expected[i]);
        const double diff = std::abs(a - e);
        if (diff > worst_diff || std::isnan(diff)) worst_diff = diff, worst = i;
        if (!(diff <= tol.rtol * std::abs(e) + tol.atol * scale)) {
            if (bad < 5) {
                char line[160];
                std::snprintf(line, sizeof line, "  [%zu] actual %.17g expected %.17g\n", i, a, e);
                first += line;
            }
            ++bad;
        }
    }
    EXPECT_EQ(bad, 0u) << what << ": " << bad << " of " << actual.size()
                       << " elements differ; max |diff| " << worst_diff << " at [" << worst << "]\n"
                       << first;
}

}  // namespace ft::test
