// ops/ops.h — forward/backward kernel pairs of the encoder on packed batches, and the optimizer's
// passes over the flat parameter buffers. Private to the library.
//
// Every op takes an execution context (ops/context.h) first, then outputs, then inputs, then
// sizes. An op is its checks, then its dispatch on ctx.device, then its CPU implementation (the
// op's file) or its CUDA twin (ops_cuda.h; a build without CUDA reports "built without CUDA").
// Each encoder op is a pair x_forward / x_backward with the same argument order. Forward saves
// what backward needs as explicit outputs. Parameter gradients accumulate (+=) so gradient
// accumulation is free; activation gradients are written (=) unless the comment says += (the
// residual stream). Kernels never throw.
//
// Dimension letters: B sequences, T tokens of the packed batch (all sequences concatenated),
// C hidden, NH heads, HS head size (C / NH), F FFN width, V vocab, P positions, K labels.
// A packed batch is described by offsets[B + 1]: sequence b owns tokens offsets[b] ..
// offsets[b + 1] - 1, and offsets[B] = T. Its first token is [CLS]. offsets live on the host.
//
// The encoder ops are templates over the scalar (float for training, double for the
// finite-difference tests), instantiated for both. Only float uses the optimised paths (oneDNN
// GEMMs, SIMD).
#pragma once

#include <cstdint>

#include "finetune/core.h"
#include "ops/context.h"

