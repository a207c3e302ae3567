// The model's dropout sites over the dropout op (see dropout.h).
#include "model/dropout.h"

#include "ops/ops.h"

namespace ft {

void Dropout::apply(float* x, int64_t n, double rate, uint64_t site) const {
    if (train && rate > 0.0) ops::dropout_forward(*ctx, x, x, n, rate, rng, offset(site));
}

const float* Dropout::backward(float* dst, const float* src, int64_t n, double rate,
                               uint64_t site) const {
    if (!(train && rate > 0.0)) return src;
    ops::dropout_backward(*ctx, dst, src, n, rate, rng, offset(site));
    return dst;
}

}  // namespace ft
