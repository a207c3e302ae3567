// The one tolerance table of the numeric tests, per dtype (DESIGN.md: not tuned per tensor).
// Each bound sits about 5x above the largest difference measured over the whole suite (AMD EPYC
// Zen 5, AVX-512, 2026-12-05), measured with
//   FT_MEASURE_TOLERANCES=1 ./finetune_tests 2>&1 | grep '^\[tolerance\]'
// (each comparison prints its tolerance and the largest difference in its units).
#pragma once

namespace ft::test {

struct Tolerances {
    // Logits, losses and grad norms, relative to max(1, |reference|). Measured 4.1e-7.
    double logits_rel;
    // Gradients, relative to the tensor's max |reference|. Measured 6.0e-7.
    double grad_rel_max;
    // Parameters after a few optimizer steps, absolute. Measured 1.8e-7.
    double param_abs;
    // Eval-mode forward of a real pretrained checkpoint against HF, absolute: pooler outputs
    // (in [-1, 1]) and the logits of a freshly initialised head, whose small weights shrink
    // encoder errors (a wrong layer_norm_eps moves all-MiniLM-L6-v2's logits by only 6e-6 but
    // its pooler output by 5e-5). Measured: 2.2e-7 (pooler), 2.5e-8 (logits).
    double pretrained_forward_abs;
    // Eval logits of the tiny randomly initialised reference model against real HF, absolute:
    // its head's small weights make |logits| <= 5e-3, so logits_rel's floor of 1 would hide a
    // wrong layer_norm_eps (1e-5 for 1e-12 moves them by 1.2e-7). Measured 7.2e-9.
    double reference_logits_abs;
};

// Until 2026-12-05: {1e-5, 1e-4, 1e-5, 1e-6}, 24x to 170x above the measured differences.
inline constexpr Tolerances F32 = {2e-6, 3e-6, 1e-6, 1e-6, 3e-8};

}  // namespace ft::test
