// What `finetune train` and `finetune train-tagger` do with their Trainer, as run_glue.py and
// run_ner.py do: train (then save the model, the train metrics and the state) and evaluate,
// printing the metrics as HF's log_metrics does.
#pragma once

#include <map>
#include <string>

#include "finetune/trainer.h"

namespace ft::cli {

void print_metrics(const std::string& split, const std::map<std::string, double>& metrics);

// --do_train and --do_eval on `trainer` (with a StepTimer added), writing into args.output_dir.
// Returns 128 + the signal when training was interrupted (a checkpoint was saved), else 0.
int train_and_evaluate(Trainer& trainer, const TrainingArguments& args, int64_t train_rows,
                       int64_t eval_rows);

}  // namespace ft::cli
