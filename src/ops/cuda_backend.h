// A CUDA context's handles: its stream, and its cuBLASLt handle and workspace (ops/cuda/
// cuda_backend.cu). An OwnedContext on a GPU makes one; a build without CUDA has none
// (ops/cuda_stub.cpp). No CUDA header is included here: the .cpp side sees an opaque stream.
#pragma once

#include <memory>

namespace ft::ops {

class CudaBackend {
  public:
    virtual ~CudaBackend() = default;
    // The stream every op of the context is queued on (a cudaStream_t).
    virtual void* stream() const = 0;
};

// A backend on the current GPU; throws ft::Error when there is none or the build has no CUDA.
std::unique_ptr<CudaBackend> make_cuda_backend();

}  // namespace ft::ops
