// run_glue.py's arguments as flags, shared by train / eval / predict: their registration, the
// recipe's defaults, and --config FILE under the flags typed on the command line.
#include "cli/glue_job.h"

#include <algorithm>

#include "cli/training_flags.h"
#include "finetune/core.h"
#include "finetune/io.h"

namespace ft::cli {

TrainingArguments recipe_defaults() {
    TrainingArguments a;
    a.output_dir = "distilbert-finetuned-cola";
    a.do_train = true;
    a.do_eval = true;
    a.learning_rate = 2e-5;
    a.per_device_train_batch_size = 16;
    a.per_device_eval_batch_size = 16;
    a.num_train_epochs = 5;
    a.weight_decay = 0.01;
    a.eval_strategy = IntervalStrategy::EPOCH;
    a.save_strategy = SaveStrategy::EPOCH;
    a.load_best_model_at_end = true;
    a.metric_for_best_model = "matthews_correlation";
    return a;
}

void add_job_flags(CLI::App& cmd, JobArguments& job, TrainingArguments& args) {
    auto opt = [&](const std::string& name, auto& target, const std::string& help) {
        std::string kebab = name;
        for (char& c : kebab)
            if (c == '_') c = '-';
        const std::string names = kebab == name ? "--" + name : "--" + name + ",--" + kebab;
        return cmd.add_option(names, target, help)->capture_default_str();
    };
    opt("model_name_or_path", job.model_name_or_path,
        "Model directory or Hub repo id (distilbert-base-uncased from the cache or the Hub)");
    opt("task_name", job.task_name,
        "GLUE task: cola, sst2, mrpc, qqp, stsb, mnli, qnli, rte, wnli");
    opt("dataset_name", job.dataset_name, "A dataset on the Hub or a local path, instead of GLUE");
    opt("dataset_config_name", job.dataset_config_name, "The dataset's configuration");
    opt("train_file", job.train_file, "A csv/tsv/json/jsonl/parquet file of training rows");
    opt("validation_file", job.validation_file, "A file of validation rows");
    opt("test_file", job.test_file, "A file of test rows (predictions)");
    opt("data_dir", job.data_dir, "A folder of GLUE-format TSVs (train.tsv, dev.tsv, test.tsv)");
    opt("max_seq_length", job.max_seq_length,
        "Longest tokenised input; longer ones are truncated (at least 3: [CLS], a token, [SEP])")
        ->check(CLI::Range(int64_t{3}, int64_t{1} << 30));
    cmd.add_flag("--pad_to_max_length,--pad-to-max-length", job.pad_to_max_length,
                 "Accepted for run_glue compatibility; batches stay packed (no padding computed)");
    opt("max_train_samples", job.max_train_samples, "Use only the first N training rows");
    opt("max_eval_samples", job.max_eval_samples, "Use only the first N evaluation rows");
    opt("max_predict_samples", job.max_predict_samples, "Use only the first N test rows");
    opt("early_stopping_patience", job.early_stopping_patience,
        "Stop after this many evaluations without improvement (EarlyStoppingCallback)");
    opt("early_stopping_threshold", job.early_stopping_threshold,
        "How much the metric must improve to count as an improvement");
    opt("config", job.config_file, "TrainingArguments as a JSON file; flags given here win");
    opt("threads", job.threads, "Threads to use (0: every core)");
    cmd.add_flag("--random_init,--random-init", job.random_init,
                 "Initialise the weights at random (HF's _init_weights, --seed) from the model's "
                 "config.json instead of loading them: for demos and tests without pretrained "
                 "weights");
    cmd.add_flag("--ignore_mismatched_sizes,--ignore-mismatched-sizes", job.ignore_mismatched_sizes,
                 "Initialise checkpoint weights whose shape differs from the model's (a head "
                 "with another number of labels) afresh instead of failing, as run_glue does");
    add_training_flags(cmd, args);
}

void resolve_job_flags(CLI::App& cmd, JobArguments& job, TrainingArguments& args) {
    if (!job.config_file.empty()) {
        // Values from the file, then every flag the user typed on top.
        TrainingArguments from_file =
            training_arguments_from_json(read_text_file(job.config_file), job.config_file);
        for (const auto& spec : training_argument_specs()) {
            bool given = false;
            for (const auto* o : cmd.get_options())
                if (o->count() > 0 &&
                    (o->check_lname(spec.name) ||
                     std::any_of(spec.aliases.begin(), spec.aliases.end(),
                                 [&](const std::string& al) { return o->check_lname(al); })))
                    given = true;
            if (!given) spec.set(args, spec.get(from_file));
        }
    }
    const auto* metric_opt = cmd.get_option_no_throw("--metric_for_best_model");
    const bool metric_given = (metric_opt && metric_opt->count() > 0) || !job.config_file.empty();
    if (!metric_given && !job.task_name.empty() && job.dataset_name.empty()) {
        const GlueTask& task = glue_task(job.task_name);
        args.metric_for_best_model = task.metrics.front();
    }
    if (job.threads > 0) set_num_threads(job.threads);
}

}  // namespace ft::cli
