// The Trainer's loop against hand-worked accounting and an independent replay of the same steps
// through the engine's train_step (itself checked against PyTorch): losses, learning rates, grad
// norms, epochs, logging intervals, accumulation, evaluation, the best checkpoint, rotation,
// early stopping, the checkpoint layout, and resume after SIGTERM.
#include <gtest/gtest.h>

#include <cmath>
#include <csignal>
#include <fstream>
#include <numeric>
#include <set>

#include <nlohmann/json.hpp>

#include "finetune/io.h"
#include "ops/cpu_features.h"
#include "trainer_fixture.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using test::make_tiny_job;
using test::tiny_args;

std::vector<const LogEntry*> training_logs(const TrainerState& s) {
    std::vector<const LogEntry*> out;
    for (const auto& e : s.log_history)
        if (e.has("loss")) out.push_back(&e);
    return out;
}

// The Trainer's steps replayed by hand: sequential batches, train_step (zero, forward,
// backward, clip, AdamW) at the scheduler's lr for each step.
struct Replay {
    std::vector<double> losses, grad_norms, lrs;
    std::unique_ptr<PretrainedModel> model;
};
// A replay's own copy of the tiny job's init, its engine, gradients and optimizer (a's).
struct ReplayParts {
    std::unique_ptr<PretrainedModel> model;
    std::unique_ptr<SequenceClassifier> engine;
    std::unique_ptr<ModelWeights> grads;
    std::unique_ptr<AdamW> opt;
    std::unique_ptr<Bf16Weights> bf16;  // with a.bf16: autocast's weight copy
};
ReplayParts replay_parts(const test::TinyJob& job, const TrainingArguments& a) {
    ReplayParts p;
    p.model = std::make_unique<PretrainedModel>(
        load_pretrained(test::shared_dir() / "reference" / "tiny_distilbert" / "init"));
    p.model->config = job.model->config;
    p.engine = std::make_unique<SequenceClassifier>(p.model->config, p.model->weights);
    p.grads = std::make_unique<ModelWeights>(p.model->config);
    AdamWSettings s;
    s.weight_decay = a.weight_decay;
    s.kind = optimizer_from_name(a.optim);
    p.opt = std::make_unique<AdamW>(p.model->weights, s);
    if (a.bf16) {
        p.bf16 = std::make_unique<Bf16Weights>(p.model->weights);
        p.engine->set_autocast_bf16(p.bf16.get());
    }
    return p;
}

Replay replay(const test::TinyJob& job, const TrainingArguments& a, int64_t steps) {
    Replay r;
    ReplayParts p = replay_parts(job, a);
    SequenceClassifier& engine = *p.engine;
    ModelWeights& grads = *p.grads;
    AdamW& opt = *p.opt;
    const int64_t n = job.train.num_rows(), bs = a.per_device_train_batch_size;
    const int64_t batches = (n + bs - 1) / bs;
    const int64_t warmup = warmup_steps_for(a.warmup_steps, a.warmup_ratio, steps);
    for (int64_t k = 0; k < steps; ++k) {
        const int64_t b = k % batches;
        std::vector<int64_t> idx;
        for (int64_t i = b * bs; i < std::min(n, (b + 1) * bs); ++i) idx.push_back(i);
        const PackedBatch batch = collate_packed(job.train, idx);
        const double lr = a.learning_rate *
                          lr_multiplier(scheduler_from_name(a.lr_scheduler_type), k, warmup, steps);
        const StepStats st =
            train_step(engine, p.model->weights, grads, opt, batch, lr, a.max_grad_norm,
                       static_cast<uint64_t>(a.seed), static_cast<uint64_t>(k), p.bf16.get());
        r.losses.push_back(static_cast<float>(st.loss));
        r.grad_norms.push_back(st.grad_norm);
        r.lrs.push_back(lr);
    }
    r.model = std::move(p.model);
    return r;
}

bool same_weights(const ModelWeights& a, const ModelWeights& b) {
    return std::equal(a.flat(), a.flat() + a.flat_size(), b.flat(),
                      [](float x, float y) { return std::memcmp(&x, &y, 4) == 0; });
}

