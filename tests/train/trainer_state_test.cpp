// trainer_state.json reading and writing: inputs fuzz/trainer_state_fuzz.cpp found mishandled
// (each was undefined behaviour or a use-after-free before the fix, not an ft::Error).
#include <gtest/gtest.h>

#include <string>

#include "finetune/core.h"
#include "finetune/trainer.h"
#include "test_env.h"

namespace ft {

namespace {

const std::string kHead = R"({"epoch": 1.0, "global_step": 6, "max_steps": 18, "log_history": [])";

std::string state_error(const std::string& text) {
    return test::error_of([&] { TrainerState::from_json(text, "trainer_state.json"); });
}

}  // namespace

TEST(TrainerStateJson, ReadsWhatItWrites) {
    TrainerState s = TrainerState::from_json(kHead + "}", "t.json");
    LogEntry e;
    e.set("loss", 0.5);
    e.set("step", 6);
    s.log_history.push_back(e);
    s.early_stopping_patience = 3;
    s.early_stopping_patience_counter = 1;
    const std::string written = s.to_json();
    EXPECT_EQ(TrainerState::from_json(written, "t.json").to_json(), written);
}

// A callback entry without "args" or "attributes" was read through const operator[], which is
// undefined for a missing key (ASan: heap-use-after-free).
TEST(TrainerStateJson, CallbackWithoutArgsIsAClearError) {
    const std::string no_args = state_error(
        kHead + R"(, "stateful_callbacks": {"EarlyStoppingCallback": {"attributes": {}}}})");
    EXPECT_NE(no_args.find("trainer_state.json"), std::string::npos) << no_args;
    EXPECT_NE(no_args.find("args"), std::string::npos) << no_args;
    const std::string no_attributes = state_error(
        kHead +
        R"(, "stateful_callbacks": {"EarlyStoppingCallback": {"args": {"early_stopping_patience": 3, "early_stopping_threshold": 0.0}}}})");
    EXPECT_NE(no_attributes.find("attributes"), std::string::npos) << no_attributes;
    const std::string control =
        state_error(kHead + R"(, "stateful_callbacks": {"TrainerControl": {"attributes": {}}}})");
    EXPECT_NE(control.find("args"), std::string::npos) << control;
}

// An integer field holding a float past int64 was converted with a plain cast (UBSan:
// float-cast-overflow); now it names the field.
TEST(TrainerStateJson, IntegerFieldOutOfRangeIsAClearError) {
    const std::string step = state_error(R"({"epoch": 1.0, "global_step": 1e300, "max_steps": 18,
                                             "log_history": []})");
    EXPECT_NE(step.find("global_step"), std::string::npos) << step;
    const std::string batch = state_error(kHead + R"(, "train_batch_size": -9.3e18})");
    EXPECT_NE(batch.find("train_batch_size"), std::string::npos) << batch;
    // Whole numbers written as floats still read, as Python's int() would take them.
    EXPECT_EQ(TrainerState::from_json(kHead + R"(, "save_steps": 100.0})", "t.json").save_steps,
              100);
}

// A log_history "step" past int64 (a float in the file) was cast back to an integer on writing.
TEST(TrainerStateJson, HugeLoggedStepIsWrittenAsANumber) {
    TrainerState s;
    LogEntry e;
    e.set("step", 1e300);
    s.log_history.push_back(e);
    const std::string written = s.to_json();
    EXPECT_NE(written.find("1e+300"), std::string::npos) << written;
    EXPECT_EQ(TrainerState::from_json(written, "t.json").log_history[0].get("step"), 1e300);
}

}  // namespace ft
