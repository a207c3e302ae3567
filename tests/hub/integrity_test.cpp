// Nothing wrong is ever committed to the cache: a Range request answered with a full 200 (or a
// 206 from the wrong byte) restarts the file from zero, and every committed file's size and hash
// is checked — sha256 for LFS files, the git blob id for the rest — against the mock Hub's bytes.
#include <gtest/gtest.h>

#include <algorithm>

#include "hub/hub_internal.h"
#include "hub/mock_hub.h"
#include "test_env.h"

namespace ft {
namespace {

using test::C_MAIN;
namespace fs = std::filesystem;

const std::string MODEL = "test-org/tiny-distilbert";
const std::string MODEL_KEY = "models/test-org/tiny-distilbert";

hub::RepoRef model() {
    return {MODEL, hub::RepoType::MODEL, "main"};
}

std::string served(const std::string& file) {
    return test::read_file_bytes(test::mock_repos() / MODEL_KEY / C_MAIN / file);
}

std::string manifest(const std::string& file, const char* kind) {
    return test::mock_manifest()[MODEL_KEY][C_MAIN][file][kind];
}

fs::path storage(const hub::HubOptions& o) {
    return o.cache_dir / "models--test-org--tiny-distilbert";
}

// The issue's case: the first try breaks after 3 bytes; the retry's Range request gets a full
// 200 that breaks too. Its bytes must replace the partial, not follow it; the next run resumes
// from what is really there and commits the served file.
TEST(HubIntegrity, FullAnswerToARangeRequestRestartsFromZero) {
    test::MockHub mock;
    auto o = test::mock_options(mock, "range200");
    o.max_retries = 1;
    mock.set_faults("match=config.json&cut_after=3&ignore_range=1&times=10");
    const std::string msg = test::error_of([&] { hub::hub_download(model(), "config.json", o); });
    EXPECT_NE(msg.find("failed after 2 tries"), std::string::npos) << msg;
    EXPECT_NE(msg.find("(3 bytes kept in"), std::string::npos) << msg;
    auto gets = mock.requests("GET", "/resolve/main/config.json");
    ASSERT_EQ(gets.size(), 2u);
    EXPECT_EQ(gets[1]["range"], "bytes=3-");

    mock.set_faults("");
    mock.clear_log();
    const fs::path p = hub::hub_download(model(), "config.json", o);
    EXPECT_EQ(test::read_file_bytes(p), served("config.json"));
    gets = mock.requests("GET", "/resolve/main/config.json");
    ASSERT_EQ(gets.size(), 1u);
    EXPECT_EQ(gets[0]["range"], "bytes=3-");
}

// A 206 whose Content-Range starts elsewhere than asked cannot be appended: the partial is
// dropped and the file fetched again from zero.
TEST(HubIntegrity, PartialAnswerFromTheWrongByteRestartsFromZero) {
    test::MockHub mock;
    auto o = test::mock_options(mock, "range_wrong");
    o.max_retries = 0;
    mock.set_faults("match=config.json&cut_after=3&times=1");
    EXPECT_NE(test::error_of([&] {
                  hub::hub_download(model(), "config.json", o);
              }).find("(3 bytes kept in"),
              std::string::npos);
    o.max_retries = 3;
    mock.set_faults("match=config.json&range_from_zero=1&times=1");
    mock.clear_log();
    const fs::path p = hub::hub_download(model(), "config.json", o);
    EXPECT_EQ(test::read_file_bytes(p), served("config.json"));
    const auto gets = mock.requests("GET", "/resolve/main/config.json");
    ASSERT_EQ(gets.size(), 2u);
    EXPECT_EQ(gets[0]["range"], "bytes=3-");
    EXPECT_TRUE(gets[1]["range"].is_null());
}

// config.json's ETag is its git blob id (sha1 of "blob <size>\0" + content): a flipped byte of
// the same size is caught, named with both hashes, and nothing is committed.
TEST(HubIntegrity, GitBlobIdIsCheckedForNonLfsFiles) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "gitsha");
    mock.set_faults("match=config.json&corrupt=1");
    const std::string sha1 = manifest("config.json", "git_sha1");
    const std::string msg = test::error_of([&] { hub::hub_download(model(), "config.json", o); });
    EXPECT_NE(msg.find("config.json in test-org/tiny-distilbert@main: git blob id mismatch "
                       "(expected " +
                       sha1 + ", got "),
              std::string::npos)
        << msg;
    EXPECT_NE(msg.find("nothing was cached"), std::string::npos) << msg;
    EXPECT_FALSE(fs::exists(storage(o) / "blobs" / sha1));
    EXPECT_FALSE(fs::exists(storage(o) / "blobs" / (sha1 + ".incomplete")));
    EXPECT_FALSE(fs::exists(fs::symlink_status(storage(o) / "snapshots" / C_MAIN / "config.json")));
    mock.set_faults("");
    EXPECT_EQ(test::read_file_bytes(hub::hub_download(model(), "config.json", o)),
              served("config.json"));
}

