// `finetune train-tagger`: run_ner.py as one command. Fine-tunes a token classifier (NER, POS
// tagging) on CoNLL-U, CoNLL-2003-style or JSON Lines word/tag files, or a dataset folder, with
// run_ner's arguments and every TrainingArguments flag; evaluates with seqeval; predicts the test
// split into predictions.txt.
#include <cstdio>

#include "cli/commands.h"
#include "cli/trainer_phases.h"
#include "cli/training_flags.h"
#include "finetune/core.h"
#include "finetune/io.h"
#include "finetune/run_ner.h"

namespace ft::cli {

namespace {

struct TaggerCommand {
    RunNerArguments ner;
    TrainingArguments args;
    std::string config_file;
    int threads = 0;
    std::optional<int64_t> early_stopping_patience;
};

int run(CLI::App& cmd, TaggerCommand& c) {
    if (!c.config_file.empty()) {
        // The file's values, then every flag typed on the command line on top.
        const TrainingArguments from_file =
            training_arguments_from_json(read_text_file(c.config_file), c.config_file);
        for (const auto& spec : training_argument_specs()) {
            const auto* o = cmd.get_option_no_throw("--" + spec.name);
            if (!o || o->count() == 0) spec.set(c.args, spec.get(from_file));
        }
    }
    if (c.threads > 0) set_num_threads(c.threads);
    for (const auto& w : c.args.finalize()) log_warning(w);
    if (!c.args.do_train && !c.args.do_eval && !c.args.do_predict)
        throw Error("nothing to do: pass --do_train, --do_eval and/or --do_predict");
    c.ner.init_seed = static_cast<uint64_t>(c.args.seed);
    // The data is read and checked (ragged lines, unseen tags) before anything is written.
    DatasetDict raw = load_ner_job_data(c.ner);
    std::printf("%s\n", raw.repr().c_str());
    PreparedNerJob prep =
        prepare_ner_job(c.ner, std::move(raw), c.args.do_train, c.args.do_eval, c.args.do_predict);
    ensure_writable_dir(c.args.output_dir, "--output_dir");
    std::printf("model: %s (%s, %lld parameters, %lld labels); words '%s', tags '%s'\n",
                prep.model_dir.string().c_str(),
                prep.model->config.classifier_architecture().c_str(),
                static_cast<long long>(prep.model->weights.numel()),
                static_cast<long long>(prep.model->config.num_labels()), prep.text_column.c_str(),
                prep.label_column.c_str());
    if (!c.ner.random_init && !prep.model->report.missing_keys.empty())
        log_warning("Some weights of " + prep.model->config.classifier_architecture() +
                    " were not initialized from the model checkpoint at " +
                    prep.model_dir.string() + " and are newly initialized (" +
                    std::to_string(prep.model->report.missing_keys.size()) + " tensors, e.g. '" +
                    prep.model->report.missing_keys.front() +
                    "'): train this model before using it for predictions.");
    Trainer trainer(*prep.model, c.args, prep.has_train ? &prep.train : nullptr,
                    prep.has_eval ? &prep.eval : nullptr, prep.tokenizer.get(), prep.metric());
    if (c.early_stopping_patience)
        trainer.add_callback(std::make_shared<EarlyStoppingCallback>(*c.early_stopping_patience));
    if (const int rc =
            train_and_evaluate(trainer, c.args, prep.train.num_rows(), prep.eval.num_rows()))
        return rc;
    const fs::path out = c.args.output_dir;
    if (c.args.do_predict) {
        const PredictionOutput p = trainer.predict(prep.test, "predict");
        print_metrics("predict", p.metrics);
        fs::create_directories(out);
        save_metrics(out, "predict", p.metrics);
        write_ner_predictions(out / "predictions.txt", prep, prep.test, p);
        std::printf("predictions written to %s\n", (out / "predictions.txt").string().c_str());
    }
    return 0;
}

}  // namespace

Command register_train_tagger(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "train-tagger",
        "Fine-tune a token classifier for NER or POS tagging (run_ner.py's arguments and "
        "TrainingArguments): CoNLL-U, CoNLL-2003-style or JSON Lines words and tags");
    auto c = std::make_shared<TaggerCommand>();
    c->args.output_dir = "tagger-output";
    auto opt = [&](const std::string& name, auto& target, const std::string& help) {
        std::string kebab = name;
        for (char& ch : kebab)
            if (ch == '_') ch = '-';
        return cmd->add_option("--" + name + ",--" + kebab, target, help)->capture_default_str();
    };
    RunNerArguments& n = c->ner;
    opt("model_name_or_path", n.model_name_or_path, "Model directory or Hub repo id")->required();
    opt("task_name", n.task_name, "ner, pos or chunk: the tag column defaults to <task>_tags");
    opt("dataset_name", n.dataset_name, "A dataset folder (e.g. UD's) or Hub id, instead of files");
    opt("dataset_config_name", n.dataset_config_name, "The dataset's configuration");
    opt("train_file", n.train_file, "Training rows: .conllu, .conll/.txt (CoNLL-2003), .json(l)");
    opt("validation_file", n.validation_file, "Validation rows, same formats");
    opt("test_file", n.test_file, "Test rows (--do_predict), same formats");
    opt("text_column_name", n.text_column_name, "The words column (default: tokens, else first)");
    opt("label_column_name", n.label_column_name,
        "The tags column (default: <task_name>_tags, else the second)");
    opt("max_seq_length", n.max_seq_length,
        "Longest tokenised sentence; longer ones are truncated (default: the tokenizer's limit)")
        ->check(CLI::Range(int64_t{3}, int64_t{1} << 30));
    opt("max_train_samples", n.max_train_samples, "Use only the first N training rows");
    opt("max_eval_samples", n.max_eval_samples, "Use only the first N evaluation rows");
    opt("max_predict_samples", n.max_predict_samples, "Use only the first N test rows");
    cmd->add_flag("--label_all_tokens,--label-all-tokens", n.label_all_tokens,
                  "Label every sub-token of a word (B- as I-), not just the first");
    cmd->add_flag("--return_entity_level_metrics,--return-entity-level-metrics",
                  n.return_entity_level_metrics,
                  "Report precision/recall/f1/number per entity type as well as overall");
    cmd->add_flag("--random_init,--random-init", n.random_init,
                  "Initialise the weights at random from the model's config.json (tests, demos)");
    cmd->add_flag("--ignore_mismatched_sizes,--ignore-mismatched-sizes", n.ignore_mismatched_sizes,
                  "Initialise a checkpoint's head of another shape afresh instead of failing");
    opt("early_stopping_patience", c->early_stopping_patience,
        "Stop after this many evaluations without improvement");
    opt("config", c->config_file, "TrainingArguments as a JSON file; flags given here win");
    opt("threads", c->threads, "Threads to use (0: every core)");
    add_training_flags(*cmd, c->args);
    return {cmd, [cmd, c]() { return run(*cmd, *c); }};
}

}  // namespace ft::cli
