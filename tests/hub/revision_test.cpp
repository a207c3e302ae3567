// Revisions are checked before they name a ref file or a URL: a branch or tag by git's
// check-ref-format rules (HF's "main", "v1", "refs/pr/1" pass) or a 40-hex commit. A traversal
// like "../../secret" is an error naming it, offline (where it would read a file outside refs/)
// and online (where the Hub is never asked).
#include <gtest/gtest.h>

#include <fstream>

#include "hub/mock_hub.h"
#include "test_env.h"

namespace ft {
namespace {

namespace fs = std::filesystem;

const std::string TRAVERSAL = "../../secret";

// A cache where refs/../../secret (= <cache>/secret) holds a commit whose snapshot exists: what
// an unchecked revision would find.
hub::HubOptions planted_cache(const std::string& tag) {
    hub::HubOptions o;
    o.hf_home = test::hub_temp_dir(tag);
    o.cache_dir = o.hf_home / "hub";
    o.endpoint = "http://127.0.0.1:1";  // nothing listens
    o.offline = true;
    const std::string commit(40, 'a');
    const fs::path storage = o.cache_dir / "models--org--good";
    fs::create_directories(storage / "refs");
    fs::create_directories(storage / "snapshots" / commit);
    std::ofstream(storage / "snapshots" / commit / "config.json") << "{}";
    std::ofstream(o.cache_dir / "secret") << commit;
    return o;
}

void expect_invalid(const std::string& msg, const std::string& revision) {
    EXPECT_NE(msg.find("invalid revision \"" + revision + "\""), std::string::npos) << msg;
}

TEST(HubRevision, CheckRefFormatRules) {
    for (const std::string& good :
         std::vector<std::string>{"main", "v1", "v1.0", "refs/pr/1", "refs/convert/parquet",
                                  "release-2024_01", "feature/x.y", "a@b", std::string(40, 'a'),
                                  "0123456789abcdef0123456789ABCDEF01234567"})
        EXPECT_NO_THROW(hub::validate_revision(good)) << good;
    for (const std::string& bad : std::vector<std::string>{"",
                                                           "..",
                                                           "../x",
                                                           "a/../b",
                                                           "a..b",
                                                           "/main",
                                                           "main/",
                                                           "a//b",
                                                           "-main",
                                                           "a\\b",
                                                           "a b",
                                                           "a~1",
                                                           "a^",
                                                           "a:b",
                                                           "a?",
                                                           "a*",
                                                           "a[b",
                                                           "a@{1}",
                                                           "@",
                                                           "x.lock",
                                                           "a/b.lock/c",
                                                           ".hidden",
                                                           "a/.b",
                                                           "main.",
                                                           std::string("a\0b", 3),
                                                           "a\x01"
                                                           "b",
                                                           "a\x7f",
                                                           std::string(2000, 'a')})
        EXPECT_NE(test::error_of([&] { hub::validate_revision(bad); }).find("invalid revision"),
                  std::string::npos)
            << bad;
    EXPECT_EQ(test::error_of([&] { hub::validate_revision("a\nb"); }),
              "invalid revision \"a\\x0ab\": control character (expected a branch or tag name, "
              "or a 40-hex commit hash)");
}

TEST(HubRevision, TraversalIsRefusedOffline) {
    const auto o = planted_cache("hub_rev_offline");
    const hub::RepoRef repo{"org/good", hub::RepoType::MODEL, TRAVERSAL};
    expect_invalid(test::error_of([&] { hub::snapshot_download(repo, {}, o); }), TRAVERSAL);
    expect_invalid(test::error_of([&] { hub::hub_download(repo, "config.json", o); }), TRAVERSAL);
    expect_invalid(test::error_of([&] { hub::resolve_pretrained("org/good", o, TRAVERSAL); }),
                   TRAVERSAL);
    auto ds = o;
    fs::create_directories(o.cache_dir / "datasets--org--good");
    expect_invalid(
        test::error_of([&] { hub::resolve_dataset("org/good", "default", ds, TRAVERSAL); }),
        TRAVERSAL);
}

TEST(HubRevision, TraversalIsRefusedOnlineBeforeAnyRequest) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "rev_online");
    const hub::RepoRef repo{"test-org/tiny-distilbert", hub::RepoType::MODEL, TRAVERSAL};
    mock.clear_log();
    expect_invalid(test::error_of([&] { hub::hub_download(repo, "config.json", o); }), TRAVERSAL);
    expect_invalid(test::error_of([&] { hub::snapshot_download(repo, {}, o); }), TRAVERSAL);
    expect_invalid(test::error_of([&] { hub::repo_info(repo, o); }), TRAVERSAL);
    expect_invalid(test::error_of([&] { hub::list_repo_tree(repo, "", o); }), TRAVERSAL);
    expect_invalid(
        test::error_of([&] { hub::resolve_pretrained("test-org/tiny-distilbert", o, TRAVERSAL); }),
        TRAVERSAL);
    for (const auto& r : mock.log())
        EXPECT_EQ(r["path"].get<std::string>().rfind("/_mock/", 0), 0u) << r.dump();
    EXPECT_FALSE(fs::exists(o.cache_dir / "secret"));
}

TEST(HubRevision, CliRefusesTraversalOffline) {
    const auto o = planted_cache("hub_rev_cli");
    std::string out;
    const int rc = test::run_command("env -u HF_HUB_CACHE -u HUGGINGFACE_HUB_CACHE HF_HOME=" +
                                         o.hf_home.string() + " HF_HUB_OFFLINE=1 " + test::cli() +
                                         " download org/good --revision ../../../../etc/passwd",
                                     &out);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_EQ(out.rfind("finetune: error: invalid revision \"../../../../etc/passwd\"", 0), 0u)
        << out;
    EXPECT_EQ(out.find("not a commit hash"), std::string::npos) << out;
}

TEST(HubRevision, HubStyleRefsStillWork) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "rev_good");
    const hub::RepoRef v1{"test-org/tiny-distilbert", hub::RepoType::MODEL, "v1"};
    EXPECT_EQ(
        hub::hub_download(v1, "config.json", o),
        o.cache_dir / "models--test-org--tiny-distilbert/snapshots" / test::C_V1 / "config.json");
    const hub::RepoRef pinned{"test-org/tiny-distilbert", hub::RepoType::MODEL, test::C_MAIN};
    EXPECT_EQ(hub::snapshot_download(pinned, {"*.json"}, o),
              o.cache_dir / "models--test-org--tiny-distilbert/snapshots" / test::C_MAIN);
    // HF's pull-request refs: one URL path segment (refs%2Fpr%2F1), refs/refs/pr/1 in the cache
    // as Python writes it.
    mock.set_branch("models/test-org/tiny-distilbert", "refs/pr/1", test::C_V1);
    const hub::RepoRef pr{"test-org/tiny-distilbert", hub::RepoType::MODEL, "refs/pr/1"};
    EXPECT_EQ(hub::hub_download(pr, "pytorch_model.bin", o),
              o.cache_dir / "models--test-org--tiny-distilbert/snapshots" / test::C_V1 /
                  "pytorch_model.bin");
    EXPECT_EQ(
        test::read_file_bytes(o.cache_dir / "models--test-org--tiny-distilbert/refs/refs/pr/1"),
        test::C_V1);
    EXPECT_EQ(hub::snapshot_download(pr, {"*.json"}, o),
              o.cache_dir / "models--test-org--tiny-distilbert/snapshots" / test::C_V1);
}

}  // namespace
}  // namespace ft
