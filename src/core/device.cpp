// Devices and their allocators: host memory for the CPU (64-byte aligned, zero-filled); CUDA's
// allocator comes from device_cuda.h, which a build without CUDA fills with a stub that refuses.
#include <cstdlib>
#include <cstring>
#include <iterator>

#include "core/device_cuda.h"
#include "finetune/core.h"

namespace ft {

std::string_view device_name(Device d) {
    constexpr std::string_view NAMES[] = {"cpu", "cuda"};  // in Device's order
    const auto i = static_cast<size_t>(d);
    return i < std::size(NAMES) ? NAMES[i] : "?";
}

namespace {

class HostAllocator final : public Allocator {
  public:
    void* allocate(size_t bytes) override {
        const size_t rounded = (bytes + 63) / 64 * 64;
        void* p = std::aligned_alloc(64, rounded);
        if (!p) throw Error("out of memory allocating " + std::to_string(bytes) + " bytes");
        std::memset(p, 0, rounded);
        return p;
    }
    void deallocate(void* p) override { std::free(p); }
};

}  // namespace

Allocator& allocator_for(Device d) {
    static HostAllocator host;
    switch (d) {
        case Device::CPU:
            return host;
        case Device::CUDA:
            return cuda::allocator();
    }
    return host;
}

}  // namespace ft
