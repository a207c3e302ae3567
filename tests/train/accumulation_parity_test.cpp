// Gradient accumulation against current HuggingFace (tests/goldens/trainer_current, made by
// tools/make_accumulation_goldens.py with transformers 5.25.0): 100 CoLA rows in batches of 2
// with gradient_accumulation_steps 3, so every epoch ends with a window of 2 batches that is its
// own optimizer step; 51 steps over 3 epochs. The whole run, and the run resumed from a
// checkpoint saved 3 steps into epoch 2 after a stop, must both equal HF's at full precision.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "finetune/trainer.h"
#include "hub/hub_internal.h"
#include "test_env.h"
#include "train/parity_helpers.h"
#include "train/trainer_fixture.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const char* const CASE = "distilbert_cola_ga3_remainder";

struct Job {
    json g;
    std::unique_ptr<PretrainedModel> model;
    std::unique_ptr<BertTokenizer> tok;
    Dataset train, eval;
};

Job make_job() {
    Job j;
    j.g = test::read_golden("trainer_current", CASE);
    const fs::path init = test::testdata_dir() / j.g["model_dir"].get<std::string>();
    EXPECT_EQ(hub::sha256_file_hex(init / "pytorch_model.bin"),
              j.g["init"]["pytorch_model_bin_sha256"].get<std::string>())
        << "the init checkpoint differs from the golden's (tools/make_accumulation_goldens.py)";
    j.model = std::make_unique<PretrainedModel>(load_pretrained(init));
    j.model->config.distilbert.dropout = 0;
    j.model->config.distilbert.attention_dropout = 0;
    j.model->config.distilbert.seq_classif_dropout = 0;
    j.tok = std::make_unique<BertTokenizer>(
        BertTokenizer::from_pretrained(test::bert_uncased_tokenizer_dir()));
    j.train = test::tokenised_golden_rows(j.g, *j.tok, "train", j.g["train_rows"], false);
    j.eval = test::tokenised_golden_rows(j.g, *j.tok, "validation", j.g["eval_rows"], false);
    return j;
}

TrainingArguments args_for(const json& g, const fs::path& out) {
    json a = g["training_args_explicit"];
    a["output_dir"] = out.string();
    a["disable_tqdm"] = true;
    return training_arguments_from_json(a.dump(), std::string(CASE) + " arguments");
}

