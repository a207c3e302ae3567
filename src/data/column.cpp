// Column storage: one typed vector per column (strings, int64, double, bool, flat int32 or string
// lists with offsets), gathering rows and concatenating parts for select/shuffle/map.
#include <algorithm>
#include <cmath>

#include "finetune/data.h"

namespace ft {

namespace {
const char* type_name(ColumnType t) {
    switch (t) {
        case ColumnType::STRING:
            return "string";
        case ColumnType::INT64:
            return "int64";
        case ColumnType::FLOAT64:
            return "float64";
        case ColumnType::BOOL:
            return "bool";
        case ColumnType::INT32_LIST:
            return "list<int32>";
        case ColumnType::STRING_LIST:
            return "list<string>";
    }
    return "?";
}

void check_offsets(const std::vector<int64_t>& offsets, size_t values) {
    FT_ASSERT(
        !offsets.empty() && offsets.front() == 0 && offsets.back() == static_cast<int64_t>(values),
        "list offsets must start at 0 and end at the value count");
    for (size_t i = 1; i < offsets.size(); ++i)
        FT_ASSERT(offsets[i] >= offsets[i - 1], "list offsets must not decrease");
}

// Gathers rows of a flat list column (values + offsets) in the given order.
template <class T>
void take_lists(const std::vector<T>& values, const std::vector<int64_t>& offsets,
                std::span<const int64_t> rows, std::vector<T>& out_values,
                std::vector<int64_t>& out_offsets) {
    out_offsets.reserve(rows.size() + 1);
    for (int64_t r : rows) {
        const auto b = offsets[static_cast<size_t>(r)], e = offsets[static_cast<size_t>(r) + 1];
        out_values.insert(out_values.end(), values.begin() + b, values.begin() + e);
        out_offsets.push_back(static_cast<int64_t>(out_values.size()));
    }
}

template <class T>
void append_lists(const std::vector<T>& values, const std::vector<int64_t>& offsets,
                  std::vector<T>& out_values, std::vector<int64_t>& out_offsets) {
    const int64_t base = static_cast<int64_t>(out_values.size());
    out_values.insert(out_values.end(), values.begin(), values.end());
    for (size_t i = 1; i < offsets.size(); ++i) out_offsets.push_back(base + offsets[i]);
}

void check_feature(const Feature& f, ColumnType storage) {
    if (f.storage() != storage)
        throw Error("feature " + f.repr() + " cannot describe a " + type_name(storage) + " column");
}
}  // namespace

Column Column::strings(std::vector<std::string> v, Feature f) {
    check_feature(f, ColumnType::STRING);
    Column c;
    c.type_ = ColumnType::STRING;
    c.feature_ = std::move(f);
    c.strings_ = std::move(v);
    return c;
}

Column Column::int64s(std::vector<int64_t> v, Feature f) {
    check_feature(f, ColumnType::INT64);
    if (f.kind == Feature::Kind::CLASS_LABEL)
        for (size_t i = 0; i < v.size(); ++i)
            // -1 is HF's "no label" (GLUE test splits).
            if (v[i] < -1 || v[i] >= f.num_classes())
                throw Error("row " + std::to_string(i) + ": label " + std::to_string(v[i]) +
                            " is outside " + f.repr());
    Column c;
    c.type_ = ColumnType::INT64;
    c.feature_ = std::move(f);
    c.ints_ = std::move(v);
    return c;
}

Column Column::float64s(std::vector<double> v, Feature f) {
    check_feature(f, ColumnType::FLOAT64);
    // float32 columns hold float-representable values, as an Arrow float32 array would.
    if (f.dtype == "float32")
        for (double& x : v) x = static_cast<double>(static_cast<float>(x));
    Column c;
    c.type_ = ColumnType::FLOAT64;
    c.feature_ = std::move(f);
    c.floats_ = std::move(v);
    return c;
}

Column Column::bools(std::vector<uint8_t> v, Feature f) {
    check_feature(f, ColumnType::BOOL);
    Column c;
    c.type_ = ColumnType::BOOL;
    c.feature_ = std::move(f);
    c.bools_ = std::move(v);
    return c;
}

Column Column::int32_lists(const std::vector<std::vector<int32_t>>& v, Feature f) {
    std::vector<int32_t> values;
    std::vector<int64_t> offsets{0};
    offsets.reserve(v.size() + 1);
    for (const auto& row : v) {
        values.insert(values.end(), row.begin(), row.end());
        offsets.push_back(static_cast<int64_t>(values.size()));
    }
    return int32_lists(std::move(values), std::move(offsets), std::move(f));
}

Column Column::int32_lists(std::vector<int32_t> values, std::vector<int64_t> offsets, Feature f) {
    check_feature(f, ColumnType::INT32_LIST);
    check_offsets(offsets, values.size());
    if (f.is_class_label_list())
        for (size_t i = 0; i < values.size(); ++i)
            // -1 is HF's "no label", as for a ClassLabel column.
            if (values[i] < -1 || values[i] >= f.num_classes()) {
                const auto row =
                    std::upper_bound(offsets.begin(), offsets.end(), static_cast<int64_t>(i)) -
                    offsets.begin() - 1;
                throw Error("row " + std::to_string(row) + ": label " + std::to_string(values[i]) +
                            " is outside " + f.repr());
            }
    Column c;
    c.type_ = ColumnType::INT32_LIST;
    c.feature_ = std::move(f);
    c.list_values_ = std::move(values);
    c.list_offsets_ = std::move(offsets);
    return c;
}

Column Column::string_lists(const std::vector<std::vector<std::string>>& v, Feature f) {
    std::vector<std::string> values;
    std::vector<int64_t> offsets{0};
    offsets.reserve(v.size() + 1);
    for (const auto& row : v) {
        values.insert(values.end(), row.begin(), row.end());
        offsets.push_back(static_cast<int64_t>(values.size()));
    }
    return string_lists(std::move(values), std::move(offsets), std::move(f));
}

Column Column::string_lists(std::vector<std::string> values, std::vector<int64_t> offsets,
                            Feature f) {
    check_feature(f, ColumnType::STRING_LIST);
    check_offsets(offsets, values.size());
    Column c;
    c.type_ = ColumnType::STRING_LIST;
    c.feature_ = std::move(f);
    c.strings_ = std::move(values);  // the flat values; list_offsets_ cut them into rows
    c.list_offsets_ = std::move(offsets);
    return c;
}

int64_t Column::size() const {
    switch (type_) {
        case ColumnType::STRING:
            return static_cast<int64_t>(strings_.size());
        case ColumnType::INT64:
            return static_cast<int64_t>(ints_.size());
        case ColumnType::FLOAT64:
            return static_cast<int64_t>(floats_.size());
        case ColumnType::BOOL:
            return static_cast<int64_t>(bools_.size());
        case ColumnType::INT32_LIST:
        case ColumnType::STRING_LIST:
            return static_cast<int64_t>(list_offsets_.size()) - 1;
    }
    return 0;
}

#define FT_COLUMN_ACCESSOR(method, T, member, TYPE)                               \
    const T& Column::method() const {                                             \
        if (type_ != ColumnType::TYPE)                                            \
            throw Error(std::string("column is ") + type_name(type_) + ", not " + \
                        type_name(ColumnType::TYPE));                             \
        return member;                                                            \
    }
FT_COLUMN_ACCESSOR(as_strings, std::vector<std::string>, strings_, STRING)
FT_COLUMN_ACCESSOR(as_int64, std::vector<int64_t>, ints_, INT64)
FT_COLUMN_ACCESSOR(as_float64, std::vector<double>, floats_, FLOAT64)
FT_COLUMN_ACCESSOR(as_bool, std::vector<uint8_t>, bools_, BOOL)
FT_COLUMN_ACCESSOR(list_values, std::vector<int32_t>, list_values_, INT32_LIST)
FT_COLUMN_ACCESSOR(string_list_values, std::vector<std::string>, strings_, STRING_LIST)
#undef FT_COLUMN_ACCESSOR

const std::vector<int64_t>& Column::list_offsets() const {
    if (type_ != ColumnType::INT32_LIST && type_ != ColumnType::STRING_LIST)
        throw Error(std::string("column is ") + type_name(type_) + ", not a list");
    return list_offsets_;
}

std::span<const int32_t> Column::list_at(int64_t row) const {
    const auto& values = list_values();  // throws unless an int32 list column
    const auto& off = list_offsets_;
    FT_ASSERT(row >= 0 && row + 1 < static_cast<int64_t>(off.size()), "list row out of range");
    const auto r = static_cast<size_t>(row);
    return {values.data() + off[r], static_cast<size_t>(off[r + 1] - off[r])};
}

std::span<const std::string> Column::string_list_at(int64_t row) const {
    const auto& values = string_list_values();  // throws unless a string list column
    const auto& off = list_offsets_;
    FT_ASSERT(row >= 0 && row + 1 < static_cast<int64_t>(off.size()), "list row out of range");
    const auto r = static_cast<size_t>(row);
    return {values.data() + off[r], static_cast<size_t>(off[r + 1] - off[r])};
}

Column Column::take(std::span<const int64_t> rows) const {
    Column c;
    c.type_ = type_;
    c.feature_ = feature_;
    const int64_t n = size();
    for (int64_t r : rows) FT_ASSERT(r >= 0 && r < n, "row index out of range in take");
    switch (type_) {
        case ColumnType::STRING:
            c.strings_.reserve(rows.size());
            for (int64_t r : rows) c.strings_.push_back(strings_[static_cast<size_t>(r)]);
            break;
        case ColumnType::INT64:
            c.ints_.reserve(rows.size());
            for (int64_t r : rows) c.ints_.push_back(ints_[static_cast<size_t>(r)]);
            break;
        case ColumnType::FLOAT64:
            c.floats_.reserve(rows.size());
            for (int64_t r : rows) c.floats_.push_back(floats_[static_cast<size_t>(r)]);
            break;
        case ColumnType::BOOL:
            c.bools_.reserve(rows.size());
            for (int64_t r : rows) c.bools_.push_back(bools_[static_cast<size_t>(r)]);
            break;
        case ColumnType::INT32_LIST:
            take_lists(list_values_, list_offsets_, rows, c.list_values_, c.list_offsets_);
            break;
        case ColumnType::STRING_LIST:
            take_lists(strings_, list_offsets_, rows, c.strings_, c.list_offsets_);
            break;
    }
    return c;
}

Column Column::concat(const std::vector<const Column*>& parts) {
    FT_ASSERT(!parts.empty(), "concat needs at least one part");
    Column c;
    c.type_ = parts[0]->type_;
    c.feature_ = parts[0]->feature_;
    for (const Column* p : parts) {
        if (p->type_ != c.type_ || p->feature_ != c.feature_)
            throw Error("cannot concatenate columns of different features: " + c.feature_.repr() +
                        " and " + p->feature_.repr());
        switch (c.type_) {
            case ColumnType::STRING:
                c.strings_.insert(c.strings_.end(), p->strings_.begin(), p->strings_.end());
                break;
            case ColumnType::INT64:
                c.ints_.insert(c.ints_.end(), p->ints_.begin(), p->ints_.end());
                break;
            case ColumnType::FLOAT64:
                c.floats_.insert(c.floats_.end(), p->floats_.begin(), p->floats_.end());
                break;
            case ColumnType::BOOL:
                c.bools_.insert(c.bools_.end(), p->bools_.begin(), p->bools_.end());
                break;
            case ColumnType::INT32_LIST:
                append_lists(p->list_values_, p->list_offsets_, c.list_values_, c.list_offsets_);
                break;
            case ColumnType::STRING_LIST:
                append_lists(p->strings_, p->list_offsets_, c.strings_, c.list_offsets_);
                break;
        }
    }
    return c;
}

}  // namespace ft
