// libFuzzer target for config.json: any text either parses into a ModelConfig or throws ft::Error.
// A config that parses must write back (model_config_to_json) to a config.json that parses to the
// same file again, since save_pretrained and from_pretrained rely on that round trip.
#include <cstddef>
#include <cstdint>
#include <string>

#include "finetune/core.h"
#include "finetune/model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    ft::ModelConfig config;
    try {
        config = ft::parse_model_config(text, "fuzz config.json");
    } catch (const ft::Error&) {
        return 0;  // rejecting a malformed config is the expected outcome for most inputs
    }
    // Everything below reads a config the parser accepted: an ft::Error here is a finding too.
    const std::string written = ft::model_config_to_json(config);
    const ft::ModelConfig again = ft::parse_model_config(written, "fuzz config.json (written)");
    FT_ASSERT(ft::model_config_to_json(again) == written, "config.json does not round-trip");
    FT_ASSERT(again.family == config.family && again.id2label == config.id2label &&
                  again.problem_type == config.problem_type,
              "labels or family changed in the round trip");
    // Unsigned sums: a config may hold sizes near INT64_MAX, and only the reads matter here.
    volatile uint64_t sink = config.label2id().size() + uint64_t(config.hidden()) +
                             uint64_t(config.layers()) + uint64_t(config.heads()) +
                             uint64_t(config.ffn());
    (void)sink;
    return 0;
}
