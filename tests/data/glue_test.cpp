// GLUE loading against three oracles: HF's documented split sizes and features, the label counts
// and rows recorded in shared/data/PROVENANCE.md, and tools/glue_rows.py, which reads the same
// files with Python's csv module the way HF's glue script does.
#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>

#include "finetune/data.h"
#include "finetune/io.h"
#include "test_env.h"

namespace ft {

namespace {

fs::path glue_dir(const std::string& task) {
    return test::shared_dir() / "data/glue" / task;
}

struct Counts {
    int64_t train, validation, test;
};

// HF's nyu-mll/glue split sizes.
const std::map<std::string, Counts>& hf_counts() {
    static const std::map<std::string, Counts> c = {
        {"cola", {8551, 1043, 1063}}, {"sst2", {67349, 872, 1821}}, {"mrpc", {3668, 408, 1725}},
        {"stsb", {5749, 1500, 1379}}, {"rte", {2490, 277, 3000}},   {"wnli", {635, 71, 146}}};
    return c;
}

std::map<int64_t, int64_t> label_histogram(const Dataset& ds) {
    std::map<int64_t, int64_t> h;
    for (int64_t v : ds.column("label").as_int64()) ++h[v];
    return h;
}

}  // namespace

TEST(GlueTasks, EveryTaskInSharedDataLoadsWithHfRowCounts) {
    for (const auto& [task, want] : hf_counts()) {
        const DatasetDict dd = load_dataset("glue", task, glue_dir(task));
        EXPECT_EQ(dd.split_names(), (std::vector<std::string>{"train", "validation", "test"}))
            << task;
        EXPECT_EQ(dd["train"].num_rows(), want.train) << task;
        EXPECT_EQ(dd["validation"].num_rows(), want.validation) << task;
        EXPECT_EQ(dd["test"].num_rows(), want.test) << task;
    }
}

TEST(GlueTasks, FeaturesAreThoseOfHfGlue) {
    const std::map<std::string, std::string> want = {
        {"cola",
         "{'sentence': Value('string'), 'label': ClassLabel(names=['unacceptable', "
         "'acceptable']), 'idx': Value('int32')}"},
        {"sst2",
         "{'sentence': Value('string'), 'label': ClassLabel(names=['negative', 'positive']), "
         "'idx': Value('int32')}"},
        {"mrpc",
         "{'sentence1': Value('string'), 'sentence2': Value('string'), 'label': "
         "ClassLabel(names=['not_equivalent', 'equivalent']), 'idx': Value('int32')}"},
        {"stsb",
         "{'sentence1': Value('string'), 'sentence2': Value('string'), 'label': "
         "Value('float32'), 'idx': Value('int32')}"},
        {"rte",
         "{'sentence1': Value('string'), 'sentence2': Value('string'), 'label': "
         "ClassLabel(names=['entailment', 'not_entailment']), 'idx': Value('int32')}"},
        {"wnli",
         "{'sentence1': Value('string'), 'sentence2': Value('string'), 'label': "
         "ClassLabel(names=['not_entailment', 'entailment']), 'idx': Value('int32')}"}};
    for (const auto& [task, repr] : want) {
        const DatasetDict dd = load_dataset("glue", task, glue_dir(task));
        for (const auto& [split, ds] : dd.splits()) EXPECT_EQ(ds.features_repr(), repr) << task;
    }
}

TEST(GlueTasks, TableCoversTheNineTasksWithEvaluateMetricNames) {
    const std::map<std::string, std::vector<std::string>> metrics = {
        {"cola", {"matthews_correlation"}},
        {"sst2", {"accuracy"}},
        {"mrpc", {"accuracy", "f1"}},
        {"qqp", {"accuracy", "f1"}},
        {"stsb", {"pearson", "spearmanr"}},
        {"mnli", {"accuracy"}},
        {"qnli", {"accuracy"}},
        {"rte", {"accuracy"}},
        {"wnli", {"accuracy"}}};
    for (const auto& [task, m] : metrics) EXPECT_EQ(glue_task(task).metrics, m) << task;
    const GlueTask& mnli = glue_task("mnli");
    std::vector<std::string> splits;
    for (const auto& s : mnli.splits) splits.push_back(s.name);
    EXPECT_EQ(splits,
              (std::vector<std::string>{"train", "validation_matched", "validation_mismatched",
                                        "test_matched", "test_mismatched"}));
    EXPECT_EQ(mnli.label_names,
              (std::vector<std::string>{"entailment", "neutral", "contradiction"}));
    EXPECT_EQ(mnli.text_features[0].first, "premise");
    EXPECT_EQ(mnli.text_features[1].first, "hypothesis");
    EXPECT_EQ(glue_task("qqp").text_features[0].first, "question1");
    EXPECT_EQ(glue_task("qnli").text_features[0].first, "question");
    EXPECT_EQ(glue_task("qnli").label_names,
              (std::vector<std::string>{"entailment", "not_entailment"}));
    EXPECT_EQ(glue_task("qqp").label_names,
              (std::vector<std::string>{"not_duplicate", "duplicate"}));
    try {
        glue_task("colaa");
        FAIL() << "an unknown config must fail";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("'colaa'"), std::string::npos) << e.what();
    }
}

