// `finetune train` end to end on a tiny model: run_glue's output files, --help and usage errors,
// training against the mock Hub (model and dataset by name), and crash safety: dying at each
// named point of a checkpoint write (FT_CRASH_AT) never leaves a checkpoint that loads but is
// corrupt, and the run resumes.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "finetune/io.h"
#include "finetune/model.h"
#include "finetune/trainer.h"
#include "hub/mock_hub.h"
#include "model/golden_model.h"
#include "test_env.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string tiny_job_flags(const fs::path& model, const fs::path& out) {
    return " --model_name_or_path " + model.string() + " --task_name cola --data_dir " +
           (test::shared_dir() / "data/glue/cola").string() +
           " --max_train_samples 32 --max_eval_samples 16 --per_device_train_batch_size 8"
           " --learning_rate 1e-3 --disable_tqdm --output_dir " +
           out.string();
}

TEST(CliTrain, RunGlueJobWritesHfOutputs) {
    const fs::path model = test::tiny_distilbert_model_dir();
    const fs::path out = test::make_temp_dir("cli_train") / "run";
    int rc = 0;
    const std::string log =
        test::run_cli("train" + tiny_job_flags(model, out) + " --num_train_epochs 2", &rc);
    ASSERT_EQ(rc, 0) << log;
    for (const char* f :
         {"config.json", "model.safetensors", "vocab.txt", "trainer_state.json",
          "train_results.json", "eval_results.json", "all_results.json", "training_args.json",
          "checkpoint-4/trainer_state.json", "checkpoint-8/model.safetensors"})
        EXPECT_TRUE(fs::exists(out / f)) << f;
    const json eval = json::parse(read_text_file(out / "eval_results.json"));
    EXPECT_TRUE(eval.contains("eval_matthews_correlation"));
    EXPECT_EQ(eval["eval_samples"], 16);
    EXPECT_EQ(eval["epoch"], 2.0);
    const json train = json::parse(read_text_file(out / "train_results.json"));
    EXPECT_EQ(train["train_samples"], 32);
    const json state = json::parse(read_text_file(out / "trainer_state.json"));
    EXPECT_EQ(state["global_step"], 8);
    // The best checkpoint from the evaluations themselves: the first strictly best MCC of the
    // two logged during training. The model loaded at the end must score it again.
    std::vector<std::pair<int64_t, double>> evals;
    for (const auto& e : state["log_history"])
        if (e.contains("eval_matthews_correlation") && evals.size() < 2)
            evals.emplace_back(e["step"].get<int64_t>(),
                               e["eval_matthews_correlation"].get<double>());
    ASSERT_EQ(evals.size(), 2u);
    EXPECT_EQ(evals[0].first, 4);
    EXPECT_EQ(evals[1].first, 8);
    const auto best = evals[1].second > evals[0].second ? evals[1] : evals[0];
    EXPECT_EQ(state["best_model_checkpoint"].get<std::string>(),
              (out / ("checkpoint-" + std::to_string(best.first))).string());
    EXPECT_EQ(state["best_metric"].get<double>(), best.second);
    EXPECT_EQ(eval["eval_matthews_correlation"].get<double>(), best.second);
    // run_glue names the labels from the dataset's ClassLabel.
    const ModelConfig cfg = load_model_config(out / "config.json");
    EXPECT_EQ(cfg.id2label, (std::vector<std::string>{"unacceptable", "acceptable"}));
    EXPECT_NE(log.find("'eval_matthews_correlation': "), std::string::npos) << log;
    EXPECT_NE(log.find("***** eval metrics *****"), std::string::npos) << log;
}

