// `finetune train` end to end on a tiny model: run_glue's output files, --help and usage errors,
// training against the mock Hub (model and dataset by name), and crash safety: kill -9 at random
// moments while checkpoints are written never leaves a checkpoint that loads but is corrupt.
#include <gtest/gtest.h>

#include <random>

#include <nlohmann/json.hpp>

#include "finetune/io.h"
#include "finetune/model.h"
#include "finetune/trainer.h"
#include "hub/mock_hub.h"
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
    EXPECT_EQ(state["best_model_checkpoint"].get<std::string>().substr(out.string().size()),
              state["best_global_step"] == 4 ? "/checkpoint-4" : "/checkpoint-8");
    // run_glue names the labels from the dataset's ClassLabel.
    const ModelConfig cfg = load_model_config(out / "config.json");
    EXPECT_EQ(cfg.id2label, (std::vector<std::string>{"unacceptable", "acceptable"}));
    EXPECT_NE(log.find("'eval_matthews_correlation': "), std::string::npos) << log;
    EXPECT_NE(log.find("***** eval metrics *****"), std::string::npos) << log;
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

TEST(CliTrainCrash, KillDuringCheckpointWritesNeverLeavesACorruptCheckpoint) {
    const fs::path model = test::tiny_distilbert_model_dir();
    const fs::path root = test::make_temp_dir("cli_crash");
    std::mt19937 rng(20261127);
    std::uniform_int_distribution<int> delay_ms(0, 800);
    int mid_write = 0, checked = 0;
    for (int i = 0; i < 20; ++i) {
        const fs::path out = root / ("run" + std::to_string(i));
        const double delay = delay_ms(rng) / 1000.0;
        std::string log;
        // A checkpoint every step, so most of the time goes to writing checkpoints; the kill
        // comes a random moment after the first one appeared.
        test::run_command(
            "(" + test::cli() + " train" + tiny_job_flags(model, out) +
                " --num_train_epochs 1000 --save_strategy steps --save_steps 1"
                " --eval_strategy no --load_best_model_at_end false > /dev/null 2>&1 &"
                " pid=$!; for t in $(seq 1 600); do [ -d " +
                (out / "checkpoint-1").string() + " ] && break; sleep 0.05; done; sleep " +
                std::to_string(delay) + "; kill -9 $pid; wait $pid) 2>/dev/null",
            &log);
        if (!fs::exists(out)) continue;
        for (const auto& e : fs::directory_iterator(out)) {
            const std::string n = e.path().filename().string();
            if (n.rfind("tmp-checkpoint-", 0) == 0 || n.rfind("old-checkpoint-", 0) == 0)
                ++mid_write;
            if (n.rfind("checkpoint-", 0) == 0) {
                expect_checkpoint_whole(e.path());
                ++checked;
            }
        }
    }
    std::printf("20 kills: %d landed mid-write, %d checkpoints checked\n", mid_write, checked);
    EXPECT_GE(mid_write, 5) << "too few kills landed while a checkpoint was being written";
    EXPECT_GE(checked, 20);
    // The run left behind resumes from its newest checkpoint.
    const fs::path out = root / "run19";
    ASSERT_FALSE(get_last_checkpoint(out).empty());
    const int64_t last = std::stoll(get_last_checkpoint(out).filename().string().substr(11));
    int rc = 0;
    const std::string log = test::run_cli(
        "train" + tiny_job_flags(model, out) + " --num_train_epochs 1000 --save_strategy steps" +
            " --save_steps 1 --eval_strategy no --load_best_model_at_end false" +
            " --do_eval false --resume_from_checkpoint true --max_steps " +
            std::to_string(last + 2),
        &rc);
    EXPECT_EQ(rc, 0) << log;
}

}  // namespace
}  // namespace ft
