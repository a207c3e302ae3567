// The CUDA twins of the ops of ops.h: the same signatures, called by each op's dispatch when
// ctx.device is CUDA. A build with CUDA implements them in .cu files; one without compiles
// cuda_stub.cpp, whose every entry throws ft::Error "built without CUDA".
#pragma once

#include <cstdint>

#include "ops/ops.h"

namespace ft::ops::cuda {

template <class T>
void embedding_forward(const Context& ctx, T* out, const int32_t* ids, const int32_t* pos,
                       const int32_t* types, const T* wte, const T* wpe, const T* wtt, int64_t ntok,
                       int64_t C);
template <class T>
void embedding_backward(const Context& ctx, T* dwte, T* dwpe, T* dwtt, const T* dout,
                        const int32_t* ids, const int32_t* pos, const int32_t* types, int64_t ntok,
                        int64_t C);
template <class T>
void layernorm_forward(const Context& ctx, T* out, T* mean, T* rstd, const T* inp, const T* weight,
                       const T* bias, int64_t ntok, int64_t C, double eps);
template <class T>
void layernorm_backward(const Context& ctx, T* dinp, T* dweight, T* dbias, const T* dout,
                        const T* inp, const T* weight, const T* mean, const T* rstd, int64_t ntok,
                        int64_t C);
template <class T>
void linear_forward(const Context& ctx, T* out, const T* inp, const T* weight, const T* bias,
                    int64_t N, int64_t I, int64_t O);
template <class T>
void linear_backward(const Context& ctx, T* dinp, T* dweight, T* dbias, const T* dout, const T* inp,
                     const T* weight, int64_t N, int64_t I, int64_t O, bool accumulate_dinp);
template <class T>
void attention_forward(const Context& ctx, T* out, T* probs, const T* q, const T* k, const T* v,
                       const int32_t* offsets, int64_t B, int64_t NH, int64_t HS, double dropout_p,
                       const Philox* rng, uint64_t rng_offset);
template <class T>
void attention_backward(const Context& ctx, T* dq, T* dk, T* dv, const T* dout, const T* q,
                        const T* k, const T* v, const T* probs, const int32_t* offsets, int64_t B,
                        int64_t NH, int64_t HS, double dropout_p, const Philox* rng,
                        uint64_t rng_offset);
template <class T>
void attention_first_query_forward(const Context& ctx, T* out_first, T* probs_first,
                                   const T* q_first, const T* k, const T* v, const int32_t* offsets,
                                   int64_t B, int64_t NH, int64_t HS, double dropout_p,
                                   const Philox* rng, uint64_t rng_offset);
template <class T>
void attention_first_query_backward(const Context& ctx, T* dq_first, T* dk, T* dv,
                                    const T* dout_first, const T* q_first, const T* k, const T* v,
                                    const T* probs_first, const int32_t* offsets, int64_t B,
                                    int64_t NH, int64_t HS, double dropout_p, const Philox* rng,
                                    uint64_t rng_offset);
template <class T>
void gelu_forward(const Context& ctx, T* out, const T* inp, int64_t n);
template <class T>
void gelu_backward(const Context& ctx, T* dinp, const T* dout, const T* inp, int64_t n);
template <class T>
void relu_forward(const Context& ctx, T* out, const T* inp, int64_t n);
template <class T>
void relu_backward(const Context& ctx, T* dinp, const T* dout, const T* out, int64_t n);
template <class T>
void tanh_forward(const Context& ctx, T* out, const T* inp, int64_t n);
template <class T>
void tanh_backward(const Context& ctx, T* dinp, const T* dout, const T* out, int64_t n);
template <class T>
void add_forward(const Context& ctx, T* out, const T* a, const T* b, int64_t n);
template <class T>
void dropout_forward(const Context& ctx, T* out, const T* inp, int64_t n, double p,
                     const Philox& rng, uint64_t rng_offset);
template <class T>
void dropout_backward(const Context& ctx, T* dinp, const T* dout, int64_t n, double p,
                      const Philox& rng, uint64_t rng_offset);
template <class T>
void gather_first_token(const Context& ctx, T* out, const T* hidden, const int32_t* offsets,
                        int64_t B, int64_t C);
template <class T>
void gather_first_token_backward(const Context& ctx, T* dhidden, const T* dout,
                                 const int32_t* offsets, int64_t B, int64_t C, int64_t ntok);
template <class T>
void cross_entropy_forward_backward(const Context& ctx, double* loss, T* dlogits, const T* logits,
                                    const int64_t* labels, int64_t B, int64_t K);
template <class T>
void mse_forward_backward(const Context& ctx, double* loss, T* dpred, const T* pred,
                          const T* target, int64_t B);
template <class T>
void bce_with_logits_forward_backward(const Context& ctx, double* loss, T* dlogits, const T* logits,
                                      const T* target, int64_t B, int64_t K);

void adamw_update(const Context& ctx, float* p, float* g, float* m, float* v, int64_t n,
                  const AdamWScalars& k, float grad_scale, bool zero_grads);
void l2_norm(const Context& ctx, double* out, const float* x, int64_t n);
void scale(const Context& ctx, float* x, int64_t n, float c);
void fill_zero(const Context& ctx, float* x, int64_t n);
void copy(const Context& ctx, float* dst, const float* src, int64_t n);

}  // namespace ft::ops::cuda
