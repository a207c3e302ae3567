// run_glue.py's preparation, shared by `finetune train`, `eval` and `predict`: the dataset and
// its splits, labels and text columns, the model and tokenizer (directory, cache or Hub), the
// tokenised splits, and the predictions file.
#include "finetune/run_glue.h"

#include <algorithm>
#include <cstdio>
#include <span>
#include <tuple>

#include "finetune/finetune.h"

namespace ft {

namespace {

Dataset tokenize_split(const Tokenizer& tok, const Dataset& ds, const TextColumns& columns,
                       int64_t max_length, bool token_types) {
    TokenizeColumns spec;
    spec.text_column = columns.text;
    spec.pair_column = columns.pair;
    spec.options.truncation = Truncation::LongestFirst;
    spec.options.max_length = std::min(max_length, tok.model_max_length());
    spec.token_type_ids = token_types;
    MapOptions mo;
    mo.batched = true;
    return ds.map([&](const Dataset& batch) { return tokenize_columns(tok, batch, spec); }, mo);
}

// An empty split would fail deep inside training or after it: say so now, naming its file.
void check_needed_splits_have_rows(const RunGlueArguments& args, const DatasetDict& raw,
                                   const std::tuple<bool, std::string, std::string> (&needed)[3]) {
    for (const auto& [needed_now, split, file] : needed) {
        if (!needed_now || !raw.contains(split) || raw[split].num_rows() > 0) continue;
        const std::string from = !file.empty()            ? file
                                 : !args.data_dir.empty() ? args.data_dir
                                                          : args.dataset_name;
        throw Error("the '" + split + "' split" + (from.empty() ? "" : " (" + from + ")") +
                    " has no rows");
    }
}

// The model of the run with num_labels from the data: loaded, or random from its config.json.
void load_model(const RunGlueArguments& args, PreparedGlueJob& p) {
    try {
        p.model_dir = hub::resolve_pretrained(args.model_name_or_path);
    } catch (const Error& e) {
        throw Error("cannot get the model '" + args.model_name_or_path + "': " + e.what() +
                    ". Download it once while online (finetune download " +
                    args.model_name_or_path +
                    "), or pass --model_name_or_path a local model folder; `make demo` runs "
                    "offline with a small random model");
    }
    LoadOptions lo;
    lo.num_labels = p.is_regression ? 1 : static_cast<int64_t>(p.label_list.size());
    lo.ignore_mismatched_sizes = args.ignore_mismatched_sizes;
    lo.init_seed = args.init_seed;
    if (args.random_init) {
        ModelConfig config = load_model_config(p.model_dir / "config.json");
        config.set_num_labels(*lo.num_labels);
        p.model = AutoModelForSequenceClassification::from_config(config, args.init_seed);
    } else {
        p.model = std::make_unique<PretrainedModel>(load_pretrained(p.model_dir, lo));
    }
    if (!p.is_regression && !p.task.empty()) p.model->config.id2label = p.label_list;
    p.tokenizer = load_tokenizer(p.model_dir);
}

}  // namespace

GlueJobData load_glue_job_data(const RunGlueArguments& args) {
    GlueJobData d;
    const bool files =
        !args.train_file.empty() || !args.validation_file.empty() || !args.test_file.empty();
    if (files) {
        LoadDatasetArgs la;
        auto add = [&](const std::string& split, const std::string& f) {
            if (!f.empty()) la.data_files.push_back({split, {fs::path(f)}});
        };
        add("train", args.train_file);
        add("validation", args.validation_file);
        add("test", args.test_file);
        const std::string& first = !args.train_file.empty()        ? args.train_file
                                   : !args.validation_file.empty() ? args.validation_file
                                                                   : args.test_file;
        std::string ext = fs::path(first).extension().string();
        if (!ext.empty()) ext = ext.substr(1);
        la.name_or_path = ext == "jsonl" ? "json" : ext;
        d.raw = load_dataset(la);
        d.task = args.dataset_name.empty() && !args.task_name.empty() ? args.task_name : "";
    } else if (!args.dataset_name.empty()) {
        d.raw = load_dataset(args.dataset_name, args.dataset_config_name);
    } else {
        const GlueTask& task = glue_task(args.task_name);
        d.task = task.name;
        d.raw = args.data_dir.empty() ? load_dataset("glue", task.name)
                                      : load_glue_from_dir(task, args.data_dir);
    }
    return d;
}

PreparedGlueJob prepare_glue_job(const RunGlueArguments& args, GlueJobData data, bool need_train,
                                 bool need_eval, bool need_test) {
    PreparedGlueJob p;
    DatasetDict& raw = data.raw;
    p.task = data.task;
    const std::string validation = raw.contains("validation")           ? "validation"
                                   : raw.contains("validation_matched") ? "validation_matched"
                                                                        : "validation";
    const std::string test = raw.contains("test") ? "test" : "test_matched";
    check_needed_splits_have_rows(args, raw,
                                  {{need_train, "train", args.train_file},
                                   {need_eval, validation, args.validation_file},
                                   {need_test, test, args.test_file}});

    const std::string reference_split = raw.contains("train") ? "train" : raw.split_names().front();
    GlueLabels labels = infer_glue_labels(raw, reference_split);
    p.is_regression = labels.is_regression;
    p.label_list = std::move(labels.label_list);
    load_model(args, p);

    const TextColumns columns = choose_text_columns(raw[reference_split], p.task);
    const bool token_types = p.model->config.uses_token_types();
    auto take = [&](const std::string& split, std::optional<int64_t> limit, Dataset& out, bool& has,
                    bool drop_labels) {
        if (!raw.contains(split)) throw Error("the dataset has no '" + split + "' split");
        Dataset ds = raw[split];
        if (limit && *limit < ds.num_rows()) ds = ds.select_range(0, *limit);
        if (drop_labels && ds.has_column("label")) ds = ds.remove_columns({"label"});
        out = tokenize_split(*p.tokenizer, ds, columns, args.max_seq_length, token_types);
        has = true;
    };
    if (need_train) take("train", args.max_train_samples, p.train, p.has_train, false);
    if (need_eval) take(validation, args.max_eval_samples, p.eval, p.has_eval, false);
    if (need_test) take(test, args.max_predict_samples, p.test, p.has_test, true);
    return p;
}

MetricSpec PreparedGlueJob::metric() const {
    MetricSpec m;
    m.glue_task = task;
    return m;
}

void write_glue_predictions(const fs::path& path, const PreparedGlueJob& job,
                            const PredictionOutput& predictions) {
    const int64_t K = predictions.num_labels;
    const std::span<const float> logits(predictions.predictions);
    std::string out = "index\tprediction\n";
    char buf[64];
    for (int64_t i = 0; i < predictions.num_rows; ++i) {
        const auto row = logits.subspan(static_cast<size_t>(i * K), static_cast<size_t>(K));
        out += std::to_string(i) + "\t";
        if (job.is_regression) {
            std::snprintf(buf, sizeof buf, "%3.3f", static_cast<double>(row[0]));
            out += buf;
        } else {
            const int64_t best = argmax(row);
            out += best < static_cast<int64_t>(job.label_list.size()) ? job.label_list[best]
                                                                      : std::to_string(best);
        }
        out += "\n";
    }
    write_text_atomic(path, out);
}

}  // namespace ft