TEST(TrainerLoop, EveryStepEqualsTheEngineReplayWithHfLogging) {
    const fs::path out = test::make_temp_dir("trainer_loop");
    auto job = make_tiny_job(16, 8);
    TrainingArguments a = tiny_args(out);
    a.warmup_steps = 2;
    a.max_grad_norm = 0.5;
    Trainer trainer(*job.model, a, &job.train, nullptr, job.tokenizer.get());
    const TrainOutput result = trainer.train();
    const Replay r = replay(job, trainer.args(), 8);

    // 16 rows / batch 4 = 4 steps an epoch, 2 epochs.
    EXPECT_EQ(result.global_step, 8);
    EXPECT_EQ(trainer.state().max_steps, 8);
    const auto logs = training_logs(trainer.state());
    ASSERT_EQ(logs.size(), 8u);
    // Linear schedule, 2 warmup steps over 8: the lr logged at step k is the one it used.
    const double used_lr[8] = {0.0,          5e-4,         1e-3,         1e-3 * 5 / 6,
                               1e-3 * 4 / 6, 1e-3 * 3 / 6, 1e-3 * 2 / 6, 1e-3 * 1 / 6};
    bool clipped = false;
    for (size_t k = 0; k < 8; ++k) {
        const LogEntry& e = *logs[k];
        EXPECT_EQ(e.get("loss"), r.losses[k]) << "step " << k + 1;  // unrounded, as HF v5
        EXPECT_EQ(e.get("grad_norm"), r.grad_norms[k]) << "step " << k + 1;
        EXPECT_NEAR(*e.get("learning_rate"), used_lr[k], 1e-9 * 1e-3) << "step " << k + 1;
        EXPECT_EQ(*e.get("learning_rate"), r.lrs[k]) << "step " << k + 1;
        EXPECT_DOUBLE_EQ(*e.get("epoch"), 0.25 * static_cast<double>(k + 1));
        EXPECT_EQ(*e.get("step"), static_cast<double>(k + 1));
        // HF's key order: loss, grad_norm, learning_rate, epoch, step.
        ASSERT_EQ(e.values.size(), 5u);
        EXPECT_EQ(e.values[0].first, "loss");
        EXPECT_EQ(e.values[2].first, "learning_rate");
        clipped = clipped || r.grad_norms[k] > 0.5;
    }
    EXPECT_TRUE(clipped) << "no step was clipped; the test would not cover clipping";
    // The final entry: train_loss is the mean of the unrounded step losses.
    const LogEntry& last = trainer.state().log_history.back();
    double mean = 0;
    for (double l : r.losses) mean += l;
    mean /= 8;
    EXPECT_NEAR(*last.get("train_loss"), mean, 1e-7);
    for (const char* k : {"train_runtime", "train_samples_per_second", "train_steps_per_second",
                          "total_flos", "epoch", "step"})
        EXPECT_TRUE(last.has(k)) << k;
    EXPECT_TRUE(same_weights(job.model->weights, r.model->weights));
}

TEST(TrainerLoop, LoggingIntervalAveragesTheLossAndFirstStepLogs) {
    const fs::path out = test::make_temp_dir("trainer_interval");
    auto job = make_tiny_job(16, 8);
    TrainingArguments a = tiny_args(out);
    a.logging_steps = 3;
    a.logging_first_step = true;
    a.lr_scheduler_type = "cosine";
    a.warmup_ratio = 0.25;  // ceil(8 * 0.25) = 2 warmup steps
    Trainer trainer(*job.model, a, &job.train, nullptr, nullptr);
    trainer.train();
    const Replay r = replay(job, trainer.args(), 8);
    const auto logs = training_logs(trainer.state());
    ASSERT_EQ(logs.size(), 3u);  // steps 1 (first step), 3 and 6
    EXPECT_EQ(*logs[0]->get("step"), 1);
    EXPECT_EQ(*logs[1]->get("step"), 3);
    EXPECT_EQ(*logs[2]->get("step"), 6);
    // The interval's loss is HF's float32 running sum divided by the steps since the last log.
    float sum = static_cast<float>(r.losses[1]) + static_cast<float>(r.losses[2]);
    EXPECT_EQ(logs[1]->get("loss"), static_cast<double>(sum) / 2);
    sum = static_cast<float>(r.losses[3]) + static_cast<float>(r.losses[4]);
    sum += static_cast<float>(r.losses[5]);
    EXPECT_EQ(logs[2]->get("loss"), static_cast<double>(sum) / 3);
    // Cosine with 2 warmup steps over 8: step s uses lr(s - 1), where lr(k) = k / 2 during
    // warmup and 0.5 (1 + cos(pi (k - 2) / 6)) after it.
    EXPECT_EQ(*logs[0]->get("learning_rate"), 0.0);
    EXPECT_NEAR(*logs[1]->get("learning_rate"), 1e-3, 1e-15);
    EXPECT_NEAR(*logs[2]->get("learning_rate"), 1e-3 * 0.5 * (1 + std::cos(M_PI * 3 / 6)), 1e-15);
}

