// finetune/trainer.h — HF's Trainer: the training loop with HF's step accounting, logging,
// evaluation, checkpoints (HF's folder layout and trainer_state.json), best-model tracking,
// save_total_limit rotation, exact resume, callbacks (early stopping included) and predict().
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "finetune/data.h"
#include "finetune/metrics.h"
#include "finetune/model.h"
#include "finetune/tokenizer.h"
#include "finetune/train.h"

namespace ft {

// One log_history entry: HF's keys in insertion order (loss, grad_norm, learning_rate, epoch,
// step; eval_*; train_*). A NaN value is written as JSON NaN as Python does; "null" values
// (grad_norm without clipping) are kept as std::nullopt.
struct LogEntry {
    std::vector<std::pair<std::string, std::optional<double>>> values;
    void set(const std::string& key, std::optional<double> v);
    std::optional<double> get(const std::string& key) const;
    bool has(const std::string& key) const;
};

// HF's TrainerControl: the flags callbacks set to steer the loop.
struct TrainerControl {
    bool should_training_stop = false;
    bool should_epoch_stop = false;
    bool should_save = false;
    bool should_evaluate = false;
    bool should_log = false;
};

// HF's TrainerState: what trainer_state.json holds.
struct TrainerState {
    double epoch = 0.0;
    int64_t global_step = 0;
    int64_t max_steps = 0;
    int64_t logging_steps = 500;
    int64_t eval_steps = 500;
    int64_t save_steps = 500;
    int64_t train_batch_size = 8;
    int64_t num_train_epochs = 0;
    int64_t num_input_tokens_seen = 0;
    double total_flos = 0.0;
    std::vector<LogEntry> log_history;
    std::optional<double> best_metric;
    std::optional<int64_t> best_global_step;
    std::optional<std::string> best_model_checkpoint;
    // Callback state saved as HF's stateful_callbacks (TrainerControl, EarlyStoppingCallback).
    TrainerControl control;
    std::optional<int64_t> early_stopping_patience;
    double early_stopping_threshold = 0.0;
    int64_t early_stopping_patience_counter = 0;

    std::string to_json() const;  // json.dumps(indent=2, sort_keys=True) + "\n", as HF writes it
    static TrainerState from_json(const std::string& text, const std::string& source);
};

// HF's TrainerCallback: every hook may read the state and set control flags.
class TrainerCallback {
  public:
    virtual ~TrainerCallback() = default;
    virtual void on_train_begin(const TrainingArguments&, TrainerState&, TrainerControl&) {}
    virtual void on_train_end(const TrainingArguments&, TrainerState&, TrainerControl&) {}
    virtual void on_epoch_begin(const TrainingArguments&, TrainerState&, TrainerControl&) {}
    virtual void on_epoch_end(const TrainingArguments&, TrainerState&, TrainerControl&) {}
    virtual void on_step_begin(const TrainingArguments&, TrainerState&, TrainerControl&) {}
    virtual void on_step_end(const TrainingArguments&, TrainerState&, TrainerControl&) {}
    virtual void on_evaluate(const TrainingArguments&, TrainerState&, TrainerControl&,
                             const std::map<std::string, double>& /*metrics*/) {}
    virtual void on_save(const TrainingArguments&, TrainerState&, TrainerControl&) {}
    virtual void on_log(const TrainingArguments&, TrainerState&, TrainerControl&,
                        const LogEntry& /*logs*/) {}
};

// HF's EarlyStoppingCallback: stops after `patience` evaluations without an improvement of the
// metric_for_best_model by more than `threshold`. Needs load_best_model_at_end and a metric.
class EarlyStoppingCallback : public TrainerCallback {
  public:
    explicit EarlyStoppingCallback(int64_t patience = 1, double threshold = 0.0)
        : patience_(patience), threshold_(threshold) {}
    void on_train_begin(const TrainingArguments& args, TrainerState& state,
                        TrainerControl& control) override;
    void on_evaluate(const TrainingArguments& args, TrainerState& state, TrainerControl& control,
                     const std::map<std::string, double>& metrics) override;

