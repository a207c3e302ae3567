// Learning-rate schedules against hand-worked values of transformers' formulas, and against
// current HF's own schedulers (tests/goldens/schedules.json, tools/make_schedule_goldens.py).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "finetune/train.h"
#include "test_env.h"

namespace ft {

TEST(Schedule, LinearWithWarmup) {
    // total 10, warmup 3: 0, 1/3, 2/3, then (10 - s) / 7.
    EXPECT_DOUBLE_EQ(lr_multiplier(SchedulerKind::LINEAR, 0, 3, 10), 0.0);
    EXPECT_DOUBLE_EQ(lr_multiplier(SchedulerKind::LINEAR, 2, 3, 10), 2.0 / 3.0);
    EXPECT_DOUBLE_EQ(lr_multiplier(SchedulerKind::LINEAR, 3, 3, 10), 1.0);
    EXPECT_DOUBLE_EQ(lr_multiplier(SchedulerKind::LINEAR, 8, 3, 10), 2.0 / 7.0);
    EXPECT_DOUBLE_EQ(lr_multiplier(SchedulerKind::LINEAR, 12, 3, 10), 0.0);
    // The tiny reference run: 5 steps, no warmup: 1, 0.8, 0.6, 0.4, 0.2.
    for (int s = 0; s < 5; ++s)
        EXPECT_DOUBLE_EQ(lr_multiplier(SchedulerKind::LINEAR, s, 0, 5), (5 - s) / 5.0);
}

TEST(Schedule, CosineConstantAndConstantWithWarmup) {
    // cosine, total 10, warmup 2: at step 6 progress is 0.5 -> 0.5 * (1 + cos(pi/2)) = 0.5.
    EXPECT_NEAR(lr_multiplier(SchedulerKind::COSINE, 6, 2, 10), 0.5, 1e-15);
    EXPECT_DOUBLE_EQ(lr_multiplier(SchedulerKind::COSINE, 2, 2, 10), 1.0);
    EXPECT_DOUBLE_EQ(lr_multiplier(SchedulerKind::COSINE, 1, 2, 10), 0.5);
    EXPECT_NEAR(lr_multiplier(SchedulerKind::COSINE, 10, 2, 10), 0.0, 1e-15);
    EXPECT_DOUBLE_EQ(lr_multiplier(SchedulerKind::CONSTANT, 0, 5, 10), 1.0);
    EXPECT_DOUBLE_EQ(lr_multiplier(SchedulerKind::CONSTANT_WITH_WARMUP, 1, 4, 10), 0.25);
    EXPECT_DOUBLE_EQ(lr_multiplier(SchedulerKind::CONSTANT_WITH_WARMUP, 7, 4, 10), 1.0);
}

TEST(Schedule, WarmupStepsFromRatioRoundUp) {
    EXPECT_EQ(warmup_steps_for(0, 0.1, 2675), 268);  // ceil(267.5)
    EXPECT_EQ(warmup_steps_for(0, 0.06, 100), 6);
    EXPECT_EQ(warmup_steps_for(7, 0.5, 100), 7);    // explicit steps win
    EXPECT_EQ(warmup_steps_for(7.9, 0.0, 100), 7);  // int(): truncated, as HF 5.x
    EXPECT_EQ(warmup_steps_for(1, 0.5, 100), 1);    // 1 is a step count, not a ratio
    EXPECT_EQ(warmup_steps_for(0, 0.0, 100), 0);
    EXPECT_THROW(scheduler_from_name("polynomial_x"), Error);
}

namespace {
nlohmann::json schedules_golden() {
    std::ifstream in(test::tools_dir() / ".." / "tests" / "goldens" / "schedules.json");
    return nlohmann::json::parse(in);
}
}  // namespace

TEST(Schedule, EveryMultiplierIsHfsGetScheduler) {
    // Every scheduler step from 0 to total + 1 (one past the end, where training never goes),
    // for warmup 0, 3 of 10, equal to the total and past it.
    const auto g = schedules_golden();
    int cases = 0, past_total = 0;
    for (const auto& c : g["schedules"]) {
        const auto kind = scheduler_from_name(c["name"].get<std::string>());
        const int64_t total = c["num_training_steps"], warmup = c["num_warmup_steps"];
        past_total += warmup >= total;
        const auto& mult = c["multipliers"];
        for (int64_t s = 0; s < static_cast<int64_t>(mult.size()); ++s)
            EXPECT_NEAR(lr_multiplier(kind, s, warmup, total), mult[s].get<double>(), 1e-15)
                << c["name"] << " total " << total << " warmup " << warmup << " step " << s;
        ++cases;
    }
    EXPECT_EQ(cases, 20);
    EXPECT_EQ(past_total, 8);  // warmup == total and warmup > total, for each schedule
}

TEST(Schedule, WarmupFromRatioIsHfsGetWarmupSteps) {
    const auto g = schedules_golden();
    for (const auto& r : g["warmup_from_ratio"]) {
        const int64_t total = r["num_training_steps"];
        const double ratio = r["warmup_ratio"];
        // 4.x's warmup_ratio, and 5.x's warmup_steps below 1.
        EXPECT_EQ(warmup_steps_for(0, ratio, total), r["warmup_steps"].get<int64_t>())
            << total << " x " << ratio;  // 100 x 0.07 = 7.000000000000001 -> 8
        if (ratio > 0) {
            EXPECT_EQ(warmup_steps_for(ratio, 0.0, total), r["warmup_steps"].get<int64_t>())
                << total << " x " << ratio;
        }
    }
}

}  // namespace ft
