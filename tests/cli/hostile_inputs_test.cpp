// The CLI under hostile and careless input (issue 22's probe): each defect it found has a case
// here that failed before its fix, and a sweep runs every subcommand on bad inputs and on the
// corrupt-file corpora, asserting a clean exit (an error line and status 1 or 2), never a signal.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <nlohmann/json.hpp>

#include "finetune/io.h"
#include "finetune/model.h"
#include "test_env.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

fs::path cola_dir() {
    return test::shared_dir() / "data/glue/cola";
}

std::string job_flags(const fs::path& model, const fs::path& out) {
    return " --model_name_or_path " + model.string() + " --task_name cola --data_dir " +
           cola_dir().string() +
           " --max_train_samples 32 --max_eval_samples 16 --per_device_train_batch_size 8"
           " --learning_rate 1e-3 --disable_tqdm --output_dir " +
           out.string();
}

void write_file(const fs::path& p, const std::string& text) {
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
}

// A clean failure: an exit status (not a signal), non-zero, with the CLI's one-line error.
void expect_clean_failure(const std::string& args, const std::string& log, int rc) {
    EXPECT_TRUE(rc == 1 || rc == 2) << "rc " << rc << " for: " << args << "\n" << log;
    EXPECT_NE(log.find("finetune"), std::string::npos) << args << "\n" << log;
}

// Runs `args`, expects a clean failure whose output contains `needle`, and that no training
// step ran before it (the error comes first).
std::string expect_refused(const std::string& args, const std::string& needle) {
    int rc = 0;
    const std::string log = test::run_cli(args, &rc);
    expect_clean_failure(args, log, rc);
    EXPECT_NE(log.find(needle), std::string::npos) << args << "\n" << log;
    EXPECT_EQ(log.find("train metrics"), std::string::npos) << args << "\n" << log;
    return log;
}

// A trained run with checkpoints (2 steps of 8 rows, one checkpoint each step).
fs::path trained_run(const std::string& tag) {
    const fs::path out = test::make_temp_dir(tag) / "run";
    int rc = 0;
    const std::string log =
        test::run_cli("train" + job_flags(test::tiny_distilbert_model_dir(), out) +
                          " --max_steps 2 --save_strategy steps --save_steps 1"
                          " --eval_strategy no --load_best_model_at_end false",
                      &rc);
    EXPECT_EQ(rc, 0) << log;
    return out;
}

std::string resume_flags(const fs::path& out) {
    return "train" + job_flags(test::tiny_distilbert_model_dir(), out) +
           " --max_steps 3 --save_strategy steps --save_steps 1 --eval_strategy no"
           " --load_best_model_at_end false --resume_from_checkpoint " +
           (out / "checkpoint-2").string();
}

// Defect 3: filesystem errors aborted the process (exit 134).
TEST(CliHostile, OutputDirThatIsAFileOrCannotBeMadeIsRefusedBeforeTraining) {
    const fs::path model = test::tiny_distilbert_model_dir();
    const fs::path file = test::make_temp_dir("hostile_outfile") / "a_file";
    write_file(file, "x");
    expect_refused("train" + job_flags(model, file) + " --max_steps 1", "is not a folder");
    expect_refused("eval" + job_flags(model, file), "is not a folder");
    // /proc takes no new folders, as a read-only mount would not: found before training too.
    expect_refused("train" + job_flags(model, "/proc/finetune-hostile/out") + " --max_steps 1",
                   "--output_dir /proc/finetune-hostile/out");
    EXPECT_EQ(read_text_file(file), "x");
}

// Defect 4: std::stoll aborted on a huge checkpoint number and on a bad optimizer step.
TEST(CliHostile, HugeCheckpointFolderNumberIsNotACheckpoint) {
    const fs::path out = test::make_temp_dir("hostile_bigckpt") / "run";
    fs::create_directories(out / "checkpoint-99999999999999999999");
    int rc = 0;
    const std::string log = test::run_cli(
        "train" + job_flags(test::tiny_distilbert_model_dir(), out) +
            " --max_steps 1 --eval_strategy no --save_strategy no --load_best_model_at_end false",
        &rc);
    EXPECT_EQ(rc, 0) << log;
    EXPECT_TRUE(fs::is_directory(out / "checkpoint-99999999999999999999"));
}

