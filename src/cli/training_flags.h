// The TrainingArguments flags of `finetune train`: every argument spec as --snake_case and
// --kebab-case (plus its aliases), parsed by the spec's own set(), so a flag, a JSON key and
// --help always agree on names, values and errors.
#pragma once

#include <CLI/CLI.hpp>

#include "finetune/train.h"

namespace ft::cli {

// Registers one option per argument spec on `app`, in the "Training arguments" group, writing
// into `args` (which must outlive parsing). The default shown in --help is the value `args`
// holds now. Booleans work bare (`--do_train`) or with a value (`--do_train false`). A value
// set() refuses is a CLI::ValidationError carrying the spec's message.
void add_training_flags(CLI::App& app, TrainingArguments& args);

}  // namespace ft::cli
