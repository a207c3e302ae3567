// The encoder's forward and backward on packed batches (see encoder.h). The families differ only
// in EncoderSpec: token types, dropout on the attention output, activation, eps, dropout rates.
#include "model/encoder.h"

#include "ops/ops.h"

namespace ft {

Encoder::Encoder(const ops::Context& ctx, const EncoderSpec& spec)
    : ctx_(ctx), s_(spec), HS(spec.C / spec.NH), ac_(ctx) {
    layers_.resize(static_cast<size_t>(s_.L));
}

void Encoder::declare_activations(ActivationTable& t) {
    const int64_t C = s_.C, F = s_.F;
    t.add(&emb_sum_, Rows::TOKENS, C);
    t.add(&emb_mean_, Rows::TOKENS, 1);
    t.add(&emb_rstd_, Rows::TOKENS, 1);
    t.add(&emb_out_, Rows::TOKENS, C);
    for (LayerActs& a : layers_) {
        for (float** p : {&a.q, &a.k, &a.v, &a.ctx}) t.add(p, Rows::TOKENS, C);
        t.add(&a.probs, Rows::PROBS, 1);
        t.add(&a.sum1, Rows::TOKENS, C);
        t.add(&a.mean1, Rows::TOKENS, 1);
        t.add(&a.rstd1, Rows::TOKENS, 1);
        t.add(&a.h1, Rows::TOKENS, C);
        t.add(&a.ffn_pre, Rows::TOKENS, F);
        t.add(&a.ffn_act, Rows::TOKENS, F);
        t.add(&a.sum2, Rows::TOKENS, C);
        t.add(&a.mean2, Rows::TOKENS, 1);
        t.add(&a.rstd2, Rows::TOKENS, 1);
        t.add(&a.out, Rows::TOKENS, C);
    }
    for (float** p : {&x_first_, &ctx_first_, &g_ctx_first_}) t.add(p, Rows::SEQUENCES, C);
    for (float** p : {&g_out_, &g_in_, &g_sum_, &g_tmp_, &g_h1_, &g_ctx_, &g_q_, &g_k_, &g_v_})
        t.add(p, Rows::TOKENS, C);
    t.add(&g_f1_, Rows::TOKENS, F);
    t.add(&g_f2_, Rows::TOKENS, F);
}

// With first_only (the last layer of a FIRST_TOKEN forward) only the B first-token rows go on
// past the keys and values. Under bf16 autocast the linears, attention, GELU and the dropouts
// after them are bf16 (rounded); the residual adds and LayerNorms stay float32.
void Encoder::forward_layer(const LayerParams<const float>& w, const LayerParams<const uint16_t>& h,
                            int64_t l, const float* x, bool first_only) {
    LayerActs& a = layers_[static_cast<size_t>(l)];
    const int64_t C = s_.C, F = s_.F, NH = s_.NH;
    const int32_t* off = batch_.offsets;
    const double pa = dropout_.p(s_.attention_dropout);
    const Philox* attn_rng = pa > 0 ? &dropout_.rng : nullptr;
    const uint64_t attn_site = Dropout::offset(dropout_site::attention(l));
    ac_.linear_forward(a.k, x, w.k, h.k, T, C, C);
    ac_.linear_forward(a.v, x, w.v, h.v, T, C, C);
    if (first_only) {
        ops::gather_first_token(ctx_, x_first_, x, off, B, C);
        ac_.linear_forward(a.q, x_first_, w.q, h.q, B, C, C);
    } else {
        ac_.linear_forward(a.q, x, w.q, h.q, T, C, C);
    }
    float* ctx_out = first_only ? ctx_first_ : a.ctx;
    if (ac_.bf16())
        ops::attention_forward_bf16(ctx_, ctx_out, a.probs, a.q, a.k, a.v, off, B, NH, HS,
                                    s_.attention_scale, pa, attn_rng, attn_site, first_only);
    else if (first_only)
        ops::attention_first_query_forward(ctx_, ctx_out, a.probs, a.q, a.k, a.v, off, B, NH, HS,
                                           pa, attn_rng, attn_site);
    else
        ops::attention_forward(ctx_, ctx_out, a.probs, a.q, a.k, a.v, off, B, NH, HS, pa, attn_rng,
                               attn_site);
    const int64_t R = first_only ? B : T;
    const float* x_res = first_only ? x_first_ : x;
    ac_.linear_forward(a.sum1, ctx_out, w.o, h.o, R, C, C);
    if (s_.attention_output_dropout)
        ac_.dropout(dropout_, a.sum1, R * C, s_.hidden_dropout, dropout_site::attention_output(l));
    ops::add_forward(ctx_, a.sum1, a.sum1, x_res, R * C);
    ops::layernorm_forward(ctx_, a.h1, a.mean1, a.rstd1, a.sum1, w.ln1.w, w.ln1.b, R, C, s_.eps);
    ac_.linear_forward(a.ffn_pre, a.h1, w.ffn1, h.ffn1, R, C, F);
    // GELU is a bf16 op under autocast, but its output's only reader is the next linear, which
    // rounds its input to bf16 anyway: no rounding pass here (nor for its gradient below).
    ops::activation_forward(ctx_, s_.ffn_activation, a.ffn_act, a.ffn_pre, R * F);
    ac_.linear_forward(a.sum2, a.ffn_act, w.ffn2, h.ffn2, R, F, C);
    ac_.dropout(dropout_, a.sum2, R * C, s_.hidden_dropout, dropout_site::ffn(l));
    ops::add_forward(ctx_, a.sum2, a.sum2, a.h1, R * C);
    ops::layernorm_forward(ctx_, a.out, a.mean2, a.rstd2, a.sum2, w.ln2.w, w.ln2.b, R, C, s_.eps);
}

void Encoder::set_bf16(const EncoderParams<const uint16_t>* p16) {
    p16_ = p16;
    ac_.set_bf16(p16 != nullptr);
}

const LayerParams<const uint16_t>& Encoder::layer16(int64_t l) const {
    return p16_ ? p16_->layers[static_cast<size_t>(l)] : none16_;
}

const float* Encoder::forward(const EncoderParams<const float>& p, const BatchPointers& bt,
                              EncoderOutput rows, const Dropout& dropout) {
    batch_ = bt;
    rows_ = rows;
    dropout_ = dropout;
    T = bt.T;
    B = bt.B;
    const int64_t C = s_.C;

    // The positions and token types come staged (batch_pointers.cpp): null types when the family
    // has none.
    ops::embedding_forward(ctx_, emb_sum_, bt.input_ids, bt.positions, bt.token_types, p.wte, p.wpe,
                           bt.token_types ? p.wtt : nullptr, T, C);
    ops::layernorm_forward(ctx_, emb_out_, emb_mean_, emb_rstd_, emb_sum_, p.ln.w, p.ln.b, T, C,
                           s_.eps);
    dropout_.apply(emb_out_, T * C, s_.hidden_dropout, dropout_site::embeddings());

    const float* x = emb_out_;
    for (int64_t l = 0; l < s_.L; ++l) {
        const bool first_only = rows == EncoderOutput::FIRST_TOKEN && l == s_.L - 1;
        forward_layer(p.layers[static_cast<size_t>(l)], layer16(l), l, x, first_only);
        x = layers_[static_cast<size_t>(l)].out;
    }
    return x;
}

// g_y: gradient of the layer's output (B rows when first_only, else T); g_x: of its input (T).
void Encoder::backward_layer(const LayerParams<const float>& w,
                             const LayerParams<const uint16_t>& h, LayerParams<float>& g, int64_t l,
                             const float* x, float* g_x, const float* g_y, bool first_only) {
    LayerActs& a = layers_[static_cast<size_t>(l)];
    const int64_t C = s_.C, F = s_.F, NH = s_.NH;
    const int64_t R = first_only ? B : T;
    const int32_t* off = batch_.offsets;

    // Output LayerNorm, then the FFN branch; the residual carries g_sum to h1 unchanged.
    ops::layernorm_backward(ctx_, g_sum_, g.ln2.w, g.ln2.b, g_y, a.sum2, w.ln2.w, a.mean2, a.rstd2,
                            R, C);
    const float* g_ffn_out = ac_.dropout_backward(dropout_, g_tmp_, g_sum_, R * C,
                                                  s_.hidden_dropout, dropout_site::ffn(l));
    ac_.linear_backward(g_f1_, g.ffn2, g_ffn_out, a.ffn_act, w.ffn2, h.ffn2, R, F, C, false);
    ops::activation_backward(ctx_, s_.ffn_activation, g_f2_, g_f1_, a.ffn_pre, a.ffn_act, R * F);
    ops::copy(ctx_, g_h1_, g_sum_, R * C);
    ac_.linear_backward(g_h1_, g.ffn1, g_f2_, a.h1, w.ffn1, h.ffn1, R, C, F, true);

    // Attention LayerNorm, then the attention branch; the residual carries g_sum to x.
    ops::layernorm_backward(ctx_, g_sum_, g.ln1.w, g.ln1.b, g_h1_, a.sum1, w.ln1.w, a.mean1,
                            a.rstd1, R, C);
    const float* g_attn_out =
        s_.attention_output_dropout
            ? ac_.dropout_backward(dropout_, g_tmp_, g_sum_, R * C, s_.hidden_dropout,
                                   dropout_site::attention_output(l))
            : g_sum_;
    const double pa = dropout_.p(s_.attention_dropout);
    const Philox* attn_rng = pa > 0 ? &dropout_.rng : nullptr;
    const uint64_t attn_site = Dropout::offset(dropout_site::attention(l));
    float* g_ctx = first_only ? g_ctx_first_ : g_ctx_;
    const float* ctx_in = first_only ? ctx_first_ : a.ctx;
    ac_.linear_backward(g_ctx, g.o, g_attn_out, ctx_in, w.o, h.o, R, C, C, false);
    if (ac_.bf16())
        ops::attention_backward_bf16(ctx_, g_q_, g_k_, g_v_, g_ctx, a.q, a.k, a.v, a.probs, off, B,
                                     NH, HS, s_.attention_scale, pa, attn_rng, attn_site,
                                     first_only);
    else if (first_only)
        ops::attention_first_query_backward(ctx_, g_q_, g_k_, g_v_, g_ctx, a.q, a.k, a.v, a.probs,
                                            off, B, NH, HS, pa, attn_rng, attn_site);
    else
        ops::attention_backward(ctx_, g_q_, g_k_, g_v_, g_ctx, a.q, a.k, a.v, a.probs, off, B, NH,
                                HS, pa, attn_rng, attn_site);
    if (first_only) {
        // Only the first rows had queries: their input gradient (the residual's g_sum plus the
        // query path's) is formed on B rows, then scattered; K and V add on all rows.
        ac_.linear_backward(g_sum_, g.q, g_q_, x_first_, w.q, h.q, B, C, C, true);
        ops::gather_first_token_backward(ctx_, g_x, g_sum_, off, B, C, T);
        ac_.linear_backward(g_x, g.k, g_k_, x, w.k, h.k, T, C, C, true);
        ac_.linear_backward(g_x, g.v, g_v_, x, w.v, h.v, T, C, C, true);
        return;
    }
    ops::copy(ctx_, g_x, g_sum_, T * C);
    if (ac_.bf16()) {
        // autograd's order, which decides the float32 sum's bits (linear_bf16.cpp): V, K, Q.
        ac_.linear_backward(g_x, g.v, g_v_, x, w.v, h.v, T, C, C, true);
        ac_.linear_backward(g_x, g.k, g_k_, x, w.k, h.k, T, C, C, true);
        ac_.linear_backward(g_x, g.q, g_q_, x, w.q, h.q, T, C, C, true);
    } else {
        ac_.linear_backward(g_x, g.q, g_q_, x, w.q, h.q, T, C, C, true);
        ac_.linear_backward(g_x, g.k, g_k_, x, w.k, h.k, T, C, C, true);
        ac_.linear_backward(g_x, g.v, g_v_, x, w.v, h.v, T, C, C, true);
    }
}

void Encoder::backward(const EncoderParams<const float>& p, EncoderParams<float>& g,
                       const float* g_hidden) {
    // Layers, last to first; g_in and g_out take turns holding the gradient moving down.
    const float* g_y = g_hidden;
    float* turns[2] = {g_in_, g_out_};
    for (int64_t l = s_.L - 1; l >= 0; --l) {
        const float* x = l == 0 ? emb_out_ : layers_[static_cast<size_t>(l - 1)].out;
        float* g_x = turns[l % 2];
        const bool first_only = rows_ == EncoderOutput::FIRST_TOKEN && l == s_.L - 1;
        backward_layer(p.layers[static_cast<size_t>(l)], layer16(l),
                       g.layers[static_cast<size_t>(l)], l, x, g_x, g_y, first_only);
        g_y = g_x;
    }
    // Embeddings: dropout, LayerNorm, then the lookup tables.
    const float* g_emb =
        dropout_.backward(g_tmp_, g_y, T * s_.C, s_.hidden_dropout, dropout_site::embeddings());
    ops::layernorm_backward(ctx_, g_sum_, g.ln.w, g.ln.b, g_emb, emb_sum_, p.ln.w, emb_mean_,
                            emb_rstd_, T, s_.C);
    ops::embedding_backward(ctx_, g.wte, g.wpe, batch_.token_types ? g.wtt : nullptr, g_sum_,
                            batch_.input_ids, batch_.positions, batch_.token_types, T, s_.C);
}

}  // namespace ft
