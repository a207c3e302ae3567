// libFuzzer target for the state files a resume reads from a checkpoint folder: trainer_state.json
// (HF's TrainerState) and finetune_state.json (our loop position, docs/checkpoints.md). Each input
// goes to both readers; each either accepts it or throws ft::Error. What a reader accepts must
// write back to a file that reads back to the same state, as saving the next checkpoint does.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "finetune/core.h"
#include "finetune/trainer.h"
#include "train/checkpoint.h"

namespace {

void trainer_state(const std::string& text) {
    ft::TrainerState state;
    try {
        state = ft::TrainerState::from_json(text, "fuzz trainer_state.json");
    } catch (const ft::Error&) {
        return;  // rejecting a malformed file is the expected outcome for most inputs
    }
    const std::string written = state.to_json();
    const ft::TrainerState again = ft::TrainerState::from_json(written, "written trainer_state");
    FT_ASSERT(again.to_json() == written, "trainer_state.json does not round-trip");
}

void loop_position(const std::string& text) {
    ft::checkpoint::LoopPosition p;
    try {
        p = ft::checkpoint::position_from_json(text, "fuzz finetune_state.json");
    } catch (const ft::Error&) {
        return;
    }
    const std::string written = ft::checkpoint::position_to_json(p);
    const auto again = ft::checkpoint::position_from_json(written, "written finetune_state");
    // tr_loss by its bits: a NaN loss must come back as the same NaN for a bit-identical resume.
    FT_ASSERT(std::memcmp(&again.tr_loss, &p.tr_loss, sizeof p.tr_loss) == 0 &&
                  again.epoch == p.epoch && again.micro_steps == p.micro_steps &&
                  again.sampling == p.sampling &&
                  ft::checkpoint::position_to_json(again) == written,
              "finetune_state.json does not round-trip");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    trainer_state(text);
    loop_position(text);
    return 0;
}
