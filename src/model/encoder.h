// The transformer encoder shared by every family: embeddings (word + position (+ token type)),
// LayerNorm, dropout, then L post-LayerNorm layers. It returns the last layer's hidden states for
// the rows its head asks for, and its backward takes their gradient.
#pragma once

#include "finetune/model.h"
#include "model/activation_table.h"
#include "model/autocast.h"
#include "model/batch_pointers.h"
#include "model/dropout.h"
#include "model/family.h"
#include "model/param_views.h"
#include "ops/context.h"

namespace ft {

// Which rows of the last layer a head reads.
enum class EncoderOutput {
    ALL_TOKENS,   // (T, C): token classification
    FIRST_TOKEN,  // (B, C), each sequence's first token: sequence classification. The last layer
                  // then computes queries, attention, projection and FFN for those rows only
                  // (exact: nothing else reaches the head), saving their GEMMs for T - B rows.
};

class Encoder {
  public:
    // Runs every op on ctx (its device, stream and scratch).
    Encoder(const ops::Context& ctx, const EncoderSpec& spec);
    const EncoderSpec& spec() const { return s_; }

    // Registers the saved activations and the backward scratch with the model's arena table.
    void declare_activations(ActivationTable& table);

    // bf16 autocast from now on with these bf16 weights (which must outlive their use); null:
    // float32.
    void set_bf16(const EncoderParams<const uint16_t>* p16);
    // The batch must have been validated; its arrays stay valid until backward(). Returns (T, C)
    // or (B, C) hidden states.
    const float* forward(const EncoderParams<const float>& p, const BatchPointers& batch,
                         EncoderOutput rows, const Dropout& dropout);
    // grads += d(loss)/d(params), given the gradient of forward()'s output rows.
    void backward(const EncoderParams<const float>& p, EncoderParams<float>& g,
                  const float* g_hidden);

  private:
    struct LayerActs {
        float *q, *k, *v, *ctx, *probs, *sum1, *mean1, *rstd1, *h1, *ffn_pre, *ffn_act, *sum2,
            *mean2, *rstd2, *out;
    };
    void forward_layer(const LayerParams<const float>& w, const LayerParams<const uint16_t>& h,
                       int64_t l, const float* x, bool first_only);
    void backward_layer(const LayerParams<const float>& w, const LayerParams<const uint16_t>& h,
                        LayerParams<float>& g, int64_t l, const float* x, float* g_x,
                        const float* g_y, bool first_only);
    // Layer l's bf16 weights, or none (all null) in float32.
    const LayerParams<const uint16_t>& layer16(int64_t l) const;

    const ops::Context& ctx_;
    EncoderSpec s_;
    int64_t HS;
    Autocast ac_;
    const EncoderParams<const uint16_t>* p16_ = nullptr;
    LayerParams<const uint16_t> none16_;
    // The last forward.
    BatchPointers batch_;
    int64_t T = 0, B = 0;
    EncoderOutput rows_ = EncoderOutput::ALL_TOKENS;
    Dropout dropout_;

    // Carved from the model's arena.
    float *emb_sum_, *emb_mean_, *emb_rstd_, *emb_out_;
    std::vector<LayerActs> layers_;
    float *x_first_, *ctx_first_, *g_ctx_first_;  // the last layer's first-token rows
    float *g_out_, *g_in_, *g_sum_, *g_tmp_, *g_h1_, *g_ctx_, *g_q_, *g_k_, *g_v_, *g_f1_, *g_f2_;
};

}  // namespace ft