TEST(TrainerLoop, GradientAccumulationAveragesMicroBatches) {
    const fs::path out = test::make_temp_dir("trainer_gas");
    auto job = make_tiny_job(16, 8);
    TrainingArguments a = tiny_args(out);
    a.per_device_train_batch_size = 2;
    a.gradient_accumulation_steps = 2;
    a.num_train_epochs = 1;
    a.max_grad_norm = 0;  // no clipping: grad_norm is logged as null, as HF does
    Trainer trainer(*job.model, a, &job.train, nullptr, nullptr);
    trainer.train();
    EXPECT_EQ(trainer.state().global_step, 4);  // 8 batches of 2, 2 per update

    // Replay: two half-weighted micro-batches per update.
    auto m = std::make_unique<PretrainedModel>(
        load_pretrained(test::shared_dir() / "reference" / "tiny_distilbert" / "init"));
    m->config = job.model->config;
    SequenceClassifier engine(m->config, m->weights);
    ModelWeights grads(m->config);
    AdamWSettings s;
    s.weight_decay = 0.01;
    AdamW opt(m->weights, s);
    const auto logs = training_logs(trainer.state());
    ASSERT_EQ(logs.size(), 4u);
    for (int64_t u = 0; u < 4; ++u) {
        grads.zero();
        float tr = 0.0f;
        for (int64_t k = 0; k < 2; ++k) {
            const int64_t b = 2 * u + k;
            const std::vector<int64_t> idx = {2 * b, 2 * b + 1};
            const PackedBatch batch = collate_packed(job.train, idx);  // backward reads it
            const double loss = engine.forward(batch, true);
            engine.backward(grads, 0.5f);
            tr += static_cast<float>(loss) / 2.0f;
        }
        opt.step(m->weights, grads, 1e-3 * (4.0 - static_cast<double>(u)) / 4.0);
        EXPECT_EQ(logs[u]->get("loss"), static_cast<double>(tr)) << "update " << u;
        EXPECT_FALSE(logs[u]->get("grad_norm").has_value());
        EXPECT_TRUE(logs[u]->has("grad_norm"));
    }
    EXPECT_TRUE(same_weights(job.model->weights, m->weights));
}

// Our own replay of a dropout run with accumulation: each micro-batch's masks come from
// (seed, micro-batch counter); each window's losses are divided by its own size. 14 rows in
// batches of 2 with GA 2: windows of 2, 2, 2 and 1 batches, 4 steps an epoch, 2 epochs. HF's
// masks come from torch's RNG, so this is checked against the engine, not HF.
struct DropoutReplay {
    std::vector<double> losses, grad_norms;
    std::unique_ptr<PretrainedModel> model;
};
DropoutReplay replay_dropout_accumulation(const test::TinyJob& job, const TrainingArguments& a) {
    DropoutReplay r;
    ReplayParts p = replay_parts(job, a);
    SequenceClassifier& engine = *p.engine;
    ModelWeights& grads = *p.grads;
    const int64_t batches = 7, gas = 2, steps = 8;
    uint64_t micro = 0;
    for (int64_t u = 0; u < steps; ++u) {
        const int64_t first = (u % 4) * gas, window = std::min(gas, batches - first);
        float tr = 0.0f;
        for (int64_t k = 0; k < window; ++k) {
            const int64_t b = first + k;
            const std::vector<int64_t> idx = {2 * b, 2 * b + 1};
            const PackedBatch batch = collate_packed(job.train, idx);
            const double loss = engine.forward(batch, true, static_cast<uint64_t>(a.seed), micro++);
            engine.backward(grads, 1.0f / static_cast<float>(window));
            tr += static_cast<float>(loss) / static_cast<float>(window);
        }
        const double norm = global_grad_norm(grads.flat(), grads.flat_size());
        const float scale = clip_coefficient(norm, a.max_grad_norm);
        const double lr = a.learning_rate * (steps - static_cast<double>(u)) / steps;
        p.opt->step_and_zero_grads(p.model->weights, grads, lr, scale);
        r.losses.push_back(tr);
        r.grad_norms.push_back(norm);
    }
    r.model = std::move(p.model);
    return r;
}

// The Trainer's 8 logged steps from `from` on, and its final weights, equal the replay's bit
// for bit.
void expect_equals_dropout_replay(const test::TinyJob& job, const Trainer& trainer, size_t from) {
    const DropoutReplay r = replay_dropout_accumulation(job, trainer.args());
    const auto logs = training_logs(trainer.state());
    ASSERT_EQ(logs.size(), 8u);
    for (size_t u = from; u < 8; ++u) {
        EXPECT_EQ(*logs[u]->get("loss"), r.losses[u]) << "update " << u;
        EXPECT_EQ(*logs[u]->get("grad_norm"), r.grad_norms[u]) << "update " << u;
    }
    EXPECT_TRUE(same_weights(job.model->weights, r.model->weights));
}

