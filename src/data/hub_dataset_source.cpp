// load_dataset's Hub steps: what the hub cache already holds for a repo + config (no network),
// then a download through the hub client. A dataset on the Hub is Parquet files per split, read
// with the features of their `huggingface` metadata, else of the dataset card.
#include "data/hub_dataset_source.h"

#include "finetune/core.h"
#include "finetune/data.h"
#include "finetune/hub.h"

namespace ft {
namespace {

// Names that are no repo id (a local path that does not exist, or a format name).
bool looks_like_repo_id(const std::string& name) {
    if (name.empty() || name == "csv" || name == "json" || name == "parquet" || name == "text")
        return false;
    try {
        hub::validate_repo_id(name);
        return true;
    } catch (const Error&) {
        return false;
    }
}

DatasetDict to_dataset_dict(const hub::DatasetFiles& files) {
    DatasetDict dd;
    for (const auto& [split, paths] : files.splits) {
        std::vector<Dataset> parts;
        for (const fs::path& p : paths) parts.push_back(read_parquet_dataset(p));
        Dataset ds = parts.size() == 1 ? parts[0] : Dataset::concatenate(parts);
        // A card's ClassLabel names where the files themselves carry plain integers.
        for (const hub::DatasetFeature& f : files.features)
            if (f.dtype == "class_label" && ds.has_column(f.name) &&
                ds.feature(f.name).kind == Feature::Kind::VALUE &&
                ds.column(f.name).type() == ColumnType::INT64)
                ds = ds.cast_column(f.name, Feature::class_label(f.class_names));
        dd.set(split, std::move(ds));
    }
    // HF's split order: train, validation, test, then the rest as listed.
    DatasetDict ordered;
    for (const char* s : {"train", "validation", "test"})
        if (dd.contains(s)) ordered.set(s, dd[s]);
    for (const auto& [name, ds] : dd.splits())
        if (!ordered.contains(name)) ordered.set(name, ds);
    return ordered;
}

}  // namespace

std::optional<DatasetDict> from_hub_cache(const LoadDatasetArgs& args) {
    if (!looks_like_repo_id(args.name_or_path)) return std::nullopt;
    hub::HubOptions options = hub::HubOptions::from_env();
    options.offline = true;  // only what is cached; never the network
    try {
        return to_dataset_dict(hub::resolve_dataset(args.name_or_path, args.config, options));
    } catch (const Error&) {
        return std::nullopt;  // not cached (the download step says why, if it fails too)
    }
}

std::optional<DatasetDict> from_hub_download(const LoadDatasetArgs& args) {
    if (!looks_like_repo_id(args.name_or_path)) return std::nullopt;
    hub::HubOptions options = hub::HubOptions::from_env();
    if (options.is_offline(hub::RepoType::DATASET)) return std::nullopt;
    const bool embedded = has_embedded_copy(args);
    // With the embedded copy behind this step, one quick try: offline machines fall through.
    if (embedded) options.max_retries = 0;
    try {
        return to_dataset_dict(hub::resolve_dataset(args.name_or_path, args.config, options));
    } catch (const Error& e) {
        if (embedded) {
            log_warning(std::string("the Hub could not give ") + args.name_or_path + "/" +
                        args.config + " (" + e.what() + "); using the embedded copy");
            return std::nullopt;
        }
        throw Error(
            "dataset '" + args.name_or_path + (args.config.empty() ? "" : "/" + args.config) +
            "' not found locally or in the hub cache, and the download failed: " + e.what());
    }
}

}  // namespace ft
