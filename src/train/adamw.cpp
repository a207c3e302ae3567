// AdamW over the flat parameter buffer: the update's scalars as torch and HF's legacy optimizer
// form them, the optimizer object that applies HF's weight-decay groups tensor by tensor, and
// torch's gradient clipping. The passes over the buffers are ops (ops/optimizer.cpp).
#include <cmath>
#include <limits>

#include "finetune/train.h"
#include "ops/ops.h"

namespace ft {

OptimizerKind optimizer_from_name(const std::string& name) {
    if (name == "adamw_torch" || name == "adamw_torch_fused") return OptimizerKind::ADAMW_TORCH;
    if (name == "adamw_hf") return OptimizerKind::ADAMW_HF;
    throw Error("optim '" + name + "' is not supported (adamw_torch, adamw_hf)");
}

namespace {

// The update's scalars, formed in double and rounded once, as torch does with Python floats.
ops::AdamWScalars adam_scalars(double lr, double weight_decay, int64_t step,
                               const AdamWSettings& s) {
    const double bias1 = 1.0 - std::pow(s.beta1, static_cast<double>(step));
    const double bias2 = 1.0 - std::pow(s.beta2, static_cast<double>(step));
    ops::AdamWScalars k;
    k.torch_form = s.kind == OptimizerKind::ADAMW_TORCH;
    k.b1 = static_cast<float>(s.beta1);
    k.b2 = static_cast<float>(s.beta2);
    k.one_minus_b1 = static_cast<float>(1.0 - s.beta1);
    k.one_minus_b2 = static_cast<float>(1.0 - s.beta2);
    k.eps = static_cast<float>(s.eps);
    if (s.kind == OptimizerKind::ADAMW_TORCH) {
        // torch: decay first, then p += (-step_size * m) / (sqrt(v) / sqrt(bias2) + eps).
        k.decay = static_cast<float>(1.0 - lr * weight_decay);
        k.neg_step_size = static_cast<float>(-(lr / bias1));
        k.sqrt_bias2 = static_cast<float>(std::sqrt(bias2));
    } else {
        // HF legacy: p += -lr*sqrt(bias2)/bias1 * m / (sqrt(v) + eps); then p += -lr*wd * p.
        k.decay = static_cast<float>(-lr * weight_decay);
        k.neg_step_size = static_cast<float>(-(lr * std::sqrt(bias2) / bias1));
        k.sqrt_bias2 = 1.0f;
    }
    return k;
}

}  // namespace

void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, double lr,
                  double weight_decay, int64_t step, const AdamWSettings& s) {
    // The gradients are only read on this path.
    ops::adamw_update(ops::cpu_context(), p, const_cast<float*>(g), m, v, n,
                      adam_scalars(lr, weight_decay, step, s), 1.0f, /*zero_grads=*/false);
}

void adamw_update_and_zero_grads(float* p, float* g, float* m, float* v, int64_t n, double lr,
                                 double weight_decay, int64_t step, const AdamWSettings& s,
                                 float grad_scale) {
    ops::adamw_update(ops::cpu_context(), p, g, m, v, n, adam_scalars(lr, weight_decay, step, s),
                      grad_scale, /*zero_grads=*/true);
}

AdamW::AdamW(const ModelWeights& weights, const AdamWSettings& settings)
    : settings_(settings),
      m_(static_cast<size_t>(weights.flat_size()) * sizeof(float)),
      v_(static_cast<size_t>(weights.flat_size()) * sizeof(float)) {}

namespace {

// Calls f(offset, count, decay) for each tensor in flat-buffer order: each tensor is contiguous
// in the flat buffers, and HF's groups decide its weight decay.
template <class F>
void for_each_tensor(const ModelWeights& weights, double weight_decay, F f) {
    for (size_t i = 0; i < weights.specs().size(); ++i)
        f(weights.offset_of(i), weights.specs()[i].shape.numel(),
          weights.specs()[i].no_weight_decay() ? 0.0 : weight_decay);
}

}  // namespace

void AdamW::step(ModelWeights& weights, const ModelWeights& grads, double lr) {
    ++step_;
    // Padding between tensors stays zero (zero grads, zero moments).
    for_each_tensor(weights, settings_.weight_decay, [&](int64_t off, int64_t n, double wd) {
        adamw_update(weights.flat() + off, grads.flat() + off, exp_avg() + off, exp_avg_sq() + off,
                     n, lr, wd, step_, settings_);
    });
}

void AdamW::step_and_zero_grads(ModelWeights& weights, ModelWeights& grads, double lr,
                                float grad_scale) {
    ++step_;
    int64_t cleared = 0;  // the alignment padding between tensors is cleared too
    for_each_tensor(weights, settings_.weight_decay, [&](int64_t off, int64_t n, double wd) {
        ops::fill_zero(ops::cpu_context(), grads.flat() + cleared, off - cleared);
        cleared = off + n;
        adamw_update_and_zero_grads(weights.flat() + off, grads.flat() + off, exp_avg() + off,
                                    exp_avg_sq() + off, n, lr, wd, step_, settings_, grad_scale);
    });
    ops::fill_zero(ops::cpu_context(), grads.flat() + cleared, grads.flat_size() - cleared);
}

double global_grad_norm(const float* g, int64_t n) {
    double norm = 0.0;
    ops::l2_norm(ops::cpu_context(), &norm, g, n);
    return norm;
}

float clip_coefficient(double norm, double max_norm) {
    // torch: clamp(max_norm / (norm + 1e-6), max=1). clamp keeps a NaN, so a NaN norm makes
    // every gradient NaN, and an infinite one scales by 0 (inf * 0 = NaN where a gradient is
    // inf). The Trainer stops before that; a caller of clip_grad_norm gets torch's result.
    const double coef = max_norm / (norm + 1e-6);
    if (std::isnan(coef)) return std::numeric_limits<float>::quiet_NaN();
    return coef < 1.0 ? static_cast<float>(coef) : 1.0f;
}

double clip_grad_norm(float* g, int64_t n, double max_norm) {
    const double norm = global_grad_norm(g, n);
    const float c = clip_coefficient(norm, max_norm);
    if (c != 1.0f) ops::scale(ops::cpu_context(), g, n, c);
    return norm;
}

}  // namespace ft
