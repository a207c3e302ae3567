// `finetune predict` and `finetune eval`. predict with sentences (or --input FILE.jsonl of
// {"text", "text_pair"?} lines) prints what the library's text-classification pipeline says of
// each (a token classifier's word tags and entities: predict_tags.cpp); without them it is
// run_glue's --do_predict on the test split. eval is run_glue's
// --do_eval alone.
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/glue_job.h"
#include "finetune/hub.h"
#include "finetune/io.h"
#include "finetune/model.h"
#include "finetune/pipeline.h"

namespace ft::cli {

namespace {

struct PredictCommand {
    JobArguments job;
    TrainingArguments args = recipe_defaults();
    std::string model;
    std::string input;
    std::vector<std::string> sentences;
    std::string aggregation_strategy = "simple";
};

struct Input {
    std::string text;
    std::optional<std::string> pair;
};

std::vector<Input> read_inputs(const PredictCommand& c) {
    std::vector<Input> in;
    for (const auto& s : c.sentences) in.push_back({s, std::nullopt});
    if (!c.input.empty()) {
        std::ifstream f = open_input_file(c.input, "--input");
        std::string line;
        for (int64_t n = 1; std::getline(f, line); ++n) {
            if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
            try {
                const auto j = nlohmann::json::parse(line);
                if (!j.contains("text") || !j["text"].is_string())
                    throw Error(c.input + ":" + std::to_string(n) + ": no \"text\" string");
                Input x{j["text"].get<std::string>(), std::nullopt};
                if (j.contains("text_pair") && !j["text_pair"].is_null())
                    x.pair = j["text_pair"].get<std::string>();
                in.push_back(std::move(x));
            } catch (const nlohmann::json::exception& e) {
                throw Error(c.input + ":" + std::to_string(n) + ": " + e.what());
            }
        }
    }
    if (in.empty()) throw Error("--input " + c.input + " holds no {\"text\": ...} lines");
    return in;
}

int predict_sentences(PredictCommand& c) {
    const std::string model = !c.model.empty() ? c.model : c.job.model_name_or_path;
    // A token classifier tags each sentence's words instead.
    if (load_model_config(hub::resolve_pretrained(model) / "config.json").task ==
        ModelTask::TOKEN_CLASSIFICATION) {
        std::vector<std::string> texts;
        for (const Input& x : read_inputs(c)) texts.push_back(x.text);
        return predict_tags(model, texts, c.aggregation_strategy);
    }
    TextClassificationPipeline classify = TextClassificationPipeline::from_pretrained(model);
    const bool one_value =
        classify.problem_type() == ProblemType::REGRESSION && classify.config().num_labels() == 1;
    for (const Input& x : read_inputs(c)) {
        const TextClassification r =
            classify(x.text, x.pair ? std::optional<std::string_view>(*x.pair) : std::nullopt);
        std::printf("%s%s\n", x.text.c_str(), x.pair ? (" || " + *x.pair).c_str() : "");
        if (one_value) {
            std::printf("  score %.4f\n", r.top.score);
            continue;
        }
        std::printf("  label: %s (%.4f)\n", r.top.label.c_str(), r.top.score);
        for (const LabelScore& s : r.scores)
            std::printf("    %-20s %.4f\n", s.label.c_str(), s.score);
    }
    return 0;
}

}  // namespace

Command register_predict(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "predict",
        "Predict labels: `--model DIR \"sentence\" ...` (or --input FILE.jsonl with text and "
        "text_pair) prints each label and the score of every label; without sentences, "
        "run_glue's --do_predict on the test split");
    auto c = std::make_shared<PredictCommand>();
    cmd->add_option("--model", c->model, "A model directory (ours or HF's) or a Hub repo id");
    cmd->add_option("--input", c->input, "A .jsonl file of {\"text\", \"text_pair\"?} lines");
    cmd->add_option("sentences", c->sentences, "Sentences to classify (or to tag)");
    cmd->add_option("--aggregation_strategy,--aggregation-strategy", c->aggregation_strategy,
                    "A token classifier's entity grouping, as HF's pipeline: none, simple, first, "
                    "average, max")
        ->capture_default_str();
    add_job_flags(*cmd, c->job, c->args);
    return {cmd, [cmd, c]() {
                if (!c->sentences.empty() || !c->input.empty()) return predict_sentences(*c);
                // Without sentences --model names the model of the test-split prediction too.
                if (!c->model.empty()) {
                    const auto* named = cmd->get_option("--model_name_or_path");
                    if (named->count() > 0 && c->job.model_name_or_path != c->model)
                        throw Error("--model " + c->model + " and --model_name_or_path " +
                                    c->job.model_name_or_path + " name different models; give one");
                    c->job.model_name_or_path = c->model;
                }
                c->args.do_train = false;
                c->args.do_eval = false;
                c->args.do_predict = true;
                return run_glue_job(*cmd, c->job, c->args);
            }};
}

Command register_eval(CLI::App& app) {
    auto* cmd = app.add_subcommand(
        "eval", "Evaluate a model on the validation split (run_glue's --do_eval alone)");
    struct EvalCommand {
        JobArguments job;
        TrainingArguments args = recipe_defaults();
    };
    auto c = std::make_shared<EvalCommand>();
    add_job_flags(*cmd, c->job, c->args);
    return {cmd, [cmd, c]() {
                c->args.do_train = false;
                c->args.do_eval = true;
                c->args.do_predict = false;
                return run_glue_job(*cmd, c->job, c->args);
            }};
}

}  // namespace ft::cli
