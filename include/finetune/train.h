// finetune/train.h — the training layer: AdamW as torch (adamw_torch) and as HF's legacy
// optimizer (adamw_hf) compute it, HF's no-decay parameter groups, global L2 gradient clipping
// as torch's clip_grad_norm_, and HF's learning-rate schedules with warmup.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "finetune/core.h"
#include "finetune/model.h"

namespace ft {

enum class OptimizerKind { ADAMW_TORCH, ADAMW_HF };
OptimizerKind optimizer_from_name(const std::string& name);  // "adamw_torch" / "adamw_hf"

struct AdamWSettings {
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
    double weight_decay = 0.0;
    OptimizerKind kind = OptimizerKind::ADAMW_TORCH;
};

// One AdamW update of n contiguous parameters (step is 1-based, lr the rate for this step):
//   adamw_torch: p *= 1 - lr*wd; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
//                p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
//   adamw_hf:    m, v as above; p -= lr*sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps); p -= lr*wd*p
void adamw_update(float* p, const float* g, float* m, float* v, int64_t n, double lr,
                  double weight_decay, int64_t step, const AdamWSettings& s);

// AdamW over a model's flat parameters with HF's groups: no weight decay for biases and
// LayerNorm weights. Moments live in two flat buffers laid out like the weights.
class AdamW {
  public:
    AdamW(const ModelWeights& weights, const AdamWSettings& settings);
    // Applies one update with learning rate lr; increments the step count first.
    void step(ModelWeights& weights, const ModelWeights& grads, double lr);
    int64_t step_count() const { return step_; }
    float* exp_avg() { return static_cast<float*>(m_.data()); }
    float* exp_avg_sq() { return static_cast<float*>(v_.data()); }
    void set_step_count(int64_t s) { step_ = s; }
    const AdamWSettings& settings() const { return settings_; }

  private:
    AdamWSettings settings_;
    Buffer m_, v_;
    int64_t step_ = 0;
};

// L2 norm over all gradients (accumulated in double).
double global_grad_norm(const float* g, int64_t n);
// torch.nn.utils.clip_grad_norm_: returns the norm before clipping; when
// max_norm / (norm + 1e-6) < 1 every gradient is multiplied by that factor.
double clip_grad_norm(float* g, int64_t n, double max_norm);

// One optimizer step on one batch: zero the gradients, forward in train mode, backward, clip to
// max_grad_norm (skipped when <= 0), AdamW at lr. Returns the loss and the norm before clipping.
struct StepStats {
    double loss;
    double grad_norm;
};
StepStats train_step(SequenceClassifier& model, ModelWeights& weights, ModelWeights& grads,
                     AdamW& optimizer, const PackedBatch& batch, double lr, double max_grad_norm,
                     uint64_t seed, uint64_t step);

// ---------------------------------------------------------------------------------------------
// Learning-rate schedules: the multiplier of the base lr at scheduler step `step` (0-based: the
// lr of the first optimizer step uses step 0), as transformers' get_scheduler builds them.

enum class SchedulerKind { LINEAR, COSINE, CONSTANT, CONSTANT_WITH_WARMUP };
SchedulerKind scheduler_from_name(const std::string& name);

double lr_multiplier(SchedulerKind kind, int64_t step, int64_t warmup_steps, int64_t total_steps,
                     double num_cycles = 0.5);
// TrainingArguments.get_warmup_steps: warmup_steps when > 0, else ceil(total * warmup_ratio).
int64_t warmup_steps_for(int64_t warmup_steps, double warmup_ratio, int64_t total_steps);

}  // namespace ft
