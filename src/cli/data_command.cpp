// `finetune data NAME_OR_PATH [--config NAME] [--data_dir DIR] [--rows N]`: loads a dataset as
// load_dataset does and prints the DatasetDict as HF prints it, then each split's features and
// first rows as HF's row dicts.
#include <cstdio>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "finetune/data.h"

namespace ft::cli {

namespace {

struct DataArgs {
    std::string name_or_path;
    std::string config;
    std::string data_dir;
    int64_t rows = 2;
};

int run_data(const DataArgs& a) {
    const DatasetDict dd = load_dataset(a.name_or_path, a.config, a.data_dir);
    std::printf("%s\n", dd.repr().c_str());
    for (const auto& [split, ds] : dd.splits()) {
        std::printf("\n%s.features = %s\n", split.c_str(), ds.features_repr().c_str());
        for (int64_t i = 0; i < std::min(a.rows, ds.num_rows()); ++i)
            std::printf("%s[%lld] = %s\n", split.c_str(), static_cast<long long>(i),
                        ds[i].repr().c_str());
    }
    return 0;
}

}  // namespace

Command register_data(CLI::App& app) {
    auto* sub = app.add_subcommand(
        "data",
        "Load a dataset (GLUE name, local file or directory) and print its splits and rows");
    auto args = std::make_shared<DataArgs>();
    sub->add_option("name_or_path", args->name_or_path,
                    "glue, or a local .csv/.tsv/.json/.jsonl file or a directory of them")
        ->required();
    sub->add_option("--config", args->config, "Dataset configuration, e.g. cola, rte, mnli");
    sub->add_option("--data_dir", args->data_dir, "Directory with the GLUE task's TSV files");
    sub->add_option("--rows", args->rows, "Rows to print from each split")
        ->default_val(2)
        ->check(CLI::NonNegativeNumber);
    return {sub, [args] { return run_data(*args); }};
}

}  // namespace ft::cli
