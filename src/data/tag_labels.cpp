// run_ner.py's label lists for token tags: a List(ClassLabel) column keeps its names; string tag
// columns get the sorted unique tags of the reference (train) split (get_label_list) and become
// List(ClassLabel) columns in every split. Everything is checked before anything is built.
#include <algorithm>
#include <set>
#include <unordered_map>

#include "finetune/data.h"

namespace ft {

namespace {

// The label list of one column: its ClassLabel names, or the reference split's sorted tags
// (std::string's byte order is UTF-8's code-point order, Python's sorted() on str).
std::vector<std::string> label_list(const Dataset& reference, const std::string& column,
                                    const std::string& split) {
    const Column& c = reference.column(column);
    if (c.feature().is_class_label_list()) return c.feature().names;
    if (c.type() != ColumnType::STRING_LIST)
        throw Error("split '" + split + "', column '" + column + "': " + c.feature().repr() +
                    " is not a tag column (List(Value('string')) or List(ClassLabel))");
    const auto& v = c.string_list_values();
    const std::set<std::string> unique(v.begin(), v.end());
    return {unique.begin(), unique.end()};
}

std::string where_of(const Dataset& ds, const std::string& split, int64_t row) {
    const auto origin = ds.row_origin(row);
    return "split '" + split + "', " +
           (origin ? "the sentence at " + origin->str() + " (row " + std::to_string(row) + ")"
                   : "row " + std::to_string(row));
}

// The column's tags as ids of `names`; throws naming the first tag that is not one of them.
Column to_ids(const Dataset& ds, const std::string& column, const std::string& split,
              const std::string& reference_split, const std::vector<std::string>& names) {
    const Column& c = ds.column(column);
    const Feature target = Feature::class_label_list(names);
    if (c.feature().is_class_label_list()) {
        if (c.feature().names != names)
            throw Error("split '" + split + "', column '" + column + "': its ClassLabel names " +
                        c.feature().repr() + " differ from split '" + reference_split + "'s");
        return c;
    }
    if (c.type() != ColumnType::STRING_LIST)
        throw Error("split '" + split + "', column '" + column + "': " + c.feature().repr() +
                    " is not a tag column (List(Value('string')) or List(ClassLabel))");
    std::unordered_map<std::string, int32_t> id;
    for (size_t i = 0; i < names.size(); ++i) id.emplace(names[i], static_cast<int32_t>(i));
    const auto& tags = c.string_list_values();
    const auto& offsets = c.list_offsets();
    std::vector<int32_t> ids(tags.size());
    for (int64_t row = 0; row < c.size(); ++row)
        for (int64_t k = offsets[static_cast<size_t>(row)];
             k < offsets[static_cast<size_t>(row) + 1]; ++k) {
            const auto it = id.find(tags[static_cast<size_t>(k)]);
            if (it == id.end())
                throw Error(where_of(ds, split, row) + ", token " +
                            std::to_string(k - offsets[static_cast<size_t>(row)]) + ": tag '" +
                            tags[static_cast<size_t>(k)] + "' of column '" + column +
                            "' is not in split '" + reference_split + "'s labels " +
                            target.element().repr());
            ids[static_cast<size_t>(k)] = it->second;
        }
    return Column::int32_lists(std::move(ids), offsets, target);
}

}  // namespace

DatasetDict class_label_tag_columns(const DatasetDict& raw, const std::vector<std::string>& columns,
                                    const std::string& reference_split) {
    const Dataset& reference = raw[reference_split];  // throws naming the split
    DatasetDict out = raw;
    for (const std::string& column : columns) {
        const std::vector<std::string> names = label_list(reference, column, reference_split);
        for (const auto& [split, ds] : raw.splits()) {
            Column ids = to_ids(ds, column, split, reference_split, names);
            // Replace in place: keep the column order (and the row origins) HF shows.
            const auto order = ds.column_names();
            Dataset replaced =
                out[split].remove_columns({column}).add_column(column, std::move(ids));
            Dataset reordered = replaced.remove_columns(order);
            for (const auto& name : order)
                reordered = reordered.add_column(name, replaced.column(name));
            out.set(split, std::move(reordered));
        }
    }
    return out;
}

}  // namespace ft
