// TrainingArguments against HF: the documented defaults (hand-listed), __post_init__'s rules and
// messages in finalize(), the spec table's parsing and errors, training_args.json both ways, and
// ratio steps.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "finetune/train.h"
#include "test_env.h"

namespace ft {
namespace {

const ArgumentSpec& spec_named(const std::string& name) {
    for (const ArgumentSpec& s : training_argument_specs())
        if (s.name == name) return s;
    throw Error("no spec " + name);
}

void set(TrainingArguments& a, const std::string& name, const std::string& value) {
    spec_named(name).set(a, value);
}

std::string set_error(const std::string& name, const std::string& value) {
    TrainingArguments a;
    return test::error_of([&] { set(a, name, value); });
}

std::string finalize_error(TrainingArguments a) {
    return test::error_of([&] { a.finalize(); });
}

// HF's TrainingArguments() defaults (transformers 4.4x docs), typed by hand.
TEST(TrainingArgumentsDefaults, MatchHf) {
    const TrainingArguments a;
    EXPECT_EQ(a.output_dir, "trainer_output");
    EXPECT_FALSE(a.overwrite_output_dir);
    EXPECT_FALSE(a.do_train);
    EXPECT_FALSE(a.do_eval);
    EXPECT_FALSE(a.do_predict);
    EXPECT_EQ(a.num_train_epochs, 3.0);
    EXPECT_EQ(a.max_steps, -1);
    EXPECT_EQ(a.per_device_train_batch_size, 8);
    EXPECT_EQ(a.per_device_eval_batch_size, 8);
    EXPECT_EQ(a.gradient_accumulation_steps, 1);
    EXPECT_EQ(a.learning_rate, 5e-5);
    EXPECT_EQ(a.weight_decay, 0.0);
    EXPECT_EQ(a.adam_beta1, 0.9);
    EXPECT_EQ(a.adam_beta2, 0.999);
    EXPECT_EQ(a.adam_epsilon, 1e-8);
    EXPECT_EQ(a.optim, "adamw_torch");
    EXPECT_EQ(a.max_grad_norm, 1.0);
    EXPECT_EQ(a.lr_scheduler_type, "linear");
    EXPECT_EQ(a.warmup_steps, 0);
    EXPECT_EQ(a.warmup_ratio, 0.0);
    EXPECT_EQ(a.eval_strategy, IntervalStrategy::NO);
    EXPECT_FALSE(a.eval_steps.has_value());
    EXPECT_EQ(a.save_strategy, SaveStrategy::STEPS);
    EXPECT_EQ(a.save_steps, 500);
    EXPECT_FALSE(a.save_total_limit.has_value());
    EXPECT_FALSE(a.load_best_model_at_end);
    EXPECT_FALSE(a.metric_for_best_model.has_value());
    EXPECT_FALSE(a.greater_is_better.has_value());
    EXPECT_EQ(a.logging_strategy, IntervalStrategy::STEPS);
    EXPECT_EQ(a.logging_steps, 500);
    EXPECT_FALSE(a.logging_first_step);
    EXPECT_EQ(a.seed, 42);
    EXPECT_FALSE(a.data_seed.has_value());
    EXPECT_EQ(a.train_sampling_strategy, SamplingStrategy::RANDOM);
    EXPECT_FALSE(a.bf16);
    EXPECT_FALSE(a.disable_tqdm.has_value());
    EXPECT_EQ(a.report_to, std::vector<std::string>{"none"});
    EXPECT_FALSE(a.resume_from_checkpoint.has_value());
}

TEST(TrainingArgumentsDefaults, FinalizeQuietlyFillsOnlyDisableTqdm) {
    TrainingArguments a;
    EXPECT_TRUE(a.finalize().empty());
    EXPECT_EQ(a.disable_tqdm, false);
    EXPECT_FALSE(a.do_eval);
    EXPECT_FALSE(a.eval_steps.has_value());
    EXPECT_FALSE(a.metric_for_best_model.has_value());
    EXPECT_FALSE(a.greater_is_better.has_value());
}

TEST(TrainingArgumentsDefaults, EnumNamesAreHfStrings) {
    EXPECT_EQ(interval_strategy_name(IntervalStrategy::NO), "no");
    EXPECT_EQ(interval_strategy_name(IntervalStrategy::STEPS), "steps");
    EXPECT_EQ(interval_strategy_name(IntervalStrategy::EPOCH), "epoch");
    EXPECT_EQ(save_strategy_name(SaveStrategy::BEST), "best");
    EXPECT_EQ(sampling_strategy_name(SamplingStrategy::SEQUENTIAL), "sequential");
    EXPECT_EQ(sampling_strategy_name(SamplingStrategy::GROUP_BY_LENGTH), "group_by_length");
}

// ---------------------------------------------------------------------------------------------
// The spec table.

TEST(TrainingArgumentsSpecs, OnePerFieldInDeclarationOrder) {
    const std::vector<std::string> expected = {"output_dir",
                                               "overwrite_output_dir",
                                               "do_train",
                                               "do_eval",
                                               "do_predict",
                                               "num_train_epochs",
                                               "max_steps",
                                               "per_device_train_batch_size",
                                               "per_device_eval_batch_size",
                                               "gradient_accumulation_steps",
                                               "learning_rate",
                                               "weight_decay",
                                               "adam_beta1",
                                               "adam_beta2",
                                               "adam_epsilon",
                                               "optim",
                                               "max_grad_norm",
                                               "lr_scheduler_type",
                                               "warmup_steps",
                                               "warmup_ratio",
                                               "eval_strategy",
                                               "eval_steps",
                                               "save_strategy",
                                               "save_steps",
                                               "save_total_limit",
                                               "load_best_model_at_end",
                                               "metric_for_best_model",
                                               "greater_is_better",
                                               "logging_strategy",
                                               "logging_steps",
                                               "logging_first_step",
                                               "seed",
                                               "data_seed",
                                               "train_sampling_strategy",
                                               "bf16",
                                               "bf16_full_eval",
                                               "tf32",
                                               "use_cpu",
                                               "no_cuda",
                                               "disable_tqdm",
                                               "report_to",
                                               "resume_from_checkpoint"};
    std::vector<std::string> names;
    for (const ArgumentSpec& s : training_argument_specs()) {
        names.push_back(s.name);
        EXPECT_FALSE(s.help.empty()) << s.name;
        EXPECT_FALSE(s.type.empty()) << s.name;
        EXPECT_TRUE(s.get && s.set) << s.name;
        EXPECT_EQ(s.is_bool, s.type == "bool" || s.type == "optional bool") << s.name;
    }
    EXPECT_EQ(names, expected);
    EXPECT_EQ(spec_named("eval_strategy").aliases, std::vector<std::string>{"evaluation_strategy"});
    EXPECT_EQ(spec_named("eval_strategy").choices,
              (std::vector<std::string>{"no", "steps", "epoch"}));
    EXPECT_EQ(spec_named("train_sampling_strategy").bool_aliases,
              std::vector<std::string>{"group_by_length"});
}

TEST(TrainingArgumentsSpecs, DefaultsAsTextLikePython) {
    const TrainingArguments a;
    EXPECT_EQ(spec_named("learning_rate").get(a), "5e-05");
    EXPECT_EQ(spec_named("adam_epsilon").get(a), "1e-08");
    EXPECT_EQ(spec_named("num_train_epochs").get(a), "3.0");
    EXPECT_EQ(spec_named("weight_decay").get(a), "0.0");
    EXPECT_EQ(spec_named("adam_beta2").get(a), "0.999");
    EXPECT_EQ(spec_named("save_steps").get(a), "500");
    EXPECT_EQ(spec_named("max_steps").get(a), "-1");
    EXPECT_EQ(spec_named("eval_steps").get(a), "");
    EXPECT_EQ(spec_named("do_train").get(a), "false");
    EXPECT_EQ(spec_named("save_strategy").get(a), "steps");
    EXPECT_EQ(spec_named("report_to").get(a), "none");
    EXPECT_EQ(spec_named("greater_is_better").get(a), "");
    // Python's float repr: fixed notation for exponents in [-4, 16), scientific outside.
    TrainingArguments b;
    const std::pair<double, const char*> reprs[] = {{1e-4, "0.0001"},
                                                    {1e-5, "1e-05"},
                                                    {123456.0, "123456.0"},
                                                    {1e16, "1e+16"},
                                                    {1.5e16, "1.5e+16"},
                                                    {-0.5, "-0.5"},
                                                    {0.1 + 0.2, "0.30000000000000004"},
                                                    {2.5e-123, "2.5e-123"}};
    for (const auto& [value, text] : reprs) {
        b.learning_rate = value;
        EXPECT_EQ(spec_named("learning_rate").get(b), text);
    }
    b.logging_steps = 0.05;
    EXPECT_EQ(spec_named("logging_steps").get(b), "0.05");
}

TEST(TrainingArgumentsSpecs, ParsesEachKindOfValue) {
    TrainingArguments a;
    set(a, "learning_rate", "2e-5");
    set(a, "num_train_epochs", " 5 ");
    set(a, "per_device_train_batch_size", "+16");
    set(a, "weight_decay", "0.01");
    set(a, "eval_strategy", "Epoch");
    set(a, "save_strategy", "best");
    set(a, "eval_steps", "0.1");
    set(a, "save_total_limit", "2");
    set(a, "metric_for_best_model", "matthews_correlation");
    set(a, "optim", "adamw_hf");
    set(a, "lr_scheduler_type", "cosine");
    set(a, "output_dir", "runs/cola");
    EXPECT_EQ(a.learning_rate, 2e-5);
    EXPECT_EQ(a.num_train_epochs, 5.0);
    EXPECT_EQ(a.per_device_train_batch_size, 16);
    EXPECT_EQ(a.weight_decay, 0.01);
    EXPECT_EQ(a.eval_strategy, IntervalStrategy::EPOCH);
    EXPECT_EQ(a.save_strategy, SaveStrategy::BEST);
    EXPECT_EQ(a.eval_steps, 0.1);
    EXPECT_EQ(a.save_total_limit, 2);
    EXPECT_EQ(a.metric_for_best_model, "matthews_correlation");
    EXPECT_EQ(a.optim, "adamw_hf");
    EXPECT_EQ(a.lr_scheduler_type, "cosine");
    EXPECT_EQ(a.output_dir, "runs/cola");
    // Optionals: "", none and null unset them.
    for (const char* unset : {"", "none", "None", "null"}) {
        set(a, "save_total_limit", unset);
        EXPECT_FALSE(a.save_total_limit.has_value()) << unset;
        set(a, "eval_steps", unset);
        EXPECT_FALSE(a.eval_steps.has_value()) << unset;
    }
    set(a, "resume_from_checkpoint", "True");
    EXPECT_EQ(a.resume_from_checkpoint, "true");
    set(a, "resume_from_checkpoint", "out/checkpoint-500");
    EXPECT_EQ(a.resume_from_checkpoint, "out/checkpoint-500");
    set(a, "resume_from_checkpoint", "false");
    EXPECT_FALSE(a.resume_from_checkpoint.has_value());
}

TEST(TrainingArgumentsSpecs, BooleansAcceptTheUsualSpellings) {
    TrainingArguments a;
    for (const char* yes : {"true", "True", "TRUE", "1", "yes", "Yes"}) {
        a.do_train = false;
        set(a, "do_train", yes);
        EXPECT_TRUE(a.do_train) << yes;
    }
    for (const char* no : {"false", "False", "0", "no", "NO"}) {
        a.do_train = true;
        set(a, "do_train", no);
        EXPECT_FALSE(a.do_train) << no;
    }
    set(a, "greater_is_better", "no");
    EXPECT_EQ(a.greater_is_better, false);
    set(a, "greater_is_better", "none");
    EXPECT_FALSE(a.greater_is_better.has_value());
    EXPECT_EQ(set_error("do_train", "maybe"),
              "--do_train: 'maybe' is not a boolean (true/false, yes/no, 1/0)");
}

TEST(TrainingArgumentsSpecs, BadValuesNameTheArgument) {
    EXPECT_EQ(set_error("learning_rate", "abc"), "--learning_rate: 'abc' is not a number");
    EXPECT_EQ(set_error("learning_rate", "1e-5x"), "--learning_rate: '1e-5x' is not a number");
    EXPECT_EQ(set_error("learning_rate", "nan"), "--learning_rate: 'nan' is not a number");
    EXPECT_EQ(set_error("seed", "4.5"), "--seed: '4.5' is not an integer");
    EXPECT_EQ(set_error("per_device_train_batch_size", ""),
              "--per_device_train_batch_size: '' is not an integer");
    EXPECT_EQ(set_error("eval_strategy", "sometimes"),
              "--eval_strategy: 'sometimes' is not one of no, steps, epoch");
    EXPECT_EQ(set_error("save_strategy", "always"),
              "--save_strategy: 'always' is not one of no, steps, epoch, best");
    EXPECT_EQ(set_error("train_sampling_strategy", "sorted"),
              "--train_sampling_strategy: 'sorted' is not one of random, sequential, "
              "group_by_length");
    EXPECT_EQ(set_error("optim", "sgd"),
              "--optim: 'sgd' is not one of adamw_torch, adamw_hf (finetune.cpp does not "
              "implement HF's other optimizers)");
    EXPECT_EQ(set_error("lr_scheduler_type", "polynomial"),
              "--lr_scheduler_type: 'polynomial' is not one of linear, cosine, constant, "
              "constant_with_warmup (finetune.cpp does not implement HF's other schedules)");
    EXPECT_EQ(set_error("report_to", "none,wandb"),
              "--report_to: 'none,wandb' cannot combine 'none' with other integrations");
}

TEST(TrainingArgumentsSpecs, GroupByLengthAliasIsABoolean) {
    TrainingArguments a;
    set(a, "train_sampling_strategy", "true");  // the alias' value
    EXPECT_EQ(a.train_sampling_strategy, SamplingStrategy::GROUP_BY_LENGTH);
    set(a, "train_sampling_strategy", "false");
    EXPECT_EQ(a.train_sampling_strategy, SamplingStrategy::RANDOM);
    a.train_sampling_strategy = SamplingStrategy::SEQUENTIAL;
    set(a, "train_sampling_strategy", "false");  // only undoes group_by_length
    EXPECT_EQ(a.train_sampling_strategy, SamplingStrategy::SEQUENTIAL);
    set(a, "train_sampling_strategy", "group_by_length");
    EXPECT_EQ(a.train_sampling_strategy, SamplingStrategy::GROUP_BY_LENGTH);
}

TEST(TrainingArgumentsSpecs, ReportTo) {
    TrainingArguments a;
    set(a, "report_to", "wandb, TensorBoard");
    EXPECT_EQ(a.report_to, (std::vector<std::string>{"wandb", "tensorboard"}));
    EXPECT_EQ(spec_named("report_to").get(a), "wandb,tensorboard");
    set(a, "report_to", "all");
    EXPECT_EQ(a.report_to, std::vector<std::string>{"all"});
    set(a, "report_to", "");
    EXPECT_EQ(a.report_to, std::vector<std::string>{"none"});
}

// ---------------------------------------------------------------------------------------------
// finalize(): HF's __post_init__.

TEST(TrainingArgumentsFinalize, EvalStrategyTurnsOnDoEval) {
    TrainingArguments a;
    a.eval_strategy = IntervalStrategy::EPOCH;
    a.finalize();
    EXPECT_TRUE(a.do_eval);
    EXPECT_FALSE(a.eval_steps.has_value());  // only steps needs eval_steps
}

TEST(TrainingArgumentsFinalize, EvalStepsFallBackToLoggingSteps) {
    TrainingArguments a;
    a.eval_strategy = IntervalStrategy::STEPS;
    a.logging_steps = 50;
    a.finalize();
    EXPECT_EQ(a.eval_steps, 50);
    TrainingArguments zero;
    zero.eval_strategy = IntervalStrategy::STEPS;
    zero.eval_steps = 0;
    zero.logging_steps = 20;
    zero.finalize();
    EXPECT_EQ(zero.eval_steps, 20);
    TrainingArguments given;
    given.eval_strategy = IntervalStrategy::STEPS;
    given.eval_steps = 30;
    given.finalize();
    EXPECT_EQ(given.eval_steps, 30);

    TrainingArguments none;
    none.eval_strategy = IntervalStrategy::STEPS;
    none.logging_steps = 0;
    none.logging_strategy = IntervalStrategy::NO;
    EXPECT_EQ(finalize_error(none),
              "evaluation strategy steps requires either non-zero --eval_steps or "
              "--logging_steps");
}

TEST(TrainingArgumentsFinalize, LoggingStepsMustBeNonZero) {
    TrainingArguments a;
    a.logging_steps = 0;
    EXPECT_EQ(finalize_error(a), "logging strategy steps requires non-zero --logging_steps");
    a.logging_strategy = IntervalStrategy::EPOCH;
    EXPECT_EQ(finalize_error(a), "(no error)");
}

TEST(TrainingArgumentsFinalize, StepsAboveOneMustBeIntegers) {
    TrainingArguments a;
    a.logging_steps = 2.5;
    EXPECT_EQ(finalize_error(a), "--logging_steps must be an integer if bigger than 1: 2.5");
    TrainingArguments e;
    e.eval_strategy = IntervalStrategy::STEPS;
    e.eval_steps = 10.5;
    EXPECT_EQ(finalize_error(e), "--eval_steps must be an integer if bigger than 1: 10.5");
    TrainingArguments s;
    s.save_steps = 100.25;
    EXPECT_EQ(finalize_error(s), "--save_steps must be an integer if bigger than 1: 100.25");
    s.save_strategy = SaveStrategy::EPOCH;  // unused, so not checked (as HF)
    EXPECT_EQ(finalize_error(s), "(no error)");
    TrainingArguments ratios;
    ratios.logging_steps = 0.05;
    ratios.save_steps = 0.5;
    EXPECT_EQ(finalize_error(ratios), "(no error)");
}

TEST(TrainingArgumentsFinalize, LoadBestModelNeedsMatchingStrategies) {
    TrainingArguments a;
    a.load_best_model_at_end = true;
    a.eval_strategy = IntervalStrategy::EPOCH;
    EXPECT_EQ(finalize_error(a),
              "--load_best_model_at_end requires the save and eval strategy to match, but found\n"
              "- Evaluation strategy: epoch\n- Save strategy: steps");
    a.eval_strategy = IntervalStrategy::NO;
    a.save_strategy = SaveStrategy::EPOCH;
    EXPECT_EQ(finalize_error(a),
              "--load_best_model_at_end requires the save and eval strategy to match, but found\n"
              "- Evaluation strategy: no\n- Save strategy: epoch");
    a.eval_strategy = IntervalStrategy::EPOCH;
    EXPECT_EQ(finalize_error(a), "(no error)");
    // save_strategy best saves on improvement, whatever the evaluation schedule.
    a.save_strategy = SaveStrategy::BEST;
    a.eval_strategy = IntervalStrategy::STEPS;
    a.eval_steps = 7;
    EXPECT_EQ(finalize_error(a), "(no error)");
}

TEST(TrainingArgumentsFinalize, LoadBestModelNeedsSaveStepsAMultipleOfEvalSteps) {
    TrainingArguments a;
    a.load_best_model_at_end = true;
    a.eval_strategy = IntervalStrategy::STEPS;
    a.eval_steps = 300;
    EXPECT_EQ(finalize_error(a),
              "--load_best_model_at_end requires the saving steps to be a round multiple of the "
              "evaluation steps, but found 500, which is not a round multiple of 300.");
    a.eval_steps = 250;
    EXPECT_EQ(finalize_error(a), "(no error)");
    a.eval_steps = 0.1;
    EXPECT_EQ(finalize_error(a),
              "--load_best_model_at_end requires the saving steps to be a multiple of the "
              "evaluation steps, which cannot get guaranteed when mixing ratio and absolute "
              "steps for save_steps 500 and eval_steps 0.1.");
    a.save_steps = 0.25;
    EXPECT_EQ(finalize_error(a),
              "--load_best_model_at_end requires the saving steps to be a multiple of the "
              "evaluation steps, but found 0.25, which is not a multiple of 0.1.");
    a.save_steps = 0.3;  // fmod(0.3, 0.1) is not 0 in doubles; in millionths it is
    EXPECT_EQ(finalize_error(a), "(no error)");
    // eval_steps taken from logging_steps is checked the same way.
    TrainingArguments b;
    b.load_best_model_at_end = true;
    b.eval_strategy = IntervalStrategy::STEPS;
    b.logging_steps = 200;
    EXPECT_EQ(finalize_error(b),
              "--load_best_model_at_end requires the saving steps to be a round multiple of the "
              "evaluation steps, but found 500, which is not a round multiple of 200.");
}

TEST(TrainingArgumentsFinalize, MetricForBestModelAndGreaterIsBetter) {
    TrainingArguments a;
    a.load_best_model_at_end = true;
    a.eval_strategy = IntervalStrategy::EPOCH;
    a.save_strategy = SaveStrategy::EPOCH;
    a.finalize();
    EXPECT_EQ(a.metric_for_best_model, "loss");
    EXPECT_EQ(a.greater_is_better, false);

    TrainingArguments best;
    best.save_strategy = SaveStrategy::BEST;
    best.finalize();
    EXPECT_EQ(best.metric_for_best_model, "loss");
    EXPECT_EQ(best.greater_is_better, false);

    TrainingArguments mcc;  // the seed's run
    mcc.metric_for_best_model = "matthews_correlation";
    mcc.finalize();
    EXPECT_EQ(mcc.greater_is_better, true);

    TrainingArguments eval_loss;
    eval_loss.metric_for_best_model = "eval_loss";
    eval_loss.finalize();
    EXPECT_EQ(eval_loss.greater_is_better, false);

    TrainingArguments given;
    given.metric_for_best_model = "loss";
    given.greater_is_better = true;
    given.finalize();
    EXPECT_EQ(given.greater_is_better, true);

    TrainingArguments nothing;
    nothing.finalize();
    EXPECT_FALSE(nothing.greater_is_better.has_value());
}

TEST(TrainingArgumentsFinalize, Warmup) {
    for (double bad : {-0.1, 1.5}) {
        TrainingArguments a;
        a.warmup_ratio = bad;
        EXPECT_EQ(finalize_error(a), "warmup_ratio must lie in range [0,1]") << bad;
    }
    TrainingArguments one;
    one.warmup_ratio = 1.0;
    EXPECT_TRUE(one.finalize().empty());

    TrainingArguments both;
    both.warmup_ratio = 0.1;
    both.warmup_steps = 10;
    const auto warnings = both.finalize();
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("warmup_steps (10) wins"), std::string::npos) << warnings[0];
    EXPECT_EQ(both.warmup_steps, 10);
    EXPECT_EQ(both.warmup_ratio, 0.1);
}

TEST(TrainingArgumentsFinalize, WhatFinetuneCppDoesNotImplement) {
    TrainingArguments optim;
    optim.optim = "adafactor";
    EXPECT_EQ(finalize_error(optim),
              "--optim: 'adafactor' is not one of adamw_torch, adamw_hf (finetune.cpp does not "
              "implement HF's other optimizers)");
    optim.optim = "adamw_torch_fused";  // the same update as adamw_torch
    EXPECT_EQ(finalize_error(optim), "(no error)");
    TrainingArguments sched;
    sched.lr_scheduler_type = "polynomial";
    EXPECT_EQ(finalize_error(sched),
              "--lr_scheduler_type: 'polynomial' is not one of linear, cosine, constant, "
              "constant_with_warmup (finetune.cpp does not implement HF's other schedules)");
    for (const char* name : {"linear", "cosine", "constant", "constant_with_warmup"}) {
        TrainingArguments ok;
        ok.lr_scheduler_type = name;
        EXPECT_EQ(finalize_error(ok), "(no error)") << name;
    }
}

TEST(TrainingArgumentsFinalize, BatchSizesAndAccumulation) {
    TrainingArguments a;
    a.per_device_train_batch_size = 0;
    EXPECT_EQ(finalize_error(a), "--per_device_train_batch_size must be a positive integer, got 0");
    TrainingArguments b;
    b.per_device_eval_batch_size = -4;
    EXPECT_EQ(finalize_error(b), "--per_device_eval_batch_size must be a positive integer, got -4");
    TrainingArguments c;
    c.gradient_accumulation_steps = 0;
    EXPECT_EQ(finalize_error(c), "--gradient_accumulation_steps must be at least 1, got 0");
}

// HF's __post_init__: no_cuda is the deprecated spelling of use_cpu; it warns and sets it.
TEST(TrainingArgumentsFinalize, NoCudaIsTheDeprecatedUseCpu) {
    TrainingArguments a;
    a.no_cuda = true;
    const auto warnings = a.finalize();
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_NE(warnings[0].find("`no_cuda` is deprecated"), std::string::npos) << warnings[0];
    EXPECT_TRUE(a.use_cpu);
    TrainingArguments b;
    EXPECT_TRUE(b.finalize().empty());
    EXPECT_FALSE(b.use_cpu);
    EXPECT_FALSE(b.tf32.has_value());
}

TEST(TrainingArgumentsFinalize, ReportToWarnsAndTqdmDefaults) {
    TrainingArguments a;
    a.report_to = {"wandb", "tensorboard"};
    a.disable_tqdm = true;
    const auto warnings = a.finalize();
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_EQ(warnings[0],
              "report_to wandb,tensorboard is ignored: finetune.cpp has no experiment-tracker "
              "integrations; it logs to stdout and trainer_state.json only");
    EXPECT_EQ(a.disable_tqdm, true);
}

// ---------------------------------------------------------------------------------------------
// Ratio steps, as Trainer.train resolves them.

TEST(TrainingArgumentsSteps, RatiosBecomeCeilOfTheirShare) {
    TrainingArguments a;
    a.logging_steps = 0.1;
    a.save_steps = 0.25;
    a.eval_steps = 0.5;
    EXPECT_EQ(a.resolved_logging_steps(95), 10);  // ceil(9.5)
    EXPECT_EQ(a.resolved_save_steps(95), 24);     // ceil(23.75)
    EXPECT_EQ(a.resolved_eval_steps(95), 48);     // ceil(47.5)
    EXPECT_EQ(a.resolved_logging_steps(100), 10);
    a.logging_steps = 50;
    a.save_steps = 1;
    a.eval_steps.reset();
    EXPECT_EQ(a.resolved_logging_steps(95), 50);
    EXPECT_EQ(a.resolved_save_steps(95), 1);
    EXPECT_EQ(a.resolved_eval_steps(95), 500);  // TrainerState's default
}

// ---------------------------------------------------------------------------------------------
// training_args.json.

TEST(TrainingArgumentsJson, DefaultsInHfLayout) {
    const std::string expected = R"({
  "output_dir": "trainer_output",
  "overwrite_output_dir": false,
  "do_train": false,
  "do_eval": false,
  "do_predict": false,
  "num_train_epochs": 3.0,
  "max_steps": -1,
  "per_device_train_batch_size": 8,
  "per_device_eval_batch_size": 8,
  "gradient_accumulation_steps": 1,
  "learning_rate": 5e-05,
  "weight_decay": 0.0,
  "adam_beta1": 0.9,
  "adam_beta2": 0.999,
  "adam_epsilon": 1e-08,
  "optim": "adamw_torch",
  "max_grad_norm": 1.0,
  "lr_scheduler_type": "linear",
  "warmup_steps": 0,
  "warmup_ratio": 0.0,
  "eval_strategy": "no",
  "eval_steps": null,
  "save_strategy": "steps",
  "save_steps": 500,
  "save_total_limit": null,
  "load_best_model_at_end": false,
  "metric_for_best_model": null,
  "greater_is_better": null,
  "logging_strategy": "steps",
  "logging_steps": 500,
  "logging_first_step": false,
  "seed": 42,
  "data_seed": null,
  "train_sampling_strategy": "random",
  "bf16": false,
  "bf16_full_eval": false,
  "tf32": null,
  "use_cpu": false,
  "no_cuda": false,
  "disable_tqdm": null,
  "report_to": [
    "none"
  ],
  "resume_from_checkpoint": null
}
)";
    EXPECT_EQ(training_arguments_to_json(TrainingArguments{}), expected);
}