TEST(CliHostile, OptimizerStateWithABadStepOrAMissingTensorNamesTheFile) {
    const fs::path out = trained_run("hostile_optstep");
    const fs::path opt = out / "checkpoint-2" / "optimizer.safetensors";
    const SafetensorsFile good = read_safetensors(opt);
    StateDict tensors = good.tensors;
    for (const std::string step : {"abc", "12345678901234567890123", "-1", ""}) {
        auto meta = good.metadata;
        meta["step"] = step;
        write_safetensors(opt.string() + ".new", tensors, meta);
        fs::rename(opt.string() + ".new", opt);
        expect_refused(resume_flags(out), opt.string() + ": metadata 'step' is '" + step + "'");
    }
    // Without one moment tensor: the message names the file and the tensor.
    StateDict fewer;
    std::string dropped;
    for (const auto& name : tensors.names()) {
        if (dropped.empty() && name.find(".exp_avg_sq") != std::string::npos) {
            dropped = name;
            continue;
        }
        fewer.insert(name, tensors.at(name));
    }
    ASSERT_FALSE(dropped.empty());
    write_safetensors(opt.string() + ".new", fewer, good.metadata);
    fs::rename(opt.string() + ".new", opt);
    expect_refused(resume_flags(out), opt.string() + ": tensor '" + dropped + "' is missing");
}

// Defect 12: a corrupt finetune_state.json resumed with exit 0 and wrote epoch -0.75.
TEST(CliHostile, CorruptLoopStateIsRefused) {
    const fs::path out = trained_run("hostile_loopstate");
    const fs::path state = out / "checkpoint-2" / "finetune_state.json";
    const json good = json::parse(read_text_file(state));
    const std::vector<std::pair<std::string, json>> edits = {
        {"epoch", -3},         {"batch_in_epoch", 1000000},    {"micro_steps", 7},
        {"batch_in_epoch", 1}, {"globalstep_last_logged", 99}, {"epoch", 1LL << 40}};
    for (const auto& [key, value] : edits) {
        json bad = good;
        bad[key] = value;
        write_file(state, bad.dump());
        expect_refused(resume_flags(out), "finetune_state.json: ");
    }
    write_file(state, good.dump());
    int rc = 0;
    const std::string log = test::run_cli(resume_flags(out), &rc);
    EXPECT_EQ(rc, 0) << log;
}

// Defect 5: one label of 2000000000 built two billion label names.
TEST(CliHostile, HugeIntegerLabelIsOneClassAsInRunGlue) {
    const fs::path dir = test::make_temp_dir("hostile_labels");
    std::string train = "sentence,label\n";
    for (int i = 0; i < 8; ++i)
        train += "a short sentence number " + std::to_string(i) + "," +
                 (i % 2 ? "2000000000" : "7") + "\n";
    write_file(dir / "train.csv", train);
    write_file(dir / "dev.csv", "sentence,label\nanother one,7\nthe last one,2000000000\n");
    int rc = 0;
    const std::string log = test::run_cli(
        "train --model_name_or_path " + test::tiny_distilbert_model_dir().string() +
            " --train_file " + (dir / "train.csv").string() + " --validation_file " +
            (dir / "dev.csv").string() +
            " --max_steps 1 --disable_tqdm --metric_for_best_model loss --output_dir " +
            (dir / "out").string(),
        &rc);
    ASSERT_EQ(rc, 0) << log;
    const ModelConfig cfg = load_model_config(dir / "out" / "config.json");
    EXPECT_EQ(cfg.num_labels(), 2);
    // A validation label the training set lacks is an error naming the split and the row.
    write_file(dir / "dev.csv", "sentence,label\nanother one,7\nthe last one,5\n");
    expect_refused("train --model_name_or_path " + test::tiny_distilbert_model_dir().string() +
                       " --train_file " + (dir / "train.csv").string() + " --validation_file " +
                       (dir / "dev.csv").string() + " --max_steps 1 --output_dir " +
                       (dir / "out2").string(),
                   "'validation' split, row 1: label 5");
}

