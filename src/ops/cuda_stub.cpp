// The CUDA twins of a build without CUDA: every op asked to run on a CUDA context throws
// ft::Error saying so (as core/device_cuda_stub.cpp does for memory).
#include <string>

#include "ops/ops_cuda.h"

namespace ft::ops::cuda {

namespace {
[[noreturn]] void unavailable(const char* op) {
    throw Error(std::string("op ") + op +
                " was asked to run on a CUDA device, but finetune was built without CUDA");
}
}  // namespace

template <class T>
void embedding_forward(const Context&, T*, const int32_t*, const int32_t*, const int32_t*, const T*,
                       const T*, const T*, int64_t, int64_t) {
    unavailable("embedding_forward");
}
template <class T>
void embedding_backward(const Context&, T*, T*, T*, const T*, const int32_t*, const int32_t*,
                        const int32_t*, int64_t, int64_t) {
    unavailable("embedding_backward");
}
template <class T>
void layernorm_forward(const Context&, T*, T*, T*, const T*, const T*, const T*, int64_t, int64_t,
                       double) {
    unavailable("layernorm_forward");
}
template <class T>
void layernorm_backward(const Context&, T*, T*, T*, const T*, const T*, const T*, const T*,
                        const T*, int64_t, int64_t) {
    unavailable("layernorm_backward");
}
template <class T>
void linear_forward(const Context&, T*, const T*, const T*, const T*, int64_t, int64_t, int64_t) {
    unavailable("linear_forward");
}
template <class T>
void linear_backward(const Context&, T*, T*, T*, const T*, const T*, const T*, int64_t, int64_t,
                     int64_t, bool) {
    unavailable("linear_backward");
}
template <class T>
void attention_forward(const Context&, T*, T*, const T*, const T*, const T*, const int32_t*,
                       int64_t, int64_t, int64_t, double, const Philox*, uint64_t) {
    unavailable("attention_forward");
}
template <class T>
void attention_backward(const Context&, T*, T*, T*, const T*, const T*, const T*, const T*,
                        const T*, const int32_t*, int64_t, int64_t, int64_t, double, const Philox*,
                        uint64_t) {
    unavailable("attention_backward");
}
template <class T>
void attention_first_query_forward(const Context&, T*, T*, const T*, const T*, const T*,
                                   const int32_t*, int64_t, int64_t, int64_t, double, const Philox*,
                                   uint64_t) {
    unavailable("attention_first_query_forward");
}
template <class T>
void attention_first_query_backward(const Context&, T*, T*, T*, const T*, const T*, const T*,
                                    const T*, const T*, const int32_t*, int64_t, int64_t, int64_t,
                                    double, const Philox*, uint64_t) {
    unavailable("attention_first_query_backward");
}
template <class T>
void gelu_forward(const Context&, T*, const T*, int64_t) {
    unavailable("gelu_forward");
}
template <class T>
void gelu_backward(const Context&, T*, const T*, const T*, int64_t) {
    unavailable("gelu_backward");
}
template <class T>
void relu_forward(const Context&, T*, const T*, int64_t) {
    unavailable("relu_forward");
}
template <class T>
void relu_backward(const Context&, T*, const T*, const T*, int64_t) {
    unavailable("relu_backward");
}
template <class T>
void tanh_forward(const Context&, T*, const T*, int64_t) {
    unavailable("tanh_forward");
}
template <class T>
void tanh_backward(const Context&, T*, const T*, const T*, int64_t) {
    unavailable("tanh_backward");
}
template <class T>
void add_forward(const Context&, T*, const T*, const T*, int64_t) {
    unavailable("add_forward");
}
template <class T>
void dropout_forward(const Context&, T*, const T*, int64_t, double, const Philox&, uint64_t) {
    unavailable("dropout_forward");
}
template <class T>
void dropout_backward(const Context&, T*, const T*, int64_t, double, const Philox&, uint64_t) {
    unavailable("dropout_backward");
}
template <class T>
void gather_first_token(const Context&, T*, const T*, const int32_t*, int64_t, int64_t) {
    unavailable("gather_first_token");
}
template <class T>
void gather_first_token_backward(const Context&, T*, const T*, const int32_t*, int64_t, int64_t,
                                 int64_t) {
    unavailable("gather_first_token_backward");
}
template <class T>
void cross_entropy_forward_backward(const Context&, double*, T*, const T*, const int64_t*, int64_t,
                                    int64_t) {
    unavailable("cross_entropy_forward_backward");
}
template <class T>
void mse_forward_backward(const Context&, double*, T*, const T*, const T*, int64_t) {
    unavailable("mse_forward_backward");
}
template <class T>
void bce_with_logits_forward_backward(const Context&, double*, T*, const T*, const T*, int64_t,
                                      int64_t) {
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

#define FT_INSTANTIATE(T)                                                                          \
    template void embedding_forward<T>(const Context&, T*, const int32_t*, const int32_t*,         \
                                       const int32_t*, const T*, const T*, const T*, int64_t,      \
                                       int64_t);                                                   \
    template void embedding_backward<T>(const Context&, T*, T*, T*, const T*, const int32_t*,      \
                                        const int32_t*, const int32_t*, int64_t, int64_t);         \
    template void layernorm_forward<T>(const Context&, T*, T*, T*, const T*, const T*, const T*,   \
                                       int64_t, int64_t, double);                                  \
    template void layernorm_backward<T>(const Context&, T*, T*, T*, const T*, const T*, const T*,  \
                                        const T*, const T*, int64_t, int64_t);                     \
    template void linear_forward<T>(const Context&, T*, const T*, const T*, const T*, int64_t,     \
                                    int64_t, int64_t);                                             \
    template void linear_backward<T>(const Context&, T*, T*, T*, const T*, const T*, const T*,     \
                                     int64_t, int64_t, int64_t, bool);                             \
    template void attention_forward<T>(const Context&, T*, T*, const T*, const T*, const T*,       \
                                       const int32_t*, int64_t, int64_t, int64_t, double,          \
                                       const Philox*, uint64_t);                                   \
    template void attention_backward<T>(const Context&, T*, T*, T*, const T*, const T*, const T*,  \
                                        const T*, const T*, const int32_t*, int64_t, int64_t,      \
                                        int64_t, double, const Philox*, uint64_t);                 \
    template void attention_first_query_forward<T>(const Context&, T*, T*, const T*, const T*,     \
                                                   const T*, const int32_t*, int64_t, int64_t,     \
                                                   int64_t, double, const Philox*, uint64_t);      \
    template void attention_first_query_backward<T>(                                               \
        const Context&, T*, T*, T*, const T*, const T*, const T*, const T*, const T*,              \
        const int32_t*, int64_t, int64_t, int64_t, double, const Philox*, uint64_t);               \
    template void gelu_forward<T>(const Context&, T*, const T*, int64_t);                          \
    template void gelu_backward<T>(const Context&, T*, const T*, const T*, int64_t);               \
    template void relu_forward<T>(const Context&, T*, const T*, int64_t);                          \
    template void relu_backward<T>(const Context&, T*, const T*, const T*, int64_t);               \
    template void tanh_forward<T>(const Context&, T*, const T*, int64_t);                          \
    template void tanh_backward<T>(const Context&, T*, const T*, const T*, int64_t);               \
    template void add_forward<T>(const Context&, T*, const T*, const T*, int64_t);                 \
    template void dropout_forward<T>(const Context&, T*, const T*, int64_t, double, const Philox&, \
                                     uint64_t);                                                    \
    template void dropout_backward<T>(const Context&, T*, const T*, int64_t, double,               \
                                      const Philox&, uint64_t);                                    \
    template void gather_first_token<T>(const Context&, T*, const T*, const int32_t*, int64_t,     \
                                        int64_t);                                                  \
    template void gather_first_token_backward<T>(const Context&, T*, const T*, const int32_t*,     \
                                                 int64_t, int64_t, int64_t);                       \
    template void cross_entropy_forward_backward<T>(const Context&, double*, T*, const T*,         \
                                                    const int64_t*, int64_t, int64_t);             \
    template void mse_forward_backward<T>(const Context&, double*, T*, const T*, const T*,         \
                                          int64_t);                                                \
    template void bce_with_logits_forward_backward<T>(const Context&, double*, T*, const T*,       \
                                                      const T*, int64_t, int64_t);
FT_INSTANTIATE(float)
FT_INSTANTIATE(double)
#undef FT_INSTANTIATE

}  // namespace ft::ops::cuda
