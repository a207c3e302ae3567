// Learning-rate multipliers of transformers' schedules (get_scheduler): linear, cosine, constant
// and constant_with_warmup, each with linear warmup, and the warmup-steps-from-ratio rule.
#include <cmath>

#include "finetune/train.h"

namespace ft {

SchedulerKind scheduler_from_name(const std::string& name) {
    if (name == "linear") return SchedulerKind::LINEAR;
    if (name == "cosine") return SchedulerKind::COSINE;
    if (name == "constant") return SchedulerKind::CONSTANT;
    if (name == "constant_with_warmup") return SchedulerKind::CONSTANT_WITH_WARMUP;
    throw Error("lr_scheduler_type '" + name +
                "' is not supported (linear, cosine, constant, constant_with_warmup)");
}

double lr_multiplier(SchedulerKind kind, int64_t step, int64_t warmup, int64_t total,
                     double num_cycles) {
    const double s = static_cast<double>(step);
    if (kind == SchedulerKind::CONSTANT) return 1.0;
    if (step < warmup) return s / static_cast<double>(std::max<int64_t>(1, warmup));
    switch (kind) {
        case SchedulerKind::CONSTANT_WITH_WARMUP:
            return 1.0;
        case SchedulerKind::LINEAR:
            return std::max(0.0, static_cast<double>(total - step) /
                                     static_cast<double>(std::max<int64_t>(1, total - warmup)));
        case SchedulerKind::COSINE: {
            const double progress = static_cast<double>(step - warmup) /
                                    static_cast<double>(std::max<int64_t>(1, total - warmup));
            return std::max(0.0, 0.5 * (1.0 + std::cos(M_PI * num_cycles * 2.0 * progress)));
        }
        case SchedulerKind::CONSTANT:
            break;
    }
    return 1.0;
}

int64_t warmup_steps_for(double warmup_steps, double warmup_ratio, int64_t total_steps) {
    if (warmup_steps >= 1) return static_cast<int64_t>(warmup_steps);
    if (warmup_steps > 0) warmup_ratio = warmup_steps;
    return static_cast<int64_t>(std::ceil(static_cast<double>(total_steps) * warmup_ratio));
}

}  // namespace ft
