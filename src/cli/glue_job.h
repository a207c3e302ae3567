// What `finetune train`, `eval` and `predict` share: run_glue.py's model and data arguments as
// flags, the seed recipe's defaults, and run_glue's main (the preparation is the library's).
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>

#include "finetune/data.h"
#include "finetune/run_glue.h"
#include "finetune/train.h"

namespace ft::cli {

// run_glue.py's ModelArguments and DataTrainingArguments (snake_case names, kebab accepted): the
// library's RunGlueArguments plus what only the command line has.
struct JobArguments : RunGlueArguments {
    bool pad_to_max_length = false;  // accepted; batches stay packed
    std::optional<int64_t> early_stopping_patience;
    double early_stopping_threshold = 0.0;
    std::string config_file;  // TrainingArguments as JSON (flags override it)
    int threads = 0;          // 0: every core
};

// The seed's recipe: lr 2e-5, batch 16, 5 epochs, weight decay 0.01, evaluate and save each
// epoch, best model by matthews_correlation, output_dir distilbert-finetuned-cola.
TrainingArguments recipe_defaults();

// Registers the job flags and every TrainingArguments flag on `cmd`.
void add_job_flags(CLI::App& cmd, JobArguments& job, TrainingArguments& args);
// After parsing: applies --config FILE (flags given on the command line win), the task's metric
// when --metric_for_best_model was not given, and --threads.
void resolve_job_flags(CLI::App& cmd, JobArguments& job, TrainingArguments& args);

// run_glue.py's main: train (do_train), evaluate (do_eval), predict on the test split
// (do_predict), writing what run_glue writes into output_dir. Returns the exit status.
int run_glue_job(CLI::App& cmd, JobArguments& job, TrainingArguments& args);

}  // namespace ft::cli
