// The CLI skeleton end to end: --version, --help, usage errors (exit 2), `info` on checkpoints.
#include <gtest/gtest.h>

#include "core/device_cuda.h"
#include "ops/cpu_features.h"
#include "test_env.h"

namespace ft {

TEST(CliInfo, PrintsTinyDistilbertParameterCountAsPyTorchCountsIt) {
    int rc;
    const auto out = test::run_cli(
        "info " + (test::shared_dir() / "reference/tiny_distilbert/init").string(), &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("1,007,852"), std::string::npos) << out;
    EXPECT_NE(out.find("distilbert (DistilBertForSequenceClassification)"), std::string::npos)
        << out;
    EXPECT_NE(out.find("pytorch_model.bin"), std::string::npos) << out;
    EXPECT_NE(out.find("F32 x 40"), std::string::npos) << out;
    EXPECT_NE(out.find("embeddings             993,152"), std::string::npos) << out;
}

TEST(CliInfo, ListsMissingAndUnexpectedKeys) {
    int rc;
    const auto out =
        test::run_cli("info " + (test::testdata_dir() / "tiny_distilbert_mlm").string(), &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("missing keys:     4"), std::string::npos) << out;
    EXPECT_NE(out.find("  pre_classifier.weight"), std::string::npos) << out;
    EXPECT_NE(out.find("unexpected keys:  6"), std::string::npos) << out;
    EXPECT_NE(out.find("  vocab_projector.weight"), std::string::npos) << out;
}

TEST(CliInfo, BadInputIsOneLineAndNonZero) {
    int rc;
    auto out = test::run_cli("info /nonexistent/model", &rc);
    EXPECT_EQ(rc, 1);
    EXPECT_EQ(out, "finetune: error: /nonexistent/model: not a model directory\n");
    out = test::run_cli("--no-such-flag", &rc);
    EXPECT_EQ(rc, 2) << out;
}

// `finetune info` alone lists the devices training can use: the CPU always, then each GPU, or why
// there is none.
TEST(CliInfo, AloneListsTheDevices) {
    int rc;
    const auto out = test::run_cli("info", &rc);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_EQ(out.rfind("devices:          cpu\n", 0), 0u) << out;
    const int gpus = cuda::device_count();
    if (gpus == 0) {
        EXPECT_NE(out.find("(no GPU: " + cuda::unavailable_reason() + ")"), std::string::npos)
            << out;
    }
    for (int i = 0; i < gpus; ++i)
        EXPECT_NE(out.find("cuda:" + std::to_string(i)), std::string::npos) << out;
    // And whether bf16 can run on this CPU, in check_bf16_support's words.
    const std::string missing = ops::cpu_bf16_missing();
    EXPECT_NE(
        out.find(missing.empty() ? "cpu bf16:         yes" : "cpu bf16:         no: " + missing),
        std::string::npos)
        << out;
}

TEST(CliInfo, VersionAndHelp) {
    int rc;
    auto out = test::run_cli("--version", &rc);
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(out.rfind("finetune ", 0), 0u) << out;
    out = test::run_cli("--help", &rc);
    EXPECT_EQ(rc, 0);
    EXPECT_NE(out.find("info"), std::string::npos) << out;
}

}  // namespace ft
