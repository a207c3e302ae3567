// Trainer parity on the real pretrained all-MiniLM-L6-v2 against current HuggingFace
// (tests/goldens/minilm/trainer_cola_300.json, made by tools/make_minilm_trainer_golden.py): the
// same init (checkpoint + HF's head saved once), dropout 0, sequential order, the seed recipe's
// other settings, 300 steps on GLUE CoLA with the 1043 dev sentences evaluated every 100 steps.
// The issue asks for losses within 1e-4 for the first 20 steps and 1e-3 after, and eval MCC within
// 0.005; the bounds below sit near the measured agreement, which is much closer.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>

#include <nlohmann/json.hpp>

#include "finetune/data.h"
#include "finetune/train.h"
#include "finetune/trainer.h"
#include "hub/hub_internal.h"
#include "model/minilm_fixture.h"
#include "test_env.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

json golden() {
    std::ifstream in(test::minilm_golden_dir() / "trainer_cola_300.json");
    return json::parse(in);
}

// sha256 of the ids as Python's json.dumps(ids, separators=(",", ":")) writes them: the golden's
// check that both sides trained on the same tokens.
std::string ids_sha256(const Dataset& ds) {
    const Column& ids = ds.column("input_ids");
    const auto& off = ids.list_offsets();
    const auto& values = ids.list_values();
    json rows = json::array();
    for (size_t i = 0; i + 1 < off.size(); ++i)
        rows.push_back(std::vector<int32_t>(values.begin() + off[i], values.begin() + off[i + 1]));
    const fs::path f = test::make_temp_dir("minilm_ids") / "ids.json";
    std::ofstream(f) << rows.dump();
    return hub::sha256_file_hex(f);
}

}  // namespace

