// run_glue.py's preparation, shared by train / eval / predict: the arguments, the recipe's
// defaults, the model and tokenizer (directory, cache or Hub), the dataset and its tokenisation.
#include "cli/glue_job.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <tuple>

#include "cli/training_flags.h"
#include "finetune/core.h"
#include "finetune/finetune.h"
#include "finetune/hub.h"
#include "finetune/io.h"

namespace ft::cli {

namespace fs = std::filesystem;

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

namespace {

// run_glue's choice of text columns for datasets that are not a GLUE task.
std::pair<std::string, std::string> text_columns_of(const Dataset& ds) {
    std::vector<std::string> names;
    for (const auto& n : ds.column_names())
        if (n != "label" && n != "labels" && n != "idx" &&
            ds.column(n).type() == ColumnType::STRING)
            names.push_back(n);
    auto has = [&](const char* n) {
        return std::find(names.begin(), names.end(), n) != names.end();
    };
    if (has("sentence1") && has("sentence2")) return {"sentence1", "sentence2"};
    if (names.empty())
        throw Error("the dataset has no text column (columns: " +
                    std::to_string(ds.column_names().size()) + ")");
    if (names.size() >= 2) return {names[0], names[1]};
    return {names[0], ""};
}

// run_glue's classes for integer labels outside GLUE: the sorted distinct values of the
// reference split (-1 marks unlabelled rows). Values 0..n-1 keep their ids (LABEL_0 ...); any
// other values are renumbered in every split in sorted order and named by their value, as
// run_glue's label_to_id does. So one label of 2000000000 is one class, not two billion.
std::vector<std::string> integer_label_list(DatasetDict& raw, const std::string& reference_split) {
    std::set<int64_t> values;
    for (int64_t v : raw[reference_split].column("label").as_int64())
        if (v != -1) values.insert(v);
    if (values.empty())
        throw Error("the 'label' column of " + reference_split + " holds no labels (only -1)");
    std::vector<std::string> names;
    const bool ids =
        *values.begin() == 0 && *values.rbegin() == static_cast<int64_t>(values.size()) - 1;
    for (int64_t v : values)
        names.push_back(ids ? "LABEL_" + std::to_string(v) : std::to_string(v));
    if (ids) return names;
    const std::vector<int64_t> sorted(values.begin(), values.end());
    for (const std::string& split : raw.split_names()) {
        const Dataset& ds = raw[split];
        if (!ds.has_column("label") || ds.column("label").type() != ColumnType::INT64) continue;
        std::vector<int64_t> mapped = ds.column("label").as_int64();
        for (size_t row = 0; row < mapped.size(); ++row) {
            if (mapped[row] == -1) continue;
            const auto it = std::lower_bound(sorted.begin(), sorted.end(), mapped[row]);
            if (it == sorted.end() || *it != mapped[row])
                throw Error("the '" + split + "' split, row " + std::to_string(row) + ": label " +
                            std::to_string(mapped[row]) + " is not among the " + reference_split +
                            " split's labels");
            mapped[row] = it - sorted.begin();
        }
        const Feature feature = ds.feature("label");
        raw.set(split, ds.remove_columns({"label"}).add_column(
                           "label", Column::int64s(std::move(mapped), feature)));
    }
    return names;
}

Dataset tokenize_split(const Tokenizer& tok, const Dataset& ds, const std::string& text,
                       const std::string& pair, int64_t max_length, bool token_types) {
    TokenizeColumns spec;
    spec.text_column = text;
    spec.pair_column = pair;
    spec.options.truncation = Truncation::LongestFirst;
    spec.options.max_length = std::min(max_length, tok.model_max_length());
    spec.token_type_ids = token_types;
    MapOptions mo;
    mo.batched = true;
    Dataset out =
        ds.map([&](const Dataset& batch) { return tokenize_columns(tok, batch, spec); }, mo);
    return out;
}

}  // namespace

PreparedJob prepare_job(const JobArguments& job, bool need_train, bool need_eval, bool need_test) {
    PreparedJob p;
    // Data first: a bad task name should not cost a download.
    DatasetDict raw;
    const bool files =
        !job.train_file.empty() || !job.validation_file.empty() || !job.test_file.empty();
    if (files) {
        LoadDatasetArgs la;
        auto add = [&](const std::string& split, const std::string& f) {
            if (!f.empty()) la.data_files.push_back({split, {fs::path(f)}});
        };
        add("train", job.train_file);
        add("validation", job.validation_file);
        add("test", job.test_file);
        const std::string& first = !job.train_file.empty()        ? job.train_file
                                   : !job.validation_file.empty() ? job.validation_file
                                                                  : job.test_file;
        std::string ext = fs::path(first).extension().string();
        if (!ext.empty()) ext = ext.substr(1);
        la.name_or_path = ext == "jsonl" ? "json" : ext;
        raw = load_dataset(la);
        p.task = job.dataset_name.empty() && !job.task_name.empty() ? job.task_name : "";
    } else if (!job.dataset_name.empty()) {
        raw = load_dataset(job.dataset_name, job.dataset_config_name);
    } else {
        const GlueTask& task = glue_task(job.task_name);
        p.task = task.name;
        raw = job.data_dir.empty() ? load_dataset("glue", task.name)
                                   : load_glue_from_dir(task, job.data_dir);
    }
    std::printf("%s\n", raw.repr().c_str());

    const std::string validation = raw.contains("validation")           ? "validation"
                                   : raw.contains("validation_matched") ? "validation_matched"
                                                                        : "validation";
    const std::string test = raw.contains("test") ? "test" : "test_matched";
    // An empty split would fail deep inside training or after it: say so now, naming its file.
    const std::tuple<bool, std::string, std::string> needed[] = {
        {need_train, "train", job.train_file},
        {need_eval, validation, job.validation_file},
        {need_test, test, job.test_file}};
    for (const auto& [needed_now, split, file] : needed) {
        if (!needed_now || !raw.contains(split) || raw[split].num_rows() > 0) continue;
        const std::string from = !file.empty()           ? file
                                 : !job.data_dir.empty() ? job.data_dir
                                                         : job.dataset_name;
        throw Error("the '" + split + "' split" + (from.empty() ? "" : " (" + from + ")") +
                    " has no rows");
    }

    const std::string any_split = raw.split_names().front();
    const std::string reference_split = raw.contains("train") ? "train" : any_split;
    const Dataset& reference = raw[reference_split];
    if (!reference.has_column("label"))
        throw Error("the dataset has no 'label' column (columns of " + reference_split + ": " +
                    std::to_string(reference.column_names().size()) + ")");
    const Feature& label = reference.feature("label");
    if (label.kind == Feature::Kind::CLASS_LABEL) {
        p.label_list = label.names;
    } else if (label.dtype == "float32" || label.dtype == "float64") {
        p.is_regression = true;
    } else if (label.storage() == ColumnType::INT64) {
        p.label_list = integer_label_list(raw, reference_split);
    } else {
        throw Error("the 'label' column of " + reference_split + " is " + label.repr() +
                    "; give integer class ids, a ClassLabel or float targets");
    }

    try {
        p.model_dir = hub::resolve_pretrained(job.model_name_or_path);
    } catch (const Error& e) {
        throw Error("cannot get the model '" + job.model_name_or_path + "': " + e.what() +
                    ". Download it once while online (finetune download " + job.model_name_or_path +
                    "), or pass --model_name_or_path a local model folder; `make demo` runs "
                    "offline with a small random model");
    }
    LoadOptions lo;
    lo.num_labels = p.is_regression ? 1 : static_cast<int64_t>(p.label_list.size());
    if (job.random_init) {
        ModelConfig config = load_model_config(p.model_dir / "config.json");
        config.set_num_labels(*lo.num_labels);
        p.model = AutoModelForSequenceClassification::from_config(config, job.init_seed);
    } else {
        p.model = std::make_unique<PretrainedModel>(load_pretrained(p.model_dir, lo));
    }
    if (!p.is_regression && !p.task.empty()) p.model->config.id2label = p.label_list;
    if (!fs::exists(p.model_dir / "vocab.txt") && !fs::exists(p.model_dir / "tokenizer.json"))
        throw Error(p.model_dir.string() +
                    ": no tokenizer files (vocab.txt or tokenizer.json) beside the model");
    p.tokenizer = load_tokenizer(p.model_dir);

    std::string text, pair;
    if (!p.task.empty()) {
        const GlueTask& task = glue_task(p.task);
        text = task.text_features.at(0).first;
        if (task.text_features.size() > 1) pair = task.text_features[1].first;
    } else {
        std::tie(text, pair) = text_columns_of(reference);
    }
    const bool token_types = p.model->config.family == ModelFamily::BERT;
    auto take = [&](const std::string& split, std::optional<int64_t> limit, Dataset& out, bool& has,
                    bool drop_labels) {
        if (!raw.contains(split)) throw Error("the dataset has no '" + split + "' split");
        Dataset ds = raw[split];
        if (limit && *limit < ds.num_rows()) ds = ds.select_range(0, *limit);
        if (drop_labels && ds.has_column("label")) ds = ds.remove_columns({"label"});
        out = tokenize_split(*p.tokenizer, ds, text, pair, job.max_seq_length, token_types);
        has = true;
    };
    if (need_train) take("train", job.max_train_samples, p.train, p.has_train, false);
    if (need_eval) take(validation, job.max_eval_samples, p.eval, p.has_eval, false);
    if (need_test) {
        take(test, job.max_predict_samples, p.test, p.has_test, true);
    }
    return p;
}

void write_predictions(const fs::path& path, const PreparedJob& prep,
                       const std::vector<float>& logits, int64_t rows, int64_t num_labels) {
    std::string out = "index\tprediction\n";
    char buf[64];
    for (int64_t i = 0; i < rows; ++i) {
        const float* row = logits.data() + i * num_labels;
        if (prep.is_regression) {
            std::snprintf(buf, sizeof buf, "%3.3f", static_cast<double>(row[0]));
            out += std::to_string(i) + "\t" + buf + "\n";
        } else {
            int64_t best = 0;
            for (int64_t k = 1; k < num_labels; ++k)
                if (row[k] > row[best]) best = k;
            out += std::to_string(i) + "\t" +
                   (best < static_cast<int64_t>(prep.label_list.size()) ? prep.label_list[best]
                                                                        : std::to_string(best)) +
                   "\n";
        }
    }
    write_text_atomic(path, out);
}

}  // namespace ft::cli
