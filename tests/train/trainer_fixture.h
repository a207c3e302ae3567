// A tiny fine-tuning job for Trainer tests: the HF-made tiny DistilBERT of shared/reference, the
// bert-base-uncased tokenizer and the first rows of GLUE CoLA, tokenised as run_glue does.
#pragma once

#include <memory>
#include <string>

#include "finetune/data.h"
#include "finetune/model.h"
#include "finetune/tokenizer.h"
#include "finetune/trainer.h"
#include "test_env.h"

namespace ft::test {

struct TinyJob {
    std::unique_ptr<PretrainedModel> model;
    std::unique_ptr<BertTokenizer> tokenizer;
    Dataset train, eval;
};

// dropout false sets every dropout probability to 0 (deterministic reference paths).
inline TinyJob make_tiny_job(int64_t train_rows, int64_t eval_rows, bool dropout = false) {
    TinyJob j;
    const auto init = shared_dir() / "reference" / "tiny_distilbert" / "init";
    j.model = std::make_unique<PretrainedModel>(load_pretrained(init));
    if (!dropout) {
        j.model->config.distilbert.dropout = 0;
        j.model->config.distilbert.attention_dropout = 0;
        j.model->config.distilbert.seq_classif_dropout = 0;
    }
    j.tokenizer = std::make_unique<BertTokenizer>(
        BertTokenizer::from_pretrained(bert_uncased_tokenizer_dir()));
    const DatasetDict cola =
        load_glue_from_dir(glue_task("cola"), shared_dir() / "data" / "glue" / "cola");
    TokenizeColumns spec;
    spec.text_column = "sentence";
    spec.options.truncation = Truncation::LongestFirst;
    spec.options.max_length = 128;
    spec.token_type_ids = false;
    MapOptions mo;
    mo.batched = true;
    auto tok = [&](const Dataset& b) { return tokenize_columns(*j.tokenizer, b, spec); };
    j.train = cola["train"].select_range(0, train_rows).map(tok, mo);
    j.eval = cola["validation"].select_range(0, eval_rows).map(tok, mo);
    return j;
}

// Arguments every Trainer test starts from: sequential order, logging every step, no saving, on
// the CPU.
inline TrainingArguments tiny_args(const std::filesystem::path& out) {
    TrainingArguments a;
    a.output_dir = out.string();
    a.per_device_train_batch_size = 4;
    a.per_device_eval_batch_size = 8;
    a.learning_rate = 1e-3;
    a.weight_decay = 0.01;
    a.num_train_epochs = 2;
    a.logging_steps = 1;
    a.save_strategy = SaveStrategy::NO;
    a.train_sampling_strategy = SamplingStrategy::SEQUENTIAL;
    a.disable_tqdm = true;
    // The CPU path, also where a GPU could be used: the tests compare with CPU replays bit for
    // bit (the GPU runs are in *_cuda_test.cpp).
    a.use_cpu = true;
    return a;
}

// Stops training after optimizer step `step` (the flag a callback sets), as a kill between
// checkpoints would: what came after the last checkpoint is lost.
struct StopAfterStep : TrainerCallback {
    int64_t step;
    explicit StopAfterStep(int64_t s) : step(s) {}
    void on_step_end(const TrainingArguments&, TrainerState& s, TrainerControl& c) override {
        if (s.global_step == step) c.should_training_stop = true;
    }
};

}  // namespace ft::test