TEST(GlueTasks, LabelCountsMatchProvenance) {
    // PROVENANCE.md's per-file label counts; the TSV label strings map to HF's class order.
    auto cola = load_dataset("glue", "cola", glue_dir("cola"));
    EXPECT_EQ(label_histogram(cola["train"]), (std::map<int64_t, int64_t>{{0, 2528}, {1, 6023}}));
    EXPECT_EQ(label_histogram(cola["validation"]),
              (std::map<int64_t, int64_t>{{0, 322}, {1, 721}}));
    EXPECT_EQ(label_histogram(cola["test"]), (std::map<int64_t, int64_t>{{-1, 1063}}));
    auto sst2 = load_dataset("glue", "sst2", glue_dir("sst2"));
    EXPECT_EQ(label_histogram(sst2["train"]), (std::map<int64_t, int64_t>{{0, 29780}, {1, 37569}}));
    auto rte = load_dataset("glue", "rte", glue_dir("rte"));  // entailment = 0
    EXPECT_EQ(label_histogram(rte["train"]), (std::map<int64_t, int64_t>{{0, 1249}, {1, 1241}}));
    EXPECT_EQ(label_histogram(rte["validation"]), (std::map<int64_t, int64_t>{{0, 146}, {1, 131}}));
    auto wnli = load_dataset("glue", "wnli", glue_dir("wnli"));
    EXPECT_EQ(label_histogram(wnli["train"]), (std::map<int64_t, int64_t>{{0, 323}, {1, 312}}));
    auto mrpc = load_dataset("glue", "mrpc", glue_dir("mrpc"));
    EXPECT_EQ(label_histogram(mrpc["train"]), (std::map<int64_t, int64_t>{{0, 1194}, {1, 2474}}));
    EXPECT_EQ(label_histogram(mrpc["validation"]),
              (std::map<int64_t, int64_t>{{0, 129}, {1, 279}}));
    auto stsb = load_dataset("glue", "stsb", glue_dir("stsb"));
    const auto& scores = stsb["train"].column("label").as_float64();
    double sum = 0, lo = 1e9, hi = -1e9;
    for (double s : scores) sum += s, lo = std::min(lo, s), hi = std::max(hi, s);
    EXPECT_EQ(lo, 0.0);
    EXPECT_EQ(hi, 5.0);
    EXPECT_NEAR(sum / static_cast<double>(scores.size()), 2.701, 5e-4);
    for (double s : stsb["test"].column("label").as_float64()) ASSERT_EQ(s, -1.0);
}

