// finetune_state.json (the loop position of a checkpoint): inputs fuzz/trainer_state_fuzz.cpp
// found mishandled.
#include <gtest/gtest.h>

#include <string>

#include "finetune/core.h"
#include "test_env.h"
#include "train/checkpoint.h"

namespace ft {

namespace {

// position_to_json's output with `field` replaced by `value`.
std::string position_with(const std::string& field, const std::string& value) {
    checkpoint::LoopPosition p;
    p.sampling = "random";
    std::string text = checkpoint::position_to_json(p);
    const std::string key = "\"" + field + "\": ";
    const size_t at = text.find(key);
    EXPECT_NE(at, std::string::npos) << field;
    const size_t end = text.find_first_of(",\n", at + key.size());
    return text.replace(at + key.size(), end - at - key.size(), value);
}

}  // namespace

// A counter holding a float past int64 was cast unchecked by get<int64_t>() (UBSan:
// float-cast-overflow) instead of being rejected.
TEST(LoopPositionJson, FloatCountersAreClearErrors) {
    for (const char* field : {"epoch", "micro_steps", "tr_loss_f32_bits", "train_rows"}) {
        const std::string error = test::error_of([&] {
            checkpoint::position_from_json(position_with(field, "1e300"), "finetune_state.json");
        });
        EXPECT_NE(error.find("finetune_state.json"), std::string::npos) << error;
        EXPECT_NE(error.find(field), std::string::npos) << error;
    }
    const auto p = checkpoint::position_from_json(position_with("micro_steps", "17"), "f.json");
    EXPECT_EQ(p.micro_steps, 17);
}

}  // namespace ft
