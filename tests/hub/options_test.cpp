// HubOptions::from_env follows huggingface_hub's constants.py: HF_HOME's default, HF_HUB_CACHE
// over HUGGINGFACE_HUB_CACHE over $HF_HOME/hub, the offline switches, HF_TOKEN over the token
// file, timeouts; and repo folders are named models--org--name / datasets--org--name.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <optional>

#include "finetune/hub.h"
#include "hub/mock_hub.h"
#include "test_env.h"

namespace ft {
namespace {

namespace fs = std::filesystem;

// Sets variables for one test and restores the previous values after.
class ScopedEnv {
  public:
    ScopedEnv() {
        for (const char* v : VARS) {
            const char* old = std::getenv(v);
            saved_.emplace_back(v, old ? std::optional<std::string>(old) : std::nullopt);
            ::unsetenv(v);
        }
    }
    ~ScopedEnv() {
        for (const auto& [name, value] : saved_) {
            if (value) {
                ::setenv(name.c_str(), value->c_str(), 1);
            } else {
                ::unsetenv(name.c_str());
            }
        }
    }
    void set(const char* name, const std::string& value) { ::setenv(name, value.c_str(), 1); }

  private:
    static constexpr const char* VARS[] = {"HF_HOME",
                                           "HF_HUB_CACHE",
                                           "HUGGINGFACE_HUB_CACHE",
                                           "HF_HUB_OFFLINE",
                                           "TRANSFORMERS_OFFLINE",
                                           "HF_DATASETS_OFFLINE",
                                           "HF_TOKEN",
                                           "HUGGING_FACE_HUB_TOKEN",
                                           "HF_TOKEN_PATH",
                                           "HF_ENDPOINT",
                                           "HF_HUB_DOWNLOAD_TIMEOUT",
                                           "HF_HUB_ETAG_TIMEOUT",
                                           "HF_HUB_DISABLE_PROGRESS_BARS",
                                           "XDG_CACHE_HOME"};
    std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST(HubOptions, DefaultsMatchHuggingfaceHub) {
    ScopedEnv env;
    if (!std::getenv("HOME")) GTEST_SKIP() << "HOME is not set: no default HF_HOME to compare";
    const auto o = hub::HubOptions::from_env();
    EXPECT_EQ(o.endpoint, "https://huggingface.co");
    EXPECT_EQ(o.hf_home, fs::path(std::getenv("HOME")) / ".cache" / "huggingface");
    EXPECT_EQ(o.cache_dir, o.hf_home / "hub");
    EXPECT_FALSE(o.offline);
    EXPECT_EQ(o.download_timeout_s, 10);
    EXPECT_TRUE(o.progress_bars);
    env.set("XDG_CACHE_HOME", "/xdg");
    EXPECT_EQ(hub::HubOptions::from_env().hf_home, fs::path("/xdg/huggingface"));
}

TEST(HubOptions, EnvironmentOverridesInHuggingfaceHubsOrder) {
    ScopedEnv env;
    const fs::path home = test::hub_temp_dir("hub_env");
    env.set("HF_HOME", home.string());
    env.set("HUGGINGFACE_HUB_CACHE", "/legacy/cache");
    EXPECT_EQ(hub::HubOptions::from_env().cache_dir, fs::path("/legacy/cache"));
    env.set("HF_HUB_CACHE", "/new/cache");
    EXPECT_EQ(hub::HubOptions::from_env().cache_dir, fs::path("/new/cache"));

    // Token: the file under HF_HOME, overridden by HF_TOKEN; whitespace trimmed.
    {
        std::ofstream f(home / "token");
        f << "hf_from_file\n";
    }
    EXPECT_EQ(hub::HubOptions::from_env().token, "hf_from_file");
    env.set("HF_TOKEN", "hf_from_env");
    EXPECT_EQ(hub::HubOptions::from_env().token, "hf_from_env");

    for (const char* yes : {"1", "true", "YES", "on"}) {
        env.set("HF_HUB_OFFLINE", yes);
        EXPECT_TRUE(hub::HubOptions::from_env().offline) << yes;
    }
    env.set("HF_HUB_OFFLINE", "0");
    EXPECT_FALSE(hub::HubOptions::from_env().offline);
    env.set("TRANSFORMERS_OFFLINE", "1");
    EXPECT_TRUE(hub::HubOptions::from_env().offline);
    ::unsetenv("TRANSFORMERS_OFFLINE");
    env.set("HF_DATASETS_OFFLINE", "1");
    const auto o = hub::HubOptions::from_env();
    EXPECT_FALSE(o.is_offline(hub::RepoType::MODEL));
    EXPECT_TRUE(o.is_offline(hub::RepoType::DATASET));

    env.set("HF_ENDPOINT", "http://127.0.0.1:9/");
    env.set("HF_HUB_DOWNLOAD_TIMEOUT", "2.5");
    env.set("HF_HUB_DISABLE_PROGRESS_BARS", "1");
    const auto p = hub::HubOptions::from_env();
    EXPECT_EQ(p.endpoint, "http://127.0.0.1:9");
    EXPECT_EQ(p.download_timeout_s, 2.5);
    EXPECT_FALSE(p.progress_bars);
    env.set("HF_HUB_DOWNLOAD_TIMEOUT", "soon");
    try {
        hub::HubOptions::from_env();
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_EQ(std::string(e.what()),
                  "HF_HUB_DOWNLOAD_TIMEOUT=soon: not a positive number of seconds");
    }
}

TEST(HubOptions, RepoFolderNamesAreHuggingfaceHubs) {
    EXPECT_EQ(hub::repo_folder_name("distilbert/distilbert-base-uncased", hub::RepoType::MODEL),
              "models--distilbert--distilbert-base-uncased");
    EXPECT_EQ(hub::repo_folder_name("glue", hub::RepoType::DATASET), "datasets--glue");
    EXPECT_EQ(hub::repo_folder_name("nyu-mll/glue", hub::RepoType::DATASET),
              "datasets--nyu-mll--glue");
}

TEST(HubOptions, GlobMatchesLikeFnmatch) {
    EXPECT_TRUE(hub::glob_match("*.json", "config.json"));
    EXPECT_TRUE(hub::glob_match("*.json", "sub/config.json"));  // fnmatch's '*' crosses '/'
    EXPECT_FALSE(hub::glob_match("*.json", "model.safetensors"));
    EXPECT_TRUE(hub::glob_match("cola/train-*", "cola/train-00000-of-00001.parquet"));
    EXPECT_FALSE(hub::glob_match("cola/train-*", "sst2/train-00000-of-00001.parquet"));
    EXPECT_TRUE(hub::glob_match("model-0000[0-9]-of-?????.safetensors",
                                "model-00001-of-00002.safetensors"));
    EXPECT_FALSE(hub::glob_match("[!m]*", "model.bin"));
}

}  // namespace
}  // namespace ft