TEST(TrainerLoop, DropoutWithAccumulationAndARemainderEqualsTheReplay) {
    auto job = make_tiny_job(14, 8, /*dropout=*/true);
    TrainingArguments a = tiny_args(test::make_temp_dir("trainer_dropout_gas"));
    a.per_device_train_batch_size = 2;
    a.gradient_accumulation_steps = 2;
    a.max_grad_norm = 1.0;
    Trainer trainer(*job.model, a, &job.train, nullptr, nullptr);
    trainer.train();
    expect_equals_dropout_replay(job, trainer, 0);
}

TEST(TrainerResume, DropoutAccumulationResumeMidEpochEqualsTheReplay) {
    // Saved after every step; stopped after step 3, then resumed from checkpoint-2, in the
    // middle of epoch 1: the micro-batch counter (the dropout stream) must resume at 4, not 2.
    const fs::path out = test::make_temp_dir("trainer_dropout_gas_resume");
    TrainingArguments a = tiny_args(out);
    a.per_device_train_batch_size = 2;
    a.gradient_accumulation_steps = 2;
    a.max_grad_norm = 1.0;
    a.save_strategy = SaveStrategy::STEPS;
    a.save_steps = 1;
    {
        auto first = make_tiny_job(14, 8, true);
        Trainer t(*first.model, a, &first.train, nullptr, nullptr);
        t.add_callback(std::make_shared<test::StopAfterStep>(3));
        t.train();
    }
    auto job = make_tiny_job(14, 8, true);
    Trainer trainer(*job.model, a, &job.train, nullptr, nullptr);
    trainer.train((out / "checkpoint-2").string());
    // Steps 1-2 come from the checkpoint's history; 3-8 were run again.
    expect_equals_dropout_replay(job, trainer, 2);
}

TEST(TrainerLoop, MaxStepsOverridesEpochsAndRatioStepsResolve) {
    const fs::path out = test::make_temp_dir("trainer_max_steps");
    auto job = make_tiny_job(16, 8);
    TrainingArguments a = tiny_args(out);
    a.max_steps = 10;       // 4 steps an epoch: 3 epochs, the last cut short
    a.logging_steps = 0.2;  // ceil(0.2 * 10) = 2
    Trainer trainer(*job.model, a, &job.train, nullptr, nullptr);
    trainer.train();
    EXPECT_EQ(trainer.state().global_step, 10);
    EXPECT_EQ(trainer.state().num_train_epochs, 3);
    EXPECT_EQ(trainer.state().logging_steps, 2);
    EXPECT_EQ(training_logs(trainer.state()).size(), 5u);
    EXPECT_DOUBLE_EQ(trainer.state().epoch, 2.5);
}

TEST(TrainerEval, LossAndMetricEqualAForwardOverTheWholeSet) {
    const fs::path out = test::make_temp_dir("trainer_eval");
    auto job = make_tiny_job(8, 20);
    TrainingArguments a = tiny_args(out);
    Trainer trainer(*job.model, a, &job.train, &job.eval, nullptr, MetricSpec{"cola", {}});
    const auto m = trainer.evaluate();

    // Oracle: each row alone through the engine, CE from its logits, MCC from sklearn's formula
    // via the one-shot metric.
    SequenceClassifier engine(job.model->config, job.model->weights);
    double loss = 0;
    std::vector<int64_t> preds, refs;
    for (int64_t i = 0; i < job.eval.num_rows(); ++i) {
        const std::vector<int64_t> idx = {i};
        const PackedBatch b = collate_packed(job.eval, idx);
        loss += engine.forward(b, false);
        const float* l = engine.logits();
        preds.push_back(l[1] > l[0] ? 1 : 0);
        refs.push_back(b.labels[0]);
    }
    EXPECT_NEAR(m.at("eval_loss"), loss / 20, 1e-6);
    const auto mcc = GlueMetric::load("cola").compute(std::span<const int64_t>(preds),
                                                      std::span<const int64_t>(refs));
    EXPECT_EQ(m.at("eval_matthews_correlation"), mcc.at("matthews_correlation"));
    EXPECT_TRUE(m.count("eval_runtime") && m.count("eval_samples_per_second") &&
                m.count("eval_steps_per_second"));
    // Before training HF's state has no epoch; the log entry carries the step only.
    const LogEntry& e = trainer.state().log_history.back();
    EXPECT_EQ(e.values.front().first, "eval_loss");
    EXPECT_FALSE(e.has("epoch"));
    EXPECT_EQ(e.values.back().first, "step");
}

