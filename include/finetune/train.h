// finetune/train.h — the training layer: AdamW as torch (adamw_torch) and as HF's legacy
// optimizer (adamw_hf) compute it, HF's no-decay parameter groups, global L2 gradient clipping
// as torch's clip_grad_norm_, and HF's learning-rate schedules with warmup.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
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
// The same update on g * grad_scale (rounded to float, as an in-place g *= grad_scale would be),
// setting each g to 0 once it is read: clipping, the update and zero_grad in one pass over the
// four buffers instead of three passes.
void adamw_update_and_zero_grads(float* p, float* g, float* m, float* v, int64_t n, double lr,
                                 double weight_decay, int64_t step, const AdamWSettings& s,
                                 float grad_scale);

// AdamW over a model's flat parameters with HF's groups: no weight decay for biases and
// LayerNorm weights. Moments live in two flat buffers laid out like the weights, on their device.
class AdamW {
  public:
    // CPU weights: the passes run on the process's CPU context.
    AdamW(const ModelWeights& weights, const AdamWSettings& settings);
    // The passes run on ctx, whose device must be the weights': for a GPU model its context
    // (SequenceClassifier::context()), so that the update is queued behind the backward.
    AdamW(const ModelWeights& weights, const AdamWSettings& settings, const ops::Context& ctx);
    // Applies one update with learning rate lr; increments the step count first.
    void step(ModelWeights& weights, const ModelWeights& grads, double lr);
    // The step the training loops take: the update on the gradients times grad_scale (the
    // clipping factor), leaving the gradients zero for the next step. Bit-identical to
    // clip_grad_norm, step and grads.zero() in turn, with a third of the memory traffic.
    // With a bf16 copy (bf16 autocast), the same pass rewrites it from the new weights.
    void step_and_zero_grads(ModelWeights& weights, ModelWeights& grads, double lr,
                             float grad_scale = 1.0f, Bf16Weights* copy = nullptr);
    // global_grad_norm of the gradients on this optimizer's context (on a GPU: into a slot the
    // optimizer keeps, then read back, which waits for the backward).
    double grad_norm(const ModelWeights& grads);
    int64_t step_count() const { return step_; }
    // The moments, on device(): GPU memory for a GPU optimizer (checkpoint.cpp copies them).
    float* exp_avg() { return static_cast<float*>(m_.data()); }
    float* exp_avg_sq() { return static_cast<float*>(v_.data()); }
    void set_step_count(int64_t s) { step_ = s; }
    const AdamWSettings& settings() const { return settings_; }
    Device device() const { return m_.device(); }
    const ops::Context& context() const { return *ctx_; }

  private:
    AdamWSettings settings_;
    const ops::Context* ctx_;
    Buffer m_, v_;
    Buffer norm_slot_;  // GPU only: where l2_norm writes its double
    int64_t step_ = 0;
};

// L2 norm over all gradients (accumulated in double), on the CPU.
double global_grad_norm(const float* g, int64_t n);
// The same on ctx's device (g there); on a GPU it allocates its one-double result slot per call
// and reads it back (AdamW::grad_norm keeps a slot).
double global_grad_norm(const ops::Context& ctx, const float* g, int64_t n);
// torch.nn.utils.clip_grad_norm_: returns the norm before clipping; when
// max_norm / (norm + 1e-6) < 1 every gradient is multiplied by that factor.
double clip_grad_norm(float* g, int64_t n, double max_norm);
double clip_grad_norm(const ops::Context& ctx, float* g, int64_t n, double max_norm);
// The factor clip_grad_norm multiplies the gradients by for a given norm (1 when it leaves them).
float clip_coefficient(double norm, double max_norm);

