// run_glue's reading of a dataset (glue_preparation.cpp): label inference and the choice of text
// columns, on the GLUE copies in shared/data and on small CSVs for the integer-label renumbering.
#include <gtest/gtest.h>

#include "finetune/data.h"
#include "test_env.h"

namespace ft {
namespace {

DatasetDict glue_from_shared(const std::string& task) {
    return load_glue_from_dir(glue_task(task), test::shared_dir() / "data/glue" / task);
}

// The same files as a dataset that is not a GLUE task: run_glue's generic path.
DatasetDict without_class_label(const DatasetDict& glue) {
    DatasetDict out;
    for (const auto& [split, ds] : glue.splits()) {
        const std::vector<int64_t> labels = ds.column("label").as_int64();
        out.set(split, ds.remove_columns({"label"}).add_column("label", Column::int64s(labels)));
    }
    return out;
}

TEST(GluePreparationLabels, ClassLabelNamesOfRealGlueTasks) {
    DatasetDict cola = glue_from_shared("cola");
    const GlueLabels c = infer_glue_labels(cola, "train");
    EXPECT_FALSE(c.is_regression);
    EXPECT_EQ(c.label_list, (std::vector<std::string>{"unacceptable", "acceptable"}));
    EXPECT_EQ(c.num_labels(), 2);

    DatasetDict rte = glue_from_shared("rte");
    EXPECT_EQ(infer_glue_labels(rte, "train").label_list,
              (std::vector<std::string>{"entailment", "not_entailment"}));
}

TEST(GluePreparationLabels, StsbIsARegressionWithOneLabel) {
    DatasetDict stsb = glue_from_shared("stsb");
    const GlueLabels s = infer_glue_labels(stsb, "train");
    EXPECT_TRUE(s.is_regression);
    EXPECT_TRUE(s.label_list.empty());
    EXPECT_EQ(s.num_labels(), 1);
}

TEST(GluePreparationLabels, IntegerIdsKeepTheirValuesAndGetLabelNames) {
    // MRPC's labels as plain integers 0/1 (the test split's -1 marks unlabelled rows).
    DatasetDict mrpc = without_class_label(glue_from_shared("mrpc"));
    const std::vector<int64_t> before = mrpc["train"].column("label").as_int64();
    const GlueLabels m = infer_glue_labels(mrpc, "train");
    EXPECT_EQ(m.label_list, (std::vector<std::string>{"LABEL_0", "LABEL_1"}));
    EXPECT_EQ(mrpc["train"].column("label").as_int64(), before);  // ids are left alone
}

TEST(GluePreparationLabels, OtherIntegersAreRenumberedInEverySplit) {
    DatasetDict dd;
    dd.set("train", parse_csv("text,label\na,7\nb,-3\nc,-1\nd,7\ne,40\n", "train.csv"));
    dd.set("validation", parse_csv("text,label\nf,40\ng,-3\n", "validation.csv"));
    const GlueLabels l = infer_glue_labels(dd, "train");
    EXPECT_FALSE(l.is_regression);
    EXPECT_EQ(l.label_list, (std::vector<std::string>{"-3", "7", "40"}));  // sorted, -1 skipped
    EXPECT_EQ(dd["train"].column("label").as_int64(), (std::vector<int64_t>{1, 0, -1, 1, 2}));
    EXPECT_EQ(dd["validation"].column("label").as_int64(), (std::vector<int64_t>{2, 0}));

    // A label the reference split lacks is named with its split and row.
    DatasetDict bad;
    bad.set("train", parse_csv("text,label\na,5\nb,9\n", "train.csv"));
    bad.set("validation", parse_csv("text,label\nc,9\nd,6\n", "validation.csv"));
    const std::string msg = test::error_of([&] { infer_glue_labels(bad, "train"); });
    EXPECT_NE(msg.find("'validation' split, row 1: label 6"), std::string::npos) << msg;
}

TEST(GluePreparationLabels, FloatTargetsAreARegressionAndOtherLabelsAreErrors) {
    DatasetDict floats;
    floats.set("train", parse_csv("text,label\na,0.5\nb,2\n", "train.csv"));
    EXPECT_TRUE(infer_glue_labels(floats, "train").is_regression);

    DatasetDict none;
    none.set("train", parse_csv("text,score\na,1\n", "train.csv"));
    std::string msg = test::error_of([&] { infer_glue_labels(none, "train"); });
    EXPECT_NE(msg.find("no 'label' column"), std::string::npos) << msg;

    DatasetDict text;
    text.set("train", parse_csv("text,label\na,yes\nb,no\n", "train.csv"));
    msg = test::error_of([&] { infer_glue_labels(text, "train"); });
    EXPECT_NE(msg.find("Value('string')"), std::string::npos) << msg;

    DatasetDict unlabelled;
    unlabelled.set("train", parse_csv("text,label\na,-1\n", "train.csv"));
    msg = test::error_of([&] { infer_glue_labels(unlabelled, "train"); });
    EXPECT_NE(msg.find("only -1"), std::string::npos) << msg;
}

TEST(GluePreparationColumns, GlueTasksTakeTheirTableColumns) {
    const DatasetDict cola = glue_from_shared("cola");
    TextColumns c = choose_text_columns(cola["train"], "cola");
    EXPECT_EQ(c.text, "sentence");
    EXPECT_EQ(c.pair, "");
    const DatasetDict stsb = glue_from_shared("stsb");
    c = choose_text_columns(stsb["train"], "stsb");
    EXPECT_EQ(c.text, "sentence1");
    EXPECT_EQ(c.pair, "sentence2");
    // The task's table decides, not the dataset's columns.
    c = choose_text_columns(stsb["train"], "sst2");
    EXPECT_EQ(c.text, "sentence");
    EXPECT_EQ(c.pair, "");
    EXPECT_THROW(choose_text_columns(stsb["train"], "nosuch"), Error);
}

TEST(GluePreparationColumns, OtherDatasetsTakeStringColumnsButLabelAndIdx) {
    // CoLA's files without the task: one text column; label and idx are never text.
    const DatasetDict cola = glue_from_shared("cola");
    TextColumns c = choose_text_columns(cola["train"]);
    EXPECT_EQ(c.text, "sentence");
    EXPECT_EQ(c.pair, "");
    // MRPC's files: sentence1 and sentence2.
    const DatasetDict mrpc = glue_from_shared("mrpc");
    c = choose_text_columns(mrpc["validation"]);
    EXPECT_EQ(c.text, "sentence1");
    EXPECT_EQ(c.pair, "sentence2");
    // sentence1/sentence2 win wherever they stand; otherwise the first two string columns.
    c = choose_text_columns(parse_csv("id,sentence2,note,sentence1,label\n1,a,b,c,0\n", "a.csv"));
    EXPECT_EQ(c.text, "sentence1");
    EXPECT_EQ(c.pair, "sentence2");
    c = choose_text_columns(parse_csv("n,question,label,passage,title\n1,a,0,b,c\n", "b.csv"));
    EXPECT_EQ(c.text, "question");
    EXPECT_EQ(c.pair, "passage");
    c = choose_text_columns(parse_csv("labels,text\nx,a\n", "c.csv"));  // labels is not text
    EXPECT_EQ(c.text, "text");
    EXPECT_EQ(c.pair, "");
    const std::string msg =
        test::error_of([] { choose_text_columns(parse_csv("n,label\n1,0\n", "d.csv")); });
    EXPECT_NE(msg.find("no text column"), std::string::npos) << msg;
}

}  // namespace
}  // namespace ft
