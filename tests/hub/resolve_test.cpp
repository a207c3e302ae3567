// resolve_pretrained, the entry of from_pretrained and `train --model_name_or_path`: directories
// pass through; a repo id gets config.json and the weights from_pretrained would choose
// (model.safetensors, else the sharded index and its shards, else pytorch_model.bin), and the
// weights load bit-identical to the reference checkpoint the mock repos were made from.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "finetune/model.h"
#include "hub/mock_hub.h"
#include "test_env.h"

namespace ft {
namespace {

namespace fs = std::filesystem;

void expect_reference_weights(const fs::path& dir) {
    const PretrainedModel got = load_pretrained(dir);
    const PretrainedModel want =
        load_pretrained(test::shared_dir() / "reference/tiny_distilbert/init");
    ASSERT_EQ(got.weights.flat_size(), want.weights.flat_size());
    EXPECT_EQ(std::memcmp(got.weights.flat(), want.weights.flat(),
                          static_cast<size_t>(got.weights.flat_size()) * sizeof(float)),
              0)
        << dir;
    EXPECT_TRUE(got.report.missing_keys.empty());
}

std::vector<std::string> names_in(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

TEST(HubResolve, PicksSafetensorsElseShardsElseBin) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "resolve");
    const fs::path main = hub::resolve_pretrained("test-org/tiny-distilbert", o);
    EXPECT_EQ(main, o.cache_dir / "models--test-org--tiny-distilbert/snapshots" / test::C_MAIN);
    EXPECT_EQ(names_in(main), (std::vector<std::string>{"config.json", "model.safetensors",
                                                        "tokenizer_config.json"}));
    expect_reference_weights(main);

    const fs::path v1 = hub::resolve_pretrained("test-org/tiny-distilbert", o, "v1");
    EXPECT_EQ(names_in(v1), (std::vector<std::string>{"config.json", "pytorch_model.bin"}));
    expect_reference_weights(v1);

    const fs::path sharded = hub::resolve_pretrained("test-org/tiny-distilbert-sharded", o);
    EXPECT_EQ(names_in(sharded),
              (std::vector<std::string>{"config.json", "model-00001-of-00002.safetensors",
                                        "model-00002-of-00002.safetensors",
                                        "model.safetensors.index.json"}));
    expect_reference_weights(sharded);

    // The legacy name follows the Hub's redirect (the seed's "distilbert-base-uncased").
    const fs::path legacy = hub::resolve_pretrained("distilbert-base-uncased", o);
    EXPECT_EQ(legacy, o.cache_dir / "models--distilbert-base-uncased/snapshots" / test::C_MAIN);
    expect_reference_weights(legacy);

    // Offline, with the server stopped, the same answers come from the cache.
    mock.stop();
    auto off = o;
    off.offline = true;
    EXPECT_EQ(hub::resolve_pretrained("test-org/tiny-distilbert", off), main);
    EXPECT_EQ(hub::resolve_pretrained("test-org/tiny-distilbert", off, "v1"), v1);
    EXPECT_EQ(hub::resolve_pretrained("test-org/tiny-distilbert", o), main);  // not offline
}

TEST(HubResolve, DirectoriesPassThroughAndPathsAreNotRepoIds) {
    hub::HubOptions o;
    o.endpoint = "http://127.0.0.1:1";
    o.cache_dir = test::hub_temp_dir("hub_resolve_dirs");
    const fs::path ref = test::shared_dir() / "reference/tiny_distilbert/init";
    EXPECT_EQ(hub::resolve_pretrained(ref.string(), o), ref);
    try {
        hub::resolve_pretrained("/nonexistent/model", o);
        FAIL();
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()), "/nonexistent/model: not a model directory");
    }
    try {
        hub::resolve_pretrained("bad name", o);
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(
            std::string(e.what()).find("bad name: neither a model directory nor a repository id"),
            std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace ft
