// AdamW over the flat parameter buffer: the per-element update (torch's and HF's legacy
// variants) and the optimizer object that applies HF's weight-decay groups tensor by tensor.
#include <cmath>
#include <cstring>

#include "finetune/train.h"

namespace ft {

OptimizerKind optimizer_from_name(const std::string& name) {
    if (name == "adamw_torch" || name == "adamw_torch_fused") return OptimizerKind::ADAMW_TORCH;
    if (name == "adamw_hf") return OptimizerKind::ADAMW_HF;
    throw Error("optim '" + name + "' is not supported (adamw_torch, adamw_hf)");
}

void adamw_update(float* __restrict p, const float* __restrict g, float* __restrict m,
                  float* __restrict v, int64_t n, double lr, double weight_decay, int64_t step,
                  const AdamWSettings& s) {
    // Scalars are formed in double and rounded once, as torch does with Python floats.
    const float b1 = static_cast<float>(s.beta1), b2 = static_cast<float>(s.beta2);
    const float one_minus_b1 = static_cast<float>(1.0 - s.beta1);
    const float one_minus_b2 = static_cast<float>(1.0 - s.beta2);
    const double bias1 = 1.0 - std::pow(s.beta1, static_cast<double>(step));
    const double bias2 = 1.0 - std::pow(s.beta2, static_cast<double>(step));
    const float eps = static_cast<float>(s.eps);
    if (s.kind == OptimizerKind::ADAMW_TORCH) {
        // torch: decay first, then p += (-step_size * m) / (sqrt(v) / sqrt(bias2) + eps).
        const float decay = static_cast<float>(1.0 - lr * weight_decay);
        const float neg_step_size = static_cast<float>(-(lr / bias1));
        const float sqrt_bias2 = static_cast<float>(std::sqrt(bias2));
#pragma omp parallel for simd schedule(static)
        for (int64_t i = 0; i < n; ++i) {
            const float gi = g[i];
            const float mi = b1 * m[i] + one_minus_b1 * gi;
            const float vi = b2 * v[i] + one_minus_b2 * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] = p[i] * decay + neg_step_size * mi / (std::sqrt(vi) / sqrt_bias2 + eps);
        }
    } else {
        // HF legacy: p -= lr*sqrt(bias2)/bias1 * m / (sqrt(v) + eps); then p -= lr*wd*p.
        const float neg_step_size = static_cast<float>(-(lr * std::sqrt(bias2) / bias1));
        const float neg_decay = static_cast<float>(-lr * weight_decay);
#pragma omp parallel for simd schedule(static)
        for (int64_t i = 0; i < n; ++i) {
            const float gi = g[i];
            const float mi = b1 * m[i] + one_minus_b1 * gi;
            const float vi = b2 * v[i] + one_minus_b2 * gi * gi;
            m[i] = mi;
            v[i] = vi;
            const float pi = p[i] + neg_step_size * mi / (std::sqrt(vi) + eps);
            p[i] = pi + neg_decay * pi;
        }
    }
}

AdamW::AdamW(const ModelWeights& weights, const AdamWSettings& settings)
    : settings_(settings),
      m_(static_cast<size_t>(weights.flat_size()) * sizeof(float)),
      v_(static_cast<size_t>(weights.flat_size()) * sizeof(float)) {}

void AdamW::step(ModelWeights& weights, const ModelWeights& grads, double lr) {
    ++step_;
    // One call per tensor: each tensor is contiguous in the flat buffers; the group decides
    // the weight decay. Padding between tensors stays zero (zero grads, zero moments).
    for (size_t i = 0; i < weights.specs().size(); ++i) {
        const int64_t off = weights.offset_of(i);
        const int64_t n = weights.specs()[i].shape.numel();
        const double wd = weights.specs()[i].no_weight_decay() ? 0.0 : settings_.weight_decay;
        adamw_update(weights.flat() + off, grads.flat() + off, exp_avg() + off, exp_avg_sq() + off,
                     n, lr, wd, step_, settings_);
    }
}

double global_grad_norm(const float* g, int64_t n) {
    double sum = 0.0;
#pragma omp parallel for simd reduction(+ : sum) schedule(static)
    for (int64_t i = 0; i < n; ++i) sum += static_cast<double>(g[i]) * g[i];
    return std::sqrt(sum);
}

double clip_grad_norm(float* g, int64_t n, double max_norm) {
    const double norm = global_grad_norm(g, n);
    const double coef = max_norm / (norm + 1e-6);
    if (coef < 1.0) {
        const float c = static_cast<float>(coef);
#pragma omp parallel for simd schedule(static)
        for (int64_t i = 0; i < n; ++i) g[i] *= c;
    }
    return norm;
}

}  // namespace ft