// compute_metrics that returns scripted scores, one per evaluation.
MetricSpec scripted(std::vector<double> scores, std::string key = "score") {
    auto i = std::make_shared<size_t>(0);
    MetricSpec m;
    m.compute_metrics = [scores, key, i](const EvalPrediction&) {
        return std::map<std::string, double>{{key, scores.at((*i)++)}};
    };
    return m;
}

std::set<std::string> checkpoints_in(const fs::path& dir) {
    std::set<std::string> s;
    for (const auto& e : fs::directory_iterator(dir))
        if (e.path().filename().string().rfind("checkpoint-", 0) == 0)
            s.insert(e.path().filename().string());
    return s;
}

TrainingArguments epoch_args(const fs::path& out, const std::string& metric) {
    TrainingArguments a = tiny_args(out);
    a.per_device_train_batch_size = 4;
    a.num_train_epochs = 4;
    a.eval_strategy = IntervalStrategy::EPOCH;
    a.save_strategy = SaveStrategy::EPOCH;
    a.load_best_model_at_end = true;
    a.metric_for_best_model = metric;
    return a;
}

TEST(TrainerBest, StrictImprovementWinsAndATieKeepsTheEarlierCheckpoint) {
    const fs::path out = test::make_temp_dir("trainer_best");
    auto job = make_tiny_job(4, 4);
    Trainer trainer(*job.model, epoch_args(out, "score"), &job.train, &job.eval, nullptr,
                    scripted({0.5, 0.7, 0.7, 0.6}));
    trainer.train();
    EXPECT_EQ(trainer.state().best_model_checkpoint, (out / "checkpoint-2").string());
    EXPECT_EQ(trainer.state().best_metric, 0.7);
    EXPECT_EQ(trainer.state().best_global_step, 2);
    // The best weights were loaded at the end.
    PretrainedModel best = load_pretrained(out / "checkpoint-2");
    EXPECT_TRUE(same_weights(job.model->weights, best.weights));
    PretrainedModel last = load_pretrained(out / "checkpoint-4");
    EXPECT_FALSE(same_weights(job.model->weights, last.weights));
}

TEST(TrainerBest, MetricEndingInLossIsMinimised) {
    const fs::path out = test::make_temp_dir("trainer_best_loss");
    auto job = make_tiny_job(4, 4);
    Trainer trainer(*job.model, epoch_args(out, "my_loss"), &job.train, &job.eval, nullptr,
                    scripted({0.5, 0.3, 0.3, 0.4}, "my_loss"));
    EXPECT_EQ(trainer.args().greater_is_better, false);
    trainer.train();
    EXPECT_EQ(trainer.state().best_model_checkpoint, (out / "checkpoint-2").string());
}

TEST(TrainerRotation, SaveTotalLimitNeverDeletesTheBest) {
    for (int64_t limit : {2, 1}) {
        const fs::path out = test::make_temp_dir("trainer_rotation");
        auto job = make_tiny_job(4, 4);
        TrainingArguments a = epoch_args(out, "score");
        a.save_total_limit = limit;
        Trainer trainer(*job.model, a, &job.train, &job.eval, nullptr,
                        scripted({0.9, 0.1, 0.2, 0.3}));
        trainer.train();
        // Worked by hand with HF's _rotate_checkpoints (the best is bubbled out of the deletion
        // order; a limit of 1 keeps 2 while the best is not the newest, and the end of training
        // deletes every checkpoint but the best).
        const std::set<std::string> expected =
            limit == 2 ? std::set<std::string>{"checkpoint-1", "checkpoint-4"}
                       : std::set<std::string>{"checkpoint-1"};
        EXPECT_EQ(checkpoints_in(out), expected) << "save_total_limit " << limit;
    }
}

TEST(TrainerCallbacks, EarlyStoppingStopsAfterPatienceEvaluations) {
    const fs::path out = test::make_temp_dir("trainer_early");
    auto job = make_tiny_job(4, 4);
    TrainingArguments a = epoch_args(out, "score");
    a.num_train_epochs = 6;
    Trainer trainer(*job.model, a, &job.train, &job.eval, nullptr,
                    scripted({0.5, 0.4, 0.45, 0.9, 0.9, 0.9}));
    trainer.add_callback(std::make_shared<EarlyStoppingCallback>(2, 0.0));
    trainer.train();
    EXPECT_EQ(trainer.state().global_step, 3);
    EXPECT_EQ(trainer.state().early_stopping_patience_counter, 2);
    const json st = json::parse(read_text_file(out / "checkpoint-3" / "trainer_state.json"));
    EXPECT_EQ(st["stateful_callbacks"]["EarlyStoppingCallback"]["attributes"]
                ["early_stopping_patience_counter"],
              2);
}

