// Collation of tokenised rows: the engine's packed batch (tokens concatenated with offsets, no
// padding) and DataCollatorWithPadding's padded (B, L) view, kept for API parity and tests.
#include <algorithm>

#include "finetune/data.h"

namespace ft {

namespace {

struct LabelSource {
    const Column* column = nullptr;  // "label" or "labels", or none
    std::string name;
};

LabelSource find_labels(const Dataset& ds) {
    for (const char* name : {"label", "labels"})
        if (ds.has_column(name)) {
            const Column& c = ds.column(name);
            if (c.type() != ColumnType::INT64 && c.type() != ColumnType::FLOAT64 &&
                c.type() != ColumnType::INT32_LIST)
                throw Error(std::string("collate: column '") + name + "' is " + c.feature().repr() +
                            ", not an integer or float label, or a list of token labels");
            return {&c, name};
        }
    return {};
}

const Column& list_column(const Dataset& ds, const char* name) {
    const Column& c = ds.column(name);
    if (c.type() != ColumnType::INT32_LIST)
        throw Error(std::string("collate: column '") + name + "' is " + c.feature().repr() +
                    ", not a list of token ids");
    return c;
}

void check_rows(const Dataset& ds, std::span<const int64_t> indices) {
    for (int64_t i : indices)
        if (i < 0 || i >= ds.num_rows())
            throw Error("collate: row " + std::to_string(i) + " is out of range for " +
                        std::to_string(ds.num_rows()) + " rows");
}

void check_types_match(const Column& ids, const Column* types, int64_t row) {
    if (types && types->list_at(row).size() != ids.list_at(row).size())
        throw Error("collate: row " + std::to_string(row) + " has " +
                    std::to_string(ids.list_at(row).size()) + " input_ids but " +
                    std::to_string(types->list_at(row).size()) + " token_type_ids");
}

}  // namespace

PackedBatch collate_packed(const Dataset& ds, std::span<const int64_t> indices) {
    check_rows(ds, indices);
    const Column& ids = list_column(ds, "input_ids");
    const Column* types =
        ds.has_column("token_type_ids") ? &list_column(ds, "token_type_ids") : nullptr;
    const LabelSource labels = find_labels(ds);
    PackedBatch b;
    b.offsets.push_back(0);
    for (int64_t r : indices) {
        check_types_match(ids, types, r);
        const auto s = ids.list_at(r);
        if (s.empty()) throw Error("collate: row " + std::to_string(r) + " has no tokens");
        b.input_ids.insert(b.input_ids.end(), s.begin(), s.end());
        if (types) {
            const auto t = types->list_at(r);
            b.token_type_ids.insert(b.token_type_ids.end(), t.begin(), t.end());
        }
        b.offsets.push_back(static_cast<int32_t>(b.input_ids.size()));
        if (labels.column && labels.column->type() == ColumnType::INT32_LIST) {
            // Token classification: a label per token (-100 where the loss skips it).
            const auto l = labels.column->list_at(r);
            if (l.size() != s.size())
                throw Error("collate: row " + std::to_string(r) + " has " +
                            std::to_string(s.size()) + " input_ids but " +
                            std::to_string(l.size()) + " " + labels.name);
            b.labels.insert(b.labels.end(), l.begin(), l.end());
        } else if (labels.column && labels.column->type() == ColumnType::INT64)
            b.labels.push_back(labels.column->as_int64()[static_cast<size_t>(r)]);
        else if (labels.column)
            b.targets.push_back(
                static_cast<float>(labels.column->as_float64()[static_cast<size_t>(r)]));
    }
    return b;
}

PaddedBatch collate_padded(const Dataset& ds, std::span<const int64_t> indices,
                           const PaddingOptions& options) {
    check_rows(ds, indices);
    const Column& ids = list_column(ds, "input_ids");
    const Column* types =
        ds.has_column("token_type_ids") ? &list_column(ds, "token_type_ids") : nullptr;
    const LabelSource labels = find_labels(ds);
    PaddedBatch p;
    p.batch_size = static_cast<int64_t>(indices.size());
    int64_t longest = 0;
    for (int64_t r : indices) {
        check_types_match(ids, types, r);
        longest = std::max<int64_t>(longest, static_cast<int64_t>(ids.list_at(r).size()));
    }
    int64_t L = longest;
    if (options.padding == Padding::MaxLength) {
        if (options.max_length <= 0)
            throw Error("collate: padding to max_length needs a positive max_length");
        if (longest > options.max_length)
            throw Error("collate: a row has " + std::to_string(longest) +
                        " tokens, more than max_length " + std::to_string(options.max_length) +
                        " (truncate when tokenizing)");
        L = options.max_length;
    }
    if (options.pad_to_multiple_of > 0 && L % options.pad_to_multiple_of != 0)
        L = (L / options.pad_to_multiple_of + 1) * options.pad_to_multiple_of;
    p.length = L;
    const auto cells = static_cast<size_t>(p.batch_size * L);
    p.input_ids.assign(cells, options.pad_token_id);
    p.attention_mask.assign(cells, 0);
    if (types) p.token_type_ids.assign(cells, options.pad_token_type_id);
    for (size_t b = 0; b < indices.size(); ++b) {
        const auto s = ids.list_at(indices[b]);
        const size_t base = b * static_cast<size_t>(L);
        std::copy(s.begin(), s.end(), p.input_ids.begin() + static_cast<std::ptrdiff_t>(base));
        std::fill_n(p.attention_mask.begin() + static_cast<std::ptrdiff_t>(base), s.size(), 1);
        if (types) {
            const auto t = types->list_at(indices[b]);
            std::copy(t.begin(), t.end(),
                      p.token_type_ids.begin() + static_cast<std::ptrdiff_t>(base));
        }
        const auto r = static_cast<size_t>(indices[b]);
        if (labels.column && labels.column->type() == ColumnType::INT32_LIST) {
            const auto l = labels.column->list_at(indices[b]);
            if (l.size() != s.size())
                throw Error("collate: row " + std::to_string(r) + " has " +
                            std::to_string(s.size()) + " input_ids but " +
                            std::to_string(l.size()) + " " + labels.name);
            p.token_labels = true;
            p.labels.resize(base + static_cast<size_t>(L), -100);
            std::copy(l.begin(), l.end(), p.labels.begin() + static_cast<std::ptrdiff_t>(base));
        } else if (labels.column && labels.column->type() == ColumnType::INT64)
            p.labels.push_back(labels.column->as_int64()[r]);
        else if (labels.column)
            p.float_labels.push_back(static_cast<float>(labels.column->as_float64()[r]));
    }
    return p;
}

PackedBatch pack_padded_batch(const PaddedBatch& padded) {
    PackedBatch b;
    b.offsets.push_back(0);
    for (int64_t s = 0; s < padded.batch_size; ++s)
        for (int64_t j = 0; j < padded.length; ++j) {
            const auto k = static_cast<size_t>(s * padded.length + j);
            if (!padded.attention_mask[k]) continue;
            b.input_ids.push_back(padded.input_ids[k]);
            if (!padded.token_type_ids.empty())
                b.token_type_ids.push_back(padded.token_type_ids[k]);
        }
    // Offsets from each row's mask count (right padding keeps a row's tokens contiguous).
    b.offsets.resize(1);
    for (int64_t s = 0; s < padded.batch_size; ++s) {
        int32_t count = 0;
        for (int64_t j = 0; j < padded.length; ++j)
            count += padded.attention_mask[static_cast<size_t>(s * padded.length + j)] != 0;
        b.offsets.push_back(b.offsets.back() + count);
    }
    if (padded.token_labels) {  // the non-pad tokens' labels
        for (size_t k = 0; k < padded.labels.size(); ++k)
            if (padded.attention_mask[k]) b.labels.push_back(padded.labels[k]);
    } else {
        b.labels = padded.labels;
    }
    b.targets = padded.float_labels;
    return b;
}

DataCollatorWithPadding::DataCollatorWithPadding(const Tokenizer& tokenizer, PaddingOptions options)
    : options_(options) {
    options_.pad_token_id = tokenizer.pad_token_id();
}

PaddedBatch DataCollatorWithPadding::operator()(const Dataset& ds,
                                                std::span<const int64_t> indices) const {
    return collate_padded(ds, indices, options_);
}

PackedBatch DataCollatorWithPadding::pack(const Dataset& ds,
                                          std::span<const int64_t> indices) const {
    return collate_packed(ds, indices);
}

}  // namespace ft
