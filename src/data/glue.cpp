// The GLUE task table (HF's nyu-mll/glue: features, label names, splits; evaluate's metric
// names) and the reader for the GLUE zips' TSVs, following the semantics of HF's glue script.
#include <algorithm>
#include <charconv>
#include <optional>
#include <set>

#include "data/text_input.h"
#include "finetune/data.h"
#include "finetune/io.h"

namespace ft {

namespace {

std::vector<GlueSplit> standard_splits() {
    return {{"train", "train.tsv"}, {"validation", "dev.tsv"}, {"test", "test.tsv"}};
}

std::vector<GlueTask> make_tasks() {
    const std::vector<std::string> nli3 = {"entailment", "neutral", "contradiction"};
    const std::vector<std::pair<std::string, std::string>> mnli_text = {
        {"premise", "sentence1"}, {"hypothesis", "sentence2"}};
    std::vector<GlueTask> t;
    t.push_back({"cola",
                 {{"sentence", "sentence"}},
                 {"unacceptable", "acceptable"},
                 "is_acceptable",
                 {"matthews_correlation"},
                 standard_splits()});
    t.push_back({"sst2",
                 {{"sentence", "sentence"}},
                 {"negative", "positive"},
                 "label",
                 {"accuracy"},
                 standard_splits()});
    t.push_back({"mrpc",
                 {{"sentence1", "#1 String"}, {"sentence2", "#2 String"}},
                 {"not_equivalent", "equivalent"},
                 "Quality",
                 {"accuracy", "f1"},
                 standard_splits()});
    t.push_back({"qqp",
                 {{"question1", "question1"}, {"question2", "question2"}},
                 {"not_duplicate", "duplicate"},
                 "is_duplicate",
                 {"accuracy", "f1"},
                 standard_splits()});
    t.push_back({"stsb",
                 {{"sentence1", "sentence1"}, {"sentence2", "sentence2"}},
                 {},
                 "score",
                 {"pearson", "spearmanr"},
                 standard_splits()});
    t.push_back({"mnli",
                 mnli_text,
                 nli3,
                 "gold_label",
                 {"accuracy"},
                 {{"train", "train.tsv"},
                  {"validation_matched", "dev_matched.tsv"},
                  {"validation_mismatched", "dev_mismatched.tsv"},
                  {"test_matched", "test_matched.tsv"},
                  {"test_mismatched", "test_mismatched.tsv"}}});
    t.push_back({"mnli_matched",
                 mnli_text,
                 nli3,
                 "gold_label",
                 {"accuracy"},
                 {{"validation", "dev_matched.tsv"}, {"test", "test_matched.tsv"}}});
    t.push_back({"mnli_mismatched",
                 mnli_text,
                 nli3,
                 "gold_label",
                 {"accuracy"},
                 {{"validation", "dev_mismatched.tsv"}, {"test", "test_mismatched.tsv"}}});
    t.push_back({"qnli",
                 {{"question", "question"}, {"sentence", "sentence"}},
                 {"entailment", "not_entailment"},
                 "label",
                 {"accuracy"},
                 standard_splits()});
    t.push_back({"rte",
                 {{"sentence1", "sentence1"}, {"sentence2", "sentence2"}},
                 {"entailment", "not_entailment"},
                 "label",
                 {"accuracy"},
                 standard_splits()});
    t.push_back({"wnli",
                 {{"sentence1", "sentence1"}, {"sentence2", "sentence2"}},
                 {"not_entailment", "entailment"},
                 "label",
                 {"accuracy"},
                 standard_splits()});
    return t;
}

// Python's int() on a label field (surrounding whitespace allowed).
bool parse_python_int(std::string_view s, int64_t* out) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
    return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool parse_python_float(std::string_view s, double* out) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    const auto r = std::from_chars(s.data(), s.data() + s.size(), *out);
    return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// Rows gathered for one split, with the columns every GLUE dataset has.
struct GlueRows {
    std::vector<std::vector<std::string>> texts;  // per text feature
    std::vector<int64_t> labels;
    std::vector<double> scores;
    std::vector<int64_t> idx;
};

Dataset to_dataset(const GlueTask& task, GlueRows rows) {
    const auto features = task.features();
    Dataset ds;
    for (size_t f = 0; f < task.text_features.size(); ++f)
        ds = ds.add_column(features[f].first, Column::strings(std::move(rows.texts[f])));
    const Feature& label = features[task.text_features.size()].second;
    ds = ds.add_column("label", task.is_regression()
                                    ? Column::float64s(std::move(rows.scores), label)
                                    : Column::int64s(std::move(rows.labels), label));
    return ds.add_column("idx", Column::int64s(std::move(rows.idx), Feature::value("int32")));
}

// The label of one row as HF's script turns it into the feature: a class name, else int();
// a float32 score for stsb; no label column gives -1. Returns false for an empty label (HF
// drops such a row as corrupted).
bool add_label(const GlueTask& task, const std::string* value, const std::string& where,
               GlueRows& rows) {
    if (task.is_regression()) {
        double v = -1.0;
        if (value) {
            if (value->empty()) return false;
            if (!parse_python_float(*value, &v))
                throw Error(where + ": column '" + task.label_column + "': '" + *value +
                            "' is not a number");
        }
        rows.scores.push_back(v);
        return true;
    }
    int64_t id = -1;
    if (value) {
        if (value->empty()) return false;
        bool named = false;
        for (size_t k = 0; k < task.label_names.size(); ++k)
            if (task.label_names[k] == *value) {
                id = static_cast<int64_t>(k);
                named = true;
            }
        if (!named && !parse_python_int(*value, &id))
            throw Error(where + ": column '" + task.label_column + "': '" + *value +
                        "' is neither a label name nor an integer");
        if (id < -1 || id >= static_cast<int64_t>(task.label_names.size()))
            throw Error(where + ": column '" + task.label_column + "': label " +
                        std::to_string(id) + " is outside the " +
                        std::to_string(task.label_names.size()) + " classes");
    }
    rows.labels.push_back(id);
    return true;
}

// HF's MRPC path: the Microsoft files, dev rows picked by dev_ids.tsv; idx is the row number in
// the Microsoft file, so train and validation idx have gaps. The test file carries labels.
Dataset read_msr(const GlueTask& task, const fs::path& file,
                 const std::set<std::pair<std::string, std::string>>* dev_ids, bool want_dev) {
    const std::string text = read_text_file(file);
    const TsvTable t = read_tsv_rows(text, file.string());
    if (t.rows.empty()) throw Error(file.string() + ": empty file (no header)");
    const auto& header = t.rows[0];
    auto col = [&](const std::string& name) {
        for (size_t c = 0; c < header.size(); ++c)
            if (header[c] == name) return c;
        throw Error(file.string() + ":" + std::to_string(t.lines[0]) + ": no column '" + name +
                    "' in the header");
    };
    const size_t q = col("Quality"), id1 = col("#1 ID"), id2 = col("#2 ID"), s1 = col("#1 String"),
                 s2 = col("#2 String");
    const size_t need = std::max({q, id1, id2, s1, s2}) + 1;
    GlueRows rows;
    rows.texts.resize(2);
    for (size_t r = 1; r < t.rows.size(); ++r) {
        const auto& f = t.rows[r];
        const std::string where = file.string() + ":" + std::to_string(t.lines[r]);
        if (f.size() < need)
            throw Error(where + ": " + std::to_string(f.size()) + " fields, expected " +
                        std::to_string(header.size()));
        if (dev_ids && (dev_ids->count({f[id1], f[id2]}) > 0) != want_dev) continue;
        if (!add_label(task, &f[q], where, rows)) continue;
        rows.texts[0].push_back(f[s1]);
        rows.texts[1].push_back(f[s2]);
        rows.idx.push_back(static_cast<int64_t>(r - 1));
    }
    return to_dataset(task, std::move(rows));
}

}  // namespace

std::vector<std::pair<std::string, Feature>> GlueTask::features() const {
    std::vector<std::pair<std::string, Feature>> f;
    for (const auto& [feat, col] : text_features) f.emplace_back(feat, Feature::value("string"));
    f.emplace_back("label",
                   is_regression() ? Feature::value("float32") : Feature::class_label(label_names));
    f.emplace_back("idx", Feature::value("int32"));
    return f;
}

const std::vector<GlueTask>& glue_tasks() {
    static const std::vector<GlueTask> tasks = make_tasks();
    return tasks;
}

const GlueTask& glue_task(std::string_view name) {
    std::string known;
    for (const auto& t : glue_tasks()) {
        if (t.name == name) return t;
        known += (known.empty() ? "" : ", ") + t.name;
    }
    throw Error("unknown GLUE config '" + std::string(name) + "' (configs: " + known + ")");
}

Dataset parse_glue_tsv(const GlueTask& task, std::string_view text, const std::string& source,
                       bool is_test) {
    const TsvTable t = read_tsv_rows(text, source);
    GlueRows rows;
    rows.texts.resize(task.text_features.size());
    // CoLA's train and dev files alone have no header: source, label, original mark, sentence.
    const bool cola_no_header = task.name == "cola" && !is_test;
    std::vector<size_t> text_cols;
    std::optional<size_t> label_col;
    size_t first = 0;
    if (cola_no_header) {
        text_cols = {3};
        label_col = 1;
    } else {
        if (t.rows.empty()) throw Error(source + ": empty file (no header)");
        const auto& header = t.rows[0];
        auto find = [&](const std::string& name) -> std::optional<size_t> {
            for (size_t c = 0; c < header.size(); ++c)
                if (header[c] == name) return c;
            return std::nullopt;
        };
        for (const auto& [feat, col] : task.text_features) {
            const auto c = find(col);
            if (!c)
                throw Error(source + ":" + std::to_string(t.lines[0]) + ": no column '" + col +
                            "' (for " + feat + ") in the header");
            text_cols.push_back(*c);
        }
        label_col = find(task.label_column);
        first = 1;
    }
    for (size_t r = first; r < t.rows.size(); ++r) {
        const auto& f = t.rows[r];
        const std::string where = source + ":" + std::to_string(t.lines[r]);
        bool complete = true;
        for (size_t c : text_cols) complete &= c < f.size();
        if (label_col) complete &= *label_col < f.size();
        if (!complete && cola_no_header)  // HF's script would fail here (row[3] out of range)
            throw Error(where + ": " + std::to_string(f.size()) +
                        " fields, CoLA rows have 4 (source, label, mark, sentence)");
        if (!complete) {
            // HF's csv.DictReader leaves missing fields None and the script drops such rows
            // (idx still counts them); we do the same and say so.
            log_warning(where + ": " + std::to_string(f.size()) +
                        " fields, too few for the header; row skipped as HF's glue script does");
            continue;
        }
        const std::string* label = label_col ? &f[*label_col] : nullptr;
        if (!add_label(task, label, where, rows)) {
            log_warning(where + ": empty label; row skipped as HF's glue script does");
            continue;
        }
        for (size_t k = 0; k < text_cols.size(); ++k) rows.texts[k].push_back(f[text_cols[k]]);
        rows.idx.push_back(static_cast<int64_t>(r - first));
    }
    return to_dataset(task, std::move(rows));
}

DatasetDict load_glue_from_dir(const GlueTask& task, const fs::path& dir) {
    if (!fs::is_directory(dir))
        throw Error(dir.string() + ": not a directory (GLUE " + task.name + " TSVs expected)");
    DatasetDict dd;
    const fs::path msr_train = dir / "msr_paraphrase_train.txt",
                   msr_test = dir / "msr_paraphrase_test.txt", dev_ids = dir / "dev_ids.tsv";
    if (task.name == "mrpc" && fs::exists(msr_train) && fs::exists(msr_test) &&
        fs::exists(dev_ids)) {
        const std::string ids_text = read_text_file(dev_ids);
        const TsvTable ids = read_tsv_rows(ids_text, dev_ids.string());
        std::set<std::pair<std::string, std::string>> dev;
        for (size_t r = 0; r < ids.rows.size(); ++r) {
            if (ids.rows[r].size() < 2)
                throw Error(dev_ids.string() + ":" + std::to_string(ids.lines[r]) +
                            ": expected two ids");
            dev.insert({ids.rows[r][0], ids.rows[r][1]});
        }
        dd.set("train", read_msr(task, msr_train, &dev, false));
        dd.set("validation", read_msr(task, msr_train, &dev, true));
        dd.set("test", read_msr(task, msr_test, nullptr, false));
        return dd;
    }
    for (const auto& split : task.splits) {
        const fs::path file = dir / split.file;
        if (!fs::exists(file)) continue;
        const bool is_test = split.name.rfind("test", 0) == 0;
        dd.set(split.name, parse_glue_tsv(task, read_text_file(file), file.string(), is_test));
    }
    if (dd.size() == 0) {
        std::string files;
        for (const auto& s : task.splits) files += (files.empty() ? "" : ", ") + s.file;
        throw Error(dir.string() + ": none of the GLUE " + task.name + " files (" + files +
                    ") is there");
    }
    return dd;
}

}  // namespace ft
