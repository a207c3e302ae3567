// Dataset and DatasetDict: named columns, row access, select / shuffle / filter, column edits,
// train_test_split, and the reprs HF prints.
#include <algorithm>
#include <cmath>

#include "finetune/data.h"

namespace ft {

// ---------------------------------------------------------------------------------------------
// Row

const Scalar& Row::operator[](std::string_view key) const {
    for (size_t i = 0; i < keys.size(); ++i)
        if (keys[i] == key) return values[i];
    throw Error("row has no column '" + std::string(key) + "'");
}

const std::string& Row::str(std::string_view key) const {
    const auto* v = std::get_if<std::string>(&(*this)[key]);
    if (!v) throw Error("column '" + std::string(key) + "' is not a string");
    return *v;
}

int64_t Row::int64(std::string_view key) const {
    const auto* v = std::get_if<int64_t>(&(*this)[key]);
    if (!v) throw Error("column '" + std::string(key) + "' is not an integer");
    return *v;
}

double Row::float64(std::string_view key) const {
    const auto* v = std::get_if<double>(&(*this)[key]);
    if (!v) throw Error("column '" + std::string(key) + "' is not a float");
    return *v;
}

const std::vector<std::string>& Row::string_list(std::string_view key) const {
    const auto* v = std::get_if<std::vector<std::string>>(&(*this)[key]);
    if (!v) throw Error("column '" + std::string(key) + "' is not a list of strings");
    return *v;
}

const std::vector<int32_t>& Row::int_list(std::string_view key) const {
    const auto* v = std::get_if<std::vector<int32_t>>(&(*this)[key]);
    if (!v) throw Error("column '" + std::string(key) + "' is not a list of integers");
    return *v;
}

std::string Row::repr() const {
    std::string s = "{";
    for (size_t i = 0; i < keys.size(); ++i) {
        if (i) s += ", ";
        s += python_repr(keys[i]) + ": ";
        const Scalar& v = values[i];
        if (const auto* str = std::get_if<std::string>(&v)) {
            s += python_repr(*str);
        } else if (const auto* n = std::get_if<int64_t>(&v)) {
            s += std::to_string(*n);
        } else if (const auto* d = std::get_if<double>(&v)) {
            s += python_float_repr(*d);
        } else if (const auto* b = std::get_if<bool>(&v)) {
            s += *b ? "True" : "False";
        } else if (const auto* strs = std::get_if<std::vector<std::string>>(&v)) {
            s += "[";
            for (size_t j = 0; j < strs->size(); ++j)
                s += (j ? ", " : "") + python_repr((*strs)[j]);
            s += "]";
        } else {
            const auto& list = std::get<std::vector<int32_t>>(v);
            s += "[";
            for (size_t j = 0; j < list.size(); ++j) s += (j ? ", " : "") + std::to_string(list[j]);
            s += "]";
        }
    }
    return s + "}";
}

// ---------------------------------------------------------------------------------------------
// Dataset

size_t Dataset::index_of(std::string_view name) const {
    for (size_t i = 0; i < columns_.size(); ++i)
        if (columns_[i].first == name) return i;
    return columns_.size();
}

std::vector<std::string> Dataset::column_names() const {
    std::vector<std::string> names;
    for (const auto& [n, c] : columns_) names.push_back(n);
    return names;
}

bool Dataset::has_column(std::string_view name) const {
    return index_of(name) < columns_.size();
}

const Column& Dataset::column(std::string_view name) const {
    const size_t i = index_of(name);
    if (i == columns_.size()) {
        std::string known;
        for (const auto& [n, c] : columns_) known += (known.empty() ? "" : ", ") + n;
        throw Error("dataset has no column '" + std::string(name) + "' (columns: " + known + ")");
    }
    return *columns_[i].second;
}

std::string Dataset::features_repr() const {
    std::string s = "{";
    for (size_t i = 0; i < columns_.size(); ++i)
        s += (i ? ", " : "") + python_repr(columns_[i].first) + ": " +
             columns_[i].second->feature().repr();
    return s + "}";
}

Row Dataset::operator[](int64_t row) const {
    if (row < 0 || row >= num_rows_)
        throw Error("row " + std::to_string(row) + " is out of range for a dataset of " +
                    std::to_string(num_rows_) + " rows");
    Row r;
    const auto i = static_cast<size_t>(row);
    for (const auto& [name, col] : columns_) {
        r.keys.push_back(name);
        switch (col->type()) {
            case ColumnType::STRING:
                r.values.emplace_back(col->as_strings()[i]);
                break;
            case ColumnType::INT64:
                r.values.emplace_back(col->as_int64()[i]);
                break;
            case ColumnType::FLOAT64:
                r.values.emplace_back(col->as_float64()[i]);
                break;
            case ColumnType::BOOL:
                r.values.emplace_back(col->as_bool()[i] != 0);
                break;
            case ColumnType::INT32_LIST: {
                const auto s = col->list_at(row);
                r.values.emplace_back(std::vector<int32_t>(s.begin(), s.end()));
                break;
            }
            case ColumnType::STRING_LIST: {
                const auto s = col->string_list_at(row);
                r.values.emplace_back(std::vector<std::string>(s.begin(), s.end()));
                break;
            }
        }
    }
    return r;
}

Dataset Dataset::select(std::span<const int64_t> indices) const {
    for (size_t k = 0; k < indices.size(); ++k)
        if (indices[k] < 0 || indices[k] >= num_rows_)
            throw Error("select: index " + std::to_string(indices[k]) + " (position " +
                        std::to_string(k) + ") is out of range for " + std::to_string(num_rows_) +
                        " rows");
    Dataset out;
    out.num_rows_ = static_cast<int64_t>(indices.size());
    for (const auto& [name, col] : columns_)
        out.columns_.emplace_back(name, std::make_shared<const Column>(col->take(indices)));
    if (origins_) {
        auto o = std::make_shared<RowOrigins>();
        o->files = origins_->files;
        for (int64_t i : indices) {
            o->file.push_back(origins_->file[static_cast<size_t>(i)]);
            o->line.push_back(origins_->line[static_cast<size_t>(i)]);
        }
        out.origins_ = std::move(o);
    }
    return out;
}

Dataset Dataset::select_range(int64_t begin, int64_t end) const {
    if (begin < 0 || end > num_rows_ || begin > end)
        throw Error("select_range: [" + std::to_string(begin) + ", " + std::to_string(end) +
                    ") is not inside " + std::to_string(num_rows_) + " rows");
    std::vector<int64_t> idx(static_cast<size_t>(end - begin));
    for (int64_t i = begin; i < end; ++i) idx[static_cast<size_t>(i - begin)] = i;
    return select(idx);
}

Dataset Dataset::shuffle(uint64_t seed) const {
    return select(random_sampler(num_rows_, seed));
}

Dataset Dataset::filter(const std::function<bool(const Row&)>& predicate) const {
    std::vector<int64_t> keep;
    for (int64_t i = 0; i < num_rows_; ++i)
        if (predicate((*this)[i])) keep.push_back(i);
    return select(keep);
}

Dataset Dataset::rename_column(const std::string& from, const std::string& to) const {
    const size_t i = index_of(from);
    if (i == columns_.size()) column(from);  // throws naming the column
    if (from != to && has_column(to))
        throw Error("rename_column: a column named '" + to + "' already exists");
    Dataset out = *this;
    out.columns_[i].first = to;
    return out;
}

Dataset Dataset::remove_columns(const std::vector<std::string>& names) const {
    for (const auto& n : names) column(n);  // every name must exist, as in HF
    Dataset out;
    out.num_rows_ = num_rows_;
    out.origins_ = origins_;
    for (const auto& entry : columns_)
        if (std::find(names.begin(), names.end(), entry.first) == names.end())
            out.columns_.push_back(entry);
    return out;
}

Dataset Dataset::add_column(const std::string& name, Column column) const {
    if (has_column(name)) throw Error("add_column: a column named '" + name + "' already exists");
    if (!columns_.empty() && column.size() != num_rows_)
        throw Error("add_column: column '" + name + "' has " + std::to_string(column.size()) +
                    " rows, the dataset " + std::to_string(num_rows_));
    Dataset out = *this;
    out.num_rows_ = column.size();
    out.columns_.emplace_back(name, std::make_shared<const Column>(std::move(column)));
    return out;
}

Dataset Dataset::cast_column(const std::string& name, const Feature& feature) const {
    const Column& c = column(name);
    if (feature.storage() != c.type())
        throw Error("cast_column: column '" + name + "' (" + c.feature().repr() +
                    ") cannot become " + feature.repr());
    Column cast;
    switch (c.type()) {
        case ColumnType::STRING:
            cast = Column::strings(c.as_strings(), feature);
            break;
        case ColumnType::INT64:
            cast = Column::int64s(c.as_int64(), feature);
            break;
        case ColumnType::FLOAT64:
            cast = Column::float64s(c.as_float64(), feature);
            break;
        case ColumnType::BOOL:
            cast = Column::bools(c.as_bool(), feature);
            break;
        case ColumnType::INT32_LIST:
            cast = Column::int32_lists(c.list_values(), c.list_offsets(), feature);
            break;
        case ColumnType::STRING_LIST:
            cast = Column::string_lists(c.string_list_values(), c.list_offsets(), feature);
            break;
    }
    Dataset out = *this;
    out.columns_[index_of(name)].second = std::make_shared<const Column>(std::move(cast));
    return out;
}

Dataset Dataset::concatenate(const std::vector<Dataset>& parts) {
    if (parts.empty()) return {};
    const auto names = parts[0].column_names();
    Dataset out;
    for (const auto& p : parts) {
        if (p.column_names() != names)
            throw Error("concatenate: the datasets have different columns");
        out.num_rows_ += p.num_rows_;
    }
    for (size_t c = 0; c < names.size(); ++c) {
        std::vector<const Column*> cols;
        for (const auto& p : parts) cols.push_back(p.columns_[c].second.get());
        out.columns_.emplace_back(names[c], std::make_shared<const Column>(Column::concat(cols)));
    }
    // Origins survive when every part has them (the files of a split read one by one).
    if (std::all_of(parts.begin(), parts.end(), [](const Dataset& p) { return p.origins_; })) {
        auto o = std::make_shared<RowOrigins>();
        for (const auto& p : parts) {
            const auto base = static_cast<int32_t>(o->files.size());
            o->files.insert(o->files.end(), p.origins_->files.begin(), p.origins_->files.end());
            for (int32_t f : p.origins_->file) o->file.push_back(base + f);
            o->line.insert(o->line.end(), p.origins_->line.begin(), p.origins_->line.end());
        }
        out.origins_ = std::move(o);
    }
    return out;
}

std::string Dataset::repr() const {
    std::string names = "[";
    for (size_t i = 0; i < columns_.size(); ++i)
        names += (i ? ", " : "") + python_repr(columns_[i].first);
    names += "]";
    return "Dataset({\n    features: " + names + ",\n    num_rows: " + std::to_string(num_rows_) +
           "\n})";
}

std::optional<RowOrigin> Dataset::row_origin(int64_t row) const {
    if (!origins_ || row < 0 || row >= num_rows_) return std::nullopt;
    const auto r = static_cast<size_t>(row);
    return RowOrigin{origins_->files[static_cast<size_t>(origins_->file[r])], origins_->line[r]};
}

Dataset Dataset::with_row_origins(const std::string& file, std::vector<int64_t> lines) const {
    FT_ASSERT(static_cast<int64_t>(lines.size()) == num_rows_, "one origin line per row");
    auto o = std::make_shared<RowOrigins>();
    o->files = {file};
    o->file.assign(lines.size(), 0);
    o->line = std::move(lines);
    Dataset out = *this;
    out.origins_ = std::move(o);
    return out;
}

// ---------------------------------------------------------------------------------------------
// DatasetDict

void DatasetDict::set(const std::string& split, Dataset ds) {
    for (auto& [name, d] : splits_)
        if (name == split) {
            d = std::move(ds);
            return;
        }
    splits_.emplace_back(split, std::move(ds));
}

bool DatasetDict::contains(std::string_view split) const {
    for (const auto& [name, d] : splits_)
        if (name == split) return true;
    return false;
}

const Dataset& DatasetDict::operator[](std::string_view split) const {
    for (const auto& [name, d] : splits_)
        if (name == split) return d;
    std::string known;
    for (const auto& [name, d] : splits_) known += (known.empty() ? "" : ", ") + name;
    throw Error("no split '" + std::string(split) + "' (splits: " + known + ")");
}

Dataset& DatasetDict::operator[](std::string_view split) {
    return const_cast<Dataset&>(static_cast<const DatasetDict&>(*this)[split]);
}

std::vector<std::string> DatasetDict::split_names() const {
    std::vector<std::string> names;
    for (const auto& [name, d] : splits_) names.push_back(name);
    return names;
}

namespace {
template <class F>
DatasetDict each_split(const DatasetDict& in, F&& f) {
    DatasetDict out;
    for (const auto& [name, d] : in.splits()) out.set(name, f(d));
    return out;
}
}  // namespace

DatasetDict DatasetDict::map(const MapFunction& fn, const MapOptions& options) const {
    return each_split(*this, [&](const Dataset& d) { return d.map(fn, options); });
}
DatasetDict DatasetDict::rename_column(const std::string& from, const std::string& to) const {
    return each_split(*this, [&](const Dataset& d) { return d.rename_column(from, to); });
}
DatasetDict DatasetDict::remove_columns(const std::vector<std::string>& names) const {
    return each_split(*this, [&](const Dataset& d) { return d.remove_columns(names); });
}
DatasetDict DatasetDict::shuffle(uint64_t seed) const {
    return each_split(*this, [&](const Dataset& d) { return d.shuffle(seed); });
}

std::string DatasetDict::repr() const {
    std::string body;
    for (const auto& [name, d] : splits_) {
        // HF indents every line of "name: Dataset(...)" by four spaces.
        std::string entry = name + ": " + d.repr();
        std::string indented = "    ";
        for (char c : entry) {
            indented += c;
            if (c == '\n') indented += "    ";
        }
        body += indented + "\n";
    }
    return "DatasetDict({\n" + body + "})";
}

// ---------------------------------------------------------------------------------------------
// train_test_split, with HF's size rules (arrow_dataset.py): float test -> ceil, float train ->
// floor, an absent side takes the rest; either side empty is an error.

DatasetDict train_test_split(const Dataset& ds, SplitSize test_size, uint64_t seed,
                             std::optional<SplitSize> train_size, bool shuffle) {
    const int64_t n = ds.num_rows();
    auto check = [&](const SplitSize& s, const char* what) {
        if (s.fraction && (*s.fraction <= 0.0 || *s.fraction >= 1.0))
            throw Error(std::string(what) + "=" + std::to_string(*s.fraction) +
                        " should be in the (0, 1) range");
        if (s.count && (*s.count <= 0 || *s.count >= n))
            throw Error(std::string(what) + "=" + std::to_string(*s.count) +
                        " should be smaller than the number of samples " + std::to_string(n) +
                        " and positive");
    };
    check(test_size, "test_size");
    if (train_size) check(*train_size, "train_size");
    int64_t n_test = test_size.fraction ? static_cast<int64_t>(std::ceil(*test_size.fraction * n))
                                        : *test_size.count;
    int64_t n_train = 0;
    if (train_size)
        n_train = train_size->fraction ? static_cast<int64_t>(std::floor(*train_size->fraction * n))
                                       : *train_size->count;
    else
        n_train = n - n_test;
    if (n_train + n_test > n)
        throw Error("train_size + test_size = " + std::to_string(n_train + n_test) +
                    " exceeds the number of samples " + std::to_string(n));
    if (n_train == 0)
        throw Error("with n_samples=" + std::to_string(n) +
                    " the resulting train set would be empty; adjust test_size or train_size");
    if (n_test == 0)
        throw Error("with n_samples=" + std::to_string(n) +
                    " the resulting test set would be empty; adjust test_size or train_size");
    // HF: test takes the permutation's first n_test rows, train the next n_train.
    const std::vector<int64_t> perm = shuffle ? random_sampler(n, seed) : sequential_sampler(n);
    std::vector<int64_t> test_idx(perm.begin(), perm.begin() + n_test);
    std::vector<int64_t> train_idx(perm.begin() + n_test, perm.begin() + n_test + n_train);
    if (!shuffle) {  // HF: without shuffling, train is the head and test the tail
        train_idx.assign(perm.begin(), perm.begin() + n_train);
        test_idx.assign(perm.begin() + n_train, perm.begin() + n_train + n_test);
    }
    DatasetDict out;
    out.set("train", ds.select(train_idx));
    out.set("test", ds.select(test_idx));
    return out;
}

}  // namespace ft
