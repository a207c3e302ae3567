// finetune/run_ner.h — run_ner.py's preparation as library calls (token classification: NER,
// POS tagging): the dataset (CoNLL-U, CoNLL-2003 columns, JSON Lines, a local or Hub dataset), its
// word and tag columns, the label list, the model and tokenizer, the tokenised splits with aligned
// labels, seqeval as the metric, and run_ner's predictions file. The CLI parses flags and prints.
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

// run_ner.py's ModelArguments and DataTrainingArguments that shape the preparation.
struct RunNerArguments {
    std::string model_name_or_path;
    std::string task_name = "ner";  // the label column defaults to <task_name>_tags
    std::string dataset_name, dataset_config_name;
    std::string train_file, validation_file, test_file;
    std::string text_column_name, label_column_name;  // empty: run_ner's defaults
    // None in run_ner: the tokenizer's model_max_length (here also the model's positions).
    std::optional<int64_t> max_seq_length;
    std::optional<int64_t> max_train_samples, max_eval_samples, max_predict_samples;
    bool label_all_tokens = false;
    bool return_entity_level_metrics = false;
    bool random_init = false;
    uint64_t init_seed = 42;
    bool ignore_mismatched_sizes = false;
};

struct PreparedNerJob {
    std::filesystem::path model_dir;
    std::unique_ptr<PretrainedModel> model;
    std::unique_ptr<Tokenizer> tokenizer;
    std::string text_column, label_column;
    std::vector<std::string> label_list;  // id order; the model's id2label
    bool return_entity_level_metrics = false;
    Dataset train, eval, test;  // tokenised with labels; empty when not asked for
    bool has_train = false, has_eval = false, has_test = false;

    // run_ner's compute_metrics: seqeval over the label names.
    MetricSpec metric() const;
};

// load_dataset as run_ner calls it: train/validation/test files (by extension: .conllu, .conll,
// .json/.jsonl, ...), or a dataset name (a local folder such as UD's, or the Hub).
DatasetDict load_ner_job_data(const RunNerArguments& args);

// The rest of run_ner's preparation:
// - columns: --text_column_name, else "tokens", else the first; --label_column_name, else
//   "<task_name>_tags", else the second;
// - labels: a List(ClassLabel) column's names, else the sorted set of the train split's tags (an
//   unseen tag in another split is an error naming its file and line); a fine-tuned model whose
//   id2label holds the same labels keeps its order;
// - the model (AutoModelForTokenClassification with id2label), its tokenizer, and the splits
//   asked for, truncated to max_*_samples, tokenised from words and labels aligned
//   (tokenize_and_align_labels, truncation at max_seq_length).
PreparedNerJob prepare_ner_job(const RunNerArguments& args, DatasetDict raw, bool need_train,
                               bool need_eval, bool need_test);

// run_ner's predictions.txt: per row, the predicted tag of each labelled position (the words'
// first sub-tokens), joined by spaces; `dataset` is the tokenised split predicted on.
void write_ner_predictions(const std::filesystem::path& path, const PreparedNerJob& job,
                           const Dataset& dataset, const PredictionOutput& predictions);

}  // namespace ft
