// load_dataset's Hub steps against the mock Hub: glue/cola comes from the Hub (its Parquet, not
// the embedded copy) when the Hub has it, then from the hub cache with the server gone, and the
// embedded copy only when neither can give it.
#include <gtest/gtest.h>

#include <cstdlib>

#include "finetune/data.h"
#include "hub/mock_hub.h"
#include "test_env.h"

namespace ft {
namespace {

TEST(HubLoadDataset, GlueColaFromTheHubThenTheCacheThenEmbedded) {
    test::MockHub mock;
    const hub::HubOptions o = test::mock_options(mock, "load_dataset");
    // load_dataset reads the environment, as HF does (each test runs in its own process).
    ::setenv("HF_ENDPOINT", o.endpoint.c_str(), 1);
    ::setenv("HF_HOME", o.hf_home.c_str(), 1);
    ::setenv("HF_HUB_DISABLE_PROGRESS_BARS", "1", 1);
    ::unsetenv("HF_HUB_OFFLINE");
    ::unsetenv("HF_DATASETS_OFFLINE");

    // The mock's cola is the 120-row Parquet fixture, so its size tells where the rows came from.
    const DatasetDict from_hub = load_dataset("glue", "cola");
    EXPECT_EQ(from_hub["train"].num_rows(), 120);
    EXPECT_EQ(from_hub["train"].features_repr(),
              "{'sentence': Value('string'), 'label': ClassLabel(names=['unacceptable', "
              "'acceptable']), 'idx': Value('int32')}");
    EXPECT_FALSE(mock.requests("HEAD", "cola/train-").empty()) << mock.log().dump();

    mock.stop();
    ::setenv("HF_HUB_OFFLINE", "1", 1);
    EXPECT_EQ(load_dataset("glue", "cola")["train"].num_rows(), 120);  // the hub cache

    ::setenv("HF_HOME", test::hub_temp_dir("load_dataset_empty").c_str(), 1);
    EXPECT_EQ(load_dataset("glue", "cola")["train"].num_rows(), 8551);  // embedded
}

}  // namespace
}  // namespace ft
