// The CUDA backend behind a GPU context (cuda_backend.h): its stream, and the GEMM library's
// state, which linear.cu creates on the first GEMM. The twins reach it through backend_of(ctx).
#pragma once

#include <cuda_runtime.h>

#include <memory>

#include "ops/context.h"
#include "ops/cuda_backend.h"

namespace ft::ops::cuda {

// cuBLASLt's handle, entry points and workspace (linear.cu).
struct GemmState;

class CudaBackendImpl final : public CudaBackend {
  public:
    CudaBackendImpl();
    ~CudaBackendImpl() override;
    void* stream() const override { return stream_; }
    cudaStream_t cuda_stream() const { return stream_; }
    // Created by linear.cu on first use; owned here.
    GemmState* gemm = nullptr;
    void (*destroy_gemm)(GemmState*) = nullptr;

  private:
    cudaStream_t stream_ = nullptr;
};

inline CudaBackendImpl& backend_of(const Context& ctx) {
    FT_ASSERT(ctx.cuda, "a GPU op on a context without a CUDA backend");
    return static_cast<CudaBackendImpl&>(*ctx.cuda);
}

}  // namespace ft::ops::cuda
