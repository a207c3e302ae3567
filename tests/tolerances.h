// The one tolerance table of the numeric tests, per dtype (DESIGN.md: not tuned per tensor).
#pragma once

namespace ft::test {

struct Tolerances {
    double logits_rel;    // logits and losses, relative to max(1, |reference|)
    double grad_rel_max;  // gradients, relative to the tensor's max |reference|
    double param_abs;     // parameters after a few optimizer steps, absolute
};

inline constexpr Tolerances F32 = {1e-5, 1e-4, 1e-5};

}  // namespace ft::test
