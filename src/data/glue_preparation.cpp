// run_glue.py's reading of a dataset before tokenisation: the labels (ClassLabel names, a
// regression, or integer values renumbered as label_to_id does) and the text columns.
#include <algorithm>
#include <set>

#include "finetune/data.h"

namespace ft {

namespace {

// Integer labels outside a ClassLabel (see GlueLabels in data.h).
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

}  // namespace

GlueLabels infer_glue_labels(DatasetDict& raw, const std::string& reference_split) {
    const Dataset& reference = raw[reference_split];
    if (!reference.has_column("label"))
        throw Error("the dataset has no 'label' column (columns of " + reference_split + ": " +
                    std::to_string(reference.column_names().size()) + ")");
    const Feature& label = reference.feature("label");
    GlueLabels out;
    if (label.kind == Feature::Kind::CLASS_LABEL) {
        out.label_list = label.names;
    } else if (label.dtype == "float32" || label.dtype == "float64") {
        out.is_regression = true;
    } else if (label.storage() == ColumnType::INT64) {
        out.label_list = integer_label_list(raw, reference_split);
    } else {
        throw Error("the 'label' column of " + reference_split + " is " + label.repr() +
                    "; give integer class ids, a ClassLabel or float targets");
    }
    return out;
}

TextColumns choose_text_columns(const Dataset& reference, std::string_view task_name) {
    if (!task_name.empty()) {
        const GlueTask& task = glue_task(task_name);
        TextColumns out{task.text_features.at(0).first, ""};
        if (task.text_features.size() > 1) out.pair = task.text_features[1].first;
        return out;
    }
    std::vector<std::string> names;
    for (const auto& n : reference.column_names())
        if (n != "label" && n != "labels" && n != "idx" &&
            reference.column(n).type() == ColumnType::STRING)
            names.push_back(n);
    auto has = [&](const char* n) {
        return std::find(names.begin(), names.end(), n) != names.end();
    };
    if (has("sentence1") && has("sentence2")) return {"sentence1", "sentence2"};
    if (names.empty())
        throw Error("the dataset has no text column (columns: " +
                    std::to_string(reference.column_names().size()) + ")");
    if (names.size() >= 2) return {names[0], names[1]};
    return {names[0], ""};
}

}  // namespace ft
