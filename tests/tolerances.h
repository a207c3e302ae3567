// The one tolerance table of the numeric tests, per dtype (DESIGN.md: not tuned per tensor).
#pragma once

namespace ft::test {

struct Tolerances {
    double logits_rel;    // logits and losses, relative to max(1, |reference|)
    double grad_rel_max;  // gradients, relative to the tensor's max |reference|
    double param_abs;     // parameters after a few optimizer steps, absolute
    // Eval-mode forward of a real pretrained checkpoint against HF, absolute: pooler outputs
    // (in [-1, 1]) and the logits of a freshly initialised head, whose small weights shrink
    // encoder errors (a wrong layer_norm_eps moves all-MiniLM-L6-v2's logits by only 6e-6 but
    // its pooler output by 5e-5). Measured: 2.2e-7 (pooler), 2.5e-8 (logits).
    double pretrained_forward_abs;
};

inline constexpr Tolerances F32 = {1e-5, 1e-4, 1e-5, 1e-6};

}  // namespace ft::test
