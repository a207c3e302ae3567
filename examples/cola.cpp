// The seed's Python, line for line in C++: fine-tune distilbert-base-uncased on GLUE CoLA,
// evaluate and save each epoch, keep the best model by Matthews correlation.
//
//   usage: cola [CHECKPOINT [OUTPUT_DIR [MAX_TRAIN_SAMPLES [NUM_EPOCHS]]]]
//
// The optional arguments exist for the tests (a tiny checkpoint, a few rows, one epoch); with
// none it is exactly the seed. The Python each line mirrors is in the comment above it.
#include <cstdio>
#include <string>

#include "finetune/finetune.h"

int main(int argc, char** argv) try {
    using namespace ft;
    const std::string checkpoint_arg = argc > 1 ? argv[1] : "distilbert-base-uncased";
    const std::string output_dir = argc > 2 ? argv[2] : "distilbert-finetuned-cola";
    const int64_t max_train_samples = argc > 3 ? std::stoll(argv[3]) : -1;
    const double num_train_epochs = argc > 4 ? std::stod(argv[4]) : 5;

    // raw_datasets = load_dataset("glue", "cola")
    DatasetDict raw_datasets = load_dataset("glue", "cola");
    if (max_train_samples > 0)
        raw_datasets.set("train", raw_datasets["train"].select_range(0, max_train_samples));
    // checkpoint = "distilbert-base-uncased"
    const std::string checkpoint = checkpoint_arg;
    // tokenizer = AutoTokenizer.from_pretrained(checkpoint)
    const AutoTokenizer tokenizer = AutoTokenizer::from_pretrained(checkpoint);

    // def tokenize_function(example):
    //     return tokenizer(example["sentence"], truncation=True)
    auto tokenize_function = [&](const Dataset& example) {
        return tokenizer(example.column("sentence"), {.truncation = true});
    };
    // tokenized_datasets = raw_datasets.map(tokenize_function, batched=True)
    const DatasetDict tokenized_datasets = raw_datasets.map(tokenize_function, {.batched = true});
    // data_collator = DataCollatorWithPadding(tokenizer=tokenizer)
    const DataCollatorWithPadding data_collator(tokenizer);

    // model = AutoModelForSequenceClassification.from_pretrained(checkpoint, num_labels=2)
    auto model = AutoModelForSequenceClassification::from_pretrained(checkpoint, 2);

    // metric = evaluate.load("glue", "cola")
    auto metric = std::make_shared<GlueMetric>(evaluate::load("glue", "cola"));
    // def compute_metrics(eval_pred):
    //     logits, labels = eval_pred
    //     predictions = np.argmax(logits, axis=-1)
    //     return metric.compute(predictions=predictions, references=labels)
    auto compute_metrics = [metric](const EvalPrediction& eval_pred) {
        const std::vector<int64_t> predictions = argmax_predictions(eval_pred);
        return metric->compute(std::span<const int64_t>(predictions),
                               std::span<const int64_t>(eval_pred.label_ids));
    };

    // training_args = TrainingArguments("distilbert-finetuned-cola", eval_strategy="epoch",
    //     save_strategy="epoch", learning_rate=2e-5, per_device_train_batch_size=16,
    //     per_device_eval_batch_size=16, num_train_epochs=5, weight_decay=0.01,
    //     load_best_model_at_end=True, metric_for_best_model="matthews_correlation")
    TrainingArguments training_args{.output_dir = output_dir,
                                    .num_train_epochs = num_train_epochs,
                                    .per_device_train_batch_size = 16,
                                    .per_device_eval_batch_size = 16,
                                    .learning_rate = 2e-5,
                                    .weight_decay = 0.01,
                                    .eval_strategy = IntervalStrategy::EPOCH,
                                    .save_strategy = SaveStrategy::EPOCH,
                                    .load_best_model_at_end = true,
                                    .metric_for_best_model = "matthews_correlation"};

    // trainer = Trainer(model, training_args, train_dataset=tokenized_datasets["train"],
    //     eval_dataset=tokenized_datasets["validation"], tokenizer=tokenizer,
    //     data_collator=data_collator, compute_metrics=compute_metrics)
    Trainer trainer(*model, training_args, &tokenized_datasets["train"],
                    &tokenized_datasets["validation"], &tokenizer.tokenizer(), &data_collator,
                    compute_metrics);
    // trainer.train()
    trainer.train();
    // trainer.evaluate()
    const auto eval = trainer.evaluate();
    std::printf("matthews_correlation: %.6f\n", eval.at("eval_matthews_correlation"));
    // trainer.save_model()
    trainer.save_model(output_dir);
    trainer.save_state();
    return 0;
} catch (const ft::Error& e) {
    std::fprintf(stderr, "cola: error: %s\n", e.what());
    return 1;
}
