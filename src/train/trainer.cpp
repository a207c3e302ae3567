// HF's Trainer loop: steps per epoch with gradient accumulation, HF's flow of logging /
// evaluation / saving (DefaultFlowCallback), the best checkpoint, rotation, exact resume from a
// checkpoint, SIGINT/SIGTERM handling, evaluate() and predict(), on the device HF would pick.
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <numeric>

#include "core/device_cuda.h"
#include "finetune/trainer.h"
#include "ops/context.h"
#include "train/checkpoint.h"
#include "train/progress.h"

namespace ft {

namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int sig) {
    g_stop_signal = sig;
}

// Installs the SIGINT/SIGTERM handlers for the duration of train() and restores the old ones.
class SignalGuard {
  public:
    SignalGuard() {
        g_stop_signal = 0;
        struct sigaction sa;
        std::memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_stop_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &old_int_);
        sigaction(SIGTERM, &sa, &old_term_);
    }
    ~SignalGuard() {
        sigaction(SIGINT, &old_int_, nullptr);
        sigaction(SIGTERM, &old_term_, nullptr);
    }

  private:
    struct sigaction old_int_, old_term_;
};

double seconds_since(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

double round_to(double v, int digits) {
    const double f = std::pow(10.0, digits);
    return std::nearbyint(v * f) / f;  // Python's round: half to even on the scaled value
}

// transformers' speed_metrics.
void add_speed_metrics(std::map<std::string, double>& m, LogEntry* entry, const std::string& split,
                       double runtime, double samples, double steps) {
    const double rt = round_to(runtime, 4);
    std::vector<std::pair<std::string, double>> kv = {{split + "_runtime", rt}};
    if (runtime > 0) {
        kv.emplace_back(split + "_samples_per_second", round_to(samples / runtime, 3));
        kv.emplace_back(split + "_steps_per_second", round_to(steps / runtime, 3));
    }
    for (auto& [k, v] : kv) {
        m[k] = v;
        if (entry) entry->set(k, v);
    }
}

// A different but reproducible sampler seed for every epoch.
uint64_t epoch_seed(int64_t data_seed, int64_t epoch) {
    uint64_t z =
        static_cast<uint64_t>(data_seed) + 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(epoch + 1);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

std::string python_logs_repr(const LogEntry& e) {
    std::string s = "{";
    bool first = true;
    for (const auto& [k, v] : e.values) {
        if (!first) s += ", ";
        first = false;
        s += "'" + k + "': ";
        if (!v)
            s += "None";
        else if (k == "step")
            s += std::to_string(static_cast<int64_t>(*v));
        else
            s += python_float_repr(*v);
    }
    return s + "}";
}

}  // namespace

// ---------------------------------------------------------------------------------------------

void EarlyStoppingCallback::on_train_begin(const TrainingArguments& args, TrainerState& state,
                                           TrainerControl&) {
    if (!args.load_best_model_at_end)
        throw Error("EarlyStoppingCallback requires load_best_model_at_end = true");
    if (!args.metric_for_best_model)
        throw Error("EarlyStoppingCallback requires metric_for_best_model to be set");
    if (args.eval_strategy == IntervalStrategy::NO)
        throw Error("EarlyStoppingCallback requires an eval_strategy of steps or epoch");
    state.early_stopping_patience = patience_;
    state.early_stopping_threshold = threshold_;
}

void EarlyStoppingCallback::on_evaluate(const TrainingArguments& args, TrainerState& state,
                                        TrainerControl& control,
                                        const std::map<std::string, double>& metrics) {
    std::string key = args.metric_for_best_model.value_or("loss");
    if (key.rfind("eval_", 0) != 0) key = "eval_" + key;
    auto it = metrics.find(key);
    if (it == metrics.end()) {
        log_warning("early stopping required metric_for_best_model, but did not find " + key +
                    " so early stopping is disabled");
        return;
    }
    const double v = it->second;
    const bool greater = args.greater_is_better.value_or(true);
    const bool better =
        !state.best_metric || (greater ? v > *state.best_metric : v < *state.best_metric);
    if (better && (!state.best_metric || std::fabs(v - *state.best_metric) > threshold_))
        state.early_stopping_patience_counter = 0;
    else
        state.early_stopping_patience_counter += 1;
    if (state.early_stopping_patience_counter >= patience_) control.should_training_stop = true;
}

// ---------------------------------------------------------------------------------------------

struct Trainer::Impl {
    Trainer& self;
    PretrainedModel& model;
    const Dataset* train_ds;
    const Dataset* eval_ds;
    const Tokenizer* tokenizer;
    MetricSpec metric;
    std::vector<std::shared_ptr<TrainerCallback>> callbacks;
    std::unique_ptr<SequenceClassifier> engine;
    bool epoch_known = false;  // HF's state.epoch is None until training starts

    // Where the model runs (choose_device). On a GPU the engine reads a training copy of the
    // weights in GPU memory, next to the gradients and the moments; the caller's model.weights
    // stay the host copy, which every save and the end of train() bring up to date.
    Device device = Device::CPU;
    std::unique_ptr<ModelWeights> gpu_weights;
    bool device_ahead = false;  // the GPU copy holds updates the host copy lacks
    // bf16 autocast (--bf16, --bf16_full_eval): the bf16 copy of weights() the engine's GEMMs
    // read. In training AdamW rewrites it with every update; outside, each evaluation makes it
    // again (the weights may have changed: the best model loaded, the caller's edits).
    std::unique_ptr<Bf16Weights> bf16_copy;
    bool in_train = false;

    // Training loop state that is not in TrainerState.
    std::unique_ptr<ModelWeights> grads;
    std::unique_ptr<AdamW> optimizer;
    checkpoint::LoopPosition pos;
    std::optional<double> last_grad_norm;
    int64_t warmup = 0;
    SchedulerKind scheduler = SchedulerKind::LINEAR;
    int64_t non_embedding_params = 0;
    std::unique_ptr<ProgressReporter> progress;

    Impl(Trainer& t, PretrainedModel& m) : self(t), model(m) {}

    const TrainingArguments& args() const { return self.args_; }
    TrainerState& state() { return self.state_; }
    const TrainerState& state() const { return self.state_; }

    SequenceClassifier& get_engine() {
        if (!engine)
            engine = std::make_unique<SequenceClassifier>(model.config, weights(),
                                                          args().tf32.value_or(false));
        return *engine;
    }

    // ---- the weights on the training device ----
    // The copy the engine reads and the optimizer updates: model.weights on the CPU.
    ModelWeights& weights() {
        if (device == Device::CPU) return model.weights;
        if (!gpu_weights) gpu_weights = std::make_unique<ModelWeights>(model.weights.to(device));
        return *gpu_weights;
    }
    // Whole-buffer copies run on the default stream: the engine's queued work goes first.
    void sync_engine() const {
        if (engine && device != Device::CPU) cuda::synchronize(engine->context().stream);
    }
    // model.weights brought up to date: before a save, and when train() returns or throws.
    void weights_to_host() {
        if (!device_ahead) return;
        sync_engine();
        model.weights.copy_from(*gpu_weights);
        device_ahead = false;
    }
    // The GPU copy made equal to model.weights where those are the model: when a run starts
    // (after a resume loaded them) and for an evaluation outside a run (the caller may have
    // changed them, e.g. the best model loaded at the end). Mid-run the GPU copy is the model.
    void weights_to_device() {
        if (device == Device::CPU || device_ahead) return;
        ModelWeights& w = weights();
        sync_engine();
        w.copy_from(model.weights);
    }

    // The engine's precision for what comes next, as HF's: every forward under autocast with
    // --bf16; bf16 evaluation outside training with --bf16_full_eval (HF casts the whole model
    // there; here it is autocast too, see docs/bf16-autocast.md).
    void set_precision() {
        const bool bf16 = args().bf16 || (!in_train && args().bf16_full_eval);
        SequenceClassifier& eng = get_engine();
        if (!bf16) return eng.set_autocast_bf16(nullptr);
        if (!bf16_copy)
            bf16_copy = std::make_unique<Bf16Weights>(weights());
        else if (!in_train)
            bf16_copy->refresh(weights());
        eng.set_autocast_bf16(bf16_copy.get());
    }

    // ---- callbacks, with the handler's resets of HF's CallbackHandler ----
    template <typename F>
    void each(F f) {
        for (auto& cb : callbacks) f(*cb);
    }
    void on_step_begin() {
        auto& c = state().control;
        c.should_log = c.should_evaluate = c.should_save = false;
        each([&](TrainerCallback& cb) { cb.on_step_begin(args(), state(), c); });
    }
    void default_flow_step_end() {
        auto& c = state().control;
        const auto& a = args();
        const auto& s = state();
        if (s.global_step == 1 && a.logging_first_step) c.should_log = true;
        if (a.logging_strategy == IntervalStrategy::STEPS && s.global_step % s.logging_steps == 0)
            c.should_log = true;
        if (a.eval_strategy == IntervalStrategy::STEPS && s.global_step % s.eval_steps == 0)
            c.should_evaluate = true;
        if (a.save_strategy == SaveStrategy::STEPS && s.save_steps > 0 &&
            s.global_step % s.save_steps == 0)
            c.should_save = true;
        if (s.global_step >= s.max_steps) {
            c.should_training_stop = true;
            if (a.save_strategy == SaveStrategy::STEPS) c.should_save = true;
        }
    }
    void on_step_end() {
        default_flow_step_end();
        each([&](TrainerCallback& cb) { cb.on_step_end(args(), state(), state().control); });
    }
    void on_epoch_end() {
        auto& c = state().control;
        if (args().logging_strategy == IntervalStrategy::EPOCH) c.should_log = true;
        if (args().eval_strategy == IntervalStrategy::EPOCH) c.should_evaluate = true;
        if (args().save_strategy == SaveStrategy::EPOCH) c.should_save = true;
        each([&](TrainerCallback& cb) { cb.on_epoch_end(args(), state(), c); });
    }

    void log(LogEntry entry) {
        if (epoch_known) entry.set("epoch", state().epoch);
        entry.set("step", static_cast<double>(state().global_step));
        state().log_history.push_back(entry);
        state().control.should_log = false;
        each([&](TrainerCallback& cb) { cb.on_log(args(), state(), state().control, entry); });
        LogEntry shown = entry;  // HF prints the logs without the step
        shown.values.pop_back();
        if (progress)
            progress->write_line(python_logs_repr(shown));
        else {
            std::printf("%s\n", python_logs_repr(shown).c_str());
            std::fflush(stdout);
        }
    }

    // ---- data ----
    int64_t train_batches_per_epoch() const {
        const int64_t bs = args().per_device_train_batch_size;
        return (train_ds->num_rows() + bs - 1) / bs;
    }
    int64_t updates_per_epoch() const {
        const int64_t gas = args().gradient_accumulation_steps;
        return std::max<int64_t>(1, (train_batches_per_epoch() + gas - 1) / gas);
    }
    std::vector<int64_t> epoch_order(int64_t epoch) const {
        const int64_t n = train_ds->num_rows();
        const int64_t data_seed = args().data_seed.value_or(args().seed);
        switch (args().train_sampling_strategy) {
            case SamplingStrategy::SEQUENTIAL:
                return sequential_sampler(n);
            case SamplingStrategy::RANDOM:
                return random_sampler(n, epoch_seed(data_seed, epoch));
            case SamplingStrategy::GROUP_BY_LENGTH: {
                const auto lengths = list_lengths(*train_ds, "input_ids");
                return group_by_length_sampler(lengths, args().per_device_train_batch_size,
                                               epoch_seed(data_seed, epoch));
            }
        }
        return sequential_sampler(n);
    }
    // Training stopped on a non-finite value: what became NaN or inf, where (1-based step, epoch
    // and batch), and what to try.
    Error stopped_at(const char* what, double value, int64_t epoch, int64_t batch_1based,
                     const std::string& why_and_advice) const {
        char buf[256];
        std::snprintf(buf, sizeof buf,
                      "the %s became %s at optimizer step %lld (epoch %lld, batch %lld)", what,
                      std::isnan(value) ? "NaN" : "inf",
                      static_cast<long long>(state().global_step + 1),
                      static_cast<long long>(epoch + 1), static_cast<long long>(batch_1based));
        return Error(buf + why_and_advice);
    }
    // `batch`: the window's last batch, already counted past (0-based index + 1).
    Error nonfinite_gradients(double norm, int64_t epoch, int64_t batch) const {
        return stopped_at("gradient norm", norm, epoch, batch,
                          " although the loss was finite: the backward pass overflowed. The "
                          "weights are left as they were before this step. Try a lower "
                          "--learning_rate (now " +
                              format_g(args().learning_rate) +
                              ") or check the labels for extreme values");
    }
    // `batch`: the 0-based index of the batch whose loss it was.
    Error diverged(double loss, int64_t epoch, int64_t batch) const {
        return stopped_at("training loss", loss, epoch, batch + 1,
                          ": the weights or the optimizer state hold NaN or inf. Try a lower "
                          "--learning_rate (now " +
                              format_g(args().learning_rate) + "), a larger --adam_epsilon (now " +
                              format_g(args().adam_epsilon) +
                              "), gradient clipping (--max_grad_norm 1.0), or check the "
                              "checkpoint resumed from");
    }
    static std::string format_g(double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", v);
        return buf;
    }

    // Sized from the largest batch the data can make, not the argument: a batch size of 1e9 on
    // 32 rows is a batch of 32.
    void reserve_for(const Dataset& ds, int64_t batch_size) {
        const auto lengths = list_lengths(ds, "input_ids");
        const int64_t max_len =
            lengths.empty() ? 1 : *std::max_element(lengths.begin(), lengths.end());
        const int64_t rows = std::max<int64_t>(1, std::min(batch_size, ds.num_rows()));
        get_engine().reserve(rows * max_len, rows, max_len);
    }

    // ---- evaluation ----
    struct EvalResult {
        std::map<std::string, double> metrics;  // unprefixed: loss + metric keys
        std::vector<float> logits;
        std::vector<int64_t> label_ids;
        std::vector<float> float_labels;
        std::vector<int64_t> token_offsets{0};  // token classification: row r's logits rows
        int64_t rows = 0, batches = 0;
    };
    EvalResult run_eval(const Dataset& ds, bool keep_logits, const std::string& desc) {
        EvalResult r;
        set_precision();
        auto& eng = get_engine();
        const int64_t bs = args().per_device_eval_batch_size;
        reserve_for(ds, bs);
        const int64_t n = ds.num_rows();
        const int64_t K = model.config.num_labels();
        // What HF calls compute_metrics: the spec's metric object, fed every batch.
        const std::unique_ptr<EvalMetric> scorer = metric.make();
        double loss_sum = 0.0;
        bool has_loss = false, saw_labels = false;
        ProgressReporter bar(!args().disable_tqdm.value_or(false) && n > 0, desc,
                             /*plain_lines=*/false);
        const int64_t total_batches = (n + bs - 1) / bs;
        bar.start(total_batches);
        std::vector<int64_t> idx;
        for (int64_t start = 0; start < n; start += bs) {
            const int64_t end = std::min(n, start + bs);
            idx.resize(static_cast<size_t>(end - start));
            std::iota(idx.begin(), idx.end(), start);
            const PackedBatch batch = collate_packed(ds, idx);
            const double loss = eng.forward(batch, /*train=*/false);
            const int64_t B = batch.num_sequences();
            if (!std::isnan(loss) || !batch.labels.empty() || !batch.targets.empty()) {
                loss_sum += loss * static_cast<double>(B);
                has_loss = true;
            }
            saw_labels = saw_labels || !batch.labels.empty() || !batch.targets.empty();
            const float* logits = eng.logits();
            const int64_t rows = eng.logit_rows();  // B, or T for token classification
            const bool per_token = model.config.task == ModelTask::TOKEN_CLASSIFICATION;
            if (scorer)
                scorer->add_batch({std::span<const float>(logits, static_cast<size_t>(rows * K)),
                                   rows, K, batch.labels, batch.targets,
                                   per_token ? std::span<const int32_t>(batch.offsets)
                                             : std::span<const int32_t>()});
            if (keep_logits) {
                if (per_token)  // where each row's tokens start in r.logits, counted in tokens
                    for (int64_t b = 0; b < B; ++b)
                        r.token_offsets.push_back(r.token_offsets.back() + batch.offsets[b + 1] -
                                                  batch.offsets[b]);
                r.logits.insert(r.logits.end(), logits, logits + rows * K);
                r.label_ids.insert(r.label_ids.end(), batch.labels.begin(), batch.labels.end());
                r.float_labels.insert(r.float_labels.end(), batch.targets.begin(),
                                      batch.targets.end());
            }
            r.batches += 1;
            bar.update(r.batches);
        }
        bar.finish();
        r.rows = n;
        if (has_loss && n > 0) r.metrics["loss"] = loss_sum / static_cast<double>(n);
        const bool labelled = saw_labels || ds.has_column("label") || ds.has_column("labels");
        if (scorer && labelled && n > 0)
            for (const auto& [k, v] : scorer->compute()) r.metrics[k] = v;
        return r;
    }

    std::map<std::string, double> evaluate(const Dataset& ds, const std::string& prefix) {
        const auto t0 = std::chrono::steady_clock::now();
        EvalResult r = run_eval(ds, false, "Evaluating");
        std::map<std::string, double> out;
        LogEntry entry;
        // HF's order: <prefix>_loss first, then the metric keys, then the speed metrics.
        if (r.metrics.count("loss")) {
            out[prefix + "_loss"] = r.metrics["loss"];
            entry.set(prefix + "_loss", r.metrics["loss"]);
        }
        for (const auto& [k, v] : r.metrics) {
            if (k == "loss") continue;
            out[prefix + "_" + k] = v;
            entry.set(prefix + "_" + k, v);
        }
        const double steps = static_cast<double>((r.rows + args().per_device_eval_batch_size - 1) /
                                                 args().per_device_eval_batch_size);
        add_speed_metrics(out, &entry, prefix, seconds_since(t0), static_cast<double>(r.rows),
                          steps);
        log(entry);
        if (epoch_known) out["epoch"] = state().epoch;
        state().control.should_evaluate = false;
        each([&](TrainerCallback& cb) { cb.on_evaluate(args(), state(), state().control, out); });
        return out;
    }

    // HF's _determine_best_metric: strict improvement; a tie keeps the earlier checkpoint.
    bool determine_best(const std::map<std::string, double>& metrics) {
        if (!args().metric_for_best_model) return false;
        std::string key = *args().metric_for_best_model;
        if (key.rfind("eval_", 0) != 0) key = "eval_" + key;
        auto it = metrics.find(key);
        if (it == metrics.end()) {
            std::string avail;
            for (const auto& kv : metrics) avail += (avail.empty() ? "" : ", ") + kv.first;
            throw Error("The metric_for_best_model training argument is set to '" + key +
                        "', which is not found in the evaluation metrics. The available "
                        "evaluation metrics are: " +
                        avail);
        }
        const bool greater = args().greater_is_better.value_or(true);
        const double best = state().best_metric.value_or(greater ? -INFINITY : INFINITY);
        const double v = it->second;
        if (greater ? v > best : v < best) {
            state().best_metric = v;
            state().best_global_step = state().global_step;
            state().best_model_checkpoint = (fs::path(args().output_dir) /
                                             ("checkpoint-" + std::to_string(state().global_step)))
                                                .string();
            return true;
        }
        return false;
    }

    // ---- checkpoints ----
    fs::path save_checkpoint() {
        // save_model writes model.weights: on a GPU it downloads them first.
        const fs::path run_dir = args().output_dir;
        const fs::path dir = run_dir / ("checkpoint-" + std::to_string(state().global_step));
        checkpoint::commit_directory(dir, [&](const fs::path& tmp) {
            self.save_model(tmp);
            checkpoint::save_optimizer(tmp / "optimizer.safetensors", model.weights, *optimizer);
            write_scheduler_state(tmp / "scheduler.json");
            write_text_atomic(tmp / "finetune_state.json", checkpoint::position_to_json(pos));
            write_text_atomic(tmp / "trainer_state.json", state().to_json());
        });
        if (args().save_total_limit)
            checkpoint::rotate_checkpoints(run_dir, *args().save_total_limit,
                                           state().best_model_checkpoint);
        return dir;
    }
    void write_scheduler_state(const fs::path& path) {
        const double lr_next = current_lr(state().global_step);
        std::string s = "{\n  \"lr_scheduler_type\": \"" + args().lr_scheduler_type +
                        "\",\n  \"last_epoch\": " + std::to_string(state().global_step) +
                        ",\n  \"base_lr\": " + python_float_repr(args().learning_rate) +
                        ",\n  \"warmup_steps\": " + std::to_string(warmup) +
                        ",\n  \"num_training_steps\": " + std::to_string(state().max_steps) +
                        ",\n  \"last_lr\": " + python_float_repr(lr_next) + "\n}\n";
        write_text_atomic(path, s);
    }
    double current_lr(int64_t scheduler_step) const {
        return args().learning_rate *
               lr_multiplier(scheduler, scheduler_step, warmup, self.state_.max_steps);
    }

    void maybe_log_save_evaluate() {
        auto& c = state().control;
        if (c.should_log && state().global_step > pos.globalstep_last_logged) {
            const int64_t steps = state().global_step - pos.globalstep_last_logged;
            const double tr = static_cast<double>(pos.tr_loss);
            LogEntry e;
            // Current HF (v5): the loss unrounded, and the lr the last step used (4.8.2 rounded
            // the loss to 4 decimals and logged the next step's lr).
            e.set("loss", tr / static_cast<double>(steps));
            e.set("grad_norm", last_grad_norm);
            e.set("learning_rate", current_lr(state().global_step - 1));
            pos.total_loss += tr;
            pos.tr_loss = 0.0f;
            pos.globalstep_last_logged = state().global_step;
            log(e);
        }
        std::map<std::string, double> metrics;
        if (c.should_evaluate) {
            metrics = evaluate(*eval_ds, "eval");
            const bool is_best = determine_best(metrics);
            if (args().save_strategy == SaveStrategy::BEST) c.should_save = is_best;
        }
        if (c.should_save) {
            save_checkpoint();
            c.should_save = false;
            each([&](TrainerCallback& cb) { cb.on_save(args(), state(), c); });
        }
    }

    // A loop position this run could have written: inside an epoch of this training set, with
    // the update count and the logging mark that position implies.
    void check_position(const checkpoint::LoopPosition& p, const TrainerState& loaded,
                        const fs::path& file) const {
        const int64_t per_epoch = train_batches_per_epoch();
        const int64_t gas = args().gradient_accumulation_steps;
        auto fail = [&](const std::string& what) {
            throw Error("resume_from_checkpoint: " + file.string() + ": " + what +
                        " (corrupt, or from another run)");
        };
        if (p.epoch < 0 || p.epoch > (int64_t{1} << 31))
            fail("epoch " + std::to_string(p.epoch) + " is not a possible epoch");
        if (p.batch_in_epoch < 0 || p.batch_in_epoch > per_epoch)
            fail("batch_in_epoch " + std::to_string(p.batch_in_epoch) + " is outside 0.." +
                 std::to_string(per_epoch) + " (the batches of an epoch of this training set)");
        if (p.micro_steps != p.epoch * per_epoch + p.batch_in_epoch)
            fail("micro_steps " + std::to_string(p.micro_steps) + " is not epoch " +
                 std::to_string(p.epoch) + " x " + std::to_string(per_epoch) +
                 " batches + batch_in_epoch " + std::to_string(p.batch_in_epoch));
        const int64_t updates = p.epoch * updates_per_epoch() + (p.batch_in_epoch + gas - 1) / gas;
        if (loaded.global_step != updates)
            fail("the position makes " + std::to_string(updates) +
                 " optimizer updates, but trainer_state.json says global_step " +
                 std::to_string(loaded.global_step));
        if (p.globalstep_last_logged < 0 || p.globalstep_last_logged > loaded.global_step)
            fail("globalstep_last_logged " + std::to_string(p.globalstep_last_logged) +
                 " is outside 0..global_step " + std::to_string(loaded.global_step));
        if (!std::isfinite(p.tr_loss) || !std::isfinite(p.total_loss))
            fail("the accumulated loss is not finite");
    }

    void resume(const fs::path& dir) {
        if (!fs::is_directory(dir))
            throw Error("resume_from_checkpoint: " + dir.string() + " is not a checkpoint folder");
        for (const char* f : {"model.safetensors", "optimizer.safetensors", "trainer_state.json",
                              "finetune_state.json"})
            if (!fs::exists(dir / f))
                throw Error("resume_from_checkpoint: " + (dir / f).string() +
                            " is missing (not a complete finetune checkpoint)");
        checkpoint::load_weights(dir / "model.safetensors", model.weights);
        checkpoint::load_optimizer(dir / "optimizer.safetensors", model.weights, *optimizer);
        const fs::path state_path = dir / "trainer_state.json";
        TrainerState loaded =
            TrainerState::from_json(read_text_file(state_path), state_path.string());
        const fs::path pos_path = dir / "finetune_state.json";
        pos = checkpoint::position_from_json(read_text_file(pos_path), pos_path.string());
        if (pos.train_rows != train_ds->num_rows() ||
            pos.train_batch_size != args().per_device_train_batch_size ||
            pos.gradient_accumulation_steps != args().gradient_accumulation_steps ||
            pos.seed != args().seed || pos.data_seed != args().data_seed.value_or(args().seed) ||
            pos.sampling != sampling_strategy_name(args().train_sampling_strategy))
            throw Error("resume_from_checkpoint: " + dir.string() +
                        " was made with a different training set, batch size, accumulation, "
                        "seed or sampling (see its finetune_state.json); resuming would not "
                        "continue the same run");
        check_position(pos, loaded, pos_path);
        // Keep what this run computed (max_steps, ...) and take the progress from the file.
        auto& s = state();
        s.epoch = loaded.epoch;
        s.global_step = loaded.global_step;
        s.total_flos = loaded.total_flos;
        s.log_history = std::move(loaded.log_history);
        s.best_metric = loaded.best_metric;
        s.best_global_step = loaded.best_global_step;
        s.best_model_checkpoint = loaded.best_model_checkpoint;
        s.early_stopping_patience_counter = loaded.early_stopping_patience_counter;
        s.control = loaded.control;
        s.control.should_save = s.control.should_log = s.control.should_evaluate = false;
        epoch_known = true;
        log_info("Continuing training from checkpoint " + dir.string() + " (global step " +
                 std::to_string(s.global_step) + ")");
    }

    // ---- train(), phase by phase ----
    // What HF's step accounting gives the loop besides TrainerState's fields.
    struct StepPlan {
        int64_t num_epochs = 0;
        int64_t batches_per_epoch = 0;
        double num_train_samples = 0;  // for train_samples_per_second
    };
    // Where the epoch loop starts: at 0, or inside (or at the end of) a resumed epoch.
    struct LoopStart {
        int64_t first_epoch = 0;
        int64_t skip_batches = 0;
        bool stop = false;
    };
    fs::path resume_dir_of(const std::string& resume_arg, const fs::path& run_dir) const;
    StepPlan plan_steps();
    void begin_training(const fs::path& resume_dir);
    void log_training_header(const StepPlan& plan) const;
    LoopStart loop_start(bool resumed, int64_t batches_per_epoch);
    int64_t optimizer_update(const std::vector<int64_t>& order, int64_t epoch, int64_t step,
                             int64_t batches_per_epoch);
    void check_stop_signal(const fs::path& run_dir);
    TrainOutput end_training(const StepPlan& plan, std::chrono::steady_clock::time_point t0,
                             const fs::path& run_dir);

    TrainOutput train(const std::string& resume_arg);
};

// ---------------------------------------------------------------------------------------------

Trainer::Trainer(PretrainedModel& model, TrainingArguments args, const Dataset* train_dataset,
                 const Dataset* eval_dataset, const Tokenizer* tokenizer, MetricSpec metric)
    : impl_(std::make_unique<Impl>(*this, model)), args_(std::move(args)) {
    for (const auto& w : args_.finalize()) log_warning(w);
    impl_->device = choose_device(args_);
    check_bf16_support(args_, impl_->device);
    impl_->train_ds = train_dataset;
    impl_->eval_ds = eval_dataset;
    impl_->tokenizer = tokenizer;
    impl_->metric = std::move(metric);
    if (args_.eval_strategy != IntervalStrategy::NO && !eval_dataset)
        throw Error("You have set args.eval_strategy to " +
                    std::string(interval_strategy_name(args_.eval_strategy)) +
                    " but you didn't pass an eval_dataset to Trainer. Either set "
                    "args.eval_strategy to no or pass an eval_dataset.");
    state_.train_batch_size = args_.per_device_train_batch_size;
}

Trainer::~Trainer() = default;

void Trainer::add_callback(std::shared_ptr<TrainerCallback> callback) {
    impl_->callbacks.push_back(std::move(callback));
}

void Trainer::save_model(const fs::path& dir) const {
    impl_->weights_to_host();
    fs::create_directories(dir);
    save_pretrained(impl_->model.config, impl_->model.weights, dir);
    if (impl_->tokenizer) impl_->tokenizer->save_pretrained(dir);
    write_text_atomic(dir / "training_args.json", training_arguments_to_json(args_));
}

void Trainer::save_state() const {
    fs::create_directories(args_.output_dir);
    write_text_atomic(fs::path(args_.output_dir) / "trainer_state.json", state_.to_json());
}

std::map<std::string, double> Trainer::evaluate(const Dataset* dataset,
                                                const std::string& metric_key_prefix) {
    const Dataset* ds = dataset ? dataset : impl_->eval_ds;
    if (!ds) throw Error("Trainer: evaluation requires an eval_dataset");
    impl_->weights_to_device();
    return impl_->evaluate(*ds, metric_key_prefix);
}

PredictionOutput Trainer::predict(const Dataset& dataset, const std::string& prefix) {
    const auto t0 = std::chrono::steady_clock::now();
    impl_->weights_to_device();
    Impl::EvalResult r = impl_->run_eval(dataset, true, "Predicting");
    PredictionOutput out;
    out.predictions = std::move(r.logits);
    out.num_rows = r.rows;
    out.num_labels = impl_->model.config.num_labels();
    out.label_ids = std::move(r.label_ids);
    out.float_labels = std::move(r.float_labels);
    if (impl_->model.config.task == ModelTask::TOKEN_CLASSIFICATION)
        out.token_offsets = std::move(r.token_offsets);
    for (const auto& [k, v] : r.metrics) out.metrics[prefix + "_" + k] = v;
    const double steps = static_cast<double>((r.rows + args_.per_device_eval_batch_size - 1) /
                                             args_.per_device_eval_batch_size);
    add_speed_metrics(out.metrics, nullptr, prefix, seconds_since(t0), static_cast<double>(r.rows),
                      steps);
    return out;
}

TrainOutput Trainer::train(const std::string& resume_from_checkpoint) {
    return impl_->train(resume_from_checkpoint.empty() ? args_.resume_from_checkpoint.value_or("")
                                                       : resume_from_checkpoint);
}

// Resume: the checkpoint to continue from (empty for a fresh start), resolved before the output
// folder is touched; a folder that already holds checkpoints needs --overwrite_output_dir.
fs::path Trainer::Impl::resume_dir_of(const std::string& resume_arg,
                                      const fs::path& run_dir) const {
    fs::path resume_dir;
    if (resume_arg == "true" || resume_arg == "latest" || resume_arg == "True") {
        resume_dir = get_last_checkpoint(run_dir);
        if (resume_dir.empty())
            throw Error("resume_from_checkpoint: no valid checkpoint found in output directory (" +
                        run_dir.string() + ")");
    } else if (!resume_arg.empty() && resume_arg != "false" && resume_arg != "False") {
        resume_dir = resume_arg;
    }
    if (resume_dir.empty() && !args().overwrite_output_dir && !get_last_checkpoint(run_dir).empty())
        throw Error("Output directory (" + run_dir.string() +
                    ") already exists and holds checkpoints. Use --overwrite_output_dir to "
                    "overwrite it, or --resume_from_checkpoint to continue training.");
    return resume_dir;
}

// Step accounting, as HF's: max_steps (given, or epochs × updates per epoch with gradient
// accumulation), the epoch count, the resolved logging / eval / save steps and the schedule.
Trainer::Impl::StepPlan Trainer::Impl::plan_steps() {
    const auto& a = args();
    auto& s = state();
    const int64_t gas = a.gradient_accumulation_steps;
    const int64_t upe = updates_per_epoch();
    StepPlan plan;
    plan.batches_per_epoch = train_batches_per_epoch();
    if (a.max_steps > 0) {
        s.max_steps = a.max_steps;
        plan.num_epochs = a.max_steps / upe + (a.max_steps % upe > 0 ? 1 : 0);
        plan.num_train_samples =
            static_cast<double>(a.max_steps * a.per_device_train_batch_size * gas);
    } else {
        s.max_steps =
            static_cast<int64_t>(std::ceil(a.num_train_epochs * static_cast<double>(upe)));
        plan.num_epochs = static_cast<int64_t>(std::ceil(a.num_train_epochs));
        plan.num_train_samples = static_cast<double>(train_ds->num_rows()) * a.num_train_epochs;
    }
    if (s.max_steps <= 0) throw Error("Trainer.train(): nothing to train (max_steps is 0)");
    s.num_train_epochs = plan.num_epochs;
    s.logging_steps = a.resolved_logging_steps(s.max_steps);
    s.eval_steps = a.resolved_eval_steps(s.max_steps);
    s.save_steps = a.resolved_save_steps(s.max_steps);
    s.train_batch_size = a.per_device_train_batch_size;
    warmup = warmup_steps_for(a.warmup_steps, a.warmup_ratio, s.max_steps);
    scheduler = scheduler_from_name(a.lr_scheduler_type);
    non_embedding_params = 0;
    for (const auto& spec : model.weights.specs())
        if (spec.kind != ParamKind::EMBEDDING) non_embedding_params += spec.shape.numel();
    return plan;
}

// The optimizer, the gradients and the loop position of a fresh run; the callbacks'
// on_train_begin; then the checkpoint's weights, moments and progress when resuming.
void Trainer::Impl::begin_training(const fs::path& resume_dir) {
    const auto& a = args();
    auto& s = state();
    AdamWSettings opt;
    opt.beta1 = a.adam_beta1;
    opt.beta2 = a.adam_beta2;
    opt.eps = a.adam_epsilon;
    opt.weight_decay = a.weight_decay;
    opt.kind = optimizer_from_name(a.optim);
    // The moments and the gradients live beside the engine's weights, and the optimizer runs on
    // the engine's context (on a GPU: the same stream as the backward it follows).
    optimizer = std::make_unique<AdamW>(weights(), opt, get_engine().context());
    grads = std::make_unique<ModelWeights>(model.config, device);
    grads->zero();
    reserve_for(*train_ds, a.per_device_train_batch_size);

    pos = {};
    pos.seed = a.seed;
    pos.data_seed = a.data_seed.value_or(a.seed);
    pos.sampling = std::string(sampling_strategy_name(a.train_sampling_strategy));
    pos.train_rows = train_ds->num_rows();
    pos.train_batch_size = a.per_device_train_batch_size;
    pos.gradient_accumulation_steps = a.gradient_accumulation_steps;
    s.control = {};
    for (auto& cb : callbacks) cb->on_train_begin(a, s, s.control);
    if (!resume_dir.empty()) resume(resume_dir);
    // The run starts from model.weights (as loaded from a checkpoint, which either device wrote).
    weights_to_device();
    in_train = true;
    if (bf16_copy) bf16_copy->refresh(weights());  // a resume may have loaded other weights
    set_precision();
    epoch_known = true;
}

void Trainer::Impl::log_training_header(const StepPlan& plan) const {
    const auto& a = args();
    log_info("***** Running training *****");
    log_info("  Num examples = " + std::to_string(train_ds->num_rows()));
    log_info("  Num Epochs = " + std::to_string(plan.num_epochs));
    log_info("  Instantaneous batch size per device = " +
             std::to_string(a.per_device_train_batch_size));
    log_info("  Gradient Accumulation steps = " + std::to_string(a.gradient_accumulation_steps));
    log_info("  Total optimization steps = " + std::to_string(state().max_steps));
    log_info("  Number of trainable parameters = " + std::to_string(model.weights.numel()));
    if (device == Device::CUDA)
        log_info("training on cuda:0 (" + cuda::device_description(0) + ")");
}

// Where to start: a resumed checkpoint may sit at the end of an epoch whose epoch-end
// evaluation and save had not happened yet; they happen here.
Trainer::Impl::LoopStart Trainer::Impl::loop_start(bool resumed, int64_t batches_per_epoch) {
    auto& s = state();
    LoopStart start{pos.epoch, pos.batch_in_epoch,
                    s.control.should_training_stop || s.global_step >= s.max_steps};
    if (resumed && pos.batch_in_epoch >= batches_per_epoch) {
        if (!pos.at_epoch_end) {
            on_epoch_end();
            pos.at_epoch_end = true;
            maybe_log_save_evaluate();
            start.stop = start.stop || s.control.should_training_stop;
        }
        start.first_epoch += 1;
        start.skip_batches = 0;
    }
    return start;
}

// One optimizer update: gradient_accumulation_steps batches from `step` on (or the epoch's
// remainder), clipping, the AdamW step with zero_grad, and HF's step-end flow. Returns the
// batch index after the update.
int64_t Trainer::Impl::optimizer_update(const std::vector<int64_t>& order, int64_t epoch,
                                        int64_t step, int64_t batches_per_epoch) {
    const auto& a = args();
    auto& s = state();
    auto& eng = get_engine();
    const int64_t bs = a.per_device_train_batch_size;
    const int64_t in_update = std::min(a.gradient_accumulation_steps, batches_per_epoch - step);
    on_step_begin();
    for (int64_t k = 0; k < in_update; ++k, ++step) {
        const int64_t begin = step * bs;
        const int64_t end = std::min<int64_t>(begin + bs, static_cast<int64_t>(order.size()));
        const PackedBatch batch = collate_packed(
            *train_ds,
            std::span<const int64_t>(order.data() + begin, static_cast<size_t>(end - begin)));
        const double loss = eng.forward(batch, /*train=*/true, static_cast<uint64_t>(a.seed),
                                        static_cast<uint64_t>(pos.micro_steps));
        // HF would train on with NaN weights (and filter the NaN out of the logged loss);
        // nothing useful can come after it, so stop and say what to change.
        if (!std::isfinite(loss)) throw diverged(loss, epoch, step);
        eng.backward(*grads, 1.0f / static_cast<float>(in_update));
        // HF: tr_loss (float32) += loss / accumulation.
        pos.tr_loss += static_cast<float>(loss) / static_cast<float>(in_update);
        s.total_flos += 6.0 * static_cast<double>(non_embedding_params) *
                        static_cast<double>(batch.num_sequences() * batch.max_length());
        pos.micro_steps += 1;
        pos.batch_in_epoch = step + 1;
    }
    // Clipping and zero_grad ride along with the update: one pass over the gradients.
    float grad_scale = 1.0f;
    last_grad_norm = std::nullopt;
    if (a.max_grad_norm > 0) {
        last_grad_norm = optimizer->grad_norm(*grads);  // on a GPU: one read-back per update
        // torch would write NaN into every weight here; stop while they are intact.
        if (!std::isfinite(*last_grad_norm))
            throw nonfinite_gradients(*last_grad_norm, epoch, step);
        grad_scale = clip_coefficient(*last_grad_norm, a.max_grad_norm);
    }
    optimizer->step_and_zero_grads(weights(), *grads, current_lr(s.global_step), grad_scale,
                                   a.bf16 ? bf16_copy.get() : nullptr);
    device_ahead = device != Device::CPU;
    s.global_step += 1;
    s.epoch = static_cast<double>(epoch) +
              static_cast<double>(step) / static_cast<double>(batches_per_epoch);
    on_step_end();
    maybe_log_save_evaluate();
    progress->update(s.global_step);
    return step;
}

// After SIGINT or SIGTERM: a checkpoint of this step (unless there is one), then
// TrainingInterrupted naming it.
void Trainer::Impl::check_stop_signal(const fs::path& run_dir) {
    if (g_stop_signal == 0) return;
    const int sig = g_stop_signal;
    const int64_t step = state().global_step;
    const fs::path here = run_dir / ("checkpoint-" + std::to_string(step));
    if (!fs::exists(here)) save_checkpoint();
    progress->finish();
    throw TrainingInterrupted(std::string(sig == SIGINT ? "SIGINT" : "SIGTERM") +
                                  " received: stopped after step " + std::to_string(step) +
                                  "; checkpoint saved to " + here.string() +
                                  ". Resume with --resume_from_checkpoint " + here.string(),
                              here, sig);
}

// The epilogue: the best model loaded back, HF's train metrics logged, the last checkpoint
// removed when save_total_limit is 1 and it is not the best, on_train_end.
TrainOutput Trainer::Impl::end_training(const StepPlan& plan,
                                        std::chrono::steady_clock::time_point t0,
                                        const fs::path& run_dir) {
    const auto& a = args();
    auto& s = state();
    if (a.load_best_model_at_end && s.best_model_checkpoint) {
        const fs::path best = *s.best_model_checkpoint;
        log_info("Loading best model from " + best.string() +
                 " (score: " + python_float_repr(s.best_metric.value_or(NAN)) + ").");
        checkpoint::load_weights(best / "model.safetensors", model.weights);
    }
    pos.total_loss += static_cast<double>(pos.tr_loss);
    pos.tr_loss = 0.0f;
    const double train_loss =
        pos.total_loss / std::max<double>(static_cast<double>(s.global_step), 0.001);
    TrainOutput out;
    out.global_step = s.global_step;
    out.training_loss = train_loss;
    LogEntry e;
    add_speed_metrics(out.metrics, &e, "train", seconds_since(t0), plan.num_train_samples,
                      static_cast<double>(s.max_steps));
    e.set("total_flos", s.total_flos);
    e.set("train_loss", train_loss);
    out.metrics["total_flos"] = s.total_flos;
    out.metrics["train_loss"] = train_loss;
    out.metrics["epoch"] = s.epoch;
    log(e);
    if (a.save_total_limit && *a.save_total_limit == 1 && s.best_model_checkpoint) {
        // HF deletes the last checkpoint when it is not the best one and only one is allowed.
        for (const auto& entry : fs::directory_iterator(run_dir)) {
            const std::string n = entry.path().filename().string();
            if (n.rfind("checkpoint-", 0) == 0 &&
                n != fs::path(*s.best_model_checkpoint).filename().string())
                fs::remove_all(entry.path());
        }
    }
    for (auto& cb : callbacks) cb->on_train_end(a, s, s.control);
    return out;
}

TrainOutput Trainer::Impl::train(const std::string& resume_arg) {
    const auto& a = args();
    auto& s = state();
    if (!train_ds) throw Error("Trainer.train() requires a train_dataset");
    if (train_ds->num_rows() == 0) throw Error("Trainer.train(): the training set has no rows");
    const fs::path run_dir = a.output_dir;
    const fs::path resume_dir = resume_dir_of(resume_arg, run_dir);
    fs::create_directories(run_dir);
    checkpoint::remove_stale_temporaries(run_dir);
    const StepPlan plan = plan_steps();
    begin_training(resume_dir);
    log_training_header(plan);
    // However the run ends (an error, a signal), model.weights receive the GPU's weights, as the
    // CPU run would have left them; a download that fails then is logged, not thrown over the
    // error in flight.
    struct HostWeightsOnExit {
        Impl& impl;
        ~HostWeightsOnExit() {
            try {
                impl.weights_to_host();
            } catch (const std::exception& e) {
                log_warning(std::string("could not copy the weights back from the GPU: ") +
                            e.what());
            }
        }
    } host_weights_on_exit{*this};
    struct NotInTrainOnExit {
        bool& in_train;
        ~NotInTrainOnExit() { in_train = false; }
    } not_in_train_on_exit{in_train};

    SignalGuard signals;
    const auto t0 = std::chrono::steady_clock::now();
    progress = std::make_unique<ProgressReporter>(!a.disable_tqdm.value_or(false), "Training");
    progress->start(s.max_steps, s.global_step);
    const LoopStart start = loop_start(!resume_dir.empty(), plan.batches_per_epoch);
    bool stop = start.stop;
    for (int64_t epoch = start.first_epoch; epoch < plan.num_epochs && !stop; ++epoch) {
        const std::vector<int64_t> order = epoch_order(epoch);
        s.control.should_epoch_stop = false;
        for (auto& cb : callbacks) cb->on_epoch_begin(a, s, s.control);
        pos.epoch = epoch;
        pos.at_epoch_end = false;
        int64_t step = epoch == start.first_epoch ? start.skip_batches : 0;
        while (step < plan.batches_per_epoch) {
            step = optimizer_update(order, epoch, step, plan.batches_per_epoch);
            check_stop_signal(run_dir);
            if (s.control.should_epoch_stop || s.control.should_training_stop) break;
        }
        on_epoch_end();
        pos.at_epoch_end = true;
        maybe_log_save_evaluate();
        check_stop_signal(run_dir);
        if (s.control.should_training_stop || s.global_step >= s.max_steps) stop = true;
    }
    progress->finish();
    progress.reset();
    // Before the epilogue, which may load the best checkpoint into model.weights.
    weights_to_host();
    return end_training(plan, t0, run_dir);
}

}  // namespace ft
