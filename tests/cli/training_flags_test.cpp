// The TrainingArguments flags on a CLI11 app: snake_case and kebab-case names, aliases, bare and
// valued booleans, the spec's messages as parse errors, and defaults in --help.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "cli/training_flags.h"

namespace ft {
namespace {

// Parses `argv` (without the program name) into fresh arguments.
TrainingArguments parse(std::vector<std::string> argv) {
    TrainingArguments args;
    CLI::App app{"test"};
    cli::add_training_flags(app, args);
    std::reverse(argv.begin(), argv.end());  // CLI11 takes the vector back to front
    app.parse(argv);
    return args;
}

std::string parse_error(std::vector<std::string> argv) {
    try {
        parse(std::move(argv));
    } catch (const CLI::ParseError& e) {
        return e.what();
    }
    return "(no error)";
}

TEST(TrainingArgumentsFlags, SnakeAndKebabCase) {
    const TrainingArguments a = parse({"--learning_rate", "2e-5", "--per-device-train-batch-size",
                                       "16", "--num_train_epochs=5", "--weight-decay=0.01",
                                       "--output_dir", "runs/cola", "--save_total_limit", "2"});
    EXPECT_EQ(a.learning_rate, 2e-5);
    EXPECT_EQ(a.per_device_train_batch_size, 16);
    EXPECT_EQ(a.num_train_epochs, 5.0);
    EXPECT_EQ(a.weight_decay, 0.01);
    EXPECT_EQ(a.output_dir, "runs/cola");
    EXPECT_EQ(a.save_total_limit, 2);
    EXPECT_EQ(a.seed, 42);  // untouched
}

TEST(TrainingArgumentsFlags, BooleansBareOrWithAValue) {
    const TrainingArguments a =
        parse({"--do_train", "--do-eval", "false", "--load_best_model_at_end=true",
               "--overwrite-output-dir", "--logging_first_step", "yes", "--greater_is_better"});
    EXPECT_TRUE(a.do_train);
    EXPECT_FALSE(a.do_eval);
    EXPECT_TRUE(a.load_best_model_at_end);
    EXPECT_TRUE(a.overwrite_output_dir);
    EXPECT_TRUE(a.logging_first_step);
    EXPECT_EQ(a.greater_is_better, true);
    // A bare flag does not swallow the next option.
    const TrainingArguments b = parse({"--do_train", "--seed", "7", "--do_eval"});
    EXPECT_TRUE(b.do_train);
    EXPECT_TRUE(b.do_eval);
    EXPECT_EQ(b.seed, 7);
}

TEST(TrainingArgumentsFlags, AliasesAndRepeats) {
    const TrainingArguments a = parse({"--evaluation_strategy", "epoch", "--save-strategy", "epoch",
                                       "--group_by_length", "--seed", "1", "--seed", "2"});
    EXPECT_EQ(a.eval_strategy, IntervalStrategy::EPOCH);
    EXPECT_EQ(a.save_strategy, SaveStrategy::EPOCH);
    EXPECT_EQ(a.train_sampling_strategy, SamplingStrategy::GROUP_BY_LENGTH);
    EXPECT_EQ(a.seed, 2);  // the last one wins, as with argparse
    EXPECT_EQ(parse({"--evaluation-strategy", "steps"}).eval_strategy, IntervalStrategy::STEPS);
    EXPECT_EQ(parse({"--group-by-length", "false"}).train_sampling_strategy,
              SamplingStrategy::RANDOM);
    EXPECT_EQ(parse({"--train_sampling_strategy", "sequential"}).train_sampling_strategy,
              SamplingStrategy::SEQUENTIAL);
    EXPECT_EQ(parse({"--report_to", "wandb,tensorboard"}).report_to,
              (std::vector<std::string>{"wandb", "tensorboard"}));
    EXPECT_FALSE(parse({"--eval_steps", "none"}).eval_steps.has_value());
}

TEST(TrainingArgumentsFlags, BadValuesAreParseErrorsWithTheSpecMessage) {
    EXPECT_EQ(parse_error({"--learning_rate", "abc"}), "--learning_rate: 'abc' is not a number");
    EXPECT_EQ(parse_error({"--eval-strategy", "sometimes"}),
              "--eval_strategy: 'sometimes' is not one of no, steps, epoch");
    EXPECT_EQ(parse_error({"--do_train", "maybe"}),
              "--do_train: 'maybe' is not a boolean (true/false, yes/no, 1/0)");
    EXPECT_EQ(parse_error({"--seed", "1.5"}), "--seed: '1.5' is not an integer");
    EXPECT_NE(parse_error({"--learning_rate"}), "(no error)");      // a value is required
    EXPECT_NE(parse_error({"--no_such_flag", "1"}), "(no error)");  // unknown flag
}

TEST(TrainingArgumentsFlags, HelpShowsEveryNameAndTheDefaults) {
    TrainingArguments args;
    args.learning_rate = 2e-5;  // the default shown is the value held at registration
    CLI::App app{"test"};
    cli::add_training_flags(app, args);
    const std::string help = app.help();
    for (const char* line :
         {"--learning_rate,--learning-rate FLOAT=2e-05", "--do_train,--do-train [BOOL]=false",
          "--eval_strategy,--eval-strategy,--evaluation_strategy,--evaluation-strategy "
          "{no,steps,epoch}=no",
          "--save_steps,--save-steps FLOAT=500", "--eval_steps,--eval-steps FLOAT\n",
          "--group_by_length,--group-by-length [BOOL]=false", "--report_to,--report-to LIST=none",
          "--optim {adamw_torch,adamw_hf}=adamw_torch", "Training arguments:"})
        EXPECT_NE(help.find(line), std::string::npos) << line << "\n" << help;
    for (const ArgumentSpec& s : training_argument_specs())
        EXPECT_NE(help.find("--" + s.name), std::string::npos) << s.name;
}

}  // namespace
}  // namespace ft
