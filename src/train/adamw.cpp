// AdamW over the flat parameter buffer: the per-element update (torch's and HF's legacy
// variants) and the optimizer object that applies HF's weight-decay groups tensor by tensor.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "finetune/train.h"
#include "ops/ops_internal.h"  // FT_SIMD_CLONES: AVX2 code where the machine has it

namespace ft {

namespace {

// The update's scalars, formed in double and rounded once, as torch does with Python floats.
struct AdamScalars {
    float b1, b2, one_minus_b1, one_minus_b2, eps;
    float decay;          // torch: 1 - lr*wd (multiplies p); hf: -lr*wd (adds p times it)
    float neg_step_size;  // torch: -lr/bias1; hf: -lr*sqrt(bias2)/bias1
    float sqrt_bias2;     // torch only
};

// One chunk of the update on g * scale; ZERO_GRADS clears each g once read. Compiled for AVX2 and
// baseline (the loader picks one); an OpenMP region's outlined body would get the baseline only,
// so the parallel loop sits outside. x * 1.0f == x, so scale 1 leaves the gradients exact.
template <bool ZERO_GRADS>
FT_SIMD_CLONES void adamw_chunk(float* __restrict p, float* __restrict g, float* __restrict m,
                                float* __restrict v, int64_t n, const AdamScalars& k, float scale,
                                bool torch_form) {
    const float b1 = k.b1, b2 = k.b2, omb1 = k.one_minus_b1, omb2 = k.one_minus_b2, eps = k.eps;
    const float decay = k.decay, nss = k.neg_step_size, sb2 = k.sqrt_bias2;
    if (torch_form) {
        for (int64_t i = 0; i < n; ++i) {
            const float gi = g[i] * scale;
            if constexpr (ZERO_GRADS) g[i] = 0.0f;
            const float mi = b1 * m[i] + omb1 * gi;
            const float vi = b2 * v[i] + omb2 * gi * gi;
            m[i] = mi;
            v[i] = vi;
            p[i] = p[i] * decay + nss * mi / (std::sqrt(vi) / sb2 + eps);
        }
    } else {
        for (int64_t i = 0; i < n; ++i) {
            const float gi = g[i] * scale;
            if constexpr (ZERO_GRADS) g[i] = 0.0f;
            const float mi = b1 * m[i] + omb1 * gi;
            const float vi = b2 * v[i] + omb2 * gi * gi;
            m[i] = mi;
            v[i] = vi;
            const float pi = p[i] + nss * mi / (std::sqrt(vi) + eps);
            p[i] = pi + decay * pi;
        }
    }
}

// Eight independent lanes let the compiler vectorise without reordering any one sum.
FT_SIMD_CLONES double sum_squares_chunk(const float* g, int64_t n) {
    double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; ++j) lane[j] += static_cast<double>(g[i + j]) * g[i + j];
    for (; i < n; ++i) lane[0] += static_cast<double>(g[i]) * g[i];
    double s = 0.0;
    for (double x : lane) s += x;
    return s;
}

constexpr int64_t CHUNK = 1 << 14;

}  // namespace

OptimizerKind optimizer_from_name(const std::string& name) {
    if (name == "adamw_torch" || name == "adamw_torch_fused") return OptimizerKind::ADAMW_TORCH;
    if (name == "adamw_hf") return OptimizerKind::ADAMW_HF;
    throw Error("optim '" + name + "' is not supported (adamw_torch, adamw_hf)");
}

namespace {

AdamScalars adam_scalars(double lr, double weight_decay, int64_t step, const AdamWSettings& s) {
    const double bias1 = 1.0 - std::pow(s.beta1, static_cast<double>(step));
    const double bias2 = 1.0 - std::pow(s.beta2, static_cast<double>(step));
    AdamScalars k;
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

template <bool ZERO_GRADS>
void adamw_chunks(float* p, float* g, float* m, float* v, int64_t n, const AdamScalars& k,
                  float scale, bool torch_form) {
    const int64_t chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for num_threads(get_num_threads()) schedule(static) if (chunks > 1)
    for (int64_t c = 0; c < chunks; ++c) {
        const int64_t off = c * CHUNK;
        adamw_chunk<ZERO_GRADS>(p + off, g + off, m + off, v + off, std::min(CHUNK, n - off), k,
                                scale, torch_form);
    }
}

}  // namespace

void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, double lr,
                  double weight_decay, int64_t step, const AdamWSettings& s) {
    // The gradients are only read on this path.
    adamw_chunks<false>(p, const_cast<float*>(g), m, v, n, adam_scalars(lr, weight_decay, step, s),
                        1.0f, s.kind == OptimizerKind::ADAMW_TORCH);
}

void adamw_update_and_zero_grads(float* p, float* g, float* m, float* v, int64_t n, double lr,
                                 double weight_decay, int64_t step, const AdamWSettings& s,
                                 float grad_scale) {
    adamw_chunks<true>(p, g, m, v, n, adam_scalars(lr, weight_decay, step, s), grad_scale,
                       s.kind == OptimizerKind::ADAMW_TORCH);
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
        std::fill(grads.flat() + cleared, grads.flat() + off, 0.0f);
        cleared = off + n;
        adamw_update_and_zero_grads(weights.flat() + off, grads.flat() + off, exp_avg() + off,
                                    exp_avg_sq() + off, n, lr, wd, step_, settings_, grad_scale);
    });
    std::fill(grads.flat() + cleared, grads.flat() + grads.flat_size(), 0.0f);
}

double global_grad_norm(const float* g, int64_t n) {
    // Per-chunk partial sums added in chunk order: the same bits for any thread count.
    const int64_t chunks = (n + CHUNK - 1) / CHUNK;
    thread_local std::vector<double> partial;  // grows once; no allocation per step after that
    partial.resize(static_cast<size_t>(chunks));
    double* out = partial.data();  // the calling thread's buffer, shared with the team
#pragma omp parallel for num_threads(get_num_threads()) schedule(static) if (chunks > 1)
    for (int64_t c = 0; c < chunks; ++c)
        out[c] = sum_squares_chunk(g + c * CHUNK, std::min(CHUNK, n - c * CHUNK));
    double sum = 0.0;
    for (double x : partial) sum += x;
    return std::sqrt(sum);
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
    if (c != 1.0f) {
#pragma omp parallel for simd num_threads(get_num_threads()) schedule(static)
        for (int64_t i = 0; i < n; ++i) g[i] *= c;
    }
    return norm;
}

}  // namespace ft