// Sizes the Hub states are decimal byte counts in [0, 1 PiB], with nothing around them.
TEST(HubIntegrity, ByteCountsAreStrict) {
    EXPECT_EQ(hub::parse_byte_count("0"), 0);
    EXPECT_EQ(hub::parse_byte_count("4007"), 4007);
    EXPECT_EQ(hub::parse_byte_count("1125899906842624"), hub::MAX_FILE_BYTES);
    for (const std::string bad : {"", "-1", "+1", " 1", "1 ", "1e3", "0x10", "12abc",
                                  "1125899906842625", "99999999999999999999"})
        EXPECT_FALSE(hub::parse_byte_count(bad).has_value()) << bad;
}

// A size the Hub states must be a byte count: a negative or malformed X-Linked-Size is an error,
// not "size unknown".
TEST(HubIntegrity, MalformedSizeHeadersAreErrors) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "badsize");
    for (const std::string bad : {"-5", "12abc", "4e3", "99999999999999999999"}) {
        mock.set_faults("linked_size=" + bad);
        const std::string msg =
            test::error_of([&] { hub::hub_download(model(), "model.safetensors", o); });
        EXPECT_NE(msg.find("model.safetensors in test-org/tiny-distilbert@main: bad size header "
                           "\"" +
                           bad + "\""),
                  std::string::npos)
            << msg;
    }
    EXPECT_TRUE(mock.requests("GET", "/_lfs/").empty());
    EXPECT_FALSE(fs::exists(storage(o) / "blobs" / manifest("model.safetensors", "sha256")));
}

// The CLI: a corrupt body is one error line naming the file, exit 1; the next run is clean.
TEST(HubIntegrity, CliRefusesACorruptFileThenSucceeds) {
    test::MockHub mock;
    const fs::path home = test::hub_temp_dir("hub_cli_integrity");
    const std::string env =
        "env -u HF_HUB_CACHE -u HUGGINGFACE_HUB_CACHE -u HF_TOKEN -u "
        "HF_HUB_OFFLINE HF_ENDPOINT=" +
        mock.endpoint() + " HF_HOME=" + home.string() + " HF_HUB_DISABLE_PROGRESS_BARS=1 ";
    const std::string cmd =
        env + test::cli() + " download test-org/tiny-distilbert --include " + "config.json";
    mock.set_faults("match=config.json&corrupt=1");
    std::string out;
    EXPECT_EQ(test::run_command(cmd, &out), 1) << out;
    EXPECT_NE(out.find("finetune: error: config.json in test-org/tiny-distilbert@" + C_MAIN +
                       ": git blob id mismatch"),
              std::string::npos)
        << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    mock.set_faults("");
    ASSERT_EQ(test::run_command(cmd, &out), 0) << out;
    const fs::path snap = home / "hub/models--test-org--tiny-distilbert/snapshots" / C_MAIN;
    EXPECT_EQ(test::read_file_bytes(snap / "config.json"), served("config.json"));
}

}  // namespace
}  // namespace ft