// One optimizer step on one batch: forward in train mode, backward, clip to max_grad_norm
// (skipped when <= 0), AdamW at lr. grads must be zero on entry (a new ModelWeights is) and is
// zero again on return: the optimizer clears it as it reads it. Returns the loss and the norm
// before clipping.
struct StepStats {
    double loss;
    double grad_norm;
};
StepStats train_step(SequenceClassifier& model, ModelWeights& weights, ModelWeights& grads,
                     AdamW& optimizer, const PackedBatch& batch, double lr, double max_grad_norm,
                     uint64_t seed, uint64_t step, Bf16Weights* bf16_copy = nullptr);

// ---------------------------------------------------------------------------------------------
// Learning-rate schedules: the multiplier of the base lr at scheduler step `step` (0-based: the
// lr of the first optimizer step uses step 0), as transformers' get_scheduler builds them.

enum class SchedulerKind { LINEAR, COSINE, CONSTANT, CONSTANT_WITH_WARMUP };
SchedulerKind scheduler_from_name(const std::string& name);

double lr_multiplier(SchedulerKind kind, int64_t step, int64_t warmup_steps, int64_t total_steps,
                     double num_cycles = 0.5);
// TrainingArguments.get_warmup_steps: warmup_steps when >= 1 (truncated, as int() does); a
// warmup_steps in (0, 1) is a ratio (current HF), ceil(total * warmup_steps); else
// ceil(total * warmup_ratio) (4.x's argument, still accepted).
int64_t warmup_steps_for(double warmup_steps, double warmup_ratio, int64_t total_steps);

}  // namespace ft

// =============================================================================================
// TrainingArguments: HF's names and current defaults as a typed struct. The same table of
// argument specs drives JSON loading (training_args.json, a user's config file), the CLI flags
// (snake_case, kebab-case accepted) and --help, so the three can never disagree.

namespace ft {

enum class IntervalStrategy { NO, STEPS, EPOCH };    // eval_strategy, logging_strategy
enum class SaveStrategy { NO, STEPS, EPOCH, BEST };  // save_strategy
enum class SamplingStrategy { RANDOM, SEQUENTIAL, GROUP_BY_LENGTH };

std::string_view interval_strategy_name(IntervalStrategy s);  // "no" / "steps" / "epoch"
std::string_view save_strategy_name(SaveStrategy s);          // ... / "best"
std::string_view sampling_strategy_name(SamplingStrategy s);  // "random" / "sequential" / ...

struct TrainingArguments {
    std::string output_dir = "trainer_output";
    bool overwrite_output_dir = false;
    bool do_train = false;
    bool do_eval = false;
    bool do_predict = false;
    double num_train_epochs = 3.0;  // fractional allowed
    int64_t max_steps = -1;         // > 0 overrides num_train_epochs
    int64_t per_device_train_batch_size = 8;
    int64_t per_device_eval_batch_size = 8;
    int64_t gradient_accumulation_steps = 1;
    double learning_rate = 5e-5;
    double weight_decay = 0.0;
    double adam_beta1 = 0.9;
    double adam_beta2 = 0.999;
    double adam_epsilon = 1e-8;
    std::string optim = "adamw_torch";  // or "adamw_hf"
    double max_grad_norm = 1.0;
    std::string lr_scheduler_type = "linear";  // linear, cosine, constant, constant_with_warmup
    double warmup_steps = 0;                   // >= 1: steps; (0, 1): a ratio of all steps (HF 5.x)
    double warmup_ratio = 0.0;
    IntervalStrategy eval_strategy = IntervalStrategy::NO;  // alias evaluation_strategy
    std::optional<double> eval_steps{};  // an integer, or a ratio of max_steps when < 1
    SaveStrategy save_strategy = SaveStrategy::STEPS;
    double save_steps = 500;
    std::optional<int64_t> save_total_limit{};
    bool load_best_model_at_end = false;
    std::optional<std::string> metric_for_best_model{};  // "eval_" prefix optional
    std::optional<bool> greater_is_better{};             // inferred by finalize()
    IntervalStrategy logging_strategy = IntervalStrategy::STEPS;
    double logging_steps = 500;
    bool logging_first_step = false;
    int64_t seed = 42;
    std::optional<int64_t> data_seed{};  // the sampler's seed; seed when unset
    SamplingStrategy train_sampling_strategy = SamplingStrategy::RANDOM;  // group_by_length alias
    bool bf16 = false;                   // bf16 autocast (CPU; check_bf16_support)
    bool bf16_full_eval = false;         // evaluation and prediction in bf16
    std::optional<bool> tf32{};          // TF32 GEMMs on a GPU; unset: off, as torch's default
    bool use_cpu = false;                // train on the CPU even where a GPU can be used
    bool no_cuda = false;                // HF's deprecated name of use_cpu (finalize() maps it)
    std::optional<bool> disable_tqdm{};  // finalize(): false
    std::vector<std::string> report_to = {"none"};
    std::optional<std::string>
        resume_from_checkpoint{};  // a path, or "true": the latest checkpoint

