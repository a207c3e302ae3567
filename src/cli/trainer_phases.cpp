// The train and evaluate phases the training commands share (see trainer_phases.h).
#include "cli/trainer_phases.h"

#include <cstdio>
#include <memory>

#include "cli/step_timer.h"

namespace ft::cli {

void print_metrics(const std::string& split, const std::map<std::string, double>& m) {
    std::printf("%s", format_metrics(split, m).c_str());
    std::fflush(stdout);
}

int train_and_evaluate(Trainer& trainer, const TrainingArguments& args, int64_t train_rows,
                       int64_t eval_rows) {
    const auto step_timer = std::make_shared<StepTimer>();
    trainer.add_callback(step_timer);
    const fs::path out = args.output_dir;
    if (args.do_train) {
        TrainOutput result;
        try {
            result = trainer.train();
        } catch (const TrainingInterrupted& e) {
            std::fprintf(stderr, "finetune: %s\n", e.what());
            return 128 + e.signal();
        }
        trainer.save_model(out);
        auto metrics = result.metrics;
        metrics["train_samples"] = static_cast<double>(train_rows);
        print_metrics("train", metrics);
        step_timer->print();
        save_metrics(out, "train", metrics);
        trainer.save_state();
        std::printf("model saved to %s\n", out.string().c_str());
    }
    if (args.do_eval) {
        auto metrics = trainer.evaluate();
        metrics["eval_samples"] = static_cast<double>(eval_rows);
        print_metrics("eval", metrics);
        fs::create_directories(out);
        save_metrics(out, "eval", metrics);
    }
    return 0;
}

}  // namespace ft::cli
