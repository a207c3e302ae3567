// HF's feature types (Value, ClassLabel, List of Value or ClassLabel): their dtypes, storage,
// label-name lookups and the repr datasets >= 4 prints.
#include <algorithm>
#include <array>

#include "finetune/data.h"

namespace ft {

namespace {
constexpr std::array<std::string_view, 8> INT_DTYPES = {"int8",  "int16",  "int32",  "int64",
                                                        "uint8", "uint16", "uint32", "uint64"};

bool is_int_dtype(std::string_view d) {
    return std::find(INT_DTYPES.begin(), INT_DTYPES.end(), d) != INT_DTYPES.end();
}
bool is_float_dtype(std::string_view d) {
    return d == "float32" || d == "float64" || d == "float16";
}
}  // namespace

Feature Feature::value(std::string dtype) {
    if (dtype != "string" && dtype != "bool" && !is_int_dtype(dtype) && !is_float_dtype(dtype))
        throw Error("unknown Value dtype '" + dtype + "'");
    Feature f;
    f.kind = Kind::VALUE;
    f.dtype = std::move(dtype);
    return f;
}

Feature Feature::class_label(std::vector<std::string> names) {
    Feature f;
    f.kind = Kind::CLASS_LABEL;
    f.dtype = "int64";
    f.names = std::move(names);
    return f;
}

Feature Feature::list(std::string element_dtype) {
    if (!is_int_dtype(element_dtype) && element_dtype != "string")
        throw Error("list features hold integers or strings here, not '" + element_dtype + "'");
    Feature f;
    f.kind = Kind::LIST;
    f.dtype = std::move(element_dtype);
    return f;
}

Feature Feature::class_label_list(std::vector<std::string> names) {
    Feature f;
    f.kind = Kind::LIST;
    f.dtype = "int64";  // HF's ClassLabel dtype; the ids are stored as int32
    f.names = std::move(names);
    f.class_label_elements = true;
    return f;
}

Feature Feature::element() const {
    if (kind != Kind::LIST) throw Error(repr() + " is not a list feature");
    return class_label_elements ? class_label(names) : value(dtype);
}

ColumnType Feature::storage() const {
    switch (kind) {
        case Kind::CLASS_LABEL:
            return ColumnType::INT64;
        case Kind::LIST:
            return dtype == "string" ? ColumnType::STRING_LIST : ColumnType::INT32_LIST;
        case Kind::VALUE:
            break;
    }
    if (dtype == "string") return ColumnType::STRING;
    if (dtype == "bool") return ColumnType::BOOL;
    if (is_float_dtype(dtype)) return ColumnType::FLOAT64;
    return ColumnType::INT64;
}

int64_t Feature::str2int(std::string_view name) const {
    for (size_t i = 0; i < names.size(); ++i)
        if (names[i] == name) return static_cast<int64_t>(i);
    std::string known;
    for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
    throw Error("label '" + std::string(name) + "' is not one of the ClassLabel names [" + known +
                "]");
}

const std::string& Feature::int2str(int64_t id) const {
    if (id < 0 || id >= num_classes())
        throw Error("label id " + std::to_string(id) + " is outside the ClassLabel's " +
                    std::to_string(num_classes()) + " classes");
    return names[static_cast<size_t>(id)];
}

std::string Feature::repr() const {
    switch (kind) {
        case Kind::VALUE:
            return "Value(" + python_repr(dtype) + ")";
        case Kind::LIST:
            return "List(" + element().repr() + ")";
        case Kind::CLASS_LABEL: {
            std::string s = "ClassLabel(names=[";
            for (size_t i = 0; i < names.size(); ++i) s += (i ? ", " : "") + python_repr(names[i]);
            return s + "])";
        }
    }
    return {};
}

}  // namespace ft
