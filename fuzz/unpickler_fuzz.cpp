// libFuzzer target for the restricted unpickler: arbitrary bytes as a data.pkl, with storages
// served as small zero-filled tensors. Any ft::Error is a fine answer; crashes, leaks, sanitizer
// reports and other exceptions are bugs. Seeds: fuzz/corpus/unpickler/.
#include <cstddef>
#include <cstdint>
#include <span>

#include "finetune/io.h"

namespace {

// Per storage and per input, so a hostile pickle cannot make the harness itself allocate much.
constexpr int64_t MAX_STORAGE_NUMEL = 4096;
constexpr int64_t MAX_TOTAL_NUMEL = 1 << 16;

// Reads every byte so that a view pointing outside its storage shows up under ASan.
uint64_t touch(const ft::Tensor& t) {
    const ft::Tensor c = t.is_contiguous() ? t : t.contiguous_copy();
    const auto* p = static_cast<const uint8_t*>(c.data);
    uint64_t sum = 0;
    for (size_t i = 0; i < c.nbytes(); ++i) sum += p[i];
    return sum;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    int64_t total = 0;
    const ft::StorageLoader loader = [&total](const std::string& key, ft::DType dtype,
                                              int64_t numel) {
        if (numel > MAX_STORAGE_NUMEL || total + numel > MAX_TOTAL_NUMEL)
            throw ft::Error("fuzz storage '" + key + "' too large");
        total += numel;
        return ft::Tensor::empty(dtype, ft::Shape{numel});
    };
    try {
        const ft::StateDict sd =
            ft::unpickle_state_dict(std::span<const uint8_t>(data, size), loader, "fuzz.pkl");
        volatile uint64_t sink = 0;
        for (const auto& [name, t] : sd.entries()) sink = sink + touch(t) + name.size();
    } catch (const ft::Error&) {
    }
    return 0;
}