// Steps after `from`: logged loss vs the golden's micro-batch losses at 1e-6, grad norm at 1e-5
// relative, the lr exactly; then the dev logits and the parameters after training at 1e-6.
void expect_matches_golden(const Job& j, const Trainer& trainer, int64_t from) {
    const json& g = j.g;
    std::map<int64_t, const json*> by_step;
    for (const auto& s : g["steps"]) by_step[s["global_step"].get<int64_t>()] = &s;
    const auto step = [&](int64_t s) -> const json& { return *by_step.at(s); };
    double worst_loss = 0, worst_norm = 0;
    int64_t compared = 0, last_logged = from;
    for (const auto& e : trainer.state().log_history) {
        if (!e.has("loss")) continue;
        const int64_t s = static_cast<int64_t>(*e.get("step"));
        if (s <= from) continue;
        SCOPED_TRACE("step " + std::to_string(s));
        const double want = test::golden_window_loss(step, last_logged, s);
        last_logged = s;
        worst_loss = std::max(worst_loss, std::fabs(*e.get("loss") - want));
        EXPECT_NEAR(*e.get("loss"), want, 1e-6);
        const double gn = step(s)["grad_norm"].get<double>();
        worst_norm = std::max(worst_norm, std::fabs(*e.get("grad_norm") - gn) / gn);
        EXPECT_NEAR(*e.get("grad_norm"), gn, 1e-5 * gn);
        EXPECT_DOUBLE_EQ(*e.get("learning_rate"), step(s)["lr_used"].get<double>());
        ++compared;
    }
    EXPECT_EQ(compared, g["max_steps"].get<int64_t>() - from);
    EXPECT_EQ(trainer.state().global_step, g["max_steps"].get<int64_t>());
    // Each epoch's evaluation: the same MCC (counts) and eval_loss.
    std::vector<const json*> ref_evals;
    for (const auto& e : g["log_history"])
        if (e.contains("eval_loss")) ref_evals.push_back(&e);
    std::vector<const LogEntry*> evals;
    for (const auto& e : trainer.state().log_history)
        if (e.has("eval_loss")) evals.push_back(&e);
    ASSERT_EQ(evals.size(), ref_evals.size());
    for (size_t i = 0; i < evals.size(); ++i) {
        EXPECT_EQ(*evals[i]->get("step"), (*ref_evals[i])["step"].get<double>());
        EXPECT_NEAR(*evals[i]->get("eval_loss"), (*ref_evals[i])["eval_loss"].get<double>(), 1e-6);
        EXPECT_EQ(*evals[i]->get("eval_matthews_correlation"),
                  (*ref_evals[i])["eval_matthews_correlation"].get<double>());
    }
    const double logit =
        test::max_logit_diff(j.model->config, j.model->weights, j.eval, g["final_eval_logits"]);
    EXPECT_LE(logit, 1e-6);
    const auto p = test::param_stats_diff(j.model->weights, g["final_param_stats"]);
    EXPECT_LE(p.sum_sq_rel, 1e-6);
    EXPECT_LE(p.sum_rel, 1e-6);
    EXPECT_LE(p.max_abs, 1e-6);
    EXPECT_LE(p.noise, 2);  // the two layers' k_lin.bias
    EXPECT_LT(p.noise_max_abs, 1e-5);
    std::printf(
        "%lld steps after step %lld: max |loss diff| %.2g, grad-norm rel %.2g, |logit| %.2g, "
        "param sum_sq rel %.2g, sum rel %.2g, max|x| %.2g\n",
        static_cast<long long>(compared), static_cast<long long>(from), worst_loss, worst_norm,
        logit, p.sum_sq_rel, p.sum_rel, p.max_abs);
}

TEST(AccumulationParity, EpochRemainderWindowIsItsOwnStep) {
    Job j = make_job();
    ASSERT_FALSE(j.g.is_null()) << "tests/goldens/trainer_current/" << CASE << ".json is missing";
    // The golden's windows: 16 of 3 batches then 1 of 2, each epoch.
    for (const auto& s : j.g["steps"]) {
        const int64_t in_epoch = (s["global_step"].get<int64_t>() - 1) % 17;
        EXPECT_EQ(s["micro_batch_losses"].size(), in_epoch == 16 ? 2u : 3u);
    }
    Trainer trainer(*j.model, args_for(j.g, test::make_temp_dir("ga3_whole")), &j.train, &j.eval,
                    j.tok.get(), MetricSpec{"cola", {}});
    trainer.train();
    expect_matches_golden(j, trainer, 0);
}

TEST(AccumulationParity, ResumeAfterAStopMidEpochEqualsTheWholeRun) {
    Job j = make_job();
    ASSERT_FALSE(j.g.is_null()) << "tests/goldens/trainer_current/" << CASE << ".json is missing";
    const int64_t from = j.g["resume_from"].get<int64_t>();
    const fs::path out = test::make_temp_dir("ga3_resume");
    {
        // The first run stops 2 steps past checkpoint-20 (saved every 5 steps): the steps and
        // micro-batches after the checkpoint are lost, as after a kill.
        Job first = make_job();
        Trainer t(*first.model, args_for(j.g, out), &first.train, &first.eval, first.tok.get(),
                  MetricSpec{"cola", {}});
        t.add_callback(std::make_shared<test::StopAfterStep>(from + 2));
        t.train();
        ASSERT_EQ(t.state().global_step, from + 2);
    }
    ASSERT_TRUE(fs::exists(out / ("checkpoint-" + std::to_string(from))));
    Trainer trainer(*j.model, args_for(j.g, out), &j.train, &j.eval, j.tok.get(),
                    MetricSpec{"cola", {}});
    trainer.train((out / ("checkpoint-" + std::to_string(from))).string());
    expect_matches_golden(j, trainer, from);
}

}  // namespace
}  // namespace ft
