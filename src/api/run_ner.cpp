// run_ner.py's preparation, for `finetune train-tagger`: the dataset and its splits, the word and
// tag columns, the label list, the token-classification model and tokenizer, the splits
// tokenised with aligned labels, and the predictions file.
#include "finetune/run_ner.h"

#include <algorithm>
#include <map>

#include "finetune/finetune.h"
#include "model/family.h"

namespace ft {

DatasetDict load_ner_job_data(const RunNerArguments& args) {
    const bool files =
        !args.train_file.empty() || !args.validation_file.empty() || !args.test_file.empty();
    if (!files) {
        if (args.dataset_name.empty())
            throw Error("give --train_file/--validation_file/--test_file or --dataset_name");
        return load_dataset(args.dataset_name, args.dataset_config_name);
    }
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
    la.name_or_path = ext == "jsonl" ? "json" : ext == "txt" ? "conll" : ext;
    return load_dataset(la);
}

namespace {

std::string pick_column(const Dataset& ds, const std::string& given, const std::string& preferred,
                        size_t position, const char* flag) {
    const auto names = ds.column_names();
    if (!given.empty()) {
        if (!ds.has_column(given))
            throw Error(std::string(flag) + " '" + given + "' is not a column of the dataset (" +
                        [&] {
                            std::string s;
                            for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
                            return s;
                        }() +
                        ")");
        return given;
    }
    if (ds.has_column(preferred)) return preferred;
    if (names.size() <= position)
        throw Error("the dataset has no column to use for " + std::string(flag));
    return names[position];
}

// Every row has a tag per word, checked before any model is loaded; a row that does not is named
// by its file and line where the reader recorded them.
void check_words_have_tags(const DatasetDict& raw, const std::string& words,
                           const std::string& tags) {
    for (const auto& [split, ds] : raw.splits()) {
        const Column& w = ds.column(words);
        const Column& t = ds.column(tags);
        if (w.type() != ColumnType::STRING_LIST)
            throw Error("column '" + words + "' is " + w.feature().repr() +
                        ", not a list of words; pick the words with --text_column_name");
        for (int64_t r = 0; r < ds.num_rows(); ++r) {
            const size_t nw = w.string_list_at(r).size(), nt = t.list_at(r).size();
            if (nw == nt) continue;
            const auto origin = ds.row_origin(r);
            throw Error((origin ? origin->str() + ": " : "") + "split '" + split + "', row " +
                        std::to_string(r) + ": " + std::to_string(nw) + " words in '" + words +
                        "' but " + std::to_string(nt) + " tags in '" + tags + "'");
        }
    }
}

void load_model(const RunNerArguments& args, PreparedNerJob& p) {
    try {
        p.model_dir = hub::resolve_pretrained(args.model_name_or_path);
    } catch (const Error& e) {
        throw Error("cannot get the model '" + args.model_name_or_path + "': " + e.what() +
                    ". Pass --model_name_or_path a local model folder, or download it once while "
                    "online (finetune download " +
                    args.model_name_or_path + ")");
    }
    // run_ner keeps a fine-tuned model's label order when it holds exactly these labels.
    const ModelConfig config = load_model_config(p.model_dir / "config.json");
    std::vector<std::string> theirs = config.id2label, ours = p.label_list;
    std::sort(theirs.begin(), theirs.end());
    std::sort(ours.begin(), ours.end());
    if (theirs == ours && !args.random_init) p.label_list = config.id2label;
    if (args.random_init) {
        ModelConfig c = config;
        c.id2label = p.label_list;
        p.model = AutoModelForTokenClassification::from_config(c, args.init_seed);
    } else {
        LoadOptions lo;
        lo.task = ModelTask::TOKEN_CLASSIFICATION;
        lo.id2label = p.label_list;
        lo.ignore_mismatched_sizes = args.ignore_mismatched_sizes;
        lo.init_seed = args.init_seed;
        p.model = std::make_unique<PretrainedModel>(load_pretrained(p.model_dir, lo));
    }
    p.tokenizer = load_tokenizer(p.model_dir);
}

}  // namespace

PreparedNerJob prepare_ner_job(const RunNerArguments& args, DatasetDict raw, bool need_train,
                               bool need_eval, bool need_test) {
    PreparedNerJob p;
    p.return_entity_level_metrics = args.return_entity_level_metrics;
    const std::string reference = raw.contains("train") ? "train" : raw.split_names().front();
    const Dataset& ref = raw[reference];
    p.text_column = pick_column(ref, args.text_column_name, "tokens", 0, "--text_column_name");
    p.label_column = pick_column(ref, args.label_column_name, args.task_name + "_tags", 1,
                                 "--label_column_name");
    raw = class_label_tag_columns(raw, {p.label_column}, reference);
    check_words_have_tags(raw, p.text_column, p.label_column);
    p.label_list = raw[reference].feature(p.label_column).names;
    load_model(args, p);
    // Tags -> ids in the model's order (the same list, maybe permuted: run_ner's label_to_id).
    const std::vector<std::string>& data_names = raw[reference].feature(p.label_column).names;
    if (data_names != p.label_list) {
        std::map<std::string, int32_t> to_model;
        for (size_t i = 0; i < p.label_list.size(); ++i)
            to_model[p.label_list[i]] = static_cast<int32_t>(i);
        DatasetDict remapped;
        for (const auto& [split, ds] : raw.splits()) {
            const Column& c = ds.column(p.label_column);
            std::vector<int32_t> v = c.list_values();
            for (int32_t& x : v) x = to_model.at(data_names[static_cast<size_t>(x)]);
            remapped.set(split, ds.remove_columns({p.label_column})
                                    .add_column(p.label_column,
                                                Column::int32_lists(
                                                    std::move(v), c.list_offsets(),
                                                    Feature::class_label_list(p.label_list))));
        }
        raw = remapped;
    }

    TokenizeAndAlignLabels spec;
    spec.text_column = p.text_column;
    spec.label_column = p.label_column;
    spec.label_all_tokens = args.label_all_tokens;
    spec.options.truncation = Truncation::LongestFirst;
    // The longest sequence the model's positions take (RoBERTa's start after the pad id).
    const EncoderSpec e = family_descriptor(p.model->config.family).encoder(p.model->config);
    const int64_t room = e.P - e.position_offset;
    spec.options.max_length =
        std::min({args.max_seq_length.value_or(p.tokenizer->model_max_length()),
                  p.tokenizer->model_max_length(), room});
    spec.token_type_ids = p.model->config.uses_token_types();
    MapOptions mo;
    mo.batched = true;
    auto take = [&](const std::string& split, std::optional<int64_t> limit, Dataset& out,
                    bool& has) {
        if (!raw.contains(split)) throw Error("the dataset has no '" + split + "' split");
        Dataset ds = raw[split];
        if (ds.num_rows() == 0) throw Error("the '" + split + "' split has no rows");
        if (limit && *limit < ds.num_rows()) ds = ds.select_range(0, *limit);
        out = ds.map(
            [&](const Dataset& b) { return tokenize_and_align_labels(*p.tokenizer, b, spec); }, mo);
        has = true;
    };
    if (need_train) take("train", args.max_train_samples, p.train, p.has_train);
    if (need_eval) take("validation", args.max_eval_samples, p.eval, p.has_eval);
    if (need_test) take("test", args.max_predict_samples, p.test, p.has_test);
    return p;
}

MetricSpec PreparedNerJob::metric() const {
    MetricSpec m;
    const auto names = label_list;
    const bool entity_level = return_entity_level_metrics;
    m.make_metric = [names, entity_level] {
        return token_classification_eval_metric(names, entity_level);
    };
    return m;
}

void write_ner_predictions(const fs::path& path, const PreparedNerJob& job, const Dataset& dataset,
                           const PredictionOutput& predictions) {
    if (predictions.token_offsets.size() != static_cast<size_t>(dataset.num_rows()) + 1)
        throw Error("predictions: " + std::to_string(predictions.token_offsets.size()) +
                    " row offsets for " + std::to_string(dataset.num_rows()) + " rows");
    const Column& labels = dataset.column("labels");
    const auto K = static_cast<size_t>(predictions.num_labels);
    const std::span<const float> logits(predictions.predictions);
    std::string out;
    for (int64_t r = 0; r < dataset.num_rows(); ++r) {
        const auto l = labels.list_at(r);
        std::string line;
        for (size_t t = 0; t < l.size(); ++t) {
            if (l[t] == -100) continue;
            const size_t row = static_cast<size_t>(predictions.token_offsets[r]) + t;
            const int64_t best = argmax(logits.subspan(row * K, K));
            line += (line.empty() ? "" : " ") + job.label_list[static_cast<size_t>(best)];
        }
        out += line + "\n";
    }
    write_text_atomic(path, out);
}

}  // namespace ft
