// The cache we write is huggingface_hub's documented layout, listed file by file (refs hold the
// commit hash, snapshot files are relative symlinks to blobs named by ETag: sha256 for LFS files,
// the git blob sha1 otherwise); and a cache written the way Python writes it is reused offline.
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "finetune/model.h"
#include "hub/mock_hub.h"
#include "test_env.h"

namespace ft {
namespace {

using test::C_MAIN;
using test::C_V1;
namespace fs = std::filesystem;

const std::string MODEL_KEY = "models/test-org/tiny-distilbert";

// Every entry under `dir`: "path" for files (with " = content" for small text files),
// "path -> target" for symlinks; directories are implied.
std::map<std::string, std::string> listing(const fs::path& dir) {
    std::map<std::string, std::string> out;
    for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator();
         ++it) {
        const std::string rel = it->path().lexically_relative(dir).generic_string();
        if (it->is_symlink()) {
            out[rel] = "-> " + fs::read_symlink(it->path()).string();
        } else if (it->is_regular_file()) {
            out[rel] =
                fs::file_size(it->path()) <= 64 ? "= " + test::read_file_bytes(it->path()) : "file";
        }
    }
    return out;
}

std::string etag(const std::string& commit, const std::string& file, const char* kind) {
    return test::mock_manifest()[MODEL_KEY][commit][file][kind];
}

TEST(HubCacheLayout, MatchesHuggingfaceHubFileByFile) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "layout");
    const hub::RepoRef main{"test-org/tiny-distilbert", hub::RepoType::MODEL, "main"};
    const hub::RepoRef v1{"test-org/tiny-distilbert", hub::RepoType::MODEL, "v1"};
    hub::hub_download(main, "config.json", o);
    hub::hub_download(main, "model.safetensors", o);
    hub::hub_download(v1, "config.json", o);
    hub::hub_download(v1, "pytorch_model.bin", o);
    try {
        hub::hub_download(main, "missing.txt", o);
    } catch (const Error&) {
    }

    const std::string config_blob = etag(C_MAIN, "config.json", "git_sha1");
    EXPECT_EQ(config_blob, etag(C_V1, "config.json", "git_sha1"));  // one blob for both commits
    const std::string st_blob = etag(C_MAIN, "model.safetensors", "sha256");
    const std::string bin_blob = etag(C_V1, "pytorch_model.bin", "sha256");
    const std::map<std::string, std::string> expected = {
        {"blobs/" + config_blob, "file"},
        {"blobs/" + st_blob, "file"},
        {"blobs/" + bin_blob, "file"},
        {"refs/main", "= " + C_MAIN},
        {"refs/v1", "= " + C_V1},
        {"snapshots/" + C_MAIN + "/config.json", "-> ../../blobs/" + config_blob},
        {"snapshots/" + C_MAIN + "/model.safetensors", "-> ../../blobs/" + st_blob},
        {"snapshots/" + C_V1 + "/config.json", "-> ../../blobs/" + config_blob},
        {"snapshots/" + C_V1 + "/pytorch_model.bin", "-> ../../blobs/" + bin_blob},
        {".no_exist/" + C_MAIN + "/missing.txt", "= "},
    };
    EXPECT_EQ(listing(o.cache_dir / "models--test-org--tiny-distilbert"), expected);
    const std::map<std::string, std::string> locks = {
        {"models--test-org--tiny-distilbert/" + config_blob + ".lock", "= "},
        {"models--test-org--tiny-distilbert/" + st_blob + ".lock", "= "},
        {"models--test-org--tiny-distilbert/" + bin_blob + ".lock", "= "},
    };
    EXPECT_EQ(listing(o.cache_dir / ".locks"), locks);
}

TEST(HubCacheLayout, CacheWrittenLikePythonIsReusedOffline) {
    const fs::path home = test::hub_temp_dir("hub_python_cache");
    const fs::path src = test::shared_dir() / "reference/tiny_distilbert/init";
    const std::string commit = "0123456789abcdef0123456789abcdef01234567";
    std::string out;
    ASSERT_EQ(test::run_command(
                  test::python() + " " + (test::tools_dir() / "write_hf_cache.py").string() +
                      " --cache " + (home / "hub").string() + " --repo someone/tiny --commit " +
                      commit + " --revision main --src " + src.string(),
                  &out),
              0)
        << out;
    hub::HubOptions o;
    o.hf_home = home;
    o.cache_dir = home / "hub";
    o.endpoint = "http://127.0.0.1:1";  // nothing listens: offline must not try
    o.offline = true;
    const fs::path dir = hub::resolve_pretrained("someone/tiny", o);
    EXPECT_EQ(dir, home / "hub" / "models--someone--tiny" / "snapshots" / commit);
    const PretrainedModel cached = load_pretrained(dir);
    const PretrainedModel reference = load_pretrained(src);
    ASSERT_EQ(cached.weights.flat_size(), reference.weights.flat_size());
    EXPECT_EQ(std::memcmp(cached.weights.flat(), reference.weights.flat(),
                          static_cast<size_t>(cached.weights.flat_size()) * sizeof(float)),
              0);
    EXPECT_EQ(hub::hub_download({"someone/tiny", hub::RepoType::MODEL, "main"}, "config.json", o),
              dir / "config.json");
    EXPECT_EQ(hub::hub_download({"someone/tiny", hub::RepoType::MODEL, commit}, "config.json", o),
              dir / "config.json");
}

}  // namespace
}  // namespace ft