TEST(TrainingArgumentsJson, RoundTrips) {
    TrainingArguments a;  // the seed's reference run
    a.output_dir = "runs/cola \"quoted\"";
    a.do_train = true;
    a.learning_rate = 2e-5;
    a.per_device_train_batch_size = 16;
    a.num_train_epochs = 5;
    a.weight_decay = 0.01;
    a.eval_strategy = IntervalStrategy::EPOCH;
    a.save_strategy = SaveStrategy::EPOCH;
    a.load_best_model_at_end = true;
    a.metric_for_best_model = "matthews_correlation";
    a.eval_steps = 0.1;
    a.logging_steps = 0.05;
    a.save_total_limit = 2;
    a.data_seed = 7;
    a.train_sampling_strategy = SamplingStrategy::GROUP_BY_LENGTH;
    a.report_to = {"wandb", "tensorboard"};
    a.resume_from_checkpoint = "true";
    a.finalize();
    const std::string text = training_arguments_to_json(a);
    const TrainingArguments b = training_arguments_from_json(text, "training_args.json");
    EXPECT_EQ(training_arguments_to_json(b), text);
    EXPECT_EQ(b.output_dir, a.output_dir);
    EXPECT_EQ(b.learning_rate, 2e-5);
    EXPECT_EQ(b.num_train_epochs, 5.0);
    EXPECT_EQ(b.eval_steps, 0.1);
    EXPECT_EQ(b.logging_steps, 0.05);
    EXPECT_EQ(b.greater_is_better, true);
    EXPECT_EQ(b.disable_tqdm, false);
    EXPECT_EQ(b.report_to, a.report_to);
    EXPECT_EQ(b.train_sampling_strategy, SamplingStrategy::GROUP_BY_LENGTH);
    EXPECT_NE(text.find("\"num_train_epochs\": 5.0,"), std::string::npos) << text;
    EXPECT_NE(text.find("\"eval_steps\": 0.1,"), std::string::npos) << text;
    EXPECT_NE(text.find("\"greater_is_better\": true,"), std::string::npos) << text;
}

