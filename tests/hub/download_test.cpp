// hub_download against the mock Hub: a fresh download equals the served bytes; the cache answers
// offline and with the server stopped; branches and commit hashes pin revisions; renamed repos
// (relative redirects) and LFS files (absolute redirects) resolve; a cut connection resumes with
// Range; corrupted bytes fail the sha256 check with nothing committed; 5xx and stalls are
// retried; two concurrent downloads of one blob both succeed and fetch it once.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "hub/mock_hub.h"
#include "test_env.h"

namespace ft {
namespace {

using test::C_MAIN;
using test::C_V1;
namespace fs = std::filesystem;

const std::string MODEL = "test-org/tiny-distilbert";
const std::string MODEL_KEY = "models/test-org/tiny-distilbert";

hub::RepoRef model(const std::string& revision = "main") {
    return {MODEL, hub::RepoType::MODEL, revision};
}

std::string served(const std::string& commit, const std::string& file) {
    return test::read_file_bytes(test::mock_repos() / MODEL_KEY / commit / file);
}

std::string sha256_of(const std::string& commit, const std::string& file) {
    return test::mock_manifest()[MODEL_KEY][commit][file]["sha256"];
}

fs::path storage(const hub::HubOptions& o) {
    return o.cache_dir / "models--test-org--tiny-distilbert";
}

TEST(HubDownload, FreshDownloadEqualsTheServedBytes) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "fresh");
    const fs::path config = hub::hub_download(model(), "config.json", o);
    EXPECT_EQ(config, storage(o) / "snapshots" / C_MAIN / "config.json");
    EXPECT_EQ(test::read_file_bytes(config), served(C_MAIN, "config.json"));
    const fs::path weights = hub::hub_download(model(), "model.safetensors", o);
    EXPECT_EQ(test::read_file_bytes(weights), served(C_MAIN, "model.safetensors"));
    // The LFS file came through the absolute redirect to the "CDN".
    EXPECT_EQ(mock.requests("GET", "/_lfs/" + sha256_of(C_MAIN, "model.safetensors")).size(), 1u);
    // A second call is a cache hit: a HEAD, no GET of the body.
    mock.clear_log();
    EXPECT_EQ(hub::hub_download(model(), "model.safetensors", o), weights);
    EXPECT_EQ(mock.requests("GET", "/_lfs/").size(), 0u);
    EXPECT_EQ(mock.requests("HEAD", "/resolve/main/model.safetensors").size(), 1u);
}

TEST(HubDownload, CacheAnswersOfflineAndWithTheServerStopped) {
    test::MockHub mock;
    auto o = test::mock_options(mock, "offline");
    const fs::path config = hub::hub_download(model(), "config.json", o);
    const fs::path bin = hub::hub_download(model("v1"), "pytorch_model.bin", o);
    mock.stop();
    // Server gone, not offline: the HEAD fails to connect and the cache answers (as in Python).
    EXPECT_EQ(hub::hub_download(model(), "config.json", o), config);
    o.offline = true;
    EXPECT_EQ(hub::hub_download(model(), "config.json", o), config);
    EXPECT_EQ(hub::hub_download(model("v1"), "pytorch_model.bin", o), bin);
    EXPECT_EQ(test::read_file_bytes(bin), served(C_V1, "pytorch_model.bin"));
    EXPECT_EQ(hub::snapshot_download(model("v1"), {}, o), storage(o) / "snapshots" / C_V1);
    try {
        hub::hub_download(model(), "model.safetensors", o);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("offline mode (HF_HUB_OFFLINE=1), and "
                                             "model.safetensors in test-org/tiny-distilbert@main "
                                             "is not in the cache"),
                  std::string::npos)
            << e.what();
    }
    o.offline = false;
    try {
        hub::hub_download(model(), "model.safetensors", o);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("cannot reach the Hub"), std::string::npos)
            << e.what();
    }
}

