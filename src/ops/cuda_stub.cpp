// The CUDA twins of a build without CUDA: every op asked to run on a CUDA context throws
// ft::Error saying so (as core/device_cuda_stub.cpp does for memory).
#include <string>

#include "ops/cuda_backend.h"
#include "ops/ops_cuda.h"

namespace ft::ops::cuda {

namespace {
[[noreturn]] void unavailable(const char* op) {
    throw Error(std::string("op ") + op +
                " was asked to run on a CUDA device, but finetune was built without CUDA");
}
}  // namespace

}  // namespace ft::ops::cuda

namespace ft::ops {
std::unique_ptr<CudaBackend> make_cuda_backend() {
    cuda::unavailable("make_cuda_backend");
}
}  // namespace ft::ops

namespace ft::ops::cuda {

void embedding_forward(const Context&, float*, const int32_t*, const int32_t*, const int32_t*,
                       const float*, const float*, const float*, int64_t, int64_t) {
    unavailable("embedding_forward");
}
void embedding_backward(const Context&, float*, float*, float*, const float*, const int32_t*,
                        const int32_t*, const int32_t*, int64_t, int64_t) {
    unavailable("embedding_backward");
}
void layernorm_forward(const Context&, float*, float*, float*, const float*, const float*,
                       const float*, int64_t, int64_t, double) {
    unavailable("layernorm_forward");
}
void layernorm_backward(const Context&, float*, float*, float*, const float*, const float*,
                        const float*, const float*, const float*, int64_t, int64_t) {
    unavailable("layernorm_backward");
}
void linear_forward(const Context&, float*, const float*, const float*, const float*, int64_t,
                    int64_t, int64_t) {
    unavailable("linear_forward");
}
void linear_backward(const Context&, float*, float*, float*, const float*, const float*,
                     const float*, int64_t, int64_t, int64_t, bool) {
    unavailable("linear_backward");
}
void attention_forward(const Context&, float*, float*, const float*, const float*, const float*,
                       const int32_t*, int64_t, int64_t, int64_t, double, const Philox*, uint64_t) {
    unavailable("attention_forward");
}
void attention_backward(const Context&, float*, float*, float*, const float*, const float*,
                        const float*, const float*, const float*, const int32_t*, int64_t, int64_t,
                        int64_t, double, const Philox*, uint64_t) {
    unavailable("attention_backward");
}
void attention_first_query_forward(const Context&, float*, float*, const float*, const float*,
                                   const float*, const int32_t*, int64_t, int64_t, int64_t, double,
                                   const Philox*, uint64_t) {
    unavailable("attention_first_query_forward");
}
void attention_first_query_backward(const Context&, float*, float*, float*, const float*,
                                    const float*, const float*, const float*, const float*,
                                    const int32_t*, int64_t, int64_t, int64_t, double,
                                    const Philox*, uint64_t) {
    unavailable("attention_first_query_backward");
}
void activation_forward(const Context&, Activation, float*, const float*, int64_t) {
    unavailable("activation_forward");
}
void activation_backward(const Context&, Activation, float*, const float*, const float*,
                         const float*, int64_t) {
    unavailable("activation_backward");
}
void add_forward(const Context&, float*, const float*, const float*, int64_t) {
    unavailable("add_forward");
}
void dropout_forward(const Context&, float*, const float*, int64_t, double, const Philox&,
                     uint64_t) {
    unavailable("dropout_forward");
}
void gather_first_token(const Context&, float*, const float*, const int32_t*, int64_t, int64_t) {
    unavailable("gather_first_token");
}
void gather_first_token_backward(const Context&, float*, const float*, const int32_t*, int64_t,
                                 int64_t, int64_t) {
    unavailable("gather_first_token_backward");
}
void cross_entropy_forward_backward(const Context&, double*, float*, const float*, const int64_t*,
                                    int64_t, int64_t) {
    unavailable("cross_entropy_forward_backward");
}
void mse_forward_backward(const Context&, double*, float*, const float*, const float*, int64_t) {
    unavailable("mse_forward_backward");
}
void bce_with_logits_forward_backward(const Context&, double*, float*, const float*, const float*,
                                      int64_t, int64_t) {
    unavailable("bce_with_logits_forward_backward");
}
void adamw_update(const Context&, float*, float*, float*, float*, int64_t, const AdamWScalars&,
                  float, bool) {
    unavailable("adamw_update");
}
void l2_norm(const Context&, double*, const float*, int64_t) {
    unavailable("l2_norm");
}
void scale(const Context&, float*, int64_t, float) {
    unavailable("scale");
}
void fill_zero(const Context&, float*, int64_t) {
    unavailable("fill_zero");
}
void copy(const Context&, float*, const float*, int64_t) {
    unavailable("copy");
}

}  // namespace ft::ops::cuda
