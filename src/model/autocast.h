// The model's GEMMs and roundings in its compute precision: float32, or bf16 autocast
// (torch.autocast("cpu", dtype=torch.bfloat16); docs/bf16-autocast.md) when the layer's bf16
// weights are given. The encoder and the heads call these where precision matters, so one model
// body serves both; in float32 each call is exactly the op the model always called.
#pragma once

#include <cstdint>

#include "model/dropout.h"
#include "model/param_views.h"
#include "ops/context.h"

namespace ft {

class Autocast {
  public:
    explicit Autocast(const ops::Context& ctx) : ctx_(ctx) {}
    bool bf16() const { return bf16_; }
    void set_bf16(bool on) { bf16_ = on; }

    // out = x Wᵀ + b: float32, or bf16 operands (w16: the layer's bf16 weights) with float32
    // sums rounded once.
    void linear_forward(float* out, const float* x, const LinearParams<const float>& w,
                        const LinearParams<const uint16_t>& w16, int64_t N, int64_t I,
                        int64_t O) const;
    // Its backward (ops::linear_backward's contract); under bf16, dout is rounded on the way in
    // (a float32 consumer's gradient entering the bf16 output) and dx, dW, db are bf16 values.
    void linear_backward(float* dx, LinearParams<float>& g, const float* dout, const float* x,
                         const LinearParams<const float>& w,
                         const LinearParams<const uint16_t>& w16, int64_t N, int64_t I, int64_t O,
                         bool accumulate_dx) const;
    // The output of a bf16 op computed in float32 (GELU, tanh, their backwards): rounded to bf16.
    // Nothing in float32.
    void round(float* x, int64_t n) const;
    // Dropout at a site whose tensor is bf16 under autocast (the FFN and attention outputs, the
    // head): Dropout::apply in float32, ops::dropout_bf16 under bf16. backward likewise; both
    // return where the result is.
    void dropout(const Dropout& d, float* x, int64_t n, double rate, uint64_t site) const;
    const float* dropout_backward(const Dropout& d, float* dst, const float* src, int64_t n,
                                  double rate, uint64_t site) const;

  private:
    const ops::Context& ctx_;
    bool bf16_ = false;
};

}  // namespace ft
