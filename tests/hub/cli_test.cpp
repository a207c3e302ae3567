// The CLI against the mock Hub: `finetune download` prints the snapshot folder with only the
// --include'd files; `finetune info` takes a repo id; two processes downloading one blob at once
// both succeed; a progress bar shows on a terminal only; Hub errors are one line and exit 1.
#include <gtest/gtest.h>

#include <algorithm>

#include "hub/mock_hub.h"
#include "test_env.h"

namespace ft {
namespace {

namespace fs = std::filesystem;

std::string env_prefix(const test::MockHub& mock, const fs::path& home) {
    return "env -u HF_HUB_CACHE -u HUGGINGFACE_HUB_CACHE -u HF_TOKEN -u HF_HUB_OFFLINE "
           "HF_ENDPOINT=" +
           mock.endpoint() + " HF_HOME=" + home.string() + " HF_HUB_DISABLE_PROGRESS_BARS=1 ";
}

TEST(HubCli, DownloadPrintsTheSnapshotWithIncludedFiles) {
    test::MockHub mock;
    const fs::path home = test::hub_temp_dir("hub_cli");
    std::string out;
    const int rc = test::run_command(env_prefix(mock, home) + test::cli() +
                                         " download test-org/tiny-distilbert --include '*.json'",
                                     &out);
    ASSERT_EQ(rc, 0) << out;
    const fs::path snap = home / "hub/models--test-org--tiny-distilbert/snapshots" / test::C_MAIN;
    EXPECT_EQ(out, snap.string() + "\n");
    EXPECT_TRUE(fs::exists(snap / "config.json"));
    EXPECT_TRUE(fs::exists(snap / "tokenizer_config.json"));
    EXPECT_FALSE(fs::exists(snap / "model.safetensors"));
    EXPECT_FALSE(fs::exists(snap / "README.md"));

    EXPECT_EQ(test::run_command(env_prefix(mock, home) + test::cli() +
                                    " download glue --repo-type dataset --include 'cola/*'",
                                &out),
              0)
        << out;
    EXPECT_TRUE(fs::exists(home / "hub/datasets--glue/snapshots" / test::C_GLUE /
                           "cola/train-00000-of-00001.parquet"));
}

TEST(HubCli, InfoAcceptsARepoId) {
    test::MockHub mock;
    const fs::path home = test::hub_temp_dir("hub_cli_info");
    std::string out;
    const int rc = test::run_command(
        env_prefix(mock, home) + test::cli() + " info test-org/tiny-distilbert", &out);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("1,007,852"), std::string::npos) << out;
    EXPECT_NE(out.find("format:           safetensors"), std::string::npos) << out;
}

TEST(HubCli, TwoProcessesDownloadingOneBlobBothSucceed) {
    test::MockHub mock;
    const fs::path home = test::hub_temp_dir("hub_cli_two");
    mock.set_faults("match=_lfs&delay=0.5");
    const std::string one = env_prefix(mock, home) + test::cli() +
                            " download test-org/tiny-distilbert --include model.safetensors";
    std::string out;
    const int rc = test::run_command("(" + one + " > " + (home / "a.txt").string() + " & " + one +
                                         " > " + (home / "b.txt").string() +
                                         "; sa=$?; wait $!; sb=$?; exit $((sa + sb)))",
                                     &out);
    EXPECT_EQ(rc, 0) << out;
    const fs::path snap = home / "hub/models--test-org--tiny-distilbert/snapshots" / test::C_MAIN;
    EXPECT_EQ(test::read_file_bytes(home / "a.txt"), snap.string() + "\n");
    EXPECT_EQ(test::read_file_bytes(home / "b.txt"), snap.string() + "\n");
    EXPECT_EQ(test::read_file_bytes(snap / "model.safetensors"),
              test::read_file_bytes(test::mock_repos() / "models/test-org/tiny-distilbert" /
                                    test::C_MAIN / "model.safetensors"));
    EXPECT_EQ(mock.requests("GET", "/_lfs/").size(), 1u);
}

TEST(HubCli, ProgressBarOnATerminalUnlessDisabled) {
    if (test::run_command("command -v script") != 0)
        GTEST_SKIP() << "util-linux `script` (a pseudo-terminal for the CLI) is not installed";
    test::MockHub mock;
    const std::string env =
        "env -u HF_HUB_CACHE -u HUGGINGFACE_HUB_CACHE -u HF_TOKEN -u "
        "HF_HUB_OFFLINE -u HF_HUB_DISABLE_PROGRESS_BARS HF_ENDPOINT=" +
        mock.endpoint() + " HF_HOME=";
    const std::string args = " download test-org/tiny-distilbert --include model.safetensors";
    std::string out;
    // On a terminal (script gives the CLI one): a bar that reaches 100%.
    fs::path home = test::hub_temp_dir("hub_cli_bar");
    ASSERT_EQ(test::run_command("script -qec \"" + env + home.string() + " " + test::cli() + args +
                                    "\" /dev/null",
                                &out),
              0)
        << out;
    EXPECT_NE(out.find("model.safetensors: 100% |##############################| 4.0 MB/4.0 MB"),
              std::string::npos)
        << out;
    // Disabled by HF_HUB_DISABLE_PROGRESS_BARS, and never when stderr is not a terminal.
    home = test::hub_temp_dir("hub_cli_nobar");
    ASSERT_EQ(test::run_command("script -qec \"" + env + home.string() +
                                    " HF_HUB_DISABLE_PROGRESS_BARS=1 " + test::cli() + args +
                                    "\" /dev/null",
                                &out),
              0)
        << out;
    EXPECT_EQ(out.find("100%"), std::string::npos) << out;
    home = test::hub_temp_dir("hub_cli_notty");
    ASSERT_EQ(test::run_command(env + home.string() + " " + test::cli() + args, &out), 0) << out;
    EXPECT_EQ(out.find("100%"), std::string::npos) << out;
}

TEST(HubCli, HubErrorsAreOneLine) {
    test::MockHub mock;
    const fs::path home = test::hub_temp_dir("hub_cli_err");
    std::string out;
    int rc =
        test::run_command(env_prefix(mock, home) + test::cli() + " download test-org/nope", &out);
    EXPECT_EQ(rc, 1);
    EXPECT_EQ(out.rfind("finetune: error: repository not found or gated: model repository "
                        "test-org/nope",
                        0),
              0u)
        << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    rc = test::run_command(env_prefix(mock, home) + test::cli() +
                               " download test-org/tiny-distilbert --repo-type space",
                           &out);
    EXPECT_EQ(rc, 2) << out;
}

}  // namespace
}  // namespace ft
