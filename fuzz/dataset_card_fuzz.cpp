// libFuzzer target for the dataset card reader (the README front matter a Hub repo serves): any
// text must either give a card or throw ft::Error, never crash or leak a YAML exception.
#include <cstddef>
#include <cstdint>
#include <string>

#include "finetune/hub.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const auto card = ft::hub::parse_dataset_card(text, "cola", "fuzz README.md");
        size_t sum = card.dataset_info_yaml.size();
        for (const auto& [split, patterns] : card.data_files) sum += split.size() + patterns.size();
        for (const auto& f : card.features) sum += f.name.size() + f.class_names.size();
        volatile size_t sink = sum;
        (void)sink;
    } catch (const ft::Error&) {
        // Rejecting a malformed card is the expected outcome for most inputs.
    }
    return 0;
}
