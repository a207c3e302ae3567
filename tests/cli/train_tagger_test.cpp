// `finetune train-tagger` (run_ner.py as a command): a tiny BERT token classifier trained on UD
// English-EWT sentences (CoNLL-U) and on CoNLL-2003-style files, evaluated with seqeval, saved as
// a ForTokenClassification checkpoint with the labels as id2label, predictions.txt with a tag per
// word; bad files are refused naming the file and line before anything is written.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "finetune/data.h"
#include "finetune/io.h"
#include "finetune/model.h"
#include "test_env.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

fs::path init_bert() {
    return test::tools_dir() / ".." / "tests" / "goldens" / "trainer_ner" / "init_bert";
}

// The first `sentences` sentences of a CoNLL-U file, written to `to`.
void head_sentences(const fs::path& from, const fs::path& to, int sentences) {
    std::ifstream in(from);
    std::ofstream out(to);
    std::string line;
    int done = 0;
    while (done < sentences && std::getline(in, line)) {
        out << line << "\n";
        if (line.empty()) ++done;
    }
}

std::vector<std::string> lines_of(const fs::path& p) {
    std::ifstream in(p);
    std::vector<std::string> v;
    for (std::string l; std::getline(in, l);) v.push_back(l);
    return v;
}

TEST(CliTrainTagger, UposOnUdEwtWritesRunNersOutputs) {
    const fs::path ud = test::shared_dir() / "data" / "ud" / "en_ewt";
    if (!fs::exists(ud / "en_ewt-ud-train.conllu")) GTEST_SKIP() << "no UD EWT under " << ud;
    const fs::path dir = test::make_temp_dir("cli_tagger");
    head_sentences(ud / "en_ewt-ud-train.conllu", dir / "train.conllu", 64);
    head_sentences(ud / "en_ewt-ud-dev.conllu", dir / "dev.conllu", 16);
    head_sentences(ud / "en_ewt-ud-test.conllu", dir / "test.conllu", 12);
    const fs::path out = dir / "out";
    int rc = 0;
    const std::string log = test::run_cli(
        "train-tagger --model_name_or_path " + init_bert().string() + " --train_file " +
            (dir / "train.conllu").string() + " --validation_file " +
            (dir / "dev.conllu").string() + " --test_file " + (dir / "test.conllu").string() +
            " --label_column_name upos --do_train --do_eval --do_predict --num_train_epochs 2"
            " --learning_rate 5e-3 --per_device_train_batch_size 8 --eval_strategy epoch"
            " --save_strategy epoch --load_best_model_at_end --metric_for_best_model accuracy"
            " --disable_tqdm --output_dir " +
            out.string(),
        &rc);
    ASSERT_EQ(rc, 0) << log;
    EXPECT_NE(log.find("BertForTokenClassification"), std::string::npos) << log;
    const json all = json::parse(read_text_file(out / "all_results.json"));
    for (const char* k : {"eval_accuracy", "eval_f1", "eval_precision", "eval_recall",
                          "predict_accuracy", "train_loss"})
        EXPECT_TRUE(all.contains(k)) << k;
    // The model learns something in 16 steps: above the majority tag's share (about 0.2).
    EXPECT_GT(all["eval_accuracy"].get<double>(), 0.3);
    const ModelConfig saved = load_model_config(out / "config.json");
    EXPECT_EQ(saved.architectures, std::vector<std::string>{"BertForTokenClassification"});
    EXPECT_EQ(saved.id2label, upos_names());
    // predictions.txt: one line per test sentence, a tag per word (none truncated here).
    const Dataset test = read_conllu(dir / "test.conllu");
    const auto pred = lines_of(out / "predictions.txt");
    ASSERT_EQ(static_cast<int64_t>(pred.size()), test.num_rows());
    for (int64_t r = 0; r < test.num_rows(); ++r) {
        std::istringstream words(pred[static_cast<size_t>(r)]);
        size_t n = 0;
        for (std::string w; words >> w; ++n)
            EXPECT_NE(std::find(upos_names().begin(), upos_names().end(), w), upos_names().end())
                << w;
        EXPECT_EQ(n, test[r].string_list("tokens").size()) << "row " << r;
    }
    // predict on the saved tagger: a UPOS tag per word, and the entity groups.
    const std::string tags =
        test::run_cli("predict --model " + out.string() + " \"The dog barks .\"", &rc);
    ASSERT_EQ(rc, 0) << tags;
    const auto at = tags.find("words: The/");
    ASSERT_NE(at, std::string::npos) << tags;
    std::istringstream words(tags.substr(at + 7, tags.find('\n', at) - at - 7));
    size_t n = 0;
    for (std::string w; words >> w; ++n) {
        const std::string tag = w.substr(w.rfind('/') + 1);
        EXPECT_NE(std::find(upos_names().begin(), upos_names().end(), tag), upos_names().end())
            << w;
    }
    EXPECT_EQ(n, 4u) << tags;
    EXPECT_NE(tags.find("entities (simple):"), std::string::npos) << tags;
}

