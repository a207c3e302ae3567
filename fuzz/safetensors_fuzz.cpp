// libFuzzer target for the safetensors header parser: any byte string must either parse into views
// that lie inside the input or throw ft::Error. Every byte of every view is read, so ASan reports
// a view that reaches past the input.
#include <cstddef>
#include <cstdint>

#include "finetune/io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    try {
        const auto file = ft::parse_safetensors({data, size}, nullptr, "fuzz input");
        uint64_t sum = 0;
        for (const auto& [name, t] : file.tensors.entries()) {
            const auto* p = static_cast<const uint8_t*>(t.data);
            for (size_t i = 0; i < t.nbytes(); ++i) sum += p[i];
            sum += name.size();
        }
        for (const auto& [k, v] : file.metadata) sum += k.size() + v.size();
        // Keeps the reads from being optimised away.
        volatile uint64_t sink = sum;
        (void)sink;
    } catch (const ft::Error&) {
        // Rejecting malformed input is the expected outcome for most inputs.
    }
    return 0;
}