TEST(TrainerCheckpoint, FolderHasHfFilesAndReloadsToTheSameModel) {
    const fs::path out = test::make_temp_dir("trainer_ckpt");
    auto job = make_tiny_job(8, 8);
    TrainingArguments a = tiny_args(out);
    a.save_strategy = SaveStrategy::EPOCH;
    a.num_train_epochs = 1;
    Trainer trainer(*job.model, a, &job.train, nullptr, job.tokenizer.get());
    trainer.train();
    const fs::path ck = out / "checkpoint-2";
    std::set<std::string> files;
    for (const auto& e : fs::directory_iterator(ck)) files.insert(e.path().filename().string());
    const std::set<std::string> expected = {
        "config.json",        "model.safetensors",     "vocab.txt",
        "tokenizer.json",     "tokenizer_config.json", "special_tokens_map.json",
        "training_args.json", "trainer_state.json",    "optimizer.safetensors",
        "scheduler.json",     "finetune_state.json"};
    EXPECT_EQ(files, expected);
    const json st = json::parse(read_text_file(ck / "trainer_state.json"));
    for (const char* k :
         {"best_metric", "best_model_checkpoint", "epoch", "eval_steps", "global_step",
          "is_hyper_param_search", "is_local_process_zero", "is_world_process_zero", "log_history",
          "logging_steps", "max_steps", "num_train_epochs", "save_steps", "total_flos",
          "train_batch_size", "trial_name", "trial_params", "stateful_callbacks",
          "num_input_tokens_seen"})
        EXPECT_TRUE(st.contains(k)) << k;
    EXPECT_EQ(st["global_step"], 2);
    EXPECT_EQ(st["train_batch_size"], 4);
    // The saved model gives the in-memory model's logits bit for bit.
    PretrainedModel re = load_pretrained(ck);
    EXPECT_TRUE(same_weights(job.model->weights, re.weights));
    EXPECT_EQ(BertTokenizer::from_pretrained(ck).encode("The sailors rode the breeze.").input_ids,
              job.tokenizer->encode("The sailors rode the breeze.").input_ids);
}

// Strips timing keys, which no two runs share.
json comparable_history(const fs::path& trainer_state) {
    json st = json::parse(read_text_file(trainer_state));
    json out = json::array();
    for (auto& e : st["log_history"]) {
        json kept = json::object();
        for (auto& [k, v] : e.items())
            if (k.find("runtime") == std::string::npos && k.find("per_second") == std::string::npos)
                kept[k] = v;
        out.push_back(kept);
    }
    return out;
}

class RaiseAtStep : public TrainerCallback {
  public:
    explicit RaiseAtStep(int64_t step) : step_(step) {}
    void on_step_end(const TrainingArguments&, TrainerState& s, TrainerControl&) override {
        if (s.global_step == step_) std::raise(SIGTERM);
    }

  private:
    int64_t step_;
};