TEST(MiniLMTrainerParity, ColaThreeHundredStepsMatchCurrentHuggingFace) {
    REQUIRE_MINILM();
    const json g = golden();
    const fs::path dir = test::minilm_dir();
    ASSERT_EQ(hub::sha256_file_hex(dir / "model.safetensors"),
              g["model_safetensors_sha256"].get<std::string>());
    ASSERT_EQ(hub::sha256_file_hex(test::minilm_golden_dir() / "classifier_head.safetensors"),
              g["classifier_head_sha256"].get<std::string>());

    auto m = load_pretrained(dir, {.num_labels = 2});
    m.config.bert.hidden_dropout_prob = 0;
    m.config.bert.attention_probs_dropout_prob = 0;
    m.config.bert.classifier_dropout = 0.0;
    test::load_golden_head(m.weights);
    if (HasFatalFailure()) return;

    // run_glue's tokenisation with the model's own tokenizer files.
    const BertTokenizer tok = BertTokenizer::from_pretrained(dir);
    const DatasetDict cola =
        load_glue_from_dir(glue_task("cola"), test::shared_dir() / "data" / "glue" / "cola");
    TokenizeColumns spec;
    spec.text_column = "sentence";
    spec.options.truncation = Truncation::LongestFirst;
    spec.options.max_length = g["max_seq_length"].get<int64_t>();
    MapOptions mo;
    mo.batched = true;
    auto tokenise = [&](const Dataset& b) { return tokenize_columns(tok, b, spec); };
    const Dataset train = cola["train"].map(tokenise, mo);
    const Dataset eval = cola["validation"].map(tokenise, mo);
    ASSERT_EQ(train.num_rows(), g["rows"]["train"].get<int64_t>());
    ASSERT_EQ(eval.num_rows(), g["rows"]["eval"].get<int64_t>());
    EXPECT_EQ(ids_sha256(train), g["input_ids_sha256"]["train"].get<std::string>());
    EXPECT_EQ(ids_sha256(eval), g["input_ids_sha256"]["validation"].get<std::string>());

    const json& ta = g["training_args"];
    json args = {{"output_dir", test::make_temp_dir("minilm_parity").string()},
                 {"learning_rate", ta["learning_rate"]},
                 {"per_device_train_batch_size", ta["per_device_train_batch_size"]},
                 {"per_device_eval_batch_size", ta["per_device_eval_batch_size"]},
                 {"max_steps", ta["max_steps"]},
                 {"weight_decay", ta["weight_decay"]},
                 {"adam_beta1", ta["adam_beta1"]},
                 {"adam_beta2", ta["adam_beta2"]},
                 {"adam_epsilon", ta["adam_epsilon"]},
                 {"max_grad_norm", ta["max_grad_norm"]},
                 {"lr_scheduler_type", ta["lr_scheduler_type"]},
                 {"warmup_steps", ta["warmup_steps"]},
                 {"optim", ta["optim"]},
                 {"train_sampling_strategy", ta["train_sampling_strategy"]},
                 {"eval_strategy", ta["eval_strategy"]},
                 {"eval_steps", ta["eval_steps"]},
                 {"seed", ta["seed"]},
                 {"save_strategy", "no"},
                 {"load_best_model_at_end", false},
                 {"logging_steps", 1},
                 {"disable_tqdm", true}};
    TrainingArguments a = training_arguments_from_json(args.dump(), "minilm parity arguments");
    Trainer trainer(m, a, &train, &eval, &tok, MetricSpec{"cola", {}});
    trainer.train();
    const auto final_eval = trainer.evaluate();

    // Steps: loss, grad norm and learning rate of every optimizer step.
    std::vector<const LogEntry*> logs, evals;
    for (const auto& e : trainer.state().log_history) {
        if (e.has("loss")) logs.push_back(&e);
        if (e.has("eval_loss")) evals.push_back(&e);
    }
    const json& steps = g["steps"];
    ASSERT_EQ(logs.size(), steps.size());
    double worst_early = 0, worst_late = 0, worst_norm = 0;
    for (size_t i = 0; i < logs.size(); ++i) {
        const LogEntry& ours = *logs[i];
        const json& ref = steps[i];
        const int64_t step = ref["step"].get<int64_t>();
        SCOPED_TRACE("step " + std::to_string(step));
        ASSERT_EQ(*ours.get("step"), static_cast<double>(step));
        const double dl = std::fabs(*ours.get("loss") - ref["loss"].get<double>());
        // The bounds are 1e-4 (steps 1-20) and 1e-3; measured 1.2e-7 and 2.0e-6.
        EXPECT_LE(dl, step <= 20 ? 1e-6 : 1e-5);
        (step <= 20 ? worst_early : worst_late) =
            std::max(step <= 20 ? worst_early : worst_late, dl);
        const double gn = ref["grad_norm"].get<double>();
        const double dn = std::fabs(*ours.get("grad_norm") - gn) / gn;
        EXPECT_LE(dn, 1e-4);  // measured 2.1e-5
        worst_norm = std::max(worst_norm, dn);
        // Both log the lr the step used.
        EXPECT_NEAR(*ours.get("learning_rate"), ref["learning_rate"].get<double>(), 1e-15);
        EXPECT_NEAR(*ours.get("epoch"), ref["epoch"].get<double>(), 1e-12);
    }

    // Evaluations at steps 100, 200, 300, then the evaluate() after training (both log it).
    const json& ref_evals = g["evals"];
    ASSERT_EQ(evals.size(), ref_evals.size());
    EXPECT_EQ(final_eval.at("eval_loss"), *evals.back()->get("eval_loss"));
    double worst_mcc = 0, worst_eval_loss = 0;
    for (size_t i = 0; i < ref_evals.size(); ++i) {
        const json& ref = ref_evals[i];
        const double mcc = *evals[i]->get("eval_matthews_correlation");
        const double loss = *evals[i]->get("eval_loss");
        SCOPED_TRACE("evaluation " + std::to_string(i));
        EXPECT_EQ(*evals[i]->get("step"), ref["step"].get<double>());
        const double dm = std::fabs(mcc - ref["eval_matthews_correlation"].get<double>());
        EXPECT_LE(dm, 0.005);
        worst_mcc = std::max(worst_mcc, dm);
        const double de = std::fabs(loss - ref["eval_loss"].get<double>());
        EXPECT_LE(de, 1e-6);  // measured 8.7e-8
        worst_eval_loss = std::max(worst_eval_loss, de);
        std::printf("step %lld: MCC ours %.6f, HF %.6f; eval_loss ours %.6f, HF %.6f\n",
                    static_cast<long long>(ref["step"].get<int64_t>()), mcc,
                    ref["eval_matthews_correlation"].get<double>(), loss,
                    ref["eval_loss"].get<double>());
    }
    // The dev rows' logits after training: a finer check than MCC, which stays at 0 while the
    // model predicts one class for every row.
    const PredictionOutput p = trainer.predict(eval, "eval");
    const json& ref_logits = g["final_eval_logits"];
    ASSERT_EQ(p.num_rows, static_cast<int64_t>(ref_logits.size()));
    double worst_logit = 0;
    int64_t same_argmax = 0;
    for (int64_t r = 0; r < p.num_rows; ++r) {
        const float* row = p.predictions.data() + r * p.num_labels;
        for (int64_t k = 0; k < p.num_labels; ++k)
            worst_logit = std::max(worst_logit, std::fabs(row[k] - ref_logits[r][k].get<double>()));
        same_argmax +=
            (row[1] > row[0]) == (ref_logits[r][1].get<double>() > ref_logits[r][0].get<double>());
    }
    EXPECT_LE(worst_logit, 3e-5);  // measured 3.8e-6
    EXPECT_EQ(same_argmax, p.num_rows);
    std::printf(
        "dev logits after 300 steps: max |ours - HF| %.3g, same argmax on %lld of %lld rows\n",
        worst_logit, static_cast<long long>(same_argmax), static_cast<long long>(p.num_rows));
    std::printf(
        "max |loss diff|: %.3g (steps 1-20), %.3g (21-300); max grad-norm rel diff %.3g; "
        "max |MCC diff| %.3g; max |eval_loss diff| %.3g\n",
        worst_early, worst_late, worst_norm, worst_mcc, worst_eval_loss);
}