// RoBERTa and XLM-R folders (the Trainer parity inits, tests/goldens/trainer_roberta, each a
// 2-label classifier with its own tokenizer files) train, evaluate and save on every GLUE task
// of ../shared/data with run_glue's metric names; STS-B's 1-label head needs
// --ignore_mismatched_sizes as it does in run_glue, and says which weights it re-initialised.
TEST(CliTrain, RobertaAndXlmRobertaRunEveryGlueTask) {
    const std::pair<const char*, const char*> tasks[] = {{"cola", "eval_matthews_correlation"},
                                                         {"sst2", "eval_accuracy"},
                                                         {"mrpc", "eval_f1"},
                                                         {"rte", "eval_accuracy"},
                                                         {"stsb", "eval_spearmanr"},
                                                         {"wnli", "eval_accuracy"}};
    for (const char* init : {"init_roberta", "init_xlm_roberta"}) {
        const fs::path model = test::goldens_dir() / "trainer_roberta" / init;
        for (const auto& [task, metric] : tasks) {
            SCOPED_TRACE(std::string(init) + " " + task);
            const fs::path out = test::make_temp_dir("cli_roberta") / task;
            int rc = 0;
            const std::string flags =
                " --model_name_or_path " + model.string() + " --task_name " + task +
                " --data_dir " + (test::shared_dir() / "data/glue" / task).string() +
                " --max_train_samples 16 --max_eval_samples 8 --per_device_train_batch_size 8"
                " --num_train_epochs 1 --disable_tqdm --output_dir " +
                out.string();
            const bool regression = std::string(task) == "stsb";
            if (regression) {
                const std::string refused = test::run_cli("train" + flags, &rc);
                EXPECT_NE(rc, 0);
                EXPECT_NE(refused.find("ignore_mismatched_sizes"), std::string::npos) << refused;
            }
            const std::string log = test::run_cli(
                "train" + flags + (regression ? " --ignore_mismatched_sizes" : ""), &rc);
            ASSERT_EQ(rc, 0) << log;
            if (regression) {
                EXPECT_NE(log.find("classifier.out_proj.weight: found shape [2, 32] in the "
                                   "checkpoint and [1, 32] in the model instantiated"),
                          std::string::npos)
                    << log;
            }
            const json eval = json::parse(read_text_file(out / "eval_results.json"));
            EXPECT_TRUE(eval.contains(metric)) << eval.dump();
            EXPECT_EQ(eval["eval_samples"], 8);
            EXPECT_EQ(load_model_config(out / "config.json").family,
                      load_model_config(model / "config.json").family);
            EXPECT_TRUE(fs::exists(out / "tokenizer_config.json"));
            fs::remove_all(out.parent_path());
        }
    }
}

TEST(CliTrain, HelpListsEveryFlagWithItsDefault) {
    int rc = 0;
    const std::string help = test::run_cli("train --help", &rc);
    EXPECT_EQ(rc, 0);
    for (const auto& spec : training_argument_specs())
        EXPECT_NE(help.find("--" + spec.name), std::string::npos) << spec.name;
    for (const char* s : {"--model_name_or_path", "--task_name", "--max_seq_length", "2e-05",
                          "distilbert-finetuned-cola", "--data_dir"})
        EXPECT_NE(help.find(s), std::string::npos) << s;
}

TEST(CliTrain, UsageErrorsAreOneLineAndExit2) {
    for (const char* args :
         {"train --no_such_flag", "train --learning_rate abc", "train --eval_strategy sometimes"}) {
        int rc = 0;
        const std::string out = test::run_cli(args, &rc);
        EXPECT_EQ(rc, 2) << args << ": " << out;
        EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << args << ": " << out;
    }
    int rc = 0;
    const std::string out = test::run_cli("train --task_name nosuchtask", &rc);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("nosuchtask"), std::string::npos) << out;
}

TEST(CliTrain, TrainsAModelAndDatasetFromTheMockHub) {
    test::MockHub mock;
    const fs::path home = test::make_temp_dir("cli_train_hub");
    const fs::path out = home / "run";
    std::string log;
    const int rc = test::run_command(
        "env -u HF_HUB_CACHE -u HUGGINGFACE_HUB_CACHE -u HF_TOKEN -u HF_HUB_OFFLINE HF_ENDPOINT=" +
            mock.endpoint() + " HF_HOME=" + home.string() + " HF_HUB_DISABLE_PROGRESS_BARS=1 " +
            test::cli() +
            " train --model_name_or_path test-org/tiny-distilbert-cola --task_name cola"
            " --max_steps 5 --max_eval_samples 16 --disable_tqdm --output_dir " +
            out.string() + " 2>&1",
        &log);
    ASSERT_EQ(rc, 0) << log;
    EXPECT_TRUE(fs::exists(home / "hub/models--test-org--tiny-distilbert-cola/snapshots"));
    EXPECT_TRUE(fs::exists(home / "hub/datasets--nyu-mll--glue/snapshots") ||
                fs::exists(home / "hub/datasets--glue/snapshots"));
    const json state = json::parse(read_text_file(out / "trainer_state.json"));
    EXPECT_EQ(state["global_step"], 5);
    EXPECT_TRUE(fs::exists(out / "model.safetensors"));
}

// Every checkpoint-N folder present must be whole: each file parses, the state says step N.
void expect_checkpoint_whole(const fs::path& ck) {
    const int64_t step = std::stoll(ck.filename().string().substr(11));
    SCOPED_TRACE(ck.string());
    const TrainerState st =
        TrainerState::from_json(read_text_file(ck / "trainer_state.json"), ck.string());
    EXPECT_EQ(st.global_step, step);
    EXPECT_NO_THROW(load_pretrained(ck));
    EXPECT_NO_THROW(read_safetensors(ck / "optimizer.safetensors"));
    EXPECT_NO_THROW(json::parse(read_text_file(ck / "finetune_state.json")));
    EXPECT_NO_THROW(json::parse(read_text_file(ck / "scheduler.json")));
    EXPECT_NO_THROW(BertTokenizer::from_pretrained(ck));
}

