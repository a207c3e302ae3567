// The CUDA twins of the ops of ops.h, in float: the signatures of the float instantiations,
// called by each op's dispatch when ctx.device is CUDA (the double ones are for CPU tests). A
// build with CUDA implements them in .cu files; one without compiles cuda_stub.cpp, whose every
// entry throws ft::Error "built without CUDA".
#pragma once

#include <cstdint>

#include "ops/ops.h"

namespace ft::ops::cuda {

void embedding_forward(const Context& ctx, float* out, const int32_t* ids, const int32_t* pos,
                       const int32_t* types, const float* wte, const float* wpe, const float* wtt,
                       int64_t ntok, int64_t C);
void embedding_backward(const Context& ctx, float* dwte, float* dwpe, float* dwtt,
                        const float* dout, const int32_t* ids, const int32_t* pos,
                        const int32_t* types, int64_t ntok, int64_t C);
void layernorm_forward(const Context& ctx, float* out, float* mean, float* rstd, const float* inp,
                       const float* weight, const float* bias, int64_t ntok, int64_t C, double eps);
void layernorm_backward(const Context& ctx, float* dinp, float* dweight, float* dbias,
                        const float* dout, const float* inp, const float* weight, const float* mean,
                        const float* rstd, int64_t ntok, int64_t C);
void linear_forward(const Context& ctx, float* out, const float* inp, const float* weight,
                    const float* bias, int64_t N, int64_t I, int64_t O);
void linear_backward(const Context& ctx, float* dinp, float* dweight, float* dbias,
                     const float* dout, const float* inp, const float* weight, int64_t N, int64_t I,
                     int64_t O, bool accumulate_dinp);
void attention_forward(const Context& ctx, float* out, float* probs, const float* q, const float* k,
                       const float* v, const int32_t* offsets, int64_t B, int64_t NH, int64_t HS,
                       double dropout_p, const Philox* rng, uint64_t rng_offset);
void attention_backward(const Context& ctx, float* dq, float* dk, float* dv, const float* dout,
                        const float* q, const float* k, const float* v, const float* probs,
                        const int32_t* offsets, int64_t B, int64_t NH, int64_t HS, double dropout_p,
                        const Philox* rng, uint64_t rng_offset);
void attention_first_query_forward(const Context& ctx, float* out_first, float* probs_first,
                                   const float* q_first, const float* k, const float* v,
                                   const int32_t* offsets, int64_t B, int64_t NH, int64_t HS,
                                   double dropout_p, const Philox* rng, uint64_t rng_offset);
void attention_first_query_backward(const Context& ctx, float* dq_first, float* dk, float* dv,
                                    const float* dout_first, const float* q_first, const float* k,
                                    const float* v, const float* probs_first,
                                    const int32_t* offsets, int64_t B, int64_t NH, int64_t HS,
                                    double dropout_p, const Philox* rng, uint64_t rng_offset);
void activation_forward(const Context& ctx, Activation act, float* out, const float* inp,
                        int64_t n);
void activation_backward(const Context& ctx, Activation act, float* dinp, const float* dout,
                         const float* inp, const float* out, int64_t n);
void add_forward(const Context& ctx, float* out, const float* a, const float* b, int64_t n);
void dropout_forward(const Context& ctx, float* out, const float* inp, int64_t n, double p,
                     const Philox& rng, uint64_t rng_offset);
void gather_first_token(const Context& ctx, float* out, const float* hidden, const int32_t* offsets,
                        int64_t B, int64_t C);
void gather_first_token_backward(const Context& ctx, float* dhidden, const float* dout,
                                 const int32_t* offsets, int64_t B, int64_t C, int64_t ntok);
void cross_entropy_forward_backward(const Context& ctx, double* loss, float* dlogits,
                                    const float* logits, const int64_t* labels, int64_t B,
                                    int64_t K);
void mse_forward_backward(const Context& ctx, double* loss, float* dpred, const float* pred,
                          const float* target, int64_t B);
void bce_with_logits_forward_backward(const Context& ctx, double* loss, float* dlogits,
                                      const float* logits, const float* target, int64_t B,
                                      int64_t K);

void adamw_update(const Context& ctx, float* p, float* g, float* m, float* v, int64_t n,
                  const AdamWScalars& k, float grad_scale, bool zero_grads);
void l2_norm(const Context& ctx, double* out, const float* x, int64_t n);
void scale(const Context& ctx, float* x, int64_t n, float c);
void fill_zero(const Context& ctx, float* x, int64_t n);
void copy(const Context& ctx, float* dst, const float* src, int64_t n);

}  // namespace ft::ops::cuda