namespace {

struct Spread {
    double mean = 0, std = 0;
};
Spread spread(const std::vector<double>& v) {
    Spread s;
    s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
    for (double x : v) s.std += (x - s.mean) * (x - s.mean);
    s.std = std::sqrt(s.std / static_cast<double>(v.size() - 1));
    return s;
}

}  // namespace

// Dropout's masks come from torch's RNG in HF and from Philox here, so no one training step can
// be compared; their spread can (tests/goldens/minilm/dropout_stats.json, made by
// tools/make_minilm_dropout_stats.py). One batch, the first 16 CoLA train sentences: the mean
// and the standard deviation of the train-mode loss and gradient norm over 400 dropout draws
// must agree within 4 standard errors. A dropout site left out, or a wrong rate or scale,
// moves them by more.
TEST(MiniLMDropout, TrainModeLossAndGradNormSpreadAreHuggingFaces) {
    REQUIRE_MINILM();
    std::ifstream in(test::minilm_golden_dir() / "dropout_stats.json");
    const json g = json::parse(in);
    auto m = load_pretrained(test::minilm_dir(), {.num_labels = 2});
    test::load_golden_head(m.weights);
    if (HasFatalFailure()) return;

    // HF's ids for the 16 rows are ours (checked), packed.
    const BertTokenizer tok = BertTokenizer::from_pretrained(test::minilm_dir());
    const DatasetDict cola =
        load_glue_from_dir(glue_task("cola"), test::shared_dir() / "data" / "glue" / "cola");
    const Column& sentences = cola["train"].column("sentence");
    PackedBatch batch;
    batch.offsets = {0};
    for (size_t i = 0; i < g["input_ids"].size(); ++i) {
        const auto ids = g["input_ids"][i].get<std::vector<int32_t>>();
        EXPECT_EQ(tok.encode(sentences.as_strings()[i]).input_ids, ids) << "row " << i;
        batch.input_ids.insert(batch.input_ids.end(), ids.begin(), ids.end());
        batch.offsets.push_back(static_cast<int32_t>(batch.input_ids.size()));
        batch.labels.push_back(g["labels"][i].get<int64_t>());
    }
    SequenceClassifier model(m.config, m.weights);
    ModelWeights grads(m.config);
    const auto loss_and_norm = [&](bool train, uint64_t step) {
        grads.zero();
        const double loss = model.forward(batch, train, 1234, step);
        model.backward(grads);
        return std::pair{loss, global_grad_norm(grads.flat(), grads.flat_size())};
    };
    // No dropout: the same numbers as HF.
    const auto [eval_loss, eval_norm] = loss_and_norm(false, 0);
    EXPECT_NEAR(eval_loss, g["eval_loss"].get<double>(), 1e-6);
    EXPECT_NEAR(eval_norm, g["eval_grad_norm"].get<double>(), 1e-5 * eval_norm);

    const int64_t n = g["seeds"].get<int64_t>();
    std::vector<double> losses, norms;
    for (int64_t k = 0; k < n; ++k) {
        const auto [l, gn] = loss_and_norm(true, static_cast<uint64_t>(k));
        losses.push_back(l);
        norms.push_back(gn);
    }
    for (const auto& [name, values] : {std::pair{"loss", losses}, std::pair{"grad_norm", norms}}) {
        const Spread ours = spread(values);
        const double hf_mean = g[name]["mean"].get<double>(), hf_std = g[name]["std"].get<double>();
        const double se_mean = std::sqrt((ours.std * ours.std + hf_std * hf_std) / n);
        const double se_std_ratio = std::sqrt(2.0 / static_cast<double>(n - 1));
        std::printf(
            "%s: mean ours %.5f, HF %.5f (%.2f standard errors); std ours %.5f, HF %.5f "
            "(ratio %.3f, standard error %.3f)\n",
            name, ours.mean, hf_mean, (ours.mean - hf_mean) / se_mean, ours.std, hf_std,
            ours.std / hf_std, se_std_ratio);
        EXPECT_LE(std::fabs(ours.mean - hf_mean), 4 * se_mean) << name;
        EXPECT_LE(std::fabs(ours.std / hf_std - 1), 4 * se_std_ratio) << name;
    }
}

}  // namespace ft
