// load_dataset's lookup chain on files made here: local files and directories with HF's split
// names, data_files with a format name, GLUE data_dir, registered sources, and clear errors.
#include <gtest/gtest.h>

#include <cstdlib>

#include <fstream>

#include "finetune/data.h"
#include "test_env.h"

namespace ft {

TEST(DatasetLoad, LocalFileIsTrainSplit) {
    const fs::path dir = test::make_temp_dir("load_file");
    std::ofstream(dir / "my.csv") << "text,label\nhi,1\nho,0\n";
    const DatasetDict dd = load_dataset((dir / "my.csv").string());
    EXPECT_EQ(dd.split_names(), (std::vector<std::string>{"train"}));
    EXPECT_EQ(dd["train"][1].repr(), "{'text': 'ho', 'label': 0}");
    fs::remove_all(dir);
}

TEST(DatasetLoad, DirectorySplitsByHfFileNamesInHfOrder) {
    const fs::path dir = test::make_temp_dir("load_dir");
    std::ofstream(dir / "test.jsonl") << "{\"t\": \"c\"}\n";
    std::ofstream(dir / "dev.jsonl") << "{\"t\": \"b\"}\n";
    std::ofstream(dir / "train-00000-of-00002.jsonl") << "{\"t\": \"a1\"}\n";
    std::ofstream(dir / "train-00001-of-00002.jsonl") << "{\"t\": \"a2\"}\n";
    std::ofstream(dir / "notes.txt") << "ignored";
    const DatasetDict dd = load_dataset(dir.string());
    EXPECT_EQ(dd.split_names(), (std::vector<std::string>{"train", "validation", "test"}));
    EXPECT_EQ(dd["train"].column("t").as_strings(), (std::vector<std::string>{"a1", "a2"}));
    EXPECT_EQ(dd["validation"][0].str("t"), "b");
    fs::remove_all(dir);
}

TEST(DatasetLoad, DataFilesWithFormatName) {
    const fs::path dir = test::make_temp_dir("load_files");
    std::ofstream(dir / "a.tsv") << "x\ty\n1\tp\n";
    std::ofstream(dir / "b.tsv") << "x\ty\n2\tq\n";
    LoadDatasetArgs a;
    a.name_or_path = "csv";
    a.data_files = {{"train", {dir / "a.tsv", dir / "b.tsv"}}, {"validation", {dir / "b.tsv"}}};
    const DatasetDict dd = load_dataset(a);
    EXPECT_EQ(dd["train"].column("x").as_int64(), (std::vector<int64_t>{1, 2}));
    EXPECT_EQ(dd["validation"].num_rows(), 1);
    fs::remove_all(dir);
}

TEST(DatasetLoad, ErrorsSayWhatFailed) {
    const fs::path dir = test::make_temp_dir("load_err");
    std::ofstream(dir / "x.parquet") << "PAR1";
    try {
        load_dataset((dir / "x.parquet").string());
        FAIL();
    } catch (const Error& e) {
        // The Parquet reader names the file and what is wrong with it.
        EXPECT_NE(std::string(e.what()).find("x.parquet"), std::string::npos) << e.what();
    }
    ::setenv("HF_HUB_OFFLINE", "1", 1);  // hermetic: no Hub step (each test is its own process)
    try {
        load_dataset("glue", "rte");  // rte is not embedded and no data_dir is given
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("dataset 'glue/rte' not found"), std::string::npos)
            << e.what();
    }
    EXPECT_THROW(load_dataset("glue", "nope"), Error);
    try {
        load_dataset("glue", "rte", dir);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("none of the GLUE rte files"), std::string::npos);
    }
    fs::remove_all(dir);
}

TEST(DatasetLoad, RegisteredSourceRunsBeforeTheEmbeddedCopy) {
    add_dataset_source("test source", [](const LoadDatasetArgs& a) -> std::optional<DatasetDict> {
        if (a.name_or_path != "test/registered") return std::nullopt;
        DatasetDict dd;
        dd.set("train", Dataset().add_column("v", Column::int64s({42})));
        return dd;
    });
    EXPECT_EQ(load_dataset("test/registered")["train"][0].int64("v"), 42);
    EXPECT_EQ(load_dataset("glue", "cola")["train"].num_rows(), 8551);  // still the embedded one
}

}  // namespace ft
