// The bf16 copy of a model's weights that bf16 autocast's GEMMs read (finetune/model.h).
#include <algorithm>

#include "finetune/model.h"
#include "ops/context.h"
#include "ops/ops.h"

namespace ft {

Bf16Weights::Bf16Weights(const ModelWeights& weights)
    : flat_(static_cast<size_t>(weights.flat_size()) * sizeof(uint16_t)) {
    std::fill_n(flat(), flat_size(), uint16_t{0});
    refresh(weights);
}

void Bf16Weights::refresh(const ModelWeights& weights) {
    if (weights.device() != Device::CPU)
        throw Error("bf16 autocast's weight copy is made from CPU weights only");
    FT_ASSERT(weights.flat_size() == flat_size(), "Bf16Weights::refresh: another model's weights");
    for (size_t i = 0; i < weights.specs().size(); ++i)
        if (holds(weights.specs()[i]))
            ops::to_bf16(ops::cpu_context(), flat() + weights.offset_of(i),
                         weights.flat() + weights.offset_of(i), weights.specs()[i].shape.numel());
}

}  // namespace ft