TEST(TrainerResume, SigtermThenResumeIsBitIdenticalToAnUninterruptedRun) {
    // Dropout on and random order: both must continue exactly, without replaying the loader.
    // Step 4 ends an epoch whose evaluation and save had not happened yet when the signal came.
    for (int64_t stop_at : {3, 4}) {
        auto args_for = [](const fs::path& out) {
            TrainingArguments a = tiny_args(out);
            a.train_sampling_strategy = SamplingStrategy::RANDOM;
            a.num_train_epochs = 3;
            a.logging_steps = 2;
            a.eval_strategy = IntervalStrategy::EPOCH;
            a.save_strategy = SaveStrategy::EPOCH;
            a.load_best_model_at_end = true;
            a.metric_for_best_model = "matthews_correlation";
            return a;
        };
        const fs::path straight = test::make_temp_dir("resume_straight");
        auto job_a = make_tiny_job(16, 8, /*dropout=*/true);
        Trainer a(*job_a.model, args_for(straight), &job_a.train, &job_a.eval, nullptr,
                  MetricSpec{"cola", {}});
        a.train();
        a.save_state();

        const fs::path broken = test::make_temp_dir("resume_broken");
        auto job_b = make_tiny_job(16, 8, true);
        {
            Trainer b(*job_b.model, args_for(broken), &job_b.train, &job_b.eval, nullptr,
                      MetricSpec{"cola", {}});
            b.add_callback(std::make_shared<RaiseAtStep>(stop_at));
            try {
                b.train();
                FAIL() << "SIGTERM did not stop training";
            } catch (const TrainingInterrupted& e) {
                EXPECT_EQ(e.signal(), SIGTERM);
                EXPECT_EQ(e.checkpoint(), broken / ("checkpoint-" + std::to_string(stop_at)));
                EXPECT_NE(std::string(e.what()).find("--resume_from_checkpoint"),
                          std::string::npos);
            }
        }
        auto job_c = make_tiny_job(16, 8, true);  // a fresh process would start from the init
        Trainer c(*job_c.model, args_for(broken), &job_c.train, &job_c.eval, nullptr,
                  MetricSpec{"cola", {}});
        c.train((broken / ("checkpoint-" + std::to_string(stop_at))).string());
        c.save_state();
        EXPECT_TRUE(same_weights(job_a.model->weights, job_c.model->weights))
            << "stop at " << stop_at;
        json ha = comparable_history(straight / "trainer_state.json");
        json hc = comparable_history(broken / "trainer_state.json");
        EXPECT_EQ(ha, hc) << "stop at " << stop_at;
        // The interrupted run has one more folder: the checkpoint the signal made.
        std::set<std::string> expected = checkpoints_in(straight);
        expected.insert("checkpoint-" + std::to_string(stop_at));
        EXPECT_EQ(checkpoints_in(broken), expected);
        for (const auto& name : checkpoints_in(straight)) {
            PretrainedModel x = load_pretrained(straight / name),
                            y = load_pretrained(broken / name);
            EXPECT_TRUE(same_weights(x.weights, y.weights)) << name;
        }
    }
}

TEST(TrainerErrors, NonFiniteGradientNormStopsBeforeTheUpdate) {
    // A regression label of -3.4e38 (float32's edge) with a batch of 1: the MSE loss is finite
    // (computed in double) but its gradient, 2 (pred - label), overflows float to -inf, and inf -
    // inf downstream gives NaN. torch
    // would make every weight NaN; the Trainer stops with the step named and the weights intact.
    const fs::path init = test::testdata_dir() / "trainer_bert_stsb";
    PretrainedModel model = load_pretrained(init);
    const PretrainedModel before = load_pretrained(init);
    const BertTokenizer tok = BertTokenizer::from_pretrained(test::shared_dir() / "data" /
                                                             "tokenizers" / "bert-base-uncased");
    const DatasetDict stsb =
        load_glue_from_dir(glue_task("stsb"), test::shared_dir() / "data" / "glue" / "stsb");
    TokenizeColumns spec;
    spec.text_column = "sentence1";
    spec.pair_column = "sentence2";
    MapOptions mo;
    mo.batched = true;
    Dataset train = stsb["train"].select_range(0, 2).map(
        [&](const Dataset& b) { return tokenize_columns(tok, b, spec); }, mo);
    train = train.remove_columns({"label"}).add_column(
        "label", Column::float64s({-3.4e38, -3.4e38}, Feature::value("float32")));
    TrainingArguments a = tiny_args(test::make_temp_dir("trainer_inf_grad"));
    a.per_device_train_batch_size = 1;
    a.max_grad_norm = 1.0;
    Trainer trainer(model, a, &train, nullptr, nullptr);
    try {
        trainer.train();
        FAIL() << "training went on with an infinite gradient norm";
    } catch (const Error& e) {
        const std::string m = e.what();
        EXPECT_NE(m.find("the gradient norm became NaN at optimizer step 1 (epoch 1, batch 1)"),
                  std::string::npos)
            << m;
        EXPECT_NE(m.find("--learning_rate"), std::string::npos) << m;
    }
    EXPECT_TRUE(same_weights(model.weights, before.weights));
}

