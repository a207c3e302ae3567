// What `finetune train`, `eval` and `predict` share: run_glue.py's model and data arguments, the
// seed recipe's defaults, and the preparation of model, tokenizer and tokenised splits.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "finetune/data.h"
#include "finetune/model.h"
#include "finetune/tokenizer.h"
#include "finetune/train.h"

namespace ft::cli {

// run_glue.py's ModelArguments and DataTrainingArguments (snake_case names, kebab accepted).
struct JobArguments {
    std::string model_name_or_path = "distilbert-base-uncased";
    std::string task_name = "cola";
    std::string dataset_name;
    std::string dataset_config_name;
    std::string train_file, validation_file, test_file;
    std::string data_dir;  // a folder of GLUE-format TSVs
    int64_t max_seq_length = 128;
    bool pad_to_max_length = false;  // accepted; batches stay packed
    std::optional<int64_t> max_train_samples, max_eval_samples, max_predict_samples;
    std::optional<int64_t> early_stopping_patience;
    double early_stopping_threshold = 0.0;
    std::string config_file;   // TrainingArguments as JSON (flags override it)
    int threads = 0;           // 0: every core
    bool random_init = false;  // weights from HF's _init_weights (seeded), not from the files
    uint64_t init_seed = 42;   // set from --seed
};

// The seed's recipe: lr 2e-5, batch 16, 5 epochs, weight decay 0.01, evaluate and save each
// epoch, best model by matthews_correlation, output_dir distilbert-finetuned-cola.
TrainingArguments recipe_defaults();

// Registers the job flags and every TrainingArguments flag on `cmd`.
void add_job_flags(CLI::App& cmd, JobArguments& job, TrainingArguments& args);
// After parsing: applies --config FILE (flags given on the command line win), the task's metric
// when --metric_for_best_model was not given, and --threads.
void resolve_job_flags(CLI::App& cmd, JobArguments& job, TrainingArguments& args);

struct PreparedJob {
    std::filesystem::path model_dir;
    std::unique_ptr<PretrainedModel> model;
    std::unique_ptr<Tokenizer> tokenizer;
    std::string task;  // GLUE task name, or "" for other datasets
    bool is_regression = false;
    std::vector<std::string> label_list;
    Dataset train, eval, test;  // tokenised; empty when not asked for
    bool has_train = false, has_eval = false, has_test = false;
};

// Resolves the model (directory, cache or Hub), loads the dataset and tokenises the splits that
// are asked for, as run_glue.py does.
PreparedJob prepare_job(const JobArguments& job, bool need_train, bool need_eval, bool need_test);

// run_glue.py's main: train (do_train), evaluate (do_eval), predict on the test split
// (do_predict), writing what run_glue writes into output_dir. Returns the exit status.
int run_glue_job(CLI::App& cmd, JobArguments& job, TrainingArguments& args);

// run_glue's predict_results_<task>.txt: "index\tprediction" (label names, or %3.3f values).
void write_predictions(const std::filesystem::path& path, const PreparedJob& prep,
                       const std::vector<float>& logits, int64_t rows, int64_t num_labels);

}  // namespace ft::cli
