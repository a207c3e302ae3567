// One plain optimizer step (no accumulation): the unit the benchmarks and engine tests time and
// check; the Trainer composes the same pieces with accumulation and logging.
#include "finetune/train.h"

namespace ft {

StepStats train_step(SequenceClassifier& model, ModelWeights& weights, ModelWeights& grads,
                     AdamW& optimizer, const PackedBatch& batch, double lr, double max_grad_norm,
                     uint64_t seed, uint64_t step) {
    grads.zero();
    StepStats s;
    s.loss = model.forward(batch, /*train=*/true, seed, step);
    model.backward(grads);
    s.grad_norm = max_grad_norm > 0 ? clip_grad_norm(grads.flat(), grads.flat_size(), max_grad_norm)
                                    : global_grad_norm(grads.flat(), grads.flat_size());
    optimizer.step(weights, grads, lr);
    return s;
}

}  // namespace ft