// Defect 6: a NaN loss was reported as "backward needs a forward pass with labels first".
TEST(CliHostile, DivergingLossSaysWhereAndWhatToTry) {
    const fs::path out = test::make_temp_dir("hostile_nan") / "run";
    int rc = 0;
    const std::string flags = "train" + job_flags(test::tiny_distilbert_model_dir(), out) +
                              " --learning_rate 1e30 --max_steps 4 --eval_strategy no "
                              "--save_strategy no --load_best_model_at_end false";
    // Without clipping nothing looks at the gradients: the weights go NaN and so does the loss.
    std::string log = test::run_cli(flags + " --max_grad_norm 0", &rc);
    expect_clean_failure("--learning_rate 1e30 --max_grad_norm 0", log, rc);
    EXPECT_NE(log.find("the training loss became NaN at optimizer step"), std::string::npos) << log;
    EXPECT_NE(log.find("--learning_rate"), std::string::npos) << log;
    EXPECT_EQ(log.find("backward needs"), std::string::npos) << log;
    // With clipping (the default) the NaN gradient norm of step 2 stops it before the update.
    log = test::run_cli(flags, &rc);
    expect_clean_failure("--learning_rate 1e30", log, rc);
    EXPECT_NE(log.find("the gradient norm became NaN at optimizer step 2"), std::string::npos)
        << log;
}

