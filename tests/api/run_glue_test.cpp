// run_glue's preparation as a library call (run_glue.cpp): real GLUE data from shared/data with
// the tiny checkpoint, the labels and columns it chose, the tokenised splits, and the
// predictions file for class names and regression values.
#include <gtest/gtest.h>

#include "finetune/finetune.h"
#include "test_env.h"

namespace ft {
namespace {

RunGlueArguments tiny_job(const std::string& task) {
    RunGlueArguments a;
    a.model_name_or_path = test::tiny_distilbert_model_dir().string();
    a.task_name = task;
    a.data_dir = (test::shared_dir() / "data/glue" / task).string();
    a.max_train_samples = 24;
    a.max_eval_samples = 16;
    a.max_predict_samples = 8;
    a.max_seq_length = 20;
    return a;
}

TEST(RunGluePreparation, ColaFromGlueTsvsWithTheTinyModel) {
    const RunGlueArguments a = tiny_job("cola");
    GlueJobData data = load_glue_job_data(a);
    EXPECT_EQ(data.task, "cola");
    EXPECT_EQ(data.raw.split_names(), (std::vector<std::string>{"train", "validation", "test"}));
    const PreparedGlueJob p = prepare_glue_job(a, std::move(data), true, true, true);
    EXPECT_FALSE(p.is_regression);
    EXPECT_EQ(p.label_list, (std::vector<std::string>{"unacceptable", "acceptable"}));
    // A GLUE task's label names become the model's id2label.
    EXPECT_EQ(p.model->config.id2label, p.label_list);
    EXPECT_EQ(p.metric().glue_task, "cola");
    ASSERT_TRUE(p.has_train && p.has_eval && p.has_test);
    EXPECT_EQ(p.train.num_rows(), 24);
    EXPECT_EQ(p.eval.num_rows(), 16);
    EXPECT_EQ(p.test.num_rows(), 8);
    // DistilBERT takes no token_type_ids; the test split loses its -1 labels.
    EXPECT_FALSE(p.train.has_column("token_type_ids"));
    EXPECT_TRUE(p.train.has_column("label"));
    EXPECT_FALSE(p.test.has_column("label"));
    for (int64_t r = 0; r < p.train.num_rows(); ++r)
        EXPECT_LE(p.train.column("input_ids").list_at(r).size(), 20u) << r;
    // The sentence column was tokenised: row 0 is CoLA's first sentence.
    const Encoding first = p.tokenizer->encode(
        "Our friends won't buy this analysis, let alone the next one we propose.");
    const auto ids = p.train.column("input_ids").list_at(0);
    EXPECT_EQ(std::vector<int32_t>(ids.begin(), ids.end()), first.input_ids);
}

TEST(RunGluePreparation, StsbIsARegressionWithOneOutput) {
    // The tiny checkpoint's head has two outputs: a regression needs a fresh one.
    RunGlueArguments a = tiny_job("stsb");
    a.random_init = true;
    const PreparedGlueJob p = prepare_glue_job(a, load_glue_job_data(a), false, true, false);
    EXPECT_TRUE(p.is_regression);
    EXPECT_TRUE(p.label_list.empty());
    EXPECT_EQ(p.model->config.num_labels(), 1);
    EXPECT_FALSE(p.has_train);
    EXPECT_TRUE(p.has_eval);
    EXPECT_EQ(p.eval.column("label").type(), ColumnType::FLOAT64);
}

TEST(RunGluePreparation, AnEmptySplitThatIsNeededIsNamed) {
    const fs::path dir = test::make_temp_dir("run_glue_empty");
    write_text_atomic(dir / "train.csv", "sentence,label\na b,0\nc d,1\n");
    write_text_atomic(dir / "validation.csv", "sentence,label\n");
    RunGlueArguments a = tiny_job("cola");
    a.data_dir.clear();
    a.train_file = (dir / "train.csv").string();
    a.validation_file = (dir / "validation.csv").string();
    const std::string msg =
        test::error_of([&] { prepare_glue_job(a, load_glue_job_data(a), true, true, false); });
    EXPECT_NE(msg.find("'validation' split (" + a.validation_file + ") has no rows"),
              std::string::npos)
        << msg;
}

TEST(RunGluePredictions, LabelNamesOrValuesPerRow) {
    PreparedGlueJob job;
    job.label_list = {"no", "yes"};
    PredictionOutput p;
    p.num_rows = 3;
    p.num_labels = 2;
    p.predictions = {0.1f, 0.9f, 2.f, -1.f, 0.5f, 0.5f};  // argmax 1, 0, 0 (a tie: the first)
    const fs::path dir = test::make_temp_dir("run_glue_predictions");
    write_glue_predictions(dir / "cls.txt", job, p);
    EXPECT_EQ(read_text_file(dir / "cls.txt"), "index\tprediction\n0\tyes\n1\tno\n2\tno\n");

    job.label_list.clear();
    job.is_regression = true;
    p.num_labels = 1;
    p.num_rows = 2;
    p.predictions = {3.14159f, -0.5f};
    write_glue_predictions(dir / "reg.txt", job, p);
    EXPECT_EQ(read_text_file(dir / "reg.txt"), "index\tprediction\n0\t3.142\n1\t-0.500\n");
}

}  // namespace
}  // namespace ft
