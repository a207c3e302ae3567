// The CUDA half of the device seam (device_cuda.h): GPU memory, copies and the device list, on
// the CUDA runtime (linked statically: a machine without a driver gets device_count() == 0 and a
// clear reason, not a loader error).
#include <cuda_runtime.h>

#include <cstdio>
#include <string>

#include "core/device_cuda.h"

namespace ft::cuda {

namespace {

void check(cudaError_t e, const char* what) {
    if (e != cudaSuccess)
        throw Error(std::string(what) + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) +
                    ")");
}

// The first use initialises the runtime; its verdict is kept (a missing driver stays missing).
cudaError_t device_status(int* count) {
    static int n = 0;
    static const cudaError_t status = cudaGetDeviceCount(&n);
    *count = status == cudaSuccess ? n : 0;
    return status;
}

class DeviceAllocator final : public Allocator {
  public:
    void* allocate(size_t bytes) override {
        const std::string reason = unavailable_reason();
        if (!reason.empty()) throw Error("a CUDA device was asked for, but " + reason);
        void* p = nullptr;
        if (bytes == 0) return nullptr;
        const cudaError_t e = cudaMalloc(&p, bytes);
        if (e != cudaSuccess)
            throw Error("out of GPU memory allocating " + std::to_string(bytes) + " bytes (" +
                        cudaGetErrorString(e) + ")");
        // Zero-filled, as host buffers are: a fresh gradient buffer is a valid zero gradient.
        // The fill runs on the legacy default stream, which the contexts' non-blocking streams
        // do not wait for: wait here (allocations are rare: buffers grow, then are reused).
        check(cudaMemset(p, 0, bytes), "cudaMemset");
        check(cudaStreamSynchronize(nullptr), "cudaMemset");
        return p;
    }
    void deallocate(void* p) override {
        if (p) cudaFree(p);  // never throws: called from destructors
    }
};

}  // namespace

bool built_with_cuda() {
    return true;
}

int device_count() {
    int n = 0;
    device_status(&n);
    return n;
}

std::string unavailable_reason() {
    int n = 0;
    const cudaError_t e = device_status(&n);
    if (e == cudaErrorNoDevice || (e == cudaSuccess && n == 0)) return "no CUDA device";
    if (e == cudaErrorInsufficientDriver) return "no CUDA driver (or one older than the runtime)";
    if (e != cudaSuccess) return std::string("CUDA is unusable: ") + cudaGetErrorString(e);
    return "";
}

std::string device_description(int i) {
    cudaDeviceProp p{};
    check(cudaGetDeviceProperties(&p, i), "cudaGetDeviceProperties");
    char mem[32];
    std::snprintf(mem, sizeof mem, "%.1f GiB", static_cast<double>(p.totalGlobalMem) / (1 << 30));
    return std::string(p.name) + ", " + mem + ", compute capability " + std::to_string(p.major) +
           "." + std::to_string(p.minor);
}

Allocator& allocator() {
    static DeviceAllocator a;
    const std::string reason = unavailable_reason();
    if (!reason.empty()) throw Error("a CUDA device was asked for, but " + reason);
    return a;
}

void copy_to_device(void* dst, const void* src, size_t bytes, void* stream) {
    if (bytes == 0) return;
    const auto s = static_cast<cudaStream_t>(stream);
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, s), "copy to the GPU");
    check(cudaStreamSynchronize(s), "copy to the GPU");
}

void copy_to_host(void* dst, const void* src, size_t bytes, void* stream) {
    if (bytes == 0) return;
    const auto s = static_cast<cudaStream_t>(stream);
    check(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, s), "copy from the GPU");
    check(cudaStreamSynchronize(s), "copy from the GPU");
}

void synchronize(void* stream) {
    check(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)), "a GPU kernel");
}

}  // namespace ft::cuda
