// The CUDA entry points of a build without CUDA: nothing to use, and a clear error when asked.
#include "core/device_cuda.h"

namespace ft::cuda {

bool built_with_cuda() {
    return false;
}

int device_count() {
    return 0;
}

Allocator& allocator() {
    throw Error("a CUDA device was asked for, but finetune was built without CUDA");
}

}  // namespace ft::cuda
