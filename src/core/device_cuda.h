// The CUDA half of the device seam, as the rest of the library sees it. A build with CUDA
// implements these in src/core/device_cuda.cu; one without compiles device_cuda_stub.cpp, which
// reports "built without CUDA" at run time. No #ifdef reaches a public header, and no CUDA header
// reaches a .cpp file.
#pragma once

#include <cstddef>
#include <string>

#include "finetune/core.h"

namespace ft::cuda {

bool built_with_cuda();
// How many GPUs this process can use: 0 without CUDA, without a driver or without a GPU (never
// throws).
int device_count();
// "NVIDIA H100 80GB HBM3, 79.1 GiB, compute capability 9.0" for device i, for `finetune info`.
std::string device_description(int i);
// Why no GPU can be used ("built without CUDA", "no CUDA driver", "no CUDA device"), or "" when
// one can.
std::string unavailable_reason();
// The device allocator (zero-filled memory, as the host's); throws ft::Error when there is no
// usable GPU.
Allocator& allocator();
// Copies between host and device memory, ordered after the work already queued on `stream`
// (null: the default stream), returning when the copy is done. Device pointers come from
// allocator(); host pointers are ordinary memory.
void copy_to_device(void* dst, const void* src, size_t bytes, void* stream = nullptr);
void copy_to_host(void* dst, const void* src, size_t bytes, void* stream = nullptr);
// Waits for the work queued on `stream`; throws ft::Error with CUDA's message if a kernel failed.
void synchronize(void* stream = nullptr);

}  // namespace ft::cuda
