// One plain optimizer step (no accumulation): the unit the benchmarks and engine tests time and
// check; the Trainer composes the same pieces with accumulation and logging.
#include "finetune/train.h"

namespace ft {

StepStats train_step(SequenceClassifier& model, ModelWeights& weights, ModelWeights& grads,
                     AdamW& optimizer, const PackedBatch& batch, double lr, double max_grad_norm,
                     uint64_t seed, uint64_t step, Bf16Weights* bf16_copy) {
    StepStats s;
    s.loss = model.forward(batch, /*train=*/true, seed, step);
    model.backward(grads);
    s.grad_norm = optimizer.grad_norm(grads);  // on the optimizer's (the model's) device
    // Clipping and zero_grad ride along with the update: one pass over the gradients.
    const float scale = max_grad_norm > 0 ? clip_coefficient(s.grad_norm, max_grad_norm) : 1.0f;
    optimizer.step_and_zero_grads(weights, grads, lr, scale, bf16_copy);
    return s;
}

}  // namespace ft
