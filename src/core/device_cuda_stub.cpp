// The CUDA entry points of a build without CUDA: nothing to use, and a clear error when asked.
#include "core/device_cuda.h"

namespace ft::cuda {

namespace {
[[noreturn]] void unavailable(const char* what) {
    throw Error(std::string(what) +
                ": a CUDA device was asked for, but finetune was built without CUDA");
}
}  // namespace

bool built_with_cuda() {
    return false;
}

int device_count() {
    return 0;
}

std::string device_description(int) {
    unavailable("device_description");
}

std::string unavailable_reason() {
    return "built without CUDA";
}

Allocator& allocator() {
    unavailable("allocator");
}

void copy_to_device(void*, const void*, size_t, void*) {
    unavailable("copy_to_device");
}

void copy_to_host(void*, const void*, size_t, void*) {
    unavailable("copy_to_host");
}

void synchronize(void*) {
    unavailable("synchronize");
}

}  // namespace ft::cuda