TEST(CliTrainTagger, BadFilesNameTheFileAndLineAndWriteNothing) {
    const fs::path dir = test::make_temp_dir("cli_tagger_bad");
    write_text_atomic(dir / "train.conll", "-DOCSTART- O\n\nEU B-ORG\nrejects O\n\nPeter B-PER\n");
    write_text_atomic(dir / "dev.conll", "Paris B-LOC\nis O\n");
    write_text_atomic(dir / "ragged.conll", "EU B-ORG\nrejects O extra\n");
    const fs::path out = dir / "out";
    const std::string base = "train-tagger --model_name_or_path " + init_bert().string() +
                             " --do_train --do_eval --disable_tqdm --output_dir " + out.string();
    int rc = 0;
    std::string log = test::run_cli(base + " --train_file " + (dir / "train.conll").string() +
                                        " --validation_file " + (dir / "dev.conll").string(),
                                    &rc);
    EXPECT_NE(rc, 0);
    EXPECT_NE(log.find("dev.conll:1"), std::string::npos) << log;
    EXPECT_NE(log.find("B-LOC"), std::string::npos) << log;
    EXPECT_FALSE(fs::exists(out));
    log = test::run_cli(base + " --train_file " + (dir / "ragged.conll").string(), &rc);
    EXPECT_NE(rc, 0);
    EXPECT_NE(log.find("ragged.conll:2"), std::string::npos) << log;
    EXPECT_FALSE(fs::exists(out));
    // JSON Lines: a row without its tags, and a row with fewer tags than words.
    write_text_atomic(dir / "missing.jsonl",
                      "{\"tokens\": [\"EU\"], \"ner_tags\": [\"B-ORG\"]}\n"
                      "{\"tokens\": [\"Peter\"]}\n");
    write_text_atomic(dir / "short.jsonl",
                      "{\"tokens\": [\"EU\"], \"ner_tags\": [\"B-ORG\"]}\n"
                      "{\"tokens\": [\"Peter\", \"x\"], \"ner_tags\": [\"B-PER\"]}\n");
    log = test::run_cli(base + " --train_file " + (dir / "missing.jsonl").string(), &rc);
    EXPECT_NE(rc, 0);
    EXPECT_NE(log.find("missing.jsonl:2: key 'ner_tags' is missing"), std::string::npos) << log;
    log = test::run_cli(base + " --train_file " + (dir / "short.jsonl").string(), &rc);
    EXPECT_NE(rc, 0);
    EXPECT_NE(log.find("short.jsonl:2: split 'train', row 1: 2 words in 'tokens' but 1 tags"),
              std::string::npos)
        << log;
    EXPECT_FALSE(fs::exists(out));
}

}  // namespace
}  // namespace ft
