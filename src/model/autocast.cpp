// Float32 or bf16 autocast for the model's GEMMs and bf16 ops (see autocast.h).
#include "model/autocast.h"

#include "ops/ops.h"

namespace ft {

void Autocast::linear_forward(float* out, const float* x, const LinearParams<const float>& w,
                              const LinearParams<const uint16_t>& w16, int64_t N, int64_t I,
                              int64_t O) const {
    if (!bf16_) return ops::linear_forward(ctx_, out, x, w.w, w.b, N, I, O);
    FT_ASSERT(w16.w, "bf16 autocast without the layer's bf16 weights");
    ops::linear_forward_bf16(ctx_, out, x, w16.w, w.b, N, I, O);
}

void Autocast::linear_backward(float* dx, LinearParams<float>& g, const float* dout, const float* x,
                               const LinearParams<const float>& w,
                               const LinearParams<const uint16_t>& w16, int64_t N, int64_t I,
                               int64_t O, bool accumulate_dx) const {
    if (!bf16_)
        return ops::linear_backward(ctx_, dx, g.w, g.b, dout, x, w.w, N, I, O, accumulate_dx);
    FT_ASSERT(w16.w, "bf16 autocast without the layer's bf16 weights");
    ops::linear_backward_bf16(ctx_, dx, g.w, g.b, dout, x, w16.w, N, I, O, accumulate_dx);
}

void Autocast::round(float* x, int64_t n) const {
    if (bf16_) ops::round_to_bf16(ctx_, x, n);
}

void Autocast::dropout(const Dropout& d, float* x, int64_t n, double rate, uint64_t site) const {
    if (!bf16_) return d.apply(x, n, rate, site);
    const double p = d.p(rate);
    if (p > 0.0) ops::dropout_bf16(ctx_, x, n, p, d.rng, Dropout::offset(site));
}

const float* Autocast::dropout_backward(const Dropout& d, float* dst, const float* src, int64_t n,
                                        double rate, uint64_t site) const {
    if (!bf16_) return d.backward(dst, src, n, rate, site);
    const double p = d.p(rate);
    if (!(p > 0.0)) return src;
    ops::copy(ctx_, dst, src, n);
    ops::round_to_bf16(ctx_, dst, n);  // a float32 consumer's gradient entering the bf16 tensor
    ops::dropout_bf16(ctx_, dst, n, p, d.rng, Dropout::offset(site));
    return dst;
}

}  // namespace ft
