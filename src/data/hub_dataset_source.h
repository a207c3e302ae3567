// load_dataset's Hub steps (internal to the data layer): the hub cache, then a download.
#pragma once

#include <optional>

#include "finetune/data.h"

namespace ft {

// What the hub cache holds for args.name_or_path + config; never touches the network.
std::optional<DatasetDict> from_hub_cache(const LoadDatasetArgs& args);
// A download through the hub client, unless offline (HF_HUB_OFFLINE / HF_DATASETS_OFFLINE).
// When the embedded copy could stand in, an unreachable Hub falls through with a warning.
std::optional<DatasetDict> from_hub_download(const LoadDatasetArgs& args);
// True for glue/cola, which the library carries.
bool has_embedded_copy(const LoadDatasetArgs& args);

}  // namespace ft
