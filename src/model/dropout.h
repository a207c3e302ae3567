// Dropout as the model applies it: on only in train mode with p > 0, each site drawing from its
// own disjoint counter range of one Philox stream, so that a mask is a function of (seed, step,
// site) alone and backward regenerates it.
#pragma once

#include "finetune/core.h"
#include "ops/context.h"

namespace ft {

// The sites, numbered as the checkpoints' masks were drawn: embeddings, then per layer the
// attention probabilities, the attention output and the FFN output, then the head.
namespace dropout_site {
inline uint64_t embeddings() {
    return 0;
}
inline uint64_t attention(int64_t l) {
    return 1 + 3 * static_cast<uint64_t>(l);
}
inline uint64_t attention_output(int64_t l) {
    return 2 + 3 * static_cast<uint64_t>(l);
}
inline uint64_t ffn(int64_t l) {
    return 3 + 3 * static_cast<uint64_t>(l);
}
inline uint64_t head(int64_t layers) {
    return 1 + 3 * static_cast<uint64_t>(layers);
}
// RoBERTa's head: the dropout on its input, before the dense layer.
inline uint64_t head_input(int64_t layers) {
    return 2 + 3 * static_cast<uint64_t>(layers);
}
}  // namespace dropout_site

struct Dropout {
    const ops::Context* ctx = nullptr;  // where the masks are applied
    bool train = false;
    Philox rng{0, 0};

    static uint64_t offset(uint64_t site) { return site << 40; }
    double p(double rate) const { return train ? rate : 0.0; }
    // In-place dropout on n values at a site; a no-op in eval mode or with p = 0.
    void apply(float* x, int64_t n, double rate, uint64_t site) const;
    // Gradient through a site's dropout; returns where the result is (src when no dropout).
    const float* backward(float* dst, const float* src, int64_t n, double rate,
                          uint64_t site) const;
};

}  // namespace ft