TEST(HubDownload, RevisionsPinBranchesAndCommits) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "revisions");
    const fs::path v1 = hub::hub_download(model("v1"), "pytorch_model.bin", o);
    EXPECT_EQ(v1, storage(o) / "snapshots" / C_V1 / "pytorch_model.bin");
    EXPECT_EQ(test::read_file_bytes(storage(o) / "refs" / "v1"), C_V1);
    // By commit hash: no ref is written for it, the snapshot is that commit's.
    const fs::path by_hash = hub::hub_download(model(C_V1), "config.json", o);
    EXPECT_EQ(by_hash, storage(o) / "snapshots" / C_V1 / "config.json");
    EXPECT_FALSE(fs::exists(storage(o) / "refs" / C_V1));
    // main has no pytorch_model.bin: a clear error and a .no_exist marker, as huggingface_hub.
    try {
        hub::hub_download(model("main"), "pytorch_model.bin", o);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(
                      "file pytorch_model.bin not found in test-org/tiny-distilbert@main"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_TRUE(fs::is_regular_file(storage(o) / ".no_exist" / C_MAIN / "pytorch_model.bin"));
    EXPECT_EQ(test::read_file_bytes(storage(o) / "refs" / "main"), C_MAIN);
    try {
        hub::hub_download(model("no-such-branch"), "config.json", o);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("revision no-such-branch not found in model "
                                             "repository test-org/tiny-distilbert"),
                  std::string::npos)
            << e.what();
    }
}

TEST(HubDownload, RenamedRepoFollowsTheRelativeRedirect) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "redirect");
    const hub::RepoRef legacy{"distilbert-base-uncased", hub::RepoType::MODEL, "main"};
    const fs::path p = hub::hub_download(legacy, "model.safetensors", o);
    // Cached under the name asked for, as huggingface_hub does.
    EXPECT_EQ(p, o.cache_dir / "models--distilbert-base-uncased" / "snapshots" / C_MAIN /
                     "model.safetensors");
    EXPECT_EQ(test::read_file_bytes(p), served(C_MAIN, "model.safetensors"));
    // The 307 was followed to the new name's resolve URL.
    EXPECT_EQ(mock.requests("HEAD", "/distilbert-base-uncased/resolve/main/").size(), 1u);
    EXPECT_EQ(mock.requests("HEAD", "/test-org/tiny-distilbert/resolve/main/").size(), 1u);
}

TEST(HubDownload, CutConnectionResumesWithRange) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "resume");
    mock.set_faults("match=_lfs&cut_after=100000");
    const fs::path p = hub::hub_download(model(), "model.safetensors", o);
    EXPECT_EQ(test::read_file_bytes(p), served(C_MAIN, "model.safetensors"));
    const auto gets = mock.requests("GET", "/_lfs/");
    ASSERT_EQ(gets.size(), 2u);
    EXPECT_TRUE(gets[0]["range"].is_null());
    EXPECT_EQ(gets[1]["range"], "bytes=100000-");
    EXPECT_FALSE(fs::exists(storage(o) / "blobs" /
                            (sha256_of(C_MAIN, "model.safetensors") + ".incomplete")));
}

TEST(HubDownload, IncompleteFileFromAnEarlierRunIsResumed) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "resume_run");
    const std::string bytes = served(C_V1, "pytorch_model.bin");
    const fs::path incomplete =
        storage(o) / "blobs" / (sha256_of(C_V1, "pytorch_model.bin") + ".incomplete");
    fs::create_directories(incomplete.parent_path());
    {
        std::ofstream f(incomplete, std::ios::binary);
        f.write(bytes.data(), 12345);
    }
    const fs::path p = hub::hub_download(model("v1"), "pytorch_model.bin", o);
    EXPECT_EQ(test::read_file_bytes(p), bytes);
    const auto gets = mock.requests("GET", "/_lfs/");
    ASSERT_EQ(gets.size(), 1u);
    EXPECT_EQ(gets[0]["range"], "bytes=12345-");
}