// The process dies (exit 137, as under kill -9) at a named point of a checkpoint write
// (src/core/crash_point.h): while syncing its files, when it is whole but not yet renamed, just
// after the rename, and while an existing checkpoint of the same step is being replaced. Every
// checkpoint-N left must be whole, and training must resume from the newest one.
struct Crash {
    const char* point;
    int nth;
    int whole;             // checkpoint-N folders expected afterwards
    const char* leftover;  // a temporary folder expected afterwards, or ""
};

std::string crash_flags(const fs::path& model, const fs::path& out) {
    return "train" + tiny_job_flags(model, out) +
           " --max_steps 6 --save_strategy steps --save_steps 1 --eval_strategy no"
           " --load_best_model_at_end false --do_eval false";
}

int run_with_crash(const std::string& crash_at, const std::string& args, std::string* log) {
    return test::run_command("FT_CRASH_AT=" + crash_at + " " + test::cli() + " " + args + " 2>&1",
                             log);
}

void expect_run_dir(const fs::path& out, int whole, const std::string& leftover) {
    int found = 0;
    for (const auto& e : fs::directory_iterator(out)) {
        const std::string n = e.path().filename().string();
        if (n.rfind("checkpoint-", 0) == 0) {
            expect_checkpoint_whole(e.path());
            ++found;
        }
    }
    EXPECT_EQ(found, whole) << out;
    if (!leftover.empty()) {
        EXPECT_TRUE(fs::exists(out / leftover)) << leftover;
    }
}

TEST(CliTrainCrash, KillDuringCheckpointWritesNeverLeavesACorruptCheckpoint) {
    const fs::path model = test::tiny_distilbert_model_dir();
    const fs::path root = test::make_temp_dir("cli_crash");
    // A checkpoint holds 10 files; "checkpoint-file" counts them across checkpoints.
    const Crash crashes[] = {{"checkpoint-file", 4, 0, "tmp-checkpoint-1"},
                             {"checkpoint-file", 15, 1, "tmp-checkpoint-2"},
                             {"checkpoint-filled", 3, 2, "tmp-checkpoint-3"},
                             {"checkpoint-committed", 3, 3, ""}};
    for (const Crash& c : crashes) {
        const std::string at = std::string(c.point) + ":" + std::to_string(c.nth);
        SCOPED_TRACE(at);
        const fs::path out = root / at;
        std::string log;
        EXPECT_EQ(run_with_crash(at, crash_flags(model, out), &log), 137) << log;
        expect_run_dir(out, c.whole, c.leftover);
        // Resuming from the newest whole checkpoint (or afresh) finishes the run and clears
        // the temporaries.
        const std::string resume = c.whole > 0 ? " --resume_from_checkpoint true" : "";
        int rc = 0;
        log = test::run_cli(crash_flags(model, out) + resume + " --overwrite_output_dir", &rc);
        ASSERT_EQ(rc, 0) << log;
        expect_run_dir(out, 6, "");
        EXPECT_FALSE(fs::exists(out / c.leftover) && *c.leftover) << c.leftover;
        EXPECT_EQ(json::parse(read_text_file(out / "trainer_state.json"))["global_step"], 6);
    }
}

TEST(CliTrainCrash, KillWhileReplacingACheckpointKeepsTheOthers) {
    // Resuming from checkpoint-2 saves checkpoint-3 again over the one the first run left; the
    // process dies with the old one moved aside and the new one not yet in place.
    const fs::path model = test::tiny_distilbert_model_dir();
    const fs::path out = test::make_temp_dir("cli_crash_replace") / "run";
    std::string log;
    ASSERT_EQ(run_with_crash("checkpoint-committed:3", crash_flags(model, out), &log), 137) << log;
    EXPECT_EQ(run_with_crash("checkpoint-replacing:1",
                             crash_flags(model, out) + " --resume_from_checkpoint " +
                                 (out / "checkpoint-2").string(),
                             &log),
              137)
        << log;
    expect_run_dir(out, 2, "old-checkpoint-3");
    EXPECT_TRUE(fs::exists(out / "tmp-checkpoint-3"));
    int rc = 0;
    log = test::run_cli(crash_flags(model, out) + " --resume_from_checkpoint true", &rc);
    ASSERT_EQ(rc, 0) << log;
    expect_run_dir(out, 6, "");
    EXPECT_FALSE(fs::exists(out / "old-checkpoint-3"));
}

}  // namespace
}  // namespace ft
