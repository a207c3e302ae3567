// `finetune data`: the HF-style summary and rows, offline glue/cola, GLUE TSVs from --data_dir,
// and one-line errors with exit status 1 (bad data) or 2 (bad usage).
#include <gtest/gtest.h>

#include "test_env.h"

namespace ft {

TEST(CliData, GlueColaOfflineFromTheEmbeddedCopy) {
    int rc;
    // Run from / with the HF cache variables pointing nowhere and the Hub off: only the binary
    // holds CoLA.
    std::string out;
    rc = test::run_command(
        "cd / && env HF_HOME=/nonexistent HF_DATASETS_CACHE=/nonexistent HF_HUB_OFFLINE=1 " +
            test::cli() + " data glue --config cola --rows 1",
        &out);
    ASSERT_EQ(rc, 0) << out;
    EXPECT_EQ(out.rfind("DatasetDict({\n    train: Dataset({\n        features: ['sentence', "
                        "'label', 'idx'],\n        num_rows: 8551\n    })\n",
                        0),
              0u)
        << out;
    EXPECT_NE(out.find("train[0] = {'sentence': \"Our friends won't buy this analysis, let alone "
                       "the next one we propose.\", 'label': 1, 'idx': 0}\n"),
              std::string::npos)
        << out;
    EXPECT_EQ(out.find("train[1] ="), std::string::npos) << out;
    EXPECT_NE(out.find("num_rows: 1063"), std::string::npos);
    // Online but with the Hub unreachable (an endpoint nothing listens on), one quick try, a
    // warning, and the embedded copy.
    rc = test::run_command("cd / && env HF_HOME=/nonexistent HF_ENDPOINT=http://127.0.0.1:9 " +
                               test::cli() + " data glue --config cola --rows 1",
                           &out);
    ASSERT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("using the embedded copy"), std::string::npos) << out;
    EXPECT_NE(out.find("num_rows: 8551"), std::string::npos) << out;
}

TEST(CliData, GlueRteFromDataDir) {
    int rc;
    const auto out = test::run_cli(
        "data glue --config rte --data_dir " + (test::shared_dir() / "data/glue/rte").string(),
        &rc);
    ASSERT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("num_rows: 2490"), std::string::npos) << out;
    EXPECT_NE(out.find("train.features = {'sentence1': Value('string'), 'sentence2': "
                       "Value('string'), 'label': ClassLabel(names=['entailment', "
                       "'not_entailment']), 'idx': Value('int32')}"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("train[1] = "), std::string::npos);
    EXPECT_NE(out.find("test[0] = "), std::string::npos);
}

TEST(CliData, BadInputIsOneLineAndNonZero) {
    int rc;
    auto out = test::run_cli("data /nonexistent/data.csv", &rc);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_EQ(out.rfind("finetune: error: dataset '/nonexistent/data.csv' not found", 0), 0u)
        << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
    out = test::run_cli("data glue --config nope", &rc);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("unknown GLUE config 'nope'"), std::string::npos) << out;
    out = test::run_cli("data", &rc);
    EXPECT_EQ(rc, 2) << out;
    out = test::run_cli("data glue --rows -3", &rc);
    EXPECT_EQ(rc, 2) << out;
}

}  // namespace ft
