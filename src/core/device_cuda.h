// The CUDA half of the device seam, as the rest of the library sees it. A build with CUDA
// implements these in .cu files; one without compiles device_cuda_stub.cpp, which reports
// "built without CUDA" at run time. No #ifdef reaches a public header.
#pragma once

#include "finetune/core.h"

namespace ft::cuda {

bool built_with_cuda();
// How many GPUs this process can use (0 without CUDA, a driver or a GPU).
int device_count();
// The device allocator; throws ft::Error when there is no usable GPU.
Allocator& allocator();

}  // namespace ft::cuda
