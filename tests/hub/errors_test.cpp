// The Hub's refusals become clear errors: missing repo (404 RepoNotFound), missing file (404
// EntryNotFound), gated repo without a token and with a wrong one (401), while the right token
// works and is never part of a message; hostile file names from the server never leave the cache.
#include <gtest/gtest.h>

#include "hub/mock_hub.h"
#include "test_env.h"

namespace ft {
namespace {

namespace fs = std::filesystem;

TEST(HubErrors, MissingRepoAndFileSayWhich) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "errors404");
    const hub::RepoRef nope{"test-org/nope", hub::RepoType::MODEL, "main"};
    auto msg = test::error_of([&] { hub::hub_download(nope, "config.json", o); });
    EXPECT_NE(msg.find("repository not found or gated: model repository test-org/nope"),
              std::string::npos)
        << msg;
    msg = test::error_of([&] { hub::repo_info(nope, o); });
    EXPECT_NE(msg.find("repository not found or gated: model repository test-org/nope"),
              std::string::npos)
        << msg;
    msg = test::error_of([&] {
        hub::hub_download({"test-org/tiny-distilbert", hub::RepoType::MODEL, "main"}, "x/y.txt", o);
    });
    EXPECT_NE(msg.find("file x/y.txt not found in test-org/tiny-distilbert@main"),
              std::string::npos)
        << msg;
    const hub::RepoRef ds{"nyu-mll/nope", hub::RepoType::DATASET, "main"};
    msg = test::error_of([&] { hub::hub_download(ds, "README.md", o); });
    EXPECT_NE(msg.find("repository not found or gated: dataset repository nyu-mll/nope"),
              std::string::npos)
        << msg;
}

TEST(HubErrors, GatedRepoNeedsTheRightTokenWhichIsNeverPrinted) {
    test::MockHub mock;
    auto o = test::mock_options(mock, "errors401");
    const hub::RepoRef gated{"test-org/gated-model", hub::RepoType::MODEL, "main"};
    auto msg = test::error_of([&] { hub::hub_download(gated, "config.json", o); });
    EXPECT_NE(msg.find("invalid or missing token for model repository test-org/gated-model: no "
                       "token is set (HF_TOKEN or $HF_HOME/token); the repository is gated"),
              std::string::npos)
        << msg;
    o.token = "hf_wrong_token_value_42";
    msg = test::error_of([&] { hub::hub_download(gated, "config.json", o); });
    EXPECT_NE(msg.find("invalid or missing token for model repository test-org/gated-model: the "
                       "token from HF_TOKEN or $HF_HOME/token was rejected"),
              std::string::npos)
        << msg;
    EXPECT_EQ(msg.find("hf_wrong_token_value_42"), std::string::npos) << msg;
    msg = test::error_of([&] { hub::repo_info(gated, o); });
    EXPECT_NE(msg.find("invalid or missing token"), std::string::npos) << msg;
    EXPECT_EQ(msg.find("hf_wrong_token_value_42"), std::string::npos) << msg;

    o.token = test::GATED_TOKEN;
    mock.clear_log();
    const fs::path p = hub::hub_download(gated, "pytorch_model.bin", o);
    EXPECT_EQ(test::read_file_bytes(p),
              test::read_file_bytes(test::mock_repos() / "models/test-org/gated-model" /
                                    test::C_GATED / "pytorch_model.bin"));
    // The token went to the Hub's resolve URL only, not to the "CDN" of the LFS redirect.
    for (const auto& r : mock.requests("GET", "/_lfs/")) EXPECT_FALSE(r["auth"].get<bool>());
    for (const auto& r : mock.requests("HEAD", "/resolve/")) EXPECT_TRUE(r["auth"].get<bool>());
}

TEST(HubErrors, HostileFileNamesNeverLeaveTheCache) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "traversal");
    const hub::RepoRef evil{"test-org/evil", hub::RepoType::MODEL, "main"};
    // The API lists "../../evil" and "/tmp/evil-abs" as siblings.
    auto msg = test::error_of([&] { hub::snapshot_download(evil, {}, o); });
    EXPECT_NE(msg.find("unsafe file name from the Hub: \"../../evil\" ('..' component)"),
              std::string::npos)
        << msg;
    msg = test::error_of([&] { hub::hub_download(evil, "../../evil", o); });
    EXPECT_NE(msg.find("unsafe file name from the Hub: \"../../evil\""), std::string::npos) << msg;
    msg = test::error_of([&] { hub::list_repo_tree(evil, "", o); });
    EXPECT_NE(msg.find("unsafe file name"), std::string::npos) << msg;
    // Nothing was written outside the cache, and the server was never asked for those names.
    EXPECT_FALSE(fs::exists(o.cache_dir / "models--test-org--evil" / "snapshots" / "evil"));
    EXPECT_FALSE(fs::exists(o.cache_dir / "models--test-org--evil" / "evil"));
    EXPECT_FALSE(fs::exists(o.cache_dir / "evil"));
    EXPECT_FALSE(fs::exists("/tmp/evil-abs"));
    EXPECT_TRUE(mock.requests("HEAD", "evil").empty());

    for (const char* bad : {"../x", "a/../../x", "/etc/passwd", "a//b", "./a", "a/.", "a\\b", ""})
        EXPECT_THROW(hub::validate_repo_filename(bad), Error) << bad;
    for (const char* good :
         {"config.json", "cola/train-00000-of-00001.parquet", "a..b", ".gitattributes"})
        EXPECT_NO_THROW(hub::validate_repo_filename(good)) << good;
    for (const char* bad : {"../x", "a/b/c", "a b", "org/", "a--b", ""})
        EXPECT_THROW(hub::validate_repo_id(bad), Error) << bad;
}

}  // namespace
}  // namespace ft
