// What the Trainer parity tests share: the goldens' rows tokenised by us (ids checked against
// HF's), the logged loss rebuilt from the goldens' full-precision micro-batch losses, a run's log
// history, best checkpoint and folders against a golden (check_trajectory), and the comparison of
// final parameters and dev logits with the goldens' statistics.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "finetune/data.h"
#include "finetune/model.h"
#include "finetune/tokenizer.h"
#include "finetune/trainer.h"
#include "test_env.h"

namespace ft::test {

inline nlohmann::json read_golden(const std::string& folder, const std::string& name) {
    std::ifstream in(tools_dir() / ".." / "tests" / "goldens" / folder / (name + ".json"));
    return in ? nlohmann::json::parse(in) : nlohmann::json();
}

// The golden's rows, read and tokenised by us; the ids must be the ones HF's tokenizer gave.
inline Dataset tokenised_golden_rows(const nlohmann::json& g, const Tokenizer& tok,
                                     const std::string& split, const nlohmann::json& rows,
                                     bool token_types) {
    const std::string task_name = g["task"].get<std::string>();
    const GlueTask& task = glue_task(task_name);
    const DatasetDict dd = load_glue_from_dir(task, shared_dir() / "data" / "glue" / task_name);
    Dataset ds = dd[split].select_range(0, static_cast<int64_t>(rows.size()));
    TokenizeColumns spec;
    spec.text_column = task.text_features.at(0).first;
    if (task.text_features.size() > 1) spec.pair_column = task.text_features[1].first;
    spec.options.truncation = Truncation::LongestFirst;
    spec.options.max_length = g["max_seq_length"].get<int64_t>();
    spec.token_type_ids = token_types;
    MapOptions mo;
    mo.batched = true;
    ds = ds.map([&](const Dataset& b) { return tokenize_columns(tok, b, spec); }, mo);
    const Column& ids = ds.column("input_ids");
    const auto& off = ids.list_offsets();
    const auto& values = ids.list_values();
    for (size_t i = 0; i < rows.size(); ++i) {
        const std::vector<int32_t> ours(values.begin() + off[i], values.begin() + off[i + 1]);
        EXPECT_EQ(ours, rows[i]["input_ids"].get<std::vector<int32_t>>()) << split << " row " << i;
    }
    return ds;
}

// The golden's `dropout_overrides` (HF config keys, as from_pretrained(..., key=p) takes them)
// applied to a loaded config of any family.
inline void apply_dropout_overrides(ModelConfig& c, const nlohmann::json& overrides) {
    BertConfig* bert = nullptr;
    if (c.family == ModelFamily::BERT) bert = &c.bert;
    if (c.family == ModelFamily::ROBERTA) bert = &c.roberta;
    if (c.family == ModelFamily::XLM_ROBERTA) bert = &c.xlm_roberta;
    for (const auto& [k, v] : overrides.items()) {
        const double p = v.get<double>();
        if (bert && k == "hidden_dropout_prob")
            bert->hidden_dropout_prob = p;
        else if (bert && k == "attention_probs_dropout_prob")
            bert->attention_probs_dropout_prob = p;
        else if (bert && k == "classifier_dropout")
            bert->classifier_dropout = p;
        else if (!bert && k == "dropout")
            c.distilbert.dropout = p;
        else if (!bert && k == "attention_dropout")
            c.distilbert.attention_dropout = p;
        else if (!bert && k == "seq_classif_dropout")
            c.distilbert.seq_classif_dropout = p;
        else
            ADD_FAILURE() << "dropout override " << k << " does not apply to this family";
    }
}

// HF's logged loss for steps (first, last]: the float32 running sum of each micro-batch loss
// divided by its window's size, over the steps since the last log. `steps` maps global_step to
// the golden's step entry (micro_batch_losses).
template <class StepLookup>
double golden_window_loss(const StepLookup& steps, int64_t first, int64_t last) {
    float tr = 0.0f;
    for (int64_t s = first + 1; s <= last; ++s) {
        const auto& mb = steps(s)["micro_batch_losses"];
        for (const auto& l : mb)
            tr += static_cast<float>(l.template get<double>()) / static_cast<float>(mb.size());
    }
    return static_cast<double>(tr) / static_cast<double>(last - first);
}

// A finished run against a trainer golden (the trainer_roberta / trainer_ner schema): every
// logged loss (rebuilt from the micro-batch losses), grad norm, lr and epoch; every evaluation's
// step, eval_loss and metrics (equal: they come from counts); the best checkpoint and metric; the
// checkpoint folders left in `out`. Returns the largest differences seen.
struct TrajectoryBounds {
    double loss_abs, grad_norm_rel, grad_norm_abs, eval_loss_abs;
};
struct TrajectoryAgreement {
    double loss = 0, grad_norm_rel = 0, eval_loss = 0;
    int64_t steps = 0;
};
inline TrajectoryAgreement check_trajectory(const TrainerState& st, const nlohmann::json& g,
                                            const std::filesystem::path& out,
                                            const std::string& name, const TrajectoryBounds& b) {
    using json = nlohmann::json;
    TrajectoryAgreement r;
    std::map<int64_t, const json*> by_step;
    for (const auto& s : g["steps"]) by_step[s["global_step"].get<int64_t>()] = &s;
    const auto step = [&](int64_t s) -> const json& { return *by_step.at(s); };
    int64_t last_logged = 0;
    for (const auto& e : st.log_history) {
        if (!e.has("loss")) continue;
        const int64_t s = static_cast<int64_t>(*e.get("step"));
        SCOPED_TRACE(name + " step " + std::to_string(s));
        if (!by_step.count(s)) {
            ADD_FAILURE() << "no golden step " << s;
            return r;
        }
        const double want = golden_window_loss(step, last_logged, s);
        last_logged = s;
        r.loss = std::max(r.loss, std::fabs(*e.get("loss") - want));
        EXPECT_NEAR(*e.get("loss"), want, b.loss_abs);
        const double gn = step(s)["grad_norm"].get<double>();
        r.grad_norm_rel = std::max(r.grad_norm_rel, std::fabs(*e.get("grad_norm") - gn) / gn);
        EXPECT_NEAR(*e.get("grad_norm"), gn, b.grad_norm_rel * gn + b.grad_norm_abs);
        EXPECT_DOUBLE_EQ(*e.get("learning_rate"), step(s)["lr_used"].get<double>());
        EXPECT_NEAR(*e.get("epoch"), step(s)["epoch"].get<double>(), 1e-12);
        ++r.steps;
    }
    EXPECT_EQ(r.steps, g["max_steps"].get<int64_t>());

    std::vector<const json*> ref_evals;
    for (const auto& e : g["log_history"])
        if (e.contains("eval_loss")) ref_evals.push_back(&e);
    std::vector<const LogEntry*> evals;
    for (const auto& e : st.log_history)
        if (e.has("eval_loss")) evals.push_back(&e);
    EXPECT_EQ(evals.size(), ref_evals.size());
    for (size_t i = 0; i < std::min(evals.size(), ref_evals.size()); ++i) {
        const json& ref = *ref_evals[i];
        SCOPED_TRACE(name + " evaluation " + std::to_string(i));
        EXPECT_EQ(*evals[i]->get("step"), ref["step"].get<double>());
        const double dl = std::fabs(*evals[i]->get("eval_loss") - ref["eval_loss"].get<double>());
        r.eval_loss = std::max(r.eval_loss, dl);
        EXPECT_LE(dl, b.eval_loss_abs);
        for (const auto& [k, v] : ref.items()) {
            if (k.rfind("eval_", 0) != 0 || k == "eval_loss" || v.is_null()) continue;
            if (!evals[i]->get(k).has_value()) {
                ADD_FAILURE() << "no " << k;
                continue;
            }
            EXPECT_EQ(*evals[i]->get(k), v.get<double>()) << k;
        }
    }

    if (!st.best_model_checkpoint || !st.best_metric) {
        ADD_FAILURE() << "no best checkpoint";
        return r;
    }
    EXPECT_EQ(std::filesystem::path(*st.best_model_checkpoint).filename().string(),
              g["best_model_checkpoint"].get<std::string>());
    EXPECT_EQ(*st.best_metric, g["best_metric"].get<double>());
    std::set<std::string> folders;
    for (const auto& e : std::filesystem::directory_iterator(out))
        if (e.path().filename().string().rfind("checkpoint-", 0) == 0)
            folders.insert(e.path().filename().string());
    EXPECT_EQ(folders, g["checkpoints_left"].get<std::set<std::string>>());
    return r;
}

// Largest difference of every parameter's sum of squares, relative to max(1, sum_sq), and of its
// sum, relative to max(1, sqrt(n * sum_sq)) (a bound on the sum of |x|, so a near-zero sum is not
// divided by itself), and of its max |x|. Parameters whose gradient is 0 in exact arithmetic
// (attention's key bias, which softmax cancels) hold only rounding noise, |x| < 1e-5 on both
// sides: they are counted in `noise` and their largest |x| is `noise_max_abs`, not compared.
// Parameters whose name ends with `zero_grad_suffix` (when given) are such noise whatever their
// size: with a larger lr and more steps Adam's normalisation turns the rounding noise of a zero
// gradient into lr-sized updates, different on each side.
struct ParamStatsDiff {
    double sum_sq_rel = 0, sum_rel = 0, max_abs = 0;
    int noise = 0;
    double noise_max_abs = 0;
    std::string worst;  // the parameter of the largest of the three
};
inline ParamStatsDiff param_stats_diff(const ModelWeights& w, const nlohmann::json& stats,
                                       std::string_view zero_grad_suffix = {}) {
    ParamStatsDiff d;
    for (size_t i = 0; i < w.specs().size(); ++i) {
        const auto& spec = w.specs()[i];
        const nlohmann::json& st = stats.at(spec.name);
        const Tensor& t = w.tensors()[i];
        double sum = 0, sum_sq = 0, mx = 0;
        for (int64_t j = 0; j < t.numel(); ++j) {
            const double x = t.ptr<const float>()[j];
            sum += x;
            sum_sq += x * x;
            mx = std::max(mx, std::fabs(x));
        }
        const double ref_sq = st["sum_sq"].get<double>();
        const bool zero_grad = !zero_grad_suffix.empty() &&
                               spec.name.size() >= zero_grad_suffix.size() &&
                               spec.name.compare(spec.name.size() - zero_grad_suffix.size(),
                                                 zero_grad_suffix.size(), zero_grad_suffix) == 0;
        if (zero_grad || st["max_abs"].get<double>() < 1e-5) {
            ++d.noise;
            d.noise_max_abs = std::max({d.noise_max_abs, mx, st["max_abs"].get<double>()});
            continue;
        }
        const double worst_before = std::max({d.sum_sq_rel, d.sum_rel, d.max_abs});
        d.sum_sq_rel = std::max(d.sum_sq_rel, std::fabs(sum_sq - ref_sq) / std::max(1.0, ref_sq));
        d.sum_rel = std::max(d.sum_rel,
                             std::fabs(sum - st["sum"].get<double>()) /
                                 std::max(1.0, std::sqrt(static_cast<double>(t.numel()) * ref_sq)));
        d.max_abs = std::max(d.max_abs, std::fabs(mx - st["max_abs"].get<double>()));
        if (std::max({d.sum_sq_rel, d.sum_rel, d.max_abs}) > worst_before) d.worst = spec.name;
    }
    return d;
}

// The largest |ours - golden| over the eval rows' logits, computed by a forward pass in eval mode.
inline double max_logit_diff(const ModelConfig& config, const ModelWeights& weights,
                             const Dataset& eval, const nlohmann::json& ref_logits) {
    SequenceClassifier engine(config, weights);
    std::vector<int64_t> all(ref_logits.size());
    std::iota(all.begin(), all.end(), 0);
    engine.forward(collate_packed(eval, all), false);
    const int64_t K = config.num_labels();
    double worst = 0;
    for (size_t i = 0; i < ref_logits.size(); ++i)
        for (int64_t k = 0; k < K; ++k)
            worst = std::max(worst, std::fabs(engine.logits()[i * K + k] -
                                              ref_logits[i][k].template get<double>()));
    return worst;
}

}  // namespace ft::test
