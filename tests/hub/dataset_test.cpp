// resolve_dataset: "glue" follows the Hub's redirect to nyu-mll/glue; a config maps to its
// Parquet files per split through the card's `configs:` data_files, with features from its
// `dataset_info:` (the README the mock repo serves, written like nyu-mll/glue's); offline it comes
// from the cache; unknown configs and bad YAML are clear errors.
#include <gtest/gtest.h>

#include "finetune/data.h"
#include "hub/mock_hub.h"
#include "test_env.h"

namespace ft {
namespace {

namespace fs = std::filesystem;

const std::string GLUE_KEY = "datasets/nyu-mll/glue";

TEST(HubDataset, GlueColaResolvesToItsParquetSplitsAndFeatures) {
    test::MockHub mock;
    auto o = test::mock_options(mock, "dataset");
    const hub::DatasetFiles d = hub::resolve_dataset("glue", "cola", o);
    const fs::path snap = o.cache_dir / "datasets--glue" / "snapshots" / test::C_GLUE;
    EXPECT_EQ(d.snapshot, snap);
    ASSERT_EQ(d.splits.size(), 3u);
    for (const char* split : {"train", "validation", "test"}) {
        const std::string rel = std::string("cola/") + split + "-00000-of-00001.parquet";
        ASSERT_EQ(d.splits.at(split), std::vector<fs::path>{snap / rel}) << split;
        EXPECT_EQ(test::read_file_bytes(snap / rel),
                  test::read_file_bytes(test::mock_repos() / GLUE_KEY / test::C_GLUE / rel));
        // A file one directory down links with one more "../".
        const std::string sha = test::mock_manifest()[GLUE_KEY][test::C_GLUE][rel]["sha256"];
        EXPECT_EQ(fs::read_symlink(snap / rel), fs::path("../../../blobs/" + sha));
    }
    ASSERT_EQ(d.features.size(), 3u);
    EXPECT_EQ(d.features[0].name, "sentence");
    EXPECT_EQ(d.features[0].dtype, "string");
    EXPECT_EQ(d.features[1].name, "label");
    EXPECT_EQ(d.features[1].dtype, "class_label");
    EXPECT_EQ(d.features[1].class_names, (std::vector<std::string>{"unacceptable", "acceptable"}));
    EXPECT_EQ(d.features[2].dtype, "int32");
    EXPECT_NE(d.dataset_info_yaml.find("num_examples: 8551"), std::string::npos)
        << d.dataset_info_yaml;

    const hub::DatasetFiles sst2 = hub::resolve_dataset("nyu-mll/glue", "sst2", o);
    EXPECT_EQ(sst2.splits.size(), 2u);
    EXPECT_EQ(sst2.features[1].class_names, (std::vector<std::string>{"negative", "positive"}));

    try {
        hub::resolve_dataset("glue", "mnli", o);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "config mnli not found in dataset glue@main (available: cola, sst2)");
    }

    mock.stop();
    EXPECT_EQ(hub::resolve_dataset("glue", "cola", o).splits, d.splits);  // Hub unreachable
    o.datasets_offline = true;
    const hub::DatasetFiles offline = hub::resolve_dataset("glue", "cola", o);
    EXPECT_EQ(offline.splits, d.splits);
    EXPECT_EQ(offline.features.size(), 3u);
}

TEST(HubDataset, DownloadedColaFilesLoadAsDatasets) {
    // The data layer's half of load_dataset("glue", "cola") from the Hub: the files resolved here
    // read with read_parquet_dataset (cola is the data tests' cola_like Parquet fixture: 120 rows
    // of glue/cola dev with HF's features), and the card's features agree with the file's.
    test::MockHub mock;
    const auto o = test::mock_options(mock, "dataset_read");
    const hub::DatasetFiles d = hub::resolve_dataset("glue", "cola", o);
    const Dataset train = read_parquet_dataset(d.splits.at("train").at(0));
    EXPECT_EQ(train.num_rows(), 120);
    for (const auto& f : d.features) EXPECT_TRUE(train.has_column(f.name)) << f.name;
    EXPECT_NE(train.features_repr().find("ClassLabel(names=['unacceptable', 'acceptable'])"),
              std::string::npos)
        << train.features_repr();
}

TEST(HubDataset, CardParsingFallsBackAndReportsBadYaml) {
    // No configs: nothing from the card (the caller uses the <config>/<split>-* convention).
    const auto empty = hub::parse_dataset_card("# just a title\n", "cola", "README.md");
    EXPECT_TRUE(empty.data_files.empty());
    EXPECT_TRUE(empty.features.empty());
    // data_files as a {split: pattern} map and a single-config dataset_info map.
    const auto card = hub::parse_dataset_card(
        "---\nconfigs:\n- config_name: default\n  data_files:\n    train: data/train*.parquet\n"
        "dataset_info:\n  features:\n  - name: text\n    dtype: string\n---\n",
        "default", "README.md");
    EXPECT_EQ(card.data_files.at("train"), std::vector<std::string>{"data/train*.parquet"});
    ASSERT_EQ(card.features.size(), 1u);
    EXPECT_EQ(card.features[0].name, "text");
    try {
        hub::parse_dataset_card("---\na: [1, 2\nb: 3\n---\n", "cola", "glue/README.md");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("glue/README.md: YAML front matter, line "),
                  std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace ft