TEST(GlueTasks, ColaRowsPrintLikeHf) {
    const DatasetDict dd = load_dataset("glue", "cola", glue_dir("cola"));
    EXPECT_EQ(dd["train"][0].repr(),
              "{'sentence': \"Our friends won't buy this analysis, let alone the next one we "
              "propose.\", 'label': 1, 'idx': 0}");
    // TSV line 19 is `gj04\t0\t*\tThey drank the pub.`: label 0, idx 18.
    EXPECT_EQ(dd["train"][18].repr(), "{'sentence': 'They drank the pub.', 'label': 0, 'idx': 18}");
    EXPECT_EQ(dd["test"][0].repr(),
              "{'sentence': 'Bill whistled past the house.', 'label': -1, 'idx': 0}");
}

TEST(GlueTasks, DatasetDictPrintsLikeHf) {
    const DatasetDict dd = load_dataset("glue", "cola", glue_dir("cola"));
    EXPECT_EQ(dd.repr(),
              "DatasetDict({\n"
              "    train: Dataset({\n"
              "        features: ['sentence', 'label', 'idx'],\n"
              "        num_rows: 8551\n"
              "    })\n"
              "    validation: Dataset({\n"
              "        features: ['sentence', 'label', 'idx'],\n"
              "        num_rows: 1043\n"
              "    })\n"
              "    test: Dataset({\n"
              "        features: ['sentence', 'label', 'idx'],\n"
              "        num_rows: 1063\n"
              "    })\n"
              "})");
}

TEST(GlueTasks, MrpcFollowsHfMicrosoftFilePathWithIdxGaps) {
    const DatasetDict dd = load_dataset("glue", "mrpc", glue_dir("mrpc"));
    // HF numbers MRPC rows by their line in msr_paraphrase_train.txt: validation[0] is row 9.
    EXPECT_EQ(dd["validation"][0].int64("idx"), 9);
    EXPECT_EQ(dd["train"][0].int64("idx"), 0);
    // train and validation partition the 4076 Microsoft rows.
    std::vector<int64_t> all = dd["train"].column("idx").as_int64();
    const auto& v = dd["validation"].column("idx").as_int64();
    all.insert(all.end(), v.begin(), v.end());
    std::sort(all.begin(), all.end());
    ASSERT_EQ(all.size(), 4076u);
    for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i], static_cast<int64_t>(i));
    // The Microsoft test file is labelled, so HF's test split is too.
    EXPECT_EQ(label_histogram(dd["test"]).count(-1), 0u);
}

TEST(GlueTasks, MrpcGlueTsvsWithoutMicrosoftFiles) {
    const fs::path dir = test::make_temp_dir("glue_mrpc");
    for (const char* f : {"train.tsv", "dev.tsv", "test.tsv"})
        fs::copy_file(glue_dir("mrpc") / f, dir / f);
    const DatasetDict dd = load_dataset("glue", "mrpc", dir);
    EXPECT_EQ(dd["train"].num_rows(), 3668);
    EXPECT_EQ(dd["validation"].num_rows(), 408);
    EXPECT_EQ(dd["test"].num_rows(), 1725);
    // The BOM is not part of the first header name, so the Quality labels are found.
    EXPECT_EQ(label_histogram(dd["train"]), (std::map<int64_t, int64_t>{{0, 1194}, {1, 2474}}));
    EXPECT_EQ(label_histogram(dd["test"]), (std::map<int64_t, int64_t>{{-1, 1725}}));
    fs::remove_all(dir);
}

TEST(GlueTasks, EveryRowEqualsPythonCsvReadingLikeHfScript) {
    for (const auto& [task, counts] : hf_counts()) {
        std::string out;
        const int rc =
            test::run_command(test::python() + " " + (test::tools_dir() / "glue_rows.py").string() +
                                  " " + task + " " + glue_dir(task).string() + " 2>/dev/null",
                              &out);
        ASSERT_EQ(rc, 0) << out.substr(0, 500);
        const auto want = nlohmann::json::parse(out);
        const DatasetDict dd = load_dataset("glue", task, glue_dir(task));
        for (const auto& [split, ds] : dd.splits()) {
            const auto& rows = want.at(split);
            ASSERT_EQ(static_cast<int64_t>(rows.size()), ds.num_rows()) << task << " " << split;
            const auto names = ds.column_names();
            const size_t nt = names.size() - 2;  // text columns, then label and idx
            const auto& idx = ds.column("idx").as_int64();
            for (size_t r = 0; r < rows.size(); ++r) {
                const auto& w = rows[r];
                for (size_t k = 0; k < nt; ++k)
                    ASSERT_EQ(ds.column(names[k]).as_strings()[r], w[k].get<std::string>())
                        << task << " " << split << " row " << r;
                if (task == "stsb")
                    ASSERT_EQ(ds.column("label").as_float64()[r], w[nt].get<double>())
                        << split << " row " << r;
                else
                    ASSERT_EQ(ds.column("label").as_int64()[r], w[nt].get<int64_t>())
                        << split << " row " << r;
                ASSERT_EQ(idx[r], w[nt + 1].get<int64_t>()) << split << " row " << r;
            }
        }
    }
}