TEST(TrainingArgumentsJson, ReadsAliasesNullsAndLooseNumbers) {
    const TrainingArguments a = training_arguments_from_json(R"({
        "evaluation_strategy": "steps",
        "eval_steps": 100,
        "group_by_length": true,
        "save_total_limit": null,
        "per_device_train_batch_size": 32.0,
        "learning_rate": 3,
        "report_to": "none",
        "metric_for_best_model": "accuracy"
    })",
                                                             "config.json");
    EXPECT_EQ(a.eval_strategy, IntervalStrategy::STEPS);
    EXPECT_EQ(a.eval_steps, 100);
    EXPECT_EQ(a.train_sampling_strategy, SamplingStrategy::GROUP_BY_LENGTH);
    EXPECT_FALSE(a.save_total_limit.has_value());
    EXPECT_EQ(a.per_device_train_batch_size, 32);
    EXPECT_EQ(a.learning_rate, 3.0);
    EXPECT_EQ(a.report_to, std::vector<std::string>{"none"});
    EXPECT_FALSE(a.do_eval);  // not finalized

    const TrainingArguments lists =
        training_arguments_from_json(R"({"report_to": ["wandb", "comet_ml"]})", "c.json");
    EXPECT_EQ(lists.report_to, (std::vector<std::string>{"wandb", "comet_ml"}));
    EXPECT_EQ(training_arguments_from_json(R"({"report_to": []})", "c.json").report_to,
              std::vector<std::string>{"none"});
    // Later keys win, so an alias after its name overrides it.
    EXPECT_EQ(training_arguments_from_json(
                  R"({"eval_strategy": "steps", "evaluation_strategy": "epoch"})", "c.json")
                  .eval_strategy,
              IntervalStrategy::EPOCH);
}

