// Elementwise ops of the encoder: the activations (exact (erf) GELU, ReLU, tanh), the residual add,
// and inverted dropout whose mask is a pure function of (rng, offset, index), so the backward
// regenerates it instead of storing it.
#include <algorithm>
#include <cmath>
#include <type_traits>

#include "ops/ops.h"
#include "ops/ops_cuda.h"
#include "ops/ops_internal.h"
#include "ops/vec_math.h"

namespace ft::ops {

namespace {
constexpr double INV_SQRT2 = 0.70710678118654752440;
constexpr double INV_SQRT_2PI = 0.39894228040143267794;

// float: the vectorisable Phi and exp of vec_math.h (libm's erff alone took ~30 ns an element).
FT_SIMD_CLONES void gelu_forward_f32(float* out /*(n)*/, const float* inp /*(n)*/, int64_t n) {
    for (int64_t i = 0; i < n; ++i) out[i] = inp[i] * detail::normal_cdf_f32(inp[i]);
}

// d/dx [x Phi(x)] = Phi(x) + x phi(x).
FT_SIMD_CLONES void gelu_backward_f32(float* dinp /*(n)*/, const float* dout /*(n)*/,
                                      const float* inp /*(n)*/, int64_t n) {
    const float kp = static_cast<float>(INV_SQRT_2PI);
    for (int64_t i = 0; i < n; ++i) {
        const float x = inp[i];
        const float pdf = kp * detail::exp_f32(-0.5f * x * x);
        dinp[i] = dout[i] * (detail::normal_cdf_f32(x) + x * pdf);
    }
}

}  // namespace

template <class T>
void gelu_forward_cpu(const Context&, T* out /*(n)*/, const T* inp /*(n)*/, int64_t n) {
    if constexpr (std::is_same_v<T, float>) {
        detail::parallel_chunks(
            n, [&](int64_t i0, int64_t len) { gelu_forward_f32(out + i0, inp + i0, len); });
    } else {
#pragma omp parallel for num_threads(detail::threads()) \
    schedule(static) if (n > detail::PARALLEL_MIN)
        for (int64_t i = 0; i < n; ++i)
            out[i] = inp[i] * 0.5 * (1.0 + std::erf(inp[i] * INV_SQRT2));
    }
}

template <class T>
void gelu_backward_cpu(const Context&, T* dinp /*(n)*/, const T* dout /*(n)*/, const T* inp /*(n)*/,
                       int64_t n) {
    if constexpr (std::is_same_v<T, float>) {
        detail::parallel_chunks(n, [&](int64_t i0, int64_t len) {
            gelu_backward_f32(dinp + i0, dout + i0, inp + i0, len);
        });
    } else {
#pragma omp parallel for num_threads(detail::threads()) \
    schedule(static) if (n > detail::PARALLEL_MIN)
        for (int64_t i = 0; i < n; ++i) {
            const double x = inp[i];
            const double cdf = 0.5 * (1.0 + std::erf(x * INV_SQRT2));
            dinp[i] = dout[i] * (cdf + x * INV_SQRT_2PI * std::exp(-0.5 * x * x));
        }
    }
}

template <class T>
void relu_forward_cpu(const Context&, T* out /*(n)*/, const T* inp /*(n)*/, int64_t n) {
#pragma omp parallel for num_threads(detail::threads()) \
    schedule(static) if (n > detail::PARALLEL_MIN)
    for (int64_t i = 0; i < n; ++i) out[i] = inp[i] > T(0) ? inp[i] : T(0);
}

template <class T>
void relu_backward_cpu(const Context&, T* dinp /*(n)*/, const T* dout /*(n)*/, const T* out /*(n)*/,
                       int64_t n) {
    // torch's threshold_backward: the gradient passes where the output is positive.
#pragma omp parallel for num_threads(detail::threads()) \
    schedule(static) if (n > detail::PARALLEL_MIN)
    for (int64_t i = 0; i < n; ++i) dinp[i] = out[i] > T(0) ? dout[i] : T(0);
}

template <class T>
void tanh_forward_cpu(const Context&, T* out /*(n)*/, const T* inp /*(n)*/, int64_t n) {
#pragma omp parallel for num_threads(detail::threads()) \
    schedule(static) if (n > detail::PARALLEL_MIN)
    for (int64_t i = 0; i < n; ++i) out[i] = std::tanh(inp[i]);
}

template <class T>
void tanh_backward_cpu(const Context&, T* dinp /*(n)*/, const T* dout /*(n)*/, const T* out /*(n)*/,
                       int64_t n) {
#pragma omp parallel for num_threads(detail::threads()) \
    schedule(static) if (n > detail::PARALLEL_MIN)
    for (int64_t i = 0; i < n; ++i) dinp[i] = dout[i] * (T(1) - out[i] * out[i]);
}

template <class T>
void add_forward_cpu(const Context&, T* out /*(n)*/, const T* a /*(n)*/, const T* b /*(n)*/,
                     int64_t n) {
#pragma omp parallel for num_threads(detail::threads()) \
    schedule(static) if (n > detail::PARALLEL_MIN)
    for (int64_t i = 0; i < n; ++i) out[i] = a[i] + b[i];
}

namespace {

// out[i] = keep(i) ? inp[i] * scale : 0 for the mask of (rng, offset). Used by forward and
// backward alike (the backward is the same map applied to the gradient).
template <class T>
void apply_dropout(T* out /*(n)*/, const T* inp /*(n)*/, int64_t n, double p, const Philox& rng,
                   uint64_t offset) {
    if (p <= 0.0) {
        if (out != inp)
            for (int64_t i = 0; i < n; ++i) out[i] = inp[i];
        return;
    }
    if (p >= 1.0) {  // torch: everything dropped (and no division by zero)
        for (int64_t i = 0; i < n; ++i) out[i] = T(0);
        return;
    }
    const T scale = static_cast<T>(1.0 / (1.0 - p));
    const uint32_t threshold = detail::drop_threshold(p);
    detail::parallel_chunks(n, [&](int64_t i0, int64_t len) {
        T* o = out + i0;
        const T* x = inp + i0;
        detail::for_each_uniform_bits(
            rng, offset + static_cast<uint64_t>(i0), len,
            [&](int64_t i, uint32_t bits) { o[i] = x[i] * (bits < threshold ? T(0) : scale); });
    });
}

}  // namespace

template <class T>
void activation_forward(const Context& ctx, Activation act, T* out, const T* inp, int64_t n) {
    FT_ASSERT(n >= 0, "activation_forward: negative size");
    FT_ASSERT(n == 0 || (out && inp), "activation_forward: null tensor");
    FT_CUDA_TWIN(T, ctx, activation_forward, act, out, inp, n);
    switch (act) {
        case Activation::GELU:
            return gelu_forward_cpu(ctx, out, inp, n);
        case Activation::RELU:
            return relu_forward_cpu(ctx, out, inp, n);
        case Activation::TANH:
            return tanh_forward_cpu(ctx, out, inp, n);
    }
}

template <class T>
void activation_backward(const Context& ctx, Activation act, T* dinp, const T* dout, const T* inp,
                         const T* out, int64_t n) {
    FT_ASSERT(n >= 0, "activation_backward: negative size");
    FT_ASSERT(n == 0 || (dinp && dout && (act == Activation::GELU ? inp : out)),
              "activation_backward: null tensor");
    FT_CUDA_TWIN(T, ctx, activation_backward, act, dinp, dout, inp, out, n);
    switch (act) {
        case Activation::GELU:
            return gelu_backward_cpu(ctx, dinp, dout, inp, n);
        case Activation::RELU:
            return relu_backward_cpu(ctx, dinp, dout, out, n);
        case Activation::TANH:
            return tanh_backward_cpu(ctx, dinp, dout, out, n);
    }
}

template <class T>
void add_forward(const Context& ctx, T* out, const T* a, const T* b, int64_t n) {
    FT_ASSERT(n >= 0, "add_forward: negative size");
    FT_ASSERT(n == 0 || (out && a && b), "add_forward: null tensor");
    FT_CUDA_TWIN(T, ctx, add_forward, out, a, b, n);
    add_forward_cpu(ctx, out, a, b, n);
}

template <class T>
void dropout_forward(const Context& ctx, T* out, const T* inp, int64_t n, double p,
                     const Philox& rng, uint64_t rng_offset) {
    FT_ASSERT(n >= 0, "dropout: negative size");
    FT_ASSERT(n == 0 || (out && inp), "dropout: null tensor");
    FT_CUDA_TWIN(T, ctx, dropout_forward, out, inp, n, p, rng, rng_offset);
    apply_dropout(out, inp, n, p, rng, rng_offset);
}

// The same map applied to the gradient: the mask regenerated from (rng, rng_offset).
template <class T>
void dropout_backward(const Context& ctx, T* dinp, const T* dout, int64_t n, double p,
                      const Philox& rng, uint64_t rng_offset) {
    dropout_forward(ctx, dinp, dout, n, p, rng, rng_offset);
}

#define FT_INSTANTIATE(T)                                                                          \
    template void activation_forward<T>(const Context&, Activation, T*, const T*, int64_t);        \
    template void activation_backward<T>(const Context&, Activation, T*, const T*, const T*,       \
                                         const T*, int64_t);                                       \
    template void add_forward<T>(const Context&, T*, const T*, const T*, int64_t);                 \
    template void dropout_forward<T>(const Context&, T*, const T*, int64_t, double, const Philox&, \
                                     uint64_t);                                                    \
    template void dropout_backward<T>(const Context&, T*, const T*, int64_t, double,               \
                                      const Philox&, uint64_t);
FT_INSTANTIATE(float)
FT_INSTANTIATE(double)
#undef FT_INSTANTIATE

}  // namespace ft::ops