TEST(GlueTasks, StsbScoresAreFloat32AndPrintAsHfDoes) {
    const DatasetDict dd = load_dataset("glue", "stsb", glue_dir("stsb"));
    EXPECT_EQ(dd["train"][0].repr(),
              "{'sentence1': 'A plane is taking off.', 'sentence2': 'An air plane is taking "
              "off.', 'label': 5.0, 'idx': 0}");
    // Row 1's score is 3.800 in the TSV: as a float32 widened to a Python float it prints
    // 3.799999952316284 (float32(3.8) = 3.7999999523162841796875).
    EXPECT_EQ(python_float_repr(dd["train"][1].float64("label")), "3.799999952316284");
    EXPECT_EQ(dd["test"][0].float64("label"), -1.0);
}

TEST(GlueTasks, CorruptTsvNamesFileAndLine) {
    const GlueTask& rte = glue_task("rte");
    try {
        parse_glue_tsv(rte,
                       "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\ta\tb\tmaybe\n",
                       "rte.tsv", false);
        FAIL() << "an unknown label must fail";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("rte.tsv:3"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("'maybe'"), std::string::npos) << e.what();
    }
    try {
        parse_glue_tsv(rte, "index\tsentence1\tlabel\n0\ta\tentailment\n", "rte.tsv", false);
        FAIL() << "a missing text column must fail";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("rte.tsv:1: no column 'sentence2'"), std::string::npos)
            << e.what();
    }
    try {
        parse_glue_tsv(glue_task("cola"), "gj04\t1\t\tfine.\ngj04\t1\n", "cola.tsv", false);
        FAIL() << "a short CoLA row must fail";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("cola.tsv:2"), std::string::npos) << e.what();
    }
    try {
        parse_glue_tsv(glue_task("cola"), "gj04\t1\t\tfine.\ngj04\t1\t\tbad \xff byte\n",
                       "cola.tsv", false);
        FAIL() << "invalid UTF-8 must fail";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("cola.tsv:2: invalid UTF-8"), std::string::npos)
            << e.what();
    }
    // A short row in a headed file is dropped as HF's script drops it; idx still counts it.
    const Dataset ds = parse_glue_tsv(
        rte, "index\tsentence1\tsentence2\tlabel\n0\ta\tb\t1\n1\tc\n2\td\te\tentailment\n",
        "rte.tsv", false);
    ASSERT_EQ(ds.num_rows(), 2);
    EXPECT_EQ(ds[1].repr(), "{'sentence1': 'd', 'sentence2': 'e', 'label': 0, 'idx': 2}");
}

TEST(GlueTasks, EmbeddedColaEqualsTheSharedFiles) {
    const DatasetDict embedded = load_dataset("glue", "cola");  // no data_dir: the embedded copy
    const DatasetDict files = load_dataset("glue", "cola", glue_dir("cola"));
    for (const auto& [split, ds] : files.splits()) {
        const Dataset& e = embedded[split];
        ASSERT_EQ(e.num_rows(), ds.num_rows()) << split;
        EXPECT_EQ(e.column("sentence").as_strings(), ds.column("sentence").as_strings());
        EXPECT_EQ(e.column("label").as_int64(), ds.column("label").as_int64());
        EXPECT_EQ(e.column("idx").as_int64(), ds.column("idx").as_int64());
    }
}

}  // namespace ft
