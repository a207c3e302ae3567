// Dropout on a bf16 tensor under autocast (docs/bf16-autocast.md §2): torch multiplies a bf16
// tensor by the Python float 1/(1-p), which 1.13 first rounds to bf16 (p = 0.1: 1.109375, not
// 1.1111...), and rounds the product. The mask is the float32 op's (pointwise.cpp): the same
// (rng, offset, index) draws, so a site keeps the same elements in either precision.
#include "ops/bf16_bits.h"
#include "ops/ops.h"
#include "ops/ops_internal.h"

namespace ft::ops {

void dropout_bf16(const Context& ctx, float* x, int64_t n, double p, const Philox& rng,
                  uint64_t rng_offset) {
    FT_ASSERT(n >= 0 && (n == 0 || x), "dropout_bf16: bad tensor");
    if (ctx.device != Device::CPU)
        throw Error("dropout_bf16: bf16 autocast runs on the CPU only (no CUDA kernel yet)");
    if (p <= 0.0) return;
    const float keep = p >= 1.0 ? 0.0f : detail::round_bf16(static_cast<float>(1.0 / (1.0 - p)));
    const uint32_t threshold = detail::drop_threshold(p);
    detail::parallel_chunks(n, [&](int64_t i0, int64_t len) {
        float* o = x + i0;
        detail::for_each_uniform_bits(
            rng, rng_offset + static_cast<uint64_t>(i0), len, [&](int64_t i, uint32_t bits) {
                o[i] = detail::round_bf16(o[i] * (bits < threshold ? 0.0f : keep));
            });
    });
}

}  // namespace ft::ops
