// Parquet files as Datasets: the CoLA-shaped file DuckDB wrote with HF's `huggingface` metadata
// loads with HF's features and the rows of glue/cola's validation split; a Hub-style directory
// of Parquet shards loads by split; nulls and mismatched features are errors naming the column.
#include <gtest/gtest.h>

#include "finetune/data.h"
#include "finetune/io.h"
#include "test_env.h"

namespace ft {
namespace {

fs::path fixtures() {
    return test::tools_dir().parent_path() / "tests/data/parquet";
}

TEST(DatasetParquet, ColaShapedFileHasHuggingFaceFeaturesAndGlueRows) {
    const DatasetDict dd = load_dataset((fixtures() / "cola_like.parquet").string());
    const Dataset& ds = dd["train"];
    EXPECT_EQ(ds.features_repr(),
              "{'sentence': Value('string'), 'label': ClassLabel(names=['unacceptable', "
              "'acceptable']), 'idx': Value('int32')}");
    ASSERT_EQ(ds.num_rows(), 120);
    // The fixture holds the first 120 rows of CoLA's dev.tsv: glue/cola's validation split.
    const Dataset validation = load_dataset("glue", "cola")["validation"];
    for (int64_t r = 0; r < ds.num_rows(); ++r) EXPECT_EQ(ds[r].repr(), validation[r].repr()) << r;
}

TEST(DatasetParquet, HubStyleShardsLoadBySplit) {
    const fs::path dir = test::make_temp_dir("parquet_dir");
    fs::copy_file(fixtures() / "cola_like.parquet", dir / "train-00000-of-00002.parquet");
    fs::copy_file(fixtures() / "cola_like.parquet", dir / "train-00001-of-00002.parquet");
    fs::copy_file(fixtures() / "cola_like.parquet", dir / "validation-00000-of-00001.parquet");
    const DatasetDict dd = load_dataset(dir.string());
    EXPECT_EQ(dd.split_names(), (std::vector<std::string>{"train", "validation"}));
    EXPECT_EQ(dd["train"].num_rows(), 240);
    EXPECT_EQ(dd["validation"].num_rows(), 120);
    fs::remove_all(dir);
}

TEST(DatasetParquet, NullsAreAnErrorNamingTheColumn) {
    try {
        read_parquet_dataset(fixtures() / "all_null.parquet");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("all_null.parquet: column '"), std::string::npos)
            << e.what();
        EXPECT_NE(std::string(e.what()).find("is null"), std::string::npos) << e.what();
    }
}

}  // namespace
}  // namespace ft
