// A Parquet file as a Dataset: the decoded columns with the features HF wrote into the file's
// `huggingface` metadata (ClassLabel names, Value dtypes, Sequence/List), or features inferred
// from the Parquet types when the file has none.
#include <nlohmann/json.hpp>

#include "data/parquet.h"
#include "finetune/data.h"

namespace ft {
namespace {

using nlohmann::json;

// HF's feature JSON: {"dtype": "int32", "_type": "Value"}, {"names": [...], "_type":
// "ClassLabel"}, {"feature": {...}, "_type": "Sequence" | "List"}.
Feature feature_from_json(const json& j, const std::string& where) {
    const std::string type = j.value("_type", "");
    if (type == "Value") return Feature::value(j.at("dtype").get<std::string>());
    if (type == "ClassLabel")
        return Feature::class_label(j.at("names").get<std::vector<std::string>>());
    if (type == "Sequence" || type == "List") {
        const json& inner = j.at("feature");
        if (inner.value("_type", "") != "Value")
            throw Error(where + ": nested feature " + inner.dump() + " is not supported");
        return Feature::list(inner.at("dtype").get<std::string>());
    }
    throw Error(where + ": feature type '" + type + "' is not supported");
}

std::map<std::string, Feature> hf_features(const data::ParquetTable& t, const std::string& file) {
    std::map<std::string, Feature> out;
    for (const auto& [key, value] : t.metadata) {
        if (key != "huggingface") continue;
        try {
            const json j = json::parse(value);
            const json* features = nullptr;
            if (j.contains("info") && j["info"].contains("features"))
                features = &j["info"]["features"];
            else if (j.contains("features"))
                features = &j["features"];
            if (features == nullptr) return out;
            for (const auto& [name, f] : features->items())
                out.emplace(name, feature_from_json(
                                      f, file + ": huggingface metadata, feature '" + name + "'"));
        } catch (const json::exception& e) {
            throw Error(file + ": huggingface metadata: " + e.what());
        }
    }
    return out;
}

Feature inferred_feature(const data::ParquetColumn& c) {
    using data::ParquetType;
    switch (c.physical) {
        case ParquetType::Boolean:
            return Feature::value("bool");
        case ParquetType::Int32:
            return c.is_list ? Feature::list("int32") : Feature::value("int32");
        case ParquetType::Int64:
            return c.is_list ? Feature::list("int64") : Feature::value("int64");
        case ParquetType::Float:
            return Feature::value("float32");
        case ParquetType::Double:
            return Feature::value("float64");
        case ParquetType::ByteArray:
            return Feature::value("string");
    }
    return Feature::value("string");
}

Column to_column(data::ParquetColumn& c, const Feature& feature, const std::string& file) {
    const std::string where = file + ": column '" + c.name + "'";
    for (size_t r = 0; r < c.valid.size(); ++r)
        if (!c.valid[r])
            throw Error(where + ": row " + std::to_string(r) +
                        " is null (datasets with nulls are not supported yet)");
    if (c.is_list) {
        if (c.physical != data::ParquetType::Int32 && c.physical != data::ParquetType::Int64)
            throw Error(where + ": only lists of integers are supported");
        std::vector<int32_t> values(c.ints.size());
        for (size_t i = 0; i < c.ints.size(); ++i) {
            if (c.ints[i] < INT32_MIN || c.ints[i] > INT32_MAX)
                throw Error(where + ": list value " + std::to_string(c.ints[i]) +
                            " does not fit int32");
            values[i] = int32_t(c.ints[i]);
        }
        return Column::int32_lists(std::move(values), std::move(c.offsets), feature);
    }
    switch (c.physical) {
        case data::ParquetType::Boolean: {
            std::vector<uint8_t> b(c.ints.begin(), c.ints.end());
            return Column::bools(std::move(b), feature);
        }
        case data::ParquetType::Int32:
        case data::ParquetType::Int64:
            return Column::int64s(std::move(c.ints), feature);
        case data::ParquetType::Float:
        case data::ParquetType::Double:
            return Column::float64s(std::move(c.doubles), feature);
        case data::ParquetType::ByteArray:
            if (!c.is_string) throw Error(where + ": binary (non-UTF-8) columns are not supported");
            return Column::strings(std::move(c.strings), feature);
    }
    throw Error(where + ": unsupported type");
}

}  // namespace

Dataset read_parquet_dataset(const fs::path& path) {
    data::ParquetTable table = data::read_parquet(path);
    const std::map<std::string, Feature> declared = hf_features(table, path.string());
    Dataset ds;
    for (data::ParquetColumn& c : table.columns) {
        auto it = declared.find(c.name);
        const Feature feature = it != declared.end() ? it->second : inferred_feature(c);
        Column column = to_column(c, feature, path.string());
        if (column.type() != feature.storage())
            throw Error(path.string() + ": column '" + c.name + "' holds " +
                        std::string(data::parquet_type_name(c.physical)) +
                        " values, but its huggingface feature is " + feature.repr());
        ds = ds.add_column(c.name, std::move(column));
    }
    return ds;
}

}  // namespace ft
