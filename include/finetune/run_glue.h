// finetune/run_glue.h — run_glue.py's preparation as library calls: the dataset (a GLUE task,
// files, a Hub or local dataset), its labels and text columns, the model and tokenizer, the
// tokenised splits, the metric, and run_glue's predictions file. The CLI parses flags and prints.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "finetune/data.h"
#include "finetune/metrics.h"
#include "finetune/model.h"
#include "finetune/tokenizer.h"
#include "finetune/trainer.h"

namespace ft {

// run_glue.py's ModelArguments and DataTrainingArguments that shape the preparation.
struct RunGlueArguments {
    std::string model_name_or_path = "distilbert-base-uncased";
    std::string task_name = "cola";
    std::string dataset_name;
    std::string dataset_config_name;
    std::string train_file, validation_file, test_file;
    std::string data_dir;  // a folder of GLUE-format TSVs
    int64_t max_seq_length = 128;
    std::optional<int64_t> max_train_samples, max_eval_samples, max_predict_samples;
    bool random_init = false;  // weights from HF's _init_weights (seeded), not from the files
    uint64_t init_seed = 42;   // for random_init and weights the checkpoint lacks
    bool ignore_mismatched_sizes = false;  // a head of another shape is initialised afresh
};

// The raw dataset of a run, before any model is resolved (a bad task name costs no download).
struct GlueJobData {
    DatasetDict raw;
    std::string task;  // the GLUE task name, or "" for other datasets
};
// load_dataset as run_glue calls it: train/validation/test files (by extension), a dataset name
// (Hub or local), or the GLUE task (from data_dir's TSVs when given).
GlueJobData load_glue_job_data(const RunGlueArguments& args);

struct PreparedGlueJob {
    std::filesystem::path model_dir;
    std::unique_ptr<PretrainedModel> model;
    std::unique_ptr<Tokenizer> tokenizer;
    std::string task;  // GLUE task name, or "" for other datasets
    bool is_regression = false;
    std::vector<std::string> label_list;
    Dataset train, eval, test;  // tokenised; empty when not asked for
    bool has_train = false, has_eval = false, has_test = false;

    // run_glue's compute_metrics: the task's GLUE metric; none for other datasets.
    MetricSpec metric() const;
};

// The rest of run_glue's preparation: labels (infer_glue_labels), the model (directory, cache
// or Hub; num_labels from the labels; a GLUE task's label names as id2label), its tokenizer, and
// the splits asked for, truncated to max_*_samples and tokenised (the test split without labels).
// An asked-for split without rows is an ft::Error naming its file.
PreparedGlueJob prepare_glue_job(const RunGlueArguments& args, GlueJobData data, bool need_train,
                                 bool need_eval, bool need_test);

// run_glue's predict_results_<task>.txt: "index\tprediction", the argmax's label name (its id
// when the labels have no names), or the value as %3.3f for a regression.
void write_glue_predictions(const std::filesystem::path& path, const PreparedGlueJob& job,
                            const PredictionOutput& predictions);

}  // namespace ft
