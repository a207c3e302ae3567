// A GPU context's backend: a non-blocking stream of its own on the current device, and the
// shared error check of the twins (cuda_common.cuh).
#include <string>

#include "core/device_cuda.h"
#include "ops/cuda/cuda_backend.cuh"
#include "ops/cuda/cuda_common.cuh"

namespace ft::ops {

namespace cuda {

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess)
        throw Error(std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) +
                    ")");
}

OffsetsAndScratch offsets_and_scratch(const Context& ctx, const int32_t* host_offsets, int64_t B,
                                      size_t rest_bytes) {
    FT_ASSERT(ctx.workspace, "a GPU op on a context without a workspace");
    const size_t head = (static_cast<size_t>(B + 1) * sizeof(int32_t) + 255) / 256 * 256;
    char* block = static_cast<char*>(ctx.workspace->get(head + rest_bytes));
    FT_CUDA_CHECK(cudaMemcpyAsync(block, host_offsets, static_cast<size_t>(B + 1) * sizeof(int32_t),
                                  cudaMemcpyHostToDevice, stream_of(ctx)));
    return {reinterpret_cast<const int32_t*>(block), block + head};
}

CudaBackendImpl::CudaBackendImpl() {
    const std::string reason = ft::cuda::unavailable_reason();
    if (!reason.empty()) throw Error("a CUDA context was asked for, but " + reason);
    FT_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
}

CudaBackendImpl::~CudaBackendImpl() {
    if (gemm && destroy_gemm) destroy_gemm(gemm);
    if (stream_) {
        cudaStreamSynchronize(stream_);
        cudaStreamDestroy(stream_);
    }
}

}  // namespace cuda

std::unique_ptr<CudaBackend> make_cuda_backend() {
    return std::make_unique<cuda::CudaBackendImpl>();
}

}  // namespace ft::ops