TEST(TrainerErrors, HfMessagesForMisuse) {
    const fs::path out = test::make_temp_dir("trainer_errors");
    auto job = make_tiny_job(4, 4);
    TrainingArguments a = tiny_args(out);
    a.eval_strategy = IntervalStrategy::EPOCH;
    EXPECT_NE(test::error_of([&] {
                  Trainer t(*job.model, a, &job.train, nullptr, nullptr);
              }).find("you didn't pass an eval_dataset"),
              std::string::npos);

    TrainingArguments b = epoch_args(out, "accuracy");
    Trainer t(*job.model, b, &job.train, &job.eval, nullptr, MetricSpec{"cola", {}});
    const std::string msg = test::error_of([&] { t.train(); });
    EXPECT_NE(msg.find("'eval_accuracy', which is not found"), std::string::npos) << msg;
    EXPECT_NE(msg.find("eval_matthews_correlation"), std::string::npos) << msg;

    // A folder with checkpoints is not trained over unless asked.
    fs::create_directories(out / "checkpoint-5");
    Trainer again(*job.model, tiny_args(out), &job.train, nullptr, nullptr);
    EXPECT_NE(test::error_of([&] { again.train(); }).find("--overwrite_output_dir"),
              std::string::npos);
    EXPECT_NE(test::error_of([&] {
                  again.train((out / "checkpoint-77").string());
              }).find("checkpoint-77"),
              std::string::npos);
}

// --bf16 --use_cpu: every step is the bf16 replay's (train_step with autocast and AdamW keeping
// the weights' bf16 copy), evaluation after training runs under autocast on the final weights,
// and the checkpoint stays float32 as HF saves it.
TEST(TrainerBf16, StepsEvaluationAndCheckpointAreAutocasts) {
    if (!ops::cpu_has_bf16_gemm()) GTEST_SKIP() << ops::cpu_bf16_missing();
    const fs::path out = test::make_temp_dir("trainer_bf16");
    auto job = make_tiny_job(16, 8);
    TrainingArguments a = tiny_args(out);
    a.bf16 = true;
    a.save_strategy = SaveStrategy::EPOCH;
    Trainer trainer(*job.model, a, &job.train, &job.eval, job.tokenizer.get());
    trainer.train();
    const Replay r = replay(job, trainer.args(), 8);
    TrainingArguments f32 = trainer.args();
    f32.bf16 = false;
    const Replay plain = replay(job, f32, 8);
    const auto logs = training_logs(trainer.state());
    ASSERT_EQ(logs.size(), 8u);
    for (size_t k = 0; k < 8; ++k) {
        EXPECT_EQ(logs[k]->get("loss"), r.losses[k]) << "step " << k + 1;
        EXPECT_EQ(logs[k]->get("grad_norm"), r.grad_norms[k]) << "step " << k + 1;
    }
    EXPECT_NE(r.losses, plain.losses);  // the flag changed the arithmetic
    EXPECT_TRUE(same_weights(job.model->weights, r.model->weights));

    const auto metrics = trainer.evaluate();
    SequenceClassifier engine(r.model->config, r.model->weights);
    Bf16Weights copy(r.model->weights);
    engine.set_autocast_bf16(&copy);
    std::vector<int64_t> idx(8);
    std::iota(idx.begin(), idx.end(), 0);
    const double loss = engine.forward(collate_packed(job.eval, idx), false);
    EXPECT_DOUBLE_EQ(metrics.at("eval_loss"), loss);

    const auto st = read_safetensors(out / "checkpoint-8" / "model.safetensors");
    ASSERT_GT(st.tensors.size(), 0u);
    for (const auto& [name, t] : st.tensors.entries()) EXPECT_EQ(t.dtype, DType::F32) << name;
}

TEST(TrainerBf16, RefusedWhereItCannotRun) {
    TrainingArguments a;
    a.bf16 = true;
    auto message = [&](Device d, int gpus, const std::string& cpu) {
        try {
            check_bf16_support(a, d, gpus, cpu);
        } catch (const Error& e) {
            return std::string(e.what());
        }
        return std::string();
    };
    // HF's words without use_cpu on a machine with no GPU.
    EXPECT_EQ(message(Device::CPU, 0, ""),
              "Your setup doesn't support bf16/gpu. You need to assign use_cpu if you want to "
              "train the model on CPU.");
    EXPECT_NE(message(Device::CUDA, 1, "").find("bf16 on a GPU is not built yet"),
              std::string::npos);
    a.use_cpu = true;
    EXPECT_EQ(message(Device::CPU, 0, ""), "");
    EXPECT_EQ(message(Device::CPU, 0, "this CPU (X) has neither AVX512-BF16 nor AMX-BF16"),
              "--bf16: this CPU (X) has neither AVX512-BF16 nor AMX-BF16, which bf16 needs; drop "
              "--bf16 to run in float32");
    a.bf16 = false;
    a.bf16_full_eval = true;
    EXPECT_NE(message(Device::CPU, 0, "no").find("--bf16_full_eval: no"), std::string::npos);
    a.bf16_full_eval = false;
    EXPECT_EQ(message(Device::CPU, 0, "no"), "");  // float32 runs anywhere
}

}  // namespace
}  // namespace ft
