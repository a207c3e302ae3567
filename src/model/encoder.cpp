// The encoder's forward and backward on packed batches (see encoder.h). The families differ only
// in EncoderSpec: token types, dropout on the attention output, activation, eps, dropout rates.
#include "model/encoder.h"

#include "ops/ops.h"

namespace ft {

Encoder::Encoder(const ops::Context& ctx, const EncoderSpec& spec)
    : ctx_(ctx), s_(spec), HS(spec.C / spec.NH) {
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
// past the keys and values.
void Encoder::forward_layer(const LayerParams<const float>& w, int64_t l, const float* x,
                            bool first_only) {
    LayerActs& a = layers_[static_cast<size_t>(l)];
    const int64_t C = s_.C, F = s_.F, NH = s_.NH;
    const int32_t* off = batch_.offsets;
    const double pa = dropout_.p(s_.attention_dropout);
    const Philox* attn_rng = pa > 0 ? &dropout_.rng : nullptr;
    const uint64_t attn_site = Dropout::offset(dropout_site::attention(l));
    ops::linear_forward(ctx_, a.k, x, w.k.w, w.k.b, T, C, C);
    ops::linear_forward(ctx_, a.v, x, w.v.w, w.v.b, T, C, C);
    if (first_only) {
        ops::gather_first_token(ctx_, x_first_, x, off, B, C);
        ops::linear_forward(ctx_, a.q, x_first_, w.q.w, w.q.b, B, C, C);
        ops::attention_first_query_forward(ctx_, ctx_first_, a.probs, a.q, a.k, a.v, off, B, NH, HS,
                                           pa, attn_rng, attn_site);
    } else {
        ops::linear_forward(ctx_, a.q, x, w.q.w, w.q.b, T, C, C);
        ops::attention_forward(ctx_, a.ctx, a.probs, a.q, a.k, a.v, off, B, NH, HS, pa, attn_rng,
                               attn_site);
    }
    const int64_t R = first_only ? B : T;
    const float* ctx_in = first_only ? ctx_first_ : a.ctx;
    const float* x_res = first_only ? x_first_ : x;
    ops::linear_forward(ctx_, a.sum1, ctx_in, w.o.w, w.o.b, R, C, C);
    if (s_.attention_output_dropout)
        dropout_.apply(a.sum1, R * C, s_.hidden_dropout, dropout_site::attention_output(l));
    ops::add_forward(ctx_, a.sum1, a.sum1, x_res, R * C);
    ops::layernorm_forward(ctx_, a.h1, a.mean1, a.rstd1, a.sum1, w.ln1.w, w.ln1.b, R, C, s_.eps);
    ops::linear_forward(ctx_, a.ffn_pre, a.h1, w.ffn1.w, w.ffn1.b, R, C, F);
    ops::activation_forward(ctx_, s_.ffn_activation, a.ffn_act, a.ffn_pre, R * F);
    ops::linear_forward(ctx_, a.sum2, a.ffn_act, w.ffn2.w, w.ffn2.b, R, F, C);
    dropout_.apply(a.sum2, R * C, s_.hidden_dropout, dropout_site::ffn(l));
    ops::add_forward(ctx_, a.sum2, a.sum2, a.h1, R * C);
    ops::layernorm_forward(ctx_, a.out, a.mean2, a.rstd2, a.sum2, w.ln2.w, w.ln2.b, R, C, s_.eps);
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
        forward_layer(p.layers[static_cast<size_t>(l)], l, x, first_only);
        x = layers_[static_cast<size_t>(l)].out;
    }
    return x;
}

// g_y: gradient of the layer's output (B rows when first_only, else T); g_x: of its input (T).
void Encoder::backward_layer(const LayerParams<const float>& w, LayerParams<float>& g, int64_t l,
                             const float* x, float* g_x, const float* g_y, bool first_only) {
    LayerActs& a = layers_[static_cast<size_t>(l)];
    const int64_t C = s_.C, F = s_.F, NH = s_.NH;
    const int64_t R = first_only ? B : T;
    const int32_t* off = batch_.offsets;

    // Output LayerNorm, then the FFN branch; the residual carries g_sum to h1 unchanged.
    ops::layernorm_backward(ctx_, g_sum_, g.ln2.w, g.ln2.b, g_y, a.sum2, w.ln2.w, a.mean2, a.rstd2,
                            R, C);
    const float* g_ffn_out =
        dropout_.backward(g_tmp_, g_sum_, R * C, s_.hidden_dropout, dropout_site::ffn(l));
    ops::linear_backward(ctx_, g_f1_, g.ffn2.w, g.ffn2.b, g_ffn_out, a.ffn_act, w.ffn2.w, R, F, C,
                         false);
    ops::activation_backward(ctx_, s_.ffn_activation, g_f2_, g_f1_, a.ffn_pre, a.ffn_act, R * F);
    ops::copy(ctx_, g_h1_, g_sum_, R * C);
    ops::linear_backward(ctx_, g_h1_, g.ffn1.w, g.ffn1.b, g_f2_, a.h1, w.ffn1.w, R, C, F, true);

    // Attention LayerNorm, then the attention branch; the residual carries g_sum to x.
    ops::layernorm_backward(ctx_, g_sum_, g.ln1.w, g.ln1.b, g_h1_, a.sum1, w.ln1.w, a.mean1,
                            a.rstd1, R, C);
    const float* g_attn_out = s_.attention_output_dropout
                                  ? dropout_.backward(g_tmp_, g_sum_, R * C, s_.hidden_dropout,
                                                      dropout_site::attention_output(l))
                                  : g_sum_;
    const double pa = dropout_.p(s_.attention_dropout);
    const Philox* attn_rng = pa > 0 ? &dropout_.rng : nullptr;
    const uint64_t attn_site = Dropout::offset(dropout_site::attention(l));
    if (first_only) {
        // Only the first rows had queries: their input gradient (the residual's g_sum plus the
        // query path's) is formed on B rows, then scattered; K and V add on all rows.
        ops::linear_backward(ctx_, g_ctx_first_, g.o.w, g.o.b, g_attn_out, ctx_first_, w.o.w, B, C,
                             C, false);
        ops::attention_first_query_backward(ctx_, g_q_, g_k_, g_v_, g_ctx_first_, a.q, a.k, a.v,
                                            a.probs, off, B, NH, HS, pa, attn_rng, attn_site);
        ops::linear_backward(ctx_, g_sum_, g.q.w, g.q.b, g_q_, x_first_, w.q.w, B, C, C, true);
        ops::gather_first_token_backward(ctx_, g_x, g_sum_, off, B, C, T);
    } else {
        ops::linear_backward(ctx_, g_ctx_, g.o.w, g.o.b, g_attn_out, a.ctx, w.o.w, T, C, C, false);
        ops::attention_backward(ctx_, g_q_, g_k_, g_v_, g_ctx_, a.q, a.k, a.v, a.probs, off, B, NH,
                                HS, pa, attn_rng, attn_site);
        ops::copy(ctx_, g_x, g_sum_, T * C);
        ops::linear_backward(ctx_, g_x, g.q.w, g.q.b, g_q_, x, w.q.w, T, C, C, true);
    }
    ops::linear_backward(ctx_, g_x, g.k.w, g.k.b, g_k_, x, w.k.w, T, C, C, true);
    ops::linear_backward(ctx_, g_x, g.v.w, g.v.b, g_v_, x, w.v.w, T, C, C, true);
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
        backward_layer(p.layers[static_cast<size_t>(l)], g.layers[static_cast<size_t>(l)], l, x,
                       g_x, g_y, first_only);
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
