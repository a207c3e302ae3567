// Shared helpers of the ops tests: seeded random tensors, central finite differences, and a
// checker against tolerances.h's table that prints the first mismatches.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "core/device_cuda.h"
#include "finetune/core.h"
#include "ops/context.h"
#include "tolerances.h"

namespace ft::test {

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

// ---- the (device, dtype) rows the golden and finite-difference tests run through -------------
// Today CPU in float and double, CUDA in float; the CUDA rows skip with the reason until the CUDA
// ops and device copies of the tests' tensors exist.
namespace ft::test {

struct OpsTarget {
    Device device;
    DType dtype;
};

inline std::string ops_target_str(const OpsTarget& t) {
    return std::string(device_name(t.device)) + "_" + std::string(dtype_name(t.dtype));
}
inline std::string ops_target_name(const ::testing::TestParamInfo<OpsTarget>& info) {
    return ops_target_str(info.param);
}

// The rows of the finite-difference tests, which run in double: the CPU only, since the CUDA
// twins take float (ops_internal.h); the CUDA ops are checked against the CPU's in the goldens.
inline const std::vector<OpsTarget> FD_TARGETS = {{Device::CPU, DType::F64}};

// The context ops run on for device, or null with *why saying why the device cannot run them here.
inline const ops::Context* ops_context_for(Device device, std::string* why) {
    switch (device) {
        case Device::CPU:
            return &ops::cpu_context();
        case Device::CUDA:
            *why = !cuda::built_with_cuda() ? "built without CUDA"
                   : cuda::device_count() == 0
                       ? "no CUDA device"
                       : "the golden tests hold host tensors; cuda_ops_test.cpp checks each CUDA "
                         "op against the CPU op";
            return nullptr;
    }
    *why = "unknown device";
    return nullptr;
}

// Mixed into a fixture over an OpsTarget: enter(target), called from SetUp, skips the test with
// the reason where the device is not available or the tolerance table has no row for the target.
class OpsTargetFixture {
  protected:
    void enter(const OpsTarget& t) {
        std::string why;
        ctx_ = ops_context_for(t.device, &why);
        if (!ctx_) GTEST_SKIP() << device_name(t.device) << ": " << why;
        tol_ = find_tolerances(t.device, t.dtype);
        if (!tol_) GTEST_SKIP() << "tolerances.h has no row for " << ops_target_str(t);
        f64_ = t.dtype == DType::F64;
    }
    const ops::Context& ctx() const { return *ctx_; }
    const Tolerances& tol() const { return *tol_; }
    bool is_f64() const { return f64_; }

  private:
    const ops::Context* ctx_ = nullptr;
    const Tolerances* tol_ = nullptr;
    bool f64_ = false;
};

// A test over one OpsTarget.
class OpsTargetTest : public ::testing::TestWithParam<OpsTarget>, public OpsTargetFixture {
  protected:
    void SetUp() override { enter(GetParam()); }
};

// A test over an OpsTarget and one more parameter X.
template <class X>
class OpsTargetTestWith : public ::testing::TestWithParam<std::tuple<OpsTarget, X>>,
                          public OpsTargetFixture {
  protected:
    void SetUp() override { enter(std::get<0>(this->GetParam())); }
    const X& extra() const { return std::get<1>(this->GetParam()); }
};

}  // namespace ft::test
