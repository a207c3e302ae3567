// Wall time of each optimizer step (on_step_begin to on_step_end: forward, backward, clipping,
// AdamW; evaluation and checkpoints fall outside), printed after training as a median. The HF
// Trainer peer (tools/hf_run_glue.py) times its steps between the same two hooks.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "finetune/trainer.h"

namespace ft::cli {

class StepTimer : public TrainerCallback {
  public:
    // Room for every step up front: the hooks run inside the training loop, which must not
    // allocate.
    void on_train_begin(const TrainingArguments&, TrainerState& state, TrainerControl&) override {
        seconds_.reserve(static_cast<size_t>(std::max<int64_t>(state.max_steps, 0)));
    }
    void on_step_begin(const TrainingArguments&, TrainerState&, TrainerControl&) override {
        start_ = std::chrono::steady_clock::now();
    }
    void on_step_end(const TrainingArguments&, TrainerState&, TrainerControl&) override {
        seconds_.push_back(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    }
    // "step time: median 0.1234 s over 535 optimizer steps", or nothing without steps.
    void print() const {
        if (seconds_.empty()) return;
        std::vector<double> s = seconds_;
        const size_t mid = s.size() / 2;
        std::nth_element(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(mid), s.end());
        double median = s[mid];
        if (s.size() % 2 == 0)
            median = (median +
                      *std::max_element(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(mid))) /
                     2;
        std::printf(
            "step time: median %.4f s over %zu optimizer steps (evaluation and saving excluded)\n",
            median, s.size());
    }

  private:
    std::chrono::steady_clock::time_point start_;
    std::vector<double> seconds_;
};

}  // namespace ft::cli