    // HF's TrainingArguments.__post_init__: resolves aliases and inferred values (do_eval from
    // eval_strategy, eval_steps from logging_steps, metric_for_best_model "loss" when
    // load_best_model_at_end, greater_is_better from the metric's name) and applies HF's
    // consistency rules with HF's messages (ft::Error). Returns warnings to print.
    std::vector<std::string> finalize();
    // Steps given as a ratio (< 1) become ceil(ratio * max_steps), as Trainer.train does (its
    // TrainerState.compute_steps); an unset eval_steps gives TrainerState's default, 500.
    int64_t resolved_logging_steps(int64_t max_steps) const;
    int64_t resolved_eval_steps(int64_t max_steps) const;
    int64_t resolved_save_steps(int64_t max_steps) const;
};

// Where training runs, as HF's TrainingArguments.device picks it: the CPU with use_cpu (no_cuda
// is mapped onto it by finalize()), else the first GPU when one can be used, else the CPU.
// gpu_count is how many GPUs this process can use (ft::cuda::device_count() for the first form).
Device choose_device(const TrainingArguments& args);
Device choose_device(const TrainingArguments& args, int gpu_count);
// Throws, in one line, when --bf16 / --bf16_full_eval cannot run where training runs: HF's
// refusal without use_cpu on a machine with no bf16 GPU, the GPU (whose bf16 path is not built
// yet), or a CPU without bf16 GEMM instructions (cpu_missing: what it lacks, "" when it has them).
void check_bf16_support(const TrainingArguments& args, Device device, int gpu_count,
                        const std::string& cpu_missing);
// The same for this machine.
void check_bf16_support(const TrainingArguments& args, Device device);

// One argument: its HF name, accepted aliases, how to read and write it as text.
struct ArgumentSpec {
    std::string name;                  // "learning_rate"
    std::vector<std::string> aliases;  // e.g. "evaluation_strategy", "group_by_length"
    std::string type;  // "int", "float", "bool", "str", "choice", "list", "optional ..."
    std::vector<std::string> choices;  // for "choice"
    std::string help;
    bool is_bool = false;  // `--flag` alone means true; `--flag false` also accepted
    // The aliases among `aliases` that take a boolean rather than this argument's own values:
    // `--group_by_length` (alone or with true/false) sets train_sampling_strategy; set() is
    // called with "true" / "false" for them.
    std::vector<std::string> bool_aliases;
    // The current value as the CLI/JSON text ("" for unset optionals).
    std::function<std::string(const TrainingArguments&)> get;
    // Parses `value`; throws ft::Error naming the argument and the bad value.
    std::function<void(TrainingArguments&, const std::string& value)> set;
};
const std::vector<ArgumentSpec>& training_argument_specs();

// A JSON object of argument names (aliases accepted) -> values; unknown keys are an ft::Error
// naming the key and `source`. Values not given keep their defaults. Not finalized.
TrainingArguments training_arguments_from_json(const std::string& json_text,
                                               const std::string& source);
// training_args.json: every argument in declaration order (HF's to_json_string layout).
std::string training_arguments_to_json(const TrainingArguments& args);

}  // namespace ft