TEST(TrainingArgumentsJson, ErrorsNameTheKeyAndTheFile) {
    auto error = [](const std::string& json) {
        return test::error_of([&] { training_arguments_from_json(json, "cfg.json"); });
    };
    EXPECT_EQ(error(R"({"learning_rat": 1e-5})"),
              "cfg.json: unknown training argument 'learning_rat'");
    EXPECT_EQ(error(R"({"learning_rate": "abc"})"),
              "cfg.json: learning_rate: expected a number, got string \"abc\"");
    EXPECT_EQ(error(R"({"do_train": "yes"})"),
              "cfg.json: do_train: expected true or false, got string \"yes\"");
    EXPECT_EQ(error(R"({"group_by_length": 1})"),
              "cfg.json: group_by_length: expected true or false, got number 1");
    EXPECT_EQ(error(R"({"seed": 4.5})"), "cfg.json: seed: expected an integer, got number 4.5");
    EXPECT_EQ(error(R"({"seed": null})"), "cfg.json: seed: expected an integer, got null");
    EXPECT_EQ(error(R"({"eval_steps": "10"})"),
              "cfg.json: eval_steps: expected a number or null, got string \"10\"");
    EXPECT_EQ(error(R"({"eval_strategy": 1})"),
              "cfg.json: eval_strategy: expected a string, got number 1");
    EXPECT_EQ(error(R"({"report_to": [1]})"),
              "cfg.json: report_to: expected a string or a list of strings, got array [1]");
    EXPECT_EQ(error(R"({"eval_strategy": "sometimes"})"),
              "cfg.json: --eval_strategy: 'sometimes' is not one of no, steps, epoch");
    EXPECT_EQ(error("[1, 2]"), "cfg.json: expected a JSON object of training arguments, got array");
    EXPECT_EQ(error("{\"seed\": ").rfind("cfg.json: not valid JSON: ", 0), 0u);
    // nlohmann throws out_of_range, not parse_error, for a number past double's range.
    EXPECT_EQ(error(R"({"learning_rate": 1e999})").rfind("cfg.json: not valid JSON: ", 0), 0u);
}

}  // namespace
}  // namespace ft
