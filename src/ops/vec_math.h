// Branch-free float exp and standard normal CDF written so that GCC vectorises the loops that
// call them (no libm call inside): the float GELU and softmax otherwise spend most of their time
// in scalar erff / expf. The double kernels keep using libm.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>

namespace ft::ops::detail {

// e^x for float, within 2 ulp for x in [-87, 88]; 0 below -87 (where the exact value is below
// 1.7e-38, at the edge of float's normal range). Our callers pass x <= 0 (softmax, e^{-x^2}).
inline float exp_f32(float x) {
    constexpr float LOG2E = 1.44269504088896341f;
    // ln 2 in two parts: k * LN2_HI is exact for |k| < 2^11, so r keeps its low bits.
    constexpr float LN2_HI = 0.693145751953125f;
    constexpr float LN2_LO = 1.42860682030941723e-6f;
    constexpr float ROUND = 12582912.0f;  // 1.5 * 2^23: adding and subtracting it rounds to integer
    // The constant first: std::max(-87, NaN) is -87, so a NaN (diverged weights) never reaches
    // the float-to-int conversion below, where it would be undefined; it is returned as NaN.
    const float xc = std::min(88.0f, std::max(-87.0f, x));
    const float k = (xc * LOG2E + ROUND) - ROUND;  // e^x = 2^k e^r, |r| <= ln2 / 2
    const float r = (xc - k * LN2_HI) - k * LN2_LO;
    // Taylor series of e^r to r^7: the remainder is below 6e-9 relative for |r| <= 0.35.
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    const float two_k = std::bit_cast<float>((static_cast<int32_t>(k) + 127) << 23);
    // Both sides of every select are computed first: GCC then if-converts and vectorises
    // (it will not speculate a floating-point operation hidden behind a branch).
    const float y = p * two_k;
    return x < -87.0f ? 0.0f : (x == x ? y : x);
}

// Phi(x) = P(N(0, 1) <= x) = erfc(-x / sqrt 2) / 2, the factor of the exact GELU x Phi(x).
// Absolute error below 2e-7; in the lower tail the relative error stays below ~1e-5 because
// erfc is computed directly there instead of as 1 + erf(x), which cancels.
inline float normal_cdf_f32(float x) {
    const float z = x * 0.70710678118654752f;
    const float a = std::abs(z), a2 = a * a;
    // erf(a) for a < 0.75: its Taylor series 2/sqrt(pi) sum (-1)^n a^(2n+1) / (n! (2n+1)) to
    // n = 8 (remainder below 1e-8).
    float s = 1.6462114365889246e-06f;
    s = s * a2 - 1.492565035840625e-05f;
    s = s * a2 + 0.00012055332981789664f;
    s = s * a2 - 0.0008548327023450852f;
    s = s * a2 + 0.005223977625442188f;
    s = s * a2 - 0.026866170645131252f;
    s = s * a2 + 0.11283791670955126f;
    s = s * a2 - 0.37612638903183754f;
    s = s * a2 + 1.1283791670955126f;
    const float erf_small = a * s;
    // erfc(a) for a >= 0.75: e^{-a^2} g(t) where g(t) is a degree-9 least-squares polynomial fit
    // of erfc(a) e^{a^2} in t = 1 / (1 + a/2) over a in [0.75, 10] (relative error below 5e-9).
    const float t = 1.0f / (1.0f + 0.5f * a);
    float g = -0.07517145770567257f;
    g = g * t + 0.35494474459610487f;
    g = g * t - 0.618530117157626f;
    g = g * t + 0.4149457223935293f;
    g = g * t - 0.11408441182349147f;
    g = g * t + 0.23807466944605513f;
    g = g * t + 0.23406963440923945f;
    g = g * t + 0.2837741638401865f;
    g = g * t + 0.2819674585246619f;
    g = g * t + 4.22892416117303e-06f;
    const float erfc_small = 1.0f - erf_small, erfc_big = exp_f32(-a2) * g;
    const float erfc_a = a < 0.75f ? erfc_small : erfc_big;
    const float upper = 1.0f - 0.5f * erfc_a, lower = 0.5f * erfc_a;
    return z >= 0.0f ? upper : lower;
}

}  // namespace ft::ops::detail
