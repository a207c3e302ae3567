// Fully connected layers in torch.nn.Linear's layout (weight (O, I)). float runs on oneDNN's
// matmul (dnnl_backend.h, the context's handles); double is plain loops, there for the
// finite-difference tests only.
#include "ops/dnnl_backend.h"
#include "ops/ops.h"
#include "ops/ops_cuda.h"
#include "ops/ops_internal.h"

namespace ft::ops {

using detail::Acc;

namespace {

// dinp (N,I) (+)= dout (N,O) x W (O,I). Measured in bench/train_step: with W read in place and I
// much wider than O (the FFN output layer: dinp (T,3072) from dout (T,768)), oneDNN's matmul ran
// at ~75 GFLOP/s inside the training step (it reaches ~130 on the same operands in a program of
// its own; the cause was not found), while the same product against a transposed copy of W ran
// at ~135, and the copy (a 9.4 MB oneDNN reorder) costs ~2 ms. So wide products over enough rows
// to repay the copy take that route (not the last layer's 16 [CLS] rows: ~0.5 ms either way).
void backward_data(DnnlBackend& dnnl, bool accumulate, int64_t N, int64_t I, int64_t O,
                   const float* dout, const float* weight, float* dinp) {
    if (I >= 2 * O && O >= 256 && N >= 64)
        dnnl.backward_data_transposed(accumulate, N, I, O, dout, weight, dinp);
    else
        dnnl.matmul(Gemm::BACKWARD_DATA, accumulate, N, I, O, dout, weight, nullptr, dinp);
}

// The double path: straightforward loops, rows split across threads.
void linear_forward_ref(double* out, const double* inp, const double* weight, const double* bias,
                        int64_t N, int64_t I, int64_t O) {
#pragma omp parallel for num_threads(detail::threads()) schedule(static)
    for (int64_t n = 0; n < N; ++n)
        for (int64_t o = 0; o < O; ++o) {
            double acc = bias ? bias[o] : 0.0;
            for (int64_t i = 0; i < I; ++i) acc += inp[n * I + i] * weight[o * I + i];
            out[n * O + o] = acc;
        }
}

void linear_backward_ref(double* dinp, double* dweight, const double* dout, const double* inp,
                         const double* weight, int64_t N, int64_t I, int64_t O,
                         bool accumulate_dinp) {
    // Loops ordered so that the innermost one runs along contiguous rows.
    if (dinp) {
#pragma omp parallel for num_threads(detail::threads()) schedule(static)
        for (int64_t n = 0; n < N; ++n) {
            double* d = dinp + n * I;
            if (!accumulate_dinp)
                for (int64_t i = 0; i < I; ++i) d[i] = 0.0;
            for (int64_t o = 0; o < O; ++o) {
                const double g = dout[n * O + o];
                const double* w = weight + o * I;
                for (int64_t i = 0; i < I; ++i) d[i] += g * w[i];
            }
        }
    }
#pragma omp parallel for num_threads(detail::threads()) schedule(static)
    for (int64_t o = 0; o < O; ++o) {
        double* dw = dweight + o * I;
        for (int64_t n = 0; n < N; ++n) {
            const double g = dout[n * O + o];
            const double* x = inp + n * I;
            for (int64_t i = 0; i < I; ++i) dw[i] += g * x[i];
        }
    }
}

// The products on non-empty shapes.
void products_forward(const Context& ctx, float* out, const float* inp, const float* weight,
                      const float* bias, int64_t N, int64_t I, int64_t O) {
    detail::threads();  // applies FT_NUM_THREADS before oneDNN sizes its OpenMP team
    ctx.dnnl->matmul(Gemm::FORWARD, false, N, I, O, inp, weight, bias, out);
}
void products_forward(const Context&, double* out, const double* inp, const double* weight,
                      const double* bias, int64_t N, int64_t I, int64_t O) {
    linear_forward_ref(out, inp, weight, bias, N, I, O);
}

void products_backward(const Context& ctx, float* dinp, float* dweight, const float* dout,
                       const float* inp, const float* weight, int64_t N, int64_t I, int64_t O,
                       bool accumulate_dinp) {
    detail::threads();
    if (dinp) backward_data(*ctx.dnnl, accumulate_dinp, N, I, O, dout, weight, dinp);
    ctx.dnnl->matmul(Gemm::BACKWARD_WEIGHTS, true, N, I, O, dout, inp, nullptr, dweight);
}
void products_backward(const Context&, double* dinp, double* dweight, const double* dout,
                       const double* inp, const double* weight, int64_t N, int64_t I, int64_t O,
                       bool accumulate_dinp) {
    linear_backward_ref(dinp, dweight, dout, inp, weight, N, I, O, accumulate_dinp);
}

template <class T>
void linear_forward_cpu(const Context& ctx, T* out /*(N,O)*/, const T* inp /*(N,I)*/,
                        const T* weight /*(O,I)*/, const T* bias /*(O) or null*/, int64_t N,
                        int64_t I, int64_t O) {
    if (N == 0 || O == 0) return;
    if (I == 0) {  // an empty product: only the bias (oneDNN rejects zero-sized K)
        for (int64_t n = 0; n < N; ++n)
            for (int64_t o = 0; o < O; ++o) out[n * O + o] = bias ? bias[o] : T(0);
        return;
    }
    products_forward(ctx, out, inp, weight, bias, N, I, O);
}

template <class T>
void linear_backward_cpu(const Context& ctx, T* dinp /*(N,I) or null*/, T* dweight /*(O,I)*/,
                         T* dbias /*(O) or null*/, const T* dout /*(N,O)*/, const T* inp /*(N,I)*/,
                         const T* weight /*(O,I)*/, int64_t N, int64_t I, int64_t O,
                         bool accumulate_dinp) {
    if (N > 0 && I > 0 && O > 0) {
        products_backward(ctx, dinp, dweight, dout, inp, weight, N, I, O, accumulate_dinp);
    } else if (dinp && !accumulate_dinp) {  // nothing flows, but a written dinp must be defined
        for (int64_t k = 0; k < N * I; ++k) dinp[k] = T(0);
    }
    if (dbias)
        detail::column_sums_add(
            dbias, N, O, [&](int64_t n, int64_t o) { return static_cast<Acc>(dout[n * O + o]); });
}

// The arithmetic the benchmarks set against the GEMM time: 2 flops per multiply-add.
void count_flop(const Context& ctx, int64_t products, int64_t N, int64_t I, int64_t O) {
    if (ctx.timings && N > 0 && I > 0 && O > 0)
        ctx.timings->gemm_flop += static_cast<double>(2 * products * N * I * O);
}

}  // namespace

template <class T>
void linear_forward(const Context& ctx, T* out, const T* inp, const T* weight, const T* bias,
                    int64_t N, int64_t I, int64_t O) {
    FT_ASSERT(N >= 0 && I >= 0 && O >= 0, "linear_forward: negative size");
    FT_ASSERT(N * O == 0 || (out && (I == 0 || (inp && weight))), "linear_forward: null tensor");
    FT_ASSERT(ctx.device != Device::CPU || ctx.dnnl, "linear_forward: the context has no oneDNN");
    const detail::ScopedOpTimer timer(ctx, detail::TimedOp::GEMM);
    count_flop(ctx, 1, N, I, O);
    FT_CUDA_TWIN(T, ctx, linear_forward, out, inp, weight, bias, N, I, O);
    linear_forward_cpu(ctx, out, inp, weight, bias, N, I, O);
}

template <class T>
void linear_backward(const Context& ctx, T* dinp, T* dweight, T* dbias, const T* dout, const T* inp,
                     const T* weight, int64_t N, int64_t I, int64_t O, bool accumulate_dinp) {
    FT_ASSERT(N >= 0 && I >= 0 && O >= 0, "linear_backward: negative size");
    FT_ASSERT(N * I * O == 0 || (dweight && dout && inp && weight), "linear_backward: null tensor");
    FT_ASSERT(ctx.device != Device::CPU || ctx.dnnl, "linear_backward: the context has no oneDNN");
    const detail::ScopedOpTimer timer(ctx, detail::TimedOp::GEMM);
    count_flop(ctx, dinp ? 2 : 1, N, I, O);
    FT_CUDA_TWIN(T, ctx, linear_backward, dinp, dweight, dbias, dout, inp, weight, N, I, O,
                 accumulate_dinp);
    linear_backward_cpu(ctx, dinp, dweight, dbias, dout, inp, weight, N, I, O, accumulate_dinp);
}

#define FT_INSTANTIATE(T)                                                                      \
    template void linear_forward<T>(const Context&, T*, const T*, const T*, const T*, int64_t, \
                                    int64_t, int64_t);                                         \
    template void linear_backward<T>(const Context&, T*, T*, T*, const T*, const T*, const T*, \
                                     int64_t, int64_t, int64_t, bool);
FT_INSTANTIATE(float)
FT_INSTANTIATE(double)
#undef FT_INSTANTIATE

}  // namespace ft::ops