namespace ft::ops {

// ---- embeddings: out[t] = wte[ids[t]] + wpe[pos[t]] (+ wtt[types[t]] when wtt is given) -------
template <class T>
void embedding_forward(const Context& ctx, T* out /*(T,C)*/, const int32_t* ids /*(T)*/,
                       const int32_t* pos /*(T)*/, const int32_t* types /*(T) or null*/,
                       const T* wte /*(V,C)*/, const T* wpe /*(P,C)*/,
                       const T* wtt /*(TT,C) or null*/, int64_t ntok, int64_t C);
// dwte, dwpe, dwtt += (dwtt may be null).
template <class T>
void embedding_backward(const Context& ctx, T* dwte /*(V,C)*/, T* dwpe /*(P,C)*/,
                        T* dwtt /*(TT,C) or null*/, const T* dout /*(T,C)*/, const int32_t* ids,
                        const int32_t* pos, const int32_t* types, int64_t ntok, int64_t C);

// ---- LayerNorm over the last dimension; saves mean and rstd = 1/sqrt(var + eps) --------------
template <class T>
void layernorm_forward(const Context& ctx, T* out /*(T,C)*/, T* mean /*(T)*/, T* rstd /*(T)*/,
                       const T* inp /*(T,C)*/, const T* weight /*(C)*/, const T* bias /*(C)*/,
                       int64_t ntok, int64_t C, double eps);
// dinp = (written); dweight, dbias +=.
template <class T>
void layernorm_backward(const Context& ctx, T* dinp /*(T,C)*/, T* dweight /*(C)*/, T* dbias /*(C)*/,
                        const T* dout /*(T,C)*/, const T* inp /*(T,C)*/, const T* weight /*(C)*/,
                        const T* mean /*(T)*/, const T* rstd /*(T)*/, int64_t ntok, int64_t C);

// ---- linear: out = inp @ weight^T + bias (torch.nn.Linear layout: weight is (O, I)) ----------
template <class T>
void linear_forward(const Context& ctx, T* out /*(N,O)*/, const T* inp /*(N,I)*/,
                    const T* weight /*(O,I)*/, const T* bias /*(O) or null*/, int64_t N, int64_t I,
                    int64_t O);
// dinp = dout @ weight, written, or added when accumulate_dinp (inputs that feed several
// linears, e.g. Q, K and V); dinp may be null (first layer). dweight, dbias +=.
template <class T>
void linear_backward(const Context& ctx, T* dinp /*(N,I) or null*/, T* dweight /*(O,I)*/,
                     T* dbias /*(O) or null*/, const T* dout /*(N,O)*/, const T* inp /*(N,I)*/,
                     const T* weight /*(O,I)*/, int64_t N, int64_t I, int64_t O,
                     bool accumulate_dinp);

// ---- bf16 autocast (torch.autocast("cpu", dtype=torch.bfloat16); docs/bf16-autocast.md) ------
// Float tensors in memory, computed as autocast computes them: r() rounds to bf16 (nearest, ties
// to even, as f32_to_bf16), GEMMs take bf16 operands and accumulate in float32. float only, CPU
// only (a GPU context throws). Fast where cpu_has_bf16_gemm() (cpu_features.h); elsewhere oneDNN
// falls back to emulated or reference kernels, far slower. Scratch comes from ctx.workspace.
//
// out = r(r(inp) @ weight_bf16^T + r(bias)), the sum (bias included) in float32, rounded once.
// weight_bf16 is the bf16 copy of the float32 weights (to_bf16), as autocast casts them.
void linear_forward_bf16(const Context& ctx, float* out /*(N,O)*/, const float* inp /*(N,I)*/,
                         const uint16_t* weight_bf16 /*(O,I)*/, const float* bias /*(O) or null*/,
                         int64_t N, int64_t I, int64_t O);
// With g = r(dout) (dout is bf16-valued when it comes from a bf16 op; a gradient from a float32
// consumer is rounded, as autograd's cast backward does):
//   dinp = r(g @ weight_bf16), written, or added in float32 when accumulate_dinp (may be null);
//   dweight += r(g^T @ r(inp)); dbias += r(column sums of g) (dbias may be null; the sums in
//   double, so the exact sum rounded once, where torch's float32 sum may flip a tie).
// Each rounded product is added to the float32 gradient in float32, as autograd adds the bf16
// gradient (converted exactly) into .grad. For an input that feeds several bf16 linears (Q, K,
// V), autograd sums their dinp in float32 starting from the linear created last: run V's backward
// first, then K's, then Q's, to get its bits (linear_bf16.cpp has the measurements).
void linear_backward_bf16(const Context& ctx, float* dinp /*(N,I) or null*/,
                          float* dweight /*(O,I)*/, float* dbias /*(O) or null*/,
                          const float* dout /*(N,O)*/, const float* inp /*(N,I)*/,
                          const uint16_t* weight_bf16 /*(O,I)*/, int64_t N, int64_t I, int64_t O,
                          bool accumulate_dinp);
// x = r(x) in place, as float values.
void round_to_bf16(const Context& ctx, float* x, int64_t n);
// In-place dropout on a bf16 tensor (forward, and the same map on its gradient): the float32
// op's mask, kept elements times r(1/(1-p)), rounded. CPU only.
void dropout_bf16(const Context& ctx, float* x, int64_t n, double p, const Philox& rng,
                  uint64_t rng_offset);
// dst = the bf16 bits of r(src) (the optimizer's bf16 copy of the weights).
void to_bf16(const Context& ctx, uint16_t* dst, const float* src, int64_t n);

// ---- multi-head self-attention core on a packed batch ----------------------------------------
// For each sequence b and head h: S = Q K^T / sqrt(HS); P = softmax(S) over keys of the same
// sequence; out = dropout(P) V. q, k, v, out are (T, C) with head h in columns h*HS .. h*HS+HS-1.
// probs saves P (before dropout): for sequence b, NH blocks of len_b x len_b, sequences one
// after another (attention_probs_size gives the total). Dropout on P uses (rng, rng_offset);
// the same arguments in backward regenerate the same mask. rng null or dropout_p 0: no dropout.
// Scratch comes from ctx.workspace.
int64_t attention_probs_size(const int32_t* offsets /*(B+1)*/, int64_t B, int64_t NH);
template <class T>
void attention_forward(const Context& ctx, T* out /*(T,C)*/, T* probs /*(see above)*/,
                       const T* q /*(T,C)*/, const T* k /*(T,C)*/, const T* v /*(T,C)*/,
                       const int32_t* offsets, int64_t B, int64_t NH, int64_t HS, double dropout_p,
                       const Philox* rng, uint64_t rng_offset);
// dq, dk, dv written.
template <class T>
void attention_backward(const Context& ctx, T* dq /*(T,C)*/, T* dk /*(T,C)*/, T* dv /*(T,C)*/,
                        const T* dout /*(T,C)*/, const T* q, const T* k, const T* v, const T* probs,
                        const int32_t* offsets, int64_t B, int64_t NH, int64_t HS, double dropout_p,
                        const Philox* rng, uint64_t rng_offset);

// The same attention for the first query of every sequence alone (its [CLS] token), which is all
// the last layer needs: q_first and out_first are (B,C), one row per sequence; k, v are (T,C) as
// above. probs_first saves each sequence's NH probability rows of len_b (NH * T in all, the
// number of tokens times heads). Dropout draws the mask elements attention_forward draws for row 0
// of each block, so the results equal the full op's rows offsets[b]; dk and dv are written for
// every token (dq only exists for the first rows).
template <class T>
void attention_first_query_forward(const Context& ctx, T* out_first /*(B,C)*/,
                                   T* probs_first /*(NH*T)*/, const T* q_first /*(B,C)*/,
                                   const T* k /*(T,C)*/, const T* v /*(T,C)*/,
                                   const int32_t* offsets, int64_t B, int64_t NH, int64_t HS,
                                   double dropout_p, const Philox* rng, uint64_t rng_offset);
template <class T>
void attention_first_query_backward(const Context& ctx, T* dq_first /*(B,C)*/, T* dk /*(T,C)*/,
                                    T* dv /*(T,C)*/, const T* dout_first /*(B,C)*/,
                                    const T* q_first, const T* k, const T* v, const T* probs_first,
                                    const int32_t* offsets, int64_t B, int64_t NH, int64_t HS,
                                    double dropout_p, const Philox* rng, uint64_t rng_offset);

// Where a family's attention divides by sqrt(HS), which decides the dtypes under bf16 autocast
// (attention_bf16.cpp): DistilBERT divides the queries, BERT the scores.
enum class AttentionScale { QUERIES, SCORES };
// Attention under bf16 autocast, float CPU tensors holding bf16 values (docs/bf16-autocast.md):
// bf16 products with float32 sums, the roundings torch 1.13 makes. first_query false: the
// shapes of attention_forward / attention_backward; true: of the attention_first_query_* pair.
// probs saves P as the backward reads it (bf16 values for QUERIES, float32 for SCORES).
void attention_forward_bf16(const Context& ctx, float* out, float* probs, const float* q,
                            const float* k, const float* v, const int32_t* offsets, int64_t B,
                            int64_t NH, int64_t HS, AttentionScale scale, double dropout_p,
                            const Philox* rng, uint64_t rng_offset, bool first_query);
void attention_backward_bf16(const Context& ctx, float* dq, float* dk, float* dv, const float* dout,
                             const float* q, const float* k, const float* v, const float* probs,
                             const int32_t* offsets, int64_t B, int64_t NH, int64_t HS,
                             AttentionScale scale, double dropout_p, const Philox* rng,
                             uint64_t rng_offset, bool first_query);

// ---- pointwise -------------------------------------------------------------------------------
// out = act(inp). GELU is exact: x * 0.5 * (1 + erf(x / sqrt(2))), HF's "gelu".
template <class T>
void activation_forward(const Context& ctx, Activation act, T* out, const T* inp, int64_t n);
// dinp = dout * act'(x), written. GELU's derivative reads the input inp, ReLU's and tanh's the
// output out; the one not read may be null.
template <class T>
void activation_backward(const Context& ctx, Activation act, T* dinp, const T* dout, const T* inp,
                         const T* out, int64_t n);
// out = a + b (the residual add before each LayerNorm).
template <class T>
void add_forward(const Context& ctx, T* out, const T* a, const T* b, int64_t n);

// Inverted dropout: element i is zeroed when rng.uniform(rng_offset + i) < p, else scaled by
// 1/(1-p). out may alias inp. Backward regenerates the mask; dinp may alias dout.
template <class T>
void dropout_forward(const Context& ctx, T* out, const T* inp, int64_t n, double p,
                     const Philox& rng, uint64_t rng_offset);
template <class T>
void dropout_backward(const Context& ctx, T* dinp, const T* dout, int64_t n, double p,
                      const Philox& rng, uint64_t rng_offset);

// ---- the classification heads' input: the [CLS] (first) token of each sequence -----------------
template <class T>
void gather_first_token(const Context& ctx, T* out /*(B,C)*/, const T* hidden /*(T,C)*/,
                        const int32_t* offsets, int64_t B, int64_t C);
// dhidden written in full: the [CLS] rows from dout, every other row zero.
template <class T>
void gather_first_token_backward(const Context& ctx, T* dhidden /*(T,C)*/, const T* dout /*(B,C)*/,
                                 const int32_t* offsets, int64_t B, int64_t C, int64_t ntok);

// ---- losses, as HF picks them: each writes the mean loss to *loss (memory the caller owns, on
// ctx's device, so that a GPU step need not synchronise to return it) and d(loss)/d(logits) ----
// Cross-entropy over K classes; labels equal to -100 are ignored (torch's ignore_index), the mean
// is over the others (NaN when every label is ignored). dlogits written (zero rows for ignored
// labels).
template <class T>
void cross_entropy_forward_backward(const Context& ctx, double* loss /*(1)*/, T* dlogits /*(B,K)*/,
                                    const T* logits /*(B,K)*/, const int64_t* labels /*(B)*/,
                                    int64_t B, int64_t K);
// Regression (num_labels = 1): mean squared error.
template <class T>
void mse_forward_backward(const Context& ctx, double* loss /*(1)*/, T* dpred /*(B)*/,
                          const T* pred /*(B)*/, const T* target /*(B)*/, int64_t B);
// Multi-label: BCEWithLogits averaged over B*K.
template <class T>
void bce_with_logits_forward_backward(const Context& ctx, double* loss /*(1)*/,
                                      T* dlogits /*(B,K)*/, const T* logits /*(B,K)*/,
                                      const T* target /*(B,K)*/, int64_t B, int64_t K);

// ---- the optimizer's passes over the flat buffers (float only: master weights, moments) --------
// One AdamW update's scalars, formed by the optimizer (train/adamw.cpp) in double and rounded
// once, as torch does with Python floats.
struct AdamWScalars {
    float b1, b2, one_minus_b1, one_minus_b2, eps;
    float decay;          // torch form: 1 - lr*wd (multiplies p); HF form: -lr*wd (adds p times it)
    float neg_step_size;  // torch form: -lr/bias1; HF form: -lr*sqrt(bias2)/bias1
    float sqrt_bias2;     // torch form only
    bool torch_form;
};
// The update of p, m, v (n each) from g * grad_scale (x * 1.0f == x: scale 1 is exact);
// zero_grads sets each g to 0 once read (g is only read otherwise):
//   torch: gi = g*s; m = b1 m + (1-b1) gi; v = b2 v + (1-b2) gi^2;
//          p = p*decay + neg_step_size * m / (sqrt(v)/sqrt_bias2 + eps)
//   HF:    m, v as above; p += neg_step_size * m / (sqrt(v) + eps); p += decay * p
void adamw_update(const Context& ctx, float* p, float* g, float* m, float* v, int64_t n,
                  const AdamWScalars& k, float grad_scale, bool zero_grads);
// The same update, also writing the bf16 bits of each new p to p_bf16 (the copy bf16 autocast's
// GEMMs read), in the same pass. CPU only.
void adamw_update_bf16(const Context& ctx, float* p, uint16_t* p_bf16, float* g, float* m, float* v,
                       int64_t n, const AdamWScalars& k, float grad_scale, bool zero_grads);
// *out = sqrt(sum x^2), summed in double over fixed chunks added in order: the same bits for any
// thread count.
void l2_norm(const Context& ctx, double* out /*(1)*/, const float* x, int64_t n);
// x *= c.
void scale(const Context& ctx, float* x, int64_t n, float c);
// x = 0.
void fill_zero(const Context& ctx, float* x, int64_t n);
// dst = src (n floats on ctx's device; the engine's copies between ops, e.g. a residual's
// gradient).
void copy(const Context& ctx, float* dst, const float* src, int64_t n);

// ---- timings of the default context (cpu_context()) ------------------------------------------
void timing_reset();
OpTimes timing_totals();

}  // namespace ft::ops
