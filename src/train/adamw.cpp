// AdamW over the flat parameter buffer: the update's scalars as torch and HF's legacy optimizer
// form them, the optimizer object that applies HF's weight-decay groups tensor by tensor, and
// torch's gradient clipping. The passes over the buffers are ops (ops/optimizer.cpp), run on the
// optimizer's context: the CPU's, or a GPU model's, where the weights, gradients and moments live.
#include <cmath>
#include <limits>

#include "core/device_cuda.h"
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
    : AdamW(weights, settings, ops::cpu_context()) {}

AdamW::AdamW(const ModelWeights& weights, const AdamWSettings& settings, const ops::Context& ctx)
    : settings_(settings), ctx_(&ctx) {
    if (ctx.device != weights.device())
        throw Error("AdamW: the weights are on " + std::string(device_name(weights.device())) +
                    " but the optimizer was given a " + std::string(device_name(ctx.device)) +
                    " context (a GPU model's optimizer takes SequenceClassifier::context())");
    const size_t bytes = static_cast<size_t>(weights.flat_size()) * sizeof(float);
    m_ = Buffer(bytes, ctx.device);
    v_ = Buffer(bytes, ctx.device);
    if (ctx.device == Device::CUDA) norm_slot_ = Buffer(sizeof(double), ctx.device);
}

namespace {

// Reads a one-double result an op wrote on ctx's device.
double read_double(const ops::Context& ctx, const double* slot) {
    double v = 0.0;
    cuda::copy_to_host(&v, slot, sizeof v, ctx.stream);
    return v;
}

// Calls f(offset, count, decay, spec) for each tensor in flat-buffer order: each tensor is
// contiguous in the flat buffers, and HF's groups decide its weight decay.
template <class F>
void for_each_tensor(const ModelWeights& weights, double weight_decay, F f) {
    for (size_t i = 0; i < weights.specs().size(); ++i) {
        const ParamSpec& spec = weights.specs()[i];
        f(weights.offset_of(i), spec.shape.numel(), spec.no_weight_decay() ? 0.0 : weight_decay,
          spec);
    }
}

}  // namespace

void AdamW::step(ModelWeights& weights, const ModelWeights& grads, double lr) {
    ++step_;
    // Padding between tensors stays zero (zero grads, zero moments). The gradients are only read.
    for_each_tensor(
        weights, settings_.weight_decay, [&](int64_t off, int64_t n, double wd, const ParamSpec&) {
            ops::adamw_update(*ctx_, weights.flat() + off, const_cast<float*>(grads.flat()) + off,
                              exp_avg() + off, exp_avg_sq() + off, n,
                              adam_scalars(lr, wd, step_, settings_), 1.0f, /*zero_grads=*/false);
        });
}

void AdamW::step_and_zero_grads(ModelWeights& weights, ModelWeights& grads, double lr,
                                float grad_scale, Bf16Weights* copy) {
    if (copy)
        FT_ASSERT(copy->flat_size() == weights.flat_size(), "AdamW: another model's bf16 copy");
    ++step_;
    int64_t cleared = 0;  // the alignment padding between tensors is cleared too
    for_each_tensor(
        weights, settings_.weight_decay,
        [&](int64_t off, int64_t n, double wd, const ParamSpec& spec) {
            ops::fill_zero(*ctx_, grads.flat() + cleared, off - cleared);
            cleared = off + n;
            const ops::AdamWScalars k = adam_scalars(lr, wd, step_, settings_);
            if (copy && Bf16Weights::holds(spec))
                ops::adamw_update_bf16(*ctx_, weights.flat() + off, copy->flat() + off,
                                       grads.flat() + off, exp_avg() + off, exp_avg_sq() + off, n,
                                       k, grad_scale, /*zero_grads=*/true);
            else
                ops::adamw_update(*ctx_, weights.flat() + off, grads.flat() + off, exp_avg() + off,
                                  exp_avg_sq() + off, n, k, grad_scale, /*zero_grads=*/true);
        });
    ops::fill_zero(*ctx_, grads.flat() + cleared, grads.flat_size() - cleared);
}

double AdamW::grad_norm(const ModelWeights& grads) {
    if (ctx_->device == Device::CPU)
        return global_grad_norm(*ctx_, grads.flat(), grads.flat_size());
    double* slot = static_cast<double*>(norm_slot_.data());
    ops::l2_norm(*ctx_, slot, grads.flat(), grads.flat_size());
    return read_double(*ctx_, slot);
}

double global_grad_norm(const float* g, int64_t n) {
    return global_grad_norm(ops::cpu_context(), g, n);
}

double global_grad_norm(const ops::Context& ctx, const float* g, int64_t n) {
    if (ctx.device == Device::CPU) {
        double norm = 0.0;
        ops::l2_norm(ctx, &norm, g, n);
        return norm;
    }
    Buffer slot(sizeof(double), ctx.device);
    double* out = static_cast<double*>(slot.data());
    ops::l2_norm(ctx, out, g, n);
    return read_double(ctx, out);
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
    return clip_grad_norm(ops::cpu_context(), g, n, max_norm);
}

double clip_grad_norm(const ops::Context& ctx, float* g, int64_t n, double max_norm) {
    const double norm = global_grad_norm(ctx, g, n);
    const float c = clip_coefficient(norm, max_norm);
    if (c != 1.0f) ops::scale(ctx, g, n, c);
    return norm;
}

}  // namespace ft