  private:
    int64_t patience_;
    double threshold_;
};

// What a training run returns (HF's TrainOutput).
struct TrainOutput {
    int64_t global_step = 0;
    double training_loss = 0.0;
    std::map<std::string, double> metrics;  // train_runtime, train_loss, epoch, total_flos, ...
};

// What predict() returns (HF's PredictionOutput): logits (rows × num_labels) and, when the
// dataset has labels, the metrics under the "test_" prefix. A token classifier's logits have a
// row per token instead, unpadded: dataset row r owns token rows token_offsets[r] ..
// token_offsets[r+1]-1 (HF pads them to (rows, longest, K) with -100); label_ids likewise.
struct PredictionOutput {
    std::vector<float> predictions;
    int64_t num_rows = 0;
    int64_t num_labels = 0;
    std::vector<int64_t> token_offsets;  // (num_rows + 1); token classification only
    std::vector<int64_t> label_ids;
    std::vector<float> float_labels;
    std::map<std::string, double> metrics;
};

// Raised when SIGINT or SIGTERM stopped training: a checkpoint was saved at `checkpoint`.
class TrainingInterrupted : public Error {
  public:
    TrainingInterrupted(const std::string& what, std::filesystem::path checkpoint, int signal)
        : Error(what), checkpoint_(std::move(checkpoint)), signal_(signal) {}
    const std::filesystem::path& checkpoint() const { return checkpoint_; }
    int signal() const { return signal_; }

  private:
    std::filesystem::path checkpoint_;
    int signal_;
};

class Trainer {
  public:
    // `model` is updated in place (and holds the best model after load_best_model_at_end).
    // Datasets hold input_ids (+ token_type_ids) and label / labels, as tokenize_columns makes
    // them; they and the tokenizer must outlive the Trainer. The tokenizer, when given, is saved
    // with every checkpoint. args are finalize()d here; warnings are logged.
    Trainer(PretrainedModel& model, TrainingArguments args, const Dataset* train_dataset,
            const Dataset* eval_dataset, const Tokenizer* tokenizer, MetricSpec metric = {});
    // The seed's form: Trainer(model, args, train_dataset, eval_dataset, tokenizer,
    // data_collator, compute_metrics). The collator's batches are computed packed (same math).
    Trainer(PretrainedModel& model, TrainingArguments args, const Dataset* train_dataset,
            const Dataset* eval_dataset, const Tokenizer* tokenizer,
            const DataCollatorWithPadding* data_collator, ComputeMetrics compute_metrics)
        : Trainer(model, std::move(args), train_dataset, eval_dataset, tokenizer,
                  MetricSpec{"", std::move(compute_metrics)}) {
        (void)data_collator;
    }
    ~Trainer();

    void add_callback(std::shared_ptr<TrainerCallback> callback);

    // resume_from_checkpoint: a checkpoint folder, "true" / "latest" for the newest under
    // output_dir, or empty (args.resume_from_checkpoint, else a fresh start).
    TrainOutput train(const std::string& resume_from_checkpoint = "");
    // The metrics of `dataset` (eval_dataset when null), logged into log_history.
    std::map<std::string, double> evaluate(const Dataset* dataset = nullptr,
                                           const std::string& metric_key_prefix = "eval");
    PredictionOutput predict(const Dataset& dataset, const std::string& metric_key_prefix = "test");

    // save_model: config.json, model.safetensors, tokenizer files and training_args.json.
    void save_model(const std::filesystem::path& dir) const;
    // trainer_state.json into output_dir (HF's save_state).
    void save_state() const;

    const TrainerState& state() const { return state_; }
    const TrainingArguments& args() const { return args_; }

  private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    TrainingArguments args_;
    TrainerState state_;
};

// HF's trainer utilities for output folders.
// The checkpoint-<N> folder with the largest N in `dir`, or empty when there is none.
std::filesystem::path get_last_checkpoint(const std::filesystem::path& dir);
// run_glue's save_metrics: <split>_results.json (indent 4, sorted) and all_results.json merged.
void save_metrics(const std::filesystem::path& output_dir, const std::string& split,
                  const std::map<std::string, double>& metrics);
// run_glue's log_metrics: "***** train metrics *****" and one aligned "  key = value" per line.
std::string format_metrics(const std::string& split, const std::map<std::string, double>& metrics);

}  // namespace ft