// Defect 7: invalid hyperparameters were accepted with exit 0.
TEST(CliHostile, InvalidHyperparametersAreRefusedAsTorchRefusesThem) {
    const fs::path model = test::tiny_distilbert_model_dir();
    const fs::path out = test::make_temp_dir("hostile_hparams") / "run";
    const std::string flags = "train" + job_flags(model, out) + " --max_steps 1";
    expect_refused(flags + " --learning_rate -1e-3", "Invalid learning rate");
    expect_refused(flags + " --adam_beta1 1.5", "Invalid beta parameter at index 0");
    expect_refused(flags + " --adam_beta2 -0.1", "Invalid beta parameter at index 1");
    expect_refused(flags + " --adam_epsilon -1", "Invalid epsilon value");
    expect_refused(flags + " --weight_decay -1", "Invalid weight_decay value");
    expect_refused(flags + " --max_seq_length 2", "--max_seq_length");
    for (const double p : {2.0, -0.5}) {
        const fs::path bad = test::make_temp_dir("hostile_dropout");
        fs::copy(model, bad, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
        json cfg = json::parse(read_text_file(bad / "config.json"));
        cfg["dropout"] = p;
        write_file(bad / "config.json", cfg.dump());
        expect_refused("train" + job_flags(bad, out) + " --max_steps 1",
                       "'dropout' is a dropout probability");
    }
}

// Defects 8 and 10: a folder as --input exited 0 with no output; --max_length 0 printed a
// range up to 1.8e308.
TEST(CliHostile, FolderAsInputAndTinyMaxLengthAreRefused) {
    const fs::path dir = test::make_temp_dir("hostile_input");
    const fs::path model = test::tiny_distilbert_model_dir();
    expect_refused("tokenize --tokenizer " + model.string() + " --input " + dir.string(),
                   "is a folder");
    expect_refused("predict --model " + model.string() + " --input " + dir.string(), "is a folder");
    write_file(dir / "one.jsonl", "{\"text\": \"hello world\"}\n");
    for (const char* n : {"0", "1", "2"}) {
        const std::string log =
            expect_refused("tokenize --tokenizer " + model.string() + " --input " +
                               (dir / "one.jsonl").string() + " --max_length " + n,
                           "--max_length");
        EXPECT_EQ(log.find("1.8e"), std::string::npos) << log;
    }
    write_file(dir / "blank.jsonl", "\n\n");
    expect_refused(
        "predict --model " + model.string() + " --input " + (dir / "blank.jsonl").string(),
        "holds no");
}

// Defect 10: empty splits failed after training, or as "'label' column is Value('string')".
TEST(CliHostile, EmptySplitsAreNamedBeforeTraining) {
    const fs::path dir = test::make_temp_dir("hostile_empty");
    write_file(dir / "train.csv", "sentence,label\na b c,1\nd e f,0\n");
    write_file(dir / "header.csv", "sentence,label\n");
    const std::string model = test::tiny_distilbert_model_dir().string();
    expect_refused("train --model_name_or_path " + model + " --train_file " +
                       (dir / "train.csv").string() + " --validation_file " +
                       (dir / "header.csv").string() + " --output_dir " + (dir / "o1").string(),
                   "the 'validation' split (" + (dir / "header.csv").string() + ") has no rows");
    expect_refused("train --model_name_or_path " + model + " --train_file " +
                       (dir / "header.csv").string() + " --validation_file " +
                       (dir / "train.csv").string() + " --output_dir " + (dir / "o2").string(),
                   "the 'train' split (" + (dir / "header.csv").string() + ") has no rows");
}

// Defect 10: a batch size of 1e9 on 32 rows tried to allocate 97 TB.
TEST(CliHostile, HugeBatchSizeIsABatchOfTheWholeSet) {
    const fs::path out = test::make_temp_dir("hostile_batch") / "run";
    int rc = 0;
    const std::string log = test::run_cli(
        "train" + job_flags(test::tiny_distilbert_model_dir(), out) +
            " --per_device_train_batch_size 1000000000 --per_device_eval_batch_size 1000000000"
            " --num_train_epochs 1",
        &rc);
    ASSERT_EQ(rc, 0) << log;
    const json state = json::parse(read_text_file(out / "trainer_state.json"));
    EXPECT_EQ(state["global_step"], 1);
}

// Defect 11: predict --model DIR without sentences went to the Hub for distilbert-base-uncased.
TEST(CliHostile, PredictWithoutSentencesUsesTheModelGiven) {
    ::setenv("HF_HUB_OFFLINE", "1", 1);  // before the fix it went to the Hub
    const fs::path out = test::make_temp_dir("hostile_predict");
    const fs::path model = test::tiny_distilbert_model_dir();
    int rc = 0;
    const std::string log =
        test::run_cli("predict --model " + model.string() + " --task_name cola --data_dir " +
                          cola_dir().string() +
                          " --max_predict_samples 4 --disable_tqdm --output_dir " + out.string(),
                      &rc);
    ASSERT_EQ(rc, 0) << log;
    EXPECT_EQ(log.find("distilbert-base-uncased"), std::string::npos) << log;
    EXPECT_TRUE(fs::exists(out / "predict_results_cola.txt"));
    expect_refused("predict --model " + model.string() + " --model_name_or_path other/model" +
                       " --task_name cola --data_dir " + cola_dir().string() + " --output_dir " +
                       out.string(),
                   "name different models");
}

// No input makes any subcommand end by a signal: bad flags, bad paths, and every file of the
// fuzzers' corrupt-file corpora where a model, tokenizer or data file is expected.
TEST(CliHostile, NoSubcommandEndsByASignal) {
    ::setenv("HF_HUB_OFFLINE", "1", 1);  // nothing here may reach for the real Hub
    const fs::path dir = test::make_temp_dir("hostile_sweep");
    const std::string model = test::tiny_distilbert_model_dir().string();
    write_file(dir / "file", "not a folder");
    write_file(dir / "bad.jsonl",
               "{\"text\": 3}\n[1,2]\n\"x\"\n{\"text\": \"ok\", \"text_pair\": 5}\n");
    write_file(dir / "bad.csv", "sentence,label\n\"unterminated,1\n");
    std::vector<std::string> cases = {
        "info " + dir.string(),
        "info " + (dir / "file").string(),
        "info ../../..",
        "download ../evil",
        "download org/x --revision ../../../../etc/passwd",
        "tokenize --tokenizer " + dir.string() + " --input " + (dir / "bad.jsonl").string(),
        "tokenize --tokenizer " + model + " --input " + (dir / "bad.jsonl").string(),
        "tokenize --tokenizer " + model + " --input /dev/null --max_length -5",
        "data glue --config nosuch",
        "data " + (dir / "bad.csv").string(),
        "train --model_name_or_path " + (dir / "file").string() + " --output_dir " +
            (dir / "o").string(),
        "train --model_name_or_path " + model + " --train_file " + (dir / "bad.csv").string() +
            " --output_dir " + (dir / "o").string(),
        "train --model_name_or_path " + model + " --num_train_epochs -1 --output_dir " +
            (dir / "o").string(),
        "train --model_name_or_path " + model + " --output_dir " + (dir / "file").string(),
        "eval --model_name_or_path " + model + " --max_eval_samples -3 --output_dir " +
            (dir / "o").string(),
        "predict --model " + (dir / "file").string() + " hello",
        "predict --model " + model + " --input " + (dir / "bad.jsonl").string(),
        "plot " + (dir / "file").string(),
        "plot " + dir.string(),
    };
    // The corpora: each corrupt file in the place a user would put the real one.
    const fs::path corpus = test::tools_dir().parent_path() / "fuzz" / "corpus";
    int n = 0;
    auto model_dir_with = [&](const std::string& name, const fs::path& file) {
        const fs::path d = dir / ("m" + std::to_string(n++));
        fs::copy(model, d, fs::copy_options::recursive);
        fs::remove(d / "pytorch_model.bin");
        fs::copy_file(file, d / name, fs::copy_options::overwrite_existing);
        return d.string();
    };
    // Every hand-made seed (named for what it is) and 8 of the inputs the fuzzers added (named by
    // their sha1), spread over the sorted list: the whole grown corpus would take many minutes.
    auto each = [&](const char* set, const std::function<void(const fs::path&)>& f) {
        if (!fs::is_directory(corpus / set)) return;
        std::vector<fs::path> seeds, generated;
        for (const auto& e : fs::directory_iterator(corpus / set)) {
            if (!e.is_regular_file()) continue;
            const std::string name = e.path().filename().string();
            const bool sha1 = name.size() == 40 &&
                              name.find_first_not_of("0123456789abcdef") == std::string::npos;
            (sha1 ? generated : seeds).push_back(e.path());
        }
        std::sort(generated.begin(), generated.end());
        const size_t step = std::max<size_t>(1, generated.size() / 8);
        for (size_t i = 0; i < generated.size() && seeds.size() < 40; i += step)
            seeds.push_back(generated[i]);
        for (const auto& p : seeds) f(p);
    };
    each("safetensors", [&](const fs::path& p) {
        const std::string d = model_dir_with("model.safetensors", p);
        cases.push_back("info " + d);
        cases.push_back("predict --model " + d + " hello");
    });
    each("unpickler", [&](const fs::path& p) {
        cases.push_back("info " + model_dir_with("pytorch_model.bin", p));
    });
    each("parquet", [&](const fs::path& p) {
        const fs::path f = dir / ("d" + std::to_string(n++) + ".parquet");
        fs::copy_file(p, f);
        cases.push_back("data " + f.string());
        cases.push_back("train --model_name_or_path " + model + " --train_file " + f.string() +
                        " --max_steps 1 --eval_strategy no --save_strategy no"
                        " --load_best_model_at_end false --output_dir " +
                        (dir / "o").string());
    });
    for (const char* set : {"tokenizer_json", "config"})
        each(set, [&](const fs::path& p) {
            const char* name = std::string(set) == "config" ? "config.json" : "tokenizer.json";
            const std::string d = model_dir_with(name, p);
            if (std::string(set) != "config") fs::remove(fs::path(d) / "vocab.txt");
            cases.push_back("info " + d);
            cases.push_back("tokenize --tokenizer " + d + " --input " +
                            (dir / "bad.jsonl").string());
            cases.push_back("predict --model " + d + " hello");
        });
    each("trainer_state", [&](const fs::path& p) {
        const fs::path d = dir / ("s" + std::to_string(n++));
        fs::create_directories(d);
        fs::copy_file(p, d / "trainer_state.json");
        cases.push_back("plot " + d.string());
    });
    for (const auto& args : cases) {
        int rc = 0;
        const std::string log = test::run_cli(args, &rc);
        // 0 is fine where the input happens to be valid; a signal (-1) or 128+ never is.
        EXPECT_TRUE(rc >= 0 && rc <= 2) << "rc " << rc << " for: " << args << "\n" << log;
    }
    EXPECT_GT(cases.size(), 30u);
}

}  // namespace
}  // namespace ft
