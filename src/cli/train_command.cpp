// `finetune train`: run_glue.py as one command. With no flags it runs the seed's recipe
// (distilbert-base-uncased on GLUE CoLA); every TrainingArguments flag and run_glue argument
// is accepted. Ctrl-C or SIGTERM saves a checkpoint and says how to resume.
#include <csignal>
#include <cstdio>

#include "cli/commands.h"
#include "cli/glue_job.h"
#include "cli/trainer_phases.h"
#include "finetune/trainer.h"

namespace ft::cli {

namespace {

struct TrainCommand {
    JobArguments job;
    TrainingArguments args = recipe_defaults();
};

}  // namespace

int run_glue_job(CLI::App& cmd, JobArguments& job, TrainingArguments& args) {
    resolve_job_flags(cmd, job, args);
    for (const auto& w : args.finalize()) log_warning(w);
    // Found out now, not at the first checkpoint after an hour of training.
    if (args.do_train || args.do_eval || args.do_predict)
        ensure_writable_dir(args.output_dir, "--output_dir");
    job.init_seed = static_cast<uint64_t>(args.seed);
    GlueJobData data = load_glue_job_data(job);
    std::printf("%s\n", data.raw.repr().c_str());
    PreparedGlueJob prep =
        prepare_glue_job(job, std::move(data), args.do_train, args.do_eval, args.do_predict);
    std::printf("model: %s (%s, %lld parameters, %lld labels)%s\n", prep.model_dir.string().c_str(),
                prep.model->config.classifier_architecture().c_str(),
                static_cast<long long>(prep.model->weights.numel()),
                static_cast<long long>(prep.model->config.num_labels()),
                job.random_init ? ", RANDOMLY INITIALISED: no pretrained weights, so the metrics "
                                  "show the pipeline works, not a useful model"
                                : "");
    // HF's from_pretrained warnings: weights the checkpoint lacked (a base model's head, say) are
    // newly initialised; checkpoint weights the classifier does not use are dropped.
    const auto quoted = [](const std::vector<std::string>& keys) {
        std::string s;
        for (const auto& k : keys) s += (s.empty() ? "'" : ", '") + k + "'";
        return "[" + s + "]";
    };
    const LoadReport& report = prep.model->report;
    if (!job.random_init && !report.unexpected_keys.empty())
        log_warning("Some weights of the model checkpoint at " + prep.model_dir.string() +
                    " were not used when initializing " +
                    prep.model->config.classifier_architecture() + ": " +
                    quoted(report.unexpected_keys));
    if (!job.random_init && !report.missing_keys.empty())
        log_warning("Some weights of " + prep.model->config.classifier_architecture() +
                    " were not initialized from the model checkpoint at " +
                    prep.model_dir.string() +
                    " and are newly initialized: " + quoted(report.missing_keys) +
                    "\nYou should probably TRAIN this model on a down-stream task to be able to "
                    "use it for predictions and inference.");
    if (!job.random_init && !report.mismatched.empty()) {
        std::string lines;
        for (const auto& w : report.mismatched)
            lines += "\n- " + w.key + ": found shape " + w.checkpoint_shape +
                     " in the checkpoint and " + w.model_shape + " in the model instantiated";
        log_warning("Some weights of " + prep.model->config.classifier_architecture() +
                    " were not initialized from the model checkpoint at " +
                    prep.model_dir.string() +
                    " and are newly initialized because the shapes did not match:" + lines +
                    "\nYou should probably TRAIN this model on a down-stream task to be able to "
                    "use it for predictions and inference.");
    }
    struct {
        JobArguments& job;
        TrainingArguments& args;
    } c{job, args};
    Trainer trainer(*prep.model, c.args, prep.has_train ? &prep.train : nullptr,
                    prep.has_eval ? &prep.eval : nullptr, prep.tokenizer.get(), prep.metric());
    if (c.job.early_stopping_patience)
        trainer.add_callback(std::make_shared<EarlyStoppingCallback>(
            *c.job.early_stopping_patience, c.job.early_stopping_threshold));
    if (const int rc =
            train_and_evaluate(trainer, c.args, prep.train.num_rows(), prep.eval.num_rows()))
        return rc;
    const fs::path out = c.args.output_dir;
    if (c.args.do_predict) {
        const PredictionOutput p = trainer.predict(prep.test, "predict");
        const fs::path file =
            out /
            ("predict_results_" + (prep.task.empty() ? std::string("None") : prep.task) + ".txt");
        fs::create_directories(out);
        write_glue_predictions(file, prep, p);
        std::printf("predictions written to %s\n", file.string().c_str());
    }
    return 0;
}

Command register_train(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "train",
        "Fine-tune a model (run_glue.py's arguments and TrainingArguments; with no flags: the "
        "seed recipe, distilbert-base-uncased on GLUE CoLA)");
    auto c = std::make_shared<TrainCommand>();
    add_job_flags(*cmd, c->job, c->args);
    return {cmd, [cmd, c]() { return run_glue_job(*cmd, c->job, c->args); }};
}

}  // namespace ft::cli