TEST(HubDownload, CorruptBytesFailTheChecksumAndNothingIsCommitted) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "corrupt");
    mock.set_faults("match=_lfs&corrupt=1");
    const std::string sha = sha256_of(C_MAIN, "model.safetensors");
    try {
        hub::hub_download(model(), "model.safetensors", o);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find("model.safetensors in test-org/tiny-distilbert@main: sha256 mismatch "
                           "(expected " +
                           sha),
                  std::string::npos)
            << msg;
        EXPECT_NE(msg.find("nothing was cached"), std::string::npos) << msg;
    }
    EXPECT_FALSE(fs::exists(storage(o) / "blobs" / sha));
    EXPECT_FALSE(fs::exists(storage(o) / "blobs" / (sha + ".incomplete")));
    EXPECT_FALSE(
        fs::exists(fs::symlink_status(storage(o) / "snapshots" / C_MAIN / "model.safetensors")));
    // With the fault cleared the same call succeeds.
    mock.set_faults("");
    const fs::path p = hub::hub_download(model(), "model.safetensors", o);
    EXPECT_EQ(test::read_file_bytes(p), served(C_MAIN, "model.safetensors"));
}

TEST(HubDownload, ServerErrorsAreRetriedWithBackoff) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "retry");
    mock.set_faults("match=_lfs&status=503&times=2");
    const fs::path p = hub::hub_download(model(), "model.safetensors", o);
    EXPECT_EQ(test::read_file_bytes(p), served(C_MAIN, "model.safetensors"));
    EXPECT_EQ(mock.requests("GET", "/_lfs/").size(), 3u);
    // More failures than retries: a clear error that names the file and the tries.
    auto few = o;
    few.max_retries = 1;
    few.cache_dir = few.hf_home / "other-cache";
    mock.set_faults("match=_lfs&status=503&times=5");
    try {
        hub::hub_download(model(), "model.safetensors", few);
        FAIL() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("download of model.safetensors in "
                                             "test-org/tiny-distilbert@main failed after 2 tries: "
                                             "HTTP 503"),
                  std::string::npos)
            << e.what();
    }
}

TEST(HubDownload, AStalledBodyTimesOutAndIsRetried) {
    test::MockHub mock;
    auto o = test::mock_options(mock, "timeout");
    o.download_timeout_s = 1;  // HF_HUB_DOWNLOAD_TIMEOUT
    // The first body stalls until the client has timed out and retried, however long that
    // takes on this machine; the retry gets the body.
    mock.set_faults("match=_lfs&hold_retry=1&times=1");
    const fs::path p = hub::hub_download(model(), "model.safetensors", o);
    EXPECT_EQ(test::read_file_bytes(p), served(C_MAIN, "model.safetensors"));
    EXPECT_EQ(mock.requests("GET", "/_lfs/").size(), 2u);
}

TEST(HubDownload, TwoConcurrentDownloadsOfOneBlobFetchItOnce) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "concurrent");
    // The body is held until both callers have asked (2 HEADs): the second arrives while the
    // first holds the blob's lock, whatever the threads' timing.
    mock.set_faults("match=_lfs&hold_heads=2");
    fs::path a, b;
    std::string err_a, err_b;
    const auto fetch = [&](fs::path* out, std::string* err) {
        try {
            *out = hub::hub_download(model(), "model.safetensors", o);
        } catch (const std::exception& e) {
            *err = e.what();
        }
    };
    std::thread t1(fetch, &a, &err_a);
    std::thread t2(fetch, &b, &err_b);
    t1.join();
    t2.join();
    EXPECT_EQ(err_a, "");
    EXPECT_EQ(err_b, "");
    EXPECT_EQ(a, b);
    EXPECT_EQ(test::read_file_bytes(a), served(C_MAIN, "model.safetensors"));
    EXPECT_EQ(mock.requests("HEAD", "/resolve/main/model.safetensors").size(), 2u);
    EXPECT_EQ(mock.requests("GET", "/_lfs/").size(), 1u);
    // Both asked before the one body was complete: the second waited on the lock, then found
    // the blob.
    int heads_before_done = 0;
    for (const auto& r : mock.log()) {
        if (r["method"] == "DONE") break;
        heads_before_done += r["method"] == "HEAD";
    }
    EXPECT_EQ(heads_before_done, 2);
    EXPECT_TRUE(fs::exists(o.cache_dir / ".locks" / "models--test-org--tiny-distilbert" /
                           (sha256_of(C_MAIN, "model.safetensors") + ".lock")));
}

}  // namespace
}  // namespace ft
