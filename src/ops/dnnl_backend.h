// The CPU backend's GEMMs: oneDNN's engine, stream and a cache of matmul primitives, owned by an
// execution context (context.h) and created on its first GEMM. float, and bf16 operands with
// float32 accumulation (bf16 autocast).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>

namespace ft::ops {

// The three products of a linear layer, each one oneDNN matmul dst (M, N) = src (M, K) x
// weights (K, N).
enum class Gemm : int {
    FORWARD,           // out (N,O) = inp (N,I) x W^T (I,O) [+ bias]
    BACKWARD_DATA,     // dinp (N,I) (+)= dout (N,O) x W (O,I)
    BACKWARD_WEIGHTS,  // dW (O,I) += dout^T (O,N) x inp (N,I)
};

class DnnlBackend {
  public:
    DnnlBackend();
    ~DnnlBackend();
    DnnlBackend(const DnnlBackend&) = delete;
    DnnlBackend& operator=(const DnnlBackend&) = delete;

    // One product of the kind's shapes (see Gemm); accumulate adds into dst; bias may be null.
    void matmul(Gemm kind, bool accumulate, int64_t N, int64_t I, int64_t O, const float* src,
                const float* weights, const float* bias, float* dst);
    // The same products on bf16 operands (src and weights as raw bf16 bits, in the layouts of
    // Gemm), accumulated in float32 with a float32 bias, into a float32 dst: the GEMMs of bf16
    // autocast (linear_bf16.cpp). Cached with the float primitives, keyed by the type too.
    void matmul_bf16(Gemm kind, bool accumulate, int64_t N, int64_t I, int64_t O,
                     const uint16_t* src, const uint16_t* weights, const float* bias, float* dst);
    // The same product written as bf16 (rounded to nearest, ties to even, by oneDNN): half the
    // bytes of a float32 result that would only be rounded afterwards (the weight gradients).
    void matmul_bf16_rounded(Gemm kind, int64_t N, int64_t I, int64_t O, const uint16_t* src,
                             const uint16_t* weights, uint16_t* dst);
    // dinp (N,I) (+)= dout (N,O) x W (O,I) as a FORWARD product against W^T, which a reorder
    // writes into a scratch copy first (linear.cpp says when that pays).
    void backward_data_transposed(bool accumulate, int64_t N, int64_t I, int64_t O,
                                  const float* dout, const float* weight, float* dinp);

  private:
    class Impl;
    Impl& impl();
    // One call at a time: the cached memory objects carry the running call's pointers. Each call
    // uses every thread anyway.
    std::mutex mutex_;
    std::unique_ptr<Impl> impl_;  // created on the first GEMM
};

}  // namespace ft::ops
