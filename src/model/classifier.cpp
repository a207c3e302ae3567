// The ForSequenceClassification engine for DistilBERT and BERT on packed batches: forward in
// train or eval mode, the loss HF would pick, and the backward that accumulates into a flat
// gradient buffer. Both families share one post-LayerNorm encoder; the differences (token
// types, dropout after the attention output, head activation, dropout rates) are in Arch.
#include <cmath>
#include <cstring>
#include <limits>

#include "finetune/model.h"
#include "finetune/ops.h"

namespace ft {

namespace {

// What distinguishes the two families once the parameters are laid out alike.
struct Arch {
    bool token_types = false;               // BERT adds token-type embeddings
    bool attention_output_dropout = false;  // BERT's BertSelfOutput drops out; DistilBERT not
    Activation ffn_activation = Activation::GELU;
    bool head_tanh = false;  // BERT pooler: tanh; DistilBERT pre_classifier: ReLU
    double hidden_dropout = 0.1, attention_dropout = 0.1, head_dropout = 0.1;
    double eps = 1e-12;
};

Arch arch_of(const ModelConfig& c) {
    Arch a;
    a.ffn_activation = c.activation();
    a.eps = c.layer_norm_eps();
    if (c.family == ModelFamily::BERT) {
        a.token_types = true;
        a.attention_output_dropout = true;
        a.head_tanh = true;
        a.hidden_dropout = c.bert.hidden_dropout_prob;
        a.attention_dropout = c.bert.attention_probs_dropout_prob;
        a.head_dropout = c.bert.classifier_dropout.value_or(c.bert.hidden_dropout_prob);
    } else {
        a.hidden_dropout = c.distilbert.dropout;
        a.attention_dropout = c.distilbert.attention_dropout;
        a.head_dropout = c.distilbert.seq_classif_dropout;
    }
    return a;
}

// Tensor indices of one encoder layer in the parameter table (same order in both families:
// Q, K, V, attention output, LayerNorm, FFN in, FFN out, LayerNorm; weight then bias).
enum LayerSlot {
    WQ,
    BQ,
    WK,
    BK,
    WV,
    BV,
    WO,
    BO,
    LN1_W,
    LN1_B,
    W1,
    B1,
    W2,
    B2,
    LN2_W,
    LN2_B,
    SLOTS
};

// Dropout sites get disjoint counter ranges so that no two share random numbers.
uint64_t site_offset(uint64_t site) {
    return site << 40;
}

}  // namespace

int64_t PackedBatch::max_length() const {
    int64_t m = 0;
    for (size_t b = 0; b + 1 < offsets.size(); ++b)
        m = std::max<int64_t>(m, offsets[b + 1] - offsets[b]);
    return m;
}

struct SequenceClassifier::Impl {
    const ModelConfig& config;
    const ModelWeights& weights;
    Arch arch;
    int64_t C, F, NH, HS, L, K;
    size_t emb_first;    // index of the first embedding tensor
    size_t layer_first;  // index of layer 0's first tensor
    size_t head_first;   // index of the head's first tensor (pre_classifier / pooler weight)

    Arena arena;
    int64_t cap_tokens = 0, cap_seqs = 0, cap_probs = 0;

    // The last forward's geometry and state.
    const PackedBatch* batch = nullptr;
    int64_t T = 0, B = 0;
    bool train = false;
    Philox rng{0, 0};
    // Sized with the arena (ensure_capacity), so a step never allocates.
    std::vector<int32_t> positions;      // (T) position of each token within its sequence
    std::vector<int32_t> zero_type_ids;  // (T) all 0, for BERT batches without token types
    const int32_t* type_ids = nullptr;   // the last forward's token types (null: DistilBERT)
    double loss = std::numeric_limits<double>::quiet_NaN();

    // Saved activations (pointers into the arena).
    struct LayerActs {
        float *q, *k, *v, *ctx, *probs, *sum1, *mean1, *rstd1, *h1, *ffn_pre, *ffn_act, *sum2,
            *mean2, *rstd2, *out;
    };
    float *emb_sum, *emb_mean, *emb_rstd, *emb_out;
    std::vector<LayerActs> layers;
    const float* cls;                    // the head's input: the last layer's B [CLS] rows
    float *ctx_cls, *x_cls, *g_ctx_cls;  // the last layer's [CLS] rows of ctx and of its input
    float *pre, *act, *act_drop, *logits;
    // Backward scratch.
    float *g_out, *g_in, *g_sum, *g_tmp, *g_h1, *g_ctx, *g_q, *g_k, *g_v, *g_f1, *g_f2;
    float *g_logits, *g_act, *g_pre, *g_cls;

    Impl(const ModelConfig& c, const ModelWeights& w) : config(c), weights(w), arch(arch_of(c)) {
        C = c.hidden();
        F = c.ffn();
        NH = c.heads();
        HS = C / NH;
        L = c.layers();
        K = c.num_labels();
        emb_first = 0;
        layer_first = arch.token_types ? 5 : 4;
        head_first = layer_first + static_cast<size_t>(L) * SLOTS;
        FT_ASSERT(weights.specs().size() == head_first + 4, "unexpected parameter table");
    }

    const float* w(size_t i) const { return weights.tensors()[i].ptr<const float>(); }
    const float* lw(int64_t l, int slot) const {
        return w(layer_first + static_cast<size_t>(l) * SLOTS + slot);
    }
    static float* gw(ModelWeights& g, size_t i) { return g.tensor(i).ptr<float>(); }

    size_t bytes_needed(int64_t tokens, int64_t seqs, int64_t probs) const {
        const int64_t per_layer = tokens * (9 * C + 2 * F + 4) + probs;
        const int64_t total = tokens * (2 * C + 2) + L * per_layer + seqs * (4 * C + K) +
                              tokens * (10 * C + 2 * F) + seqs * (5 * C + K);
        // Each of ~40 + 16 L carve-outs may lose up to 64 bytes to alignment.
        return static_cast<size_t>(total) * sizeof(float) + static_cast<size_t>(64 * (48 + 20 * L));
    }

    void ensure_capacity(int64_t tokens, int64_t seqs, int64_t probs) {
        if (tokens <= cap_tokens && seqs <= cap_seqs && probs <= cap_probs) return;
        cap_tokens = std::max(cap_tokens, tokens);
        cap_seqs = std::max(cap_seqs, seqs);
        cap_probs = std::max(cap_probs, probs);
        arena = Arena(bytes_needed(cap_tokens, cap_seqs, cap_probs));
        positions.resize(static_cast<size_t>(cap_tokens));
        zero_type_ids.assign(static_cast<size_t>(cap_tokens), 0);
    }

    float* take(int64_t n) {
        return static_cast<float*>(arena.alloc(static_cast<size_t>(n) * sizeof(float)));
    }

    void carve(int64_t probs) {
        arena.reset();
        emb_sum = take(T * C);
        emb_mean = take(T);
        emb_rstd = take(T);
        emb_out = take(T * C);
        layers.resize(static_cast<size_t>(L));
        for (auto& a : layers) {
            a.q = take(T * C);
            a.k = take(T * C);
            a.v = take(T * C);
            a.ctx = take(T * C);
            a.probs = take(probs);
            a.sum1 = take(T * C);
            a.mean1 = take(T);
            a.rstd1 = take(T);
            a.h1 = take(T * C);
            a.ffn_pre = take(T * F);
            a.ffn_act = take(T * F);
            a.sum2 = take(T * C);
            a.mean2 = take(T);
            a.rstd2 = take(T);
            a.out = take(T * C);
        }
        ctx_cls = take(B * C);
        x_cls = take(B * C);
        g_ctx_cls = take(B * C);
        pre = take(B * C);
        act = take(B * C);
        act_drop = take(B * C);
        logits = take(B * K);
        for (float** g : {&g_out, &g_in, &g_sum, &g_tmp, &g_h1, &g_ctx, &g_q, &g_k, &g_v})
            *g = take(T * C);
        g_f1 = take(T * F);
        g_f2 = take(T * F);
        g_logits = take(B * K);
        g_act = take(B * C);
        g_pre = take(B * C);
        g_cls = take(B * C);
    }

    double dropout_p(double p) const { return train ? p : 0.0; }

    // In-place dropout on n values at a site; a no-op in eval mode or with p = 0.
    void drop(float* x, int64_t n, double p, uint64_t site) {
        if (train && p > 0.0) ops::dropout_forward(x, x, n, p, rng, site_offset(site));
    }
    // Gradient through a site's dropout; returns where the result is (in place when no dropout).
    const float* drop_back(float* dst, const float* src, int64_t n, double p, uint64_t site) {
        if (!(train && p > 0.0)) return src;
        ops::dropout_backward(dst, src, n, p, rng, site_offset(site));
        return dst;
    }

    uint64_t site_embeddings() const { return 0; }
    uint64_t site_attention(int64_t l) const { return 1 + 3 * static_cast<uint64_t>(l); }
    uint64_t site_attention_output(int64_t l) const { return 2 + 3 * static_cast<uint64_t>(l); }
    uint64_t site_ffn(int64_t l) const { return 3 + 3 * static_cast<uint64_t>(l); }
    uint64_t site_head() const { return 1 + 3 * static_cast<uint64_t>(L); }

    // One encoder layer. With cls_only (the last layer) only the B [CLS] rows go on past the keys
    // and values: the head reads nothing else, so the other rows' queries, attention rows, output
    // projection and FFN are never needed (exact, and it saves their GEMMs for T - B rows).
    void forward_layer(int64_t l, const float* x, bool cls_only) {
        LayerActs& a = layers[static_cast<size_t>(l)];
        const int32_t* off = batch->offsets.data();
        const double pa = dropout_p(arch.attention_dropout);
        const Philox* attn_rng = pa > 0 ? &rng : nullptr;
        ops::linear_forward(a.k, x, lw(l, WK), lw(l, BK), T, C, C);
        ops::linear_forward(a.v, x, lw(l, WV), lw(l, BV), T, C, C);
        if (cls_only) {
            ops::gather_first_token(x_cls, x, off, B, C);
            ops::linear_forward(a.q, x_cls, lw(l, WQ), lw(l, BQ), B, C, C);
            ops::attention_first_query_forward(ctx_cls, a.probs, a.q, a.k, a.v, off, B, NH, HS, pa,
                                               attn_rng, site_offset(site_attention(l)));
        } else {
            ops::linear_forward(a.q, x, lw(l, WQ), lw(l, BQ), T, C, C);
            ops::attention_forward(a.ctx, a.probs, a.q, a.k, a.v, off, B, NH, HS, pa, attn_rng,
                                   site_offset(site_attention(l)));
        }
        const int64_t R = cls_only ? B : T;
        const float* ctx_in = cls_only ? ctx_cls : a.ctx;
        const float* x_res = cls_only ? x_cls : x;
        ops::linear_forward(a.sum1, ctx_in, lw(l, WO), lw(l, BO), R, C, C);
        if (arch.attention_output_dropout)
            drop(a.sum1, R * C, arch.hidden_dropout, site_attention_output(l));
        ops::add_forward(a.sum1, a.sum1, x_res, R * C);
        ops::layernorm_forward(a.h1, a.mean1, a.rstd1, a.sum1, lw(l, LN1_W), lw(l, LN1_B), R, C,
                               arch.eps);
        ops::linear_forward(a.ffn_pre, a.h1, lw(l, W1), lw(l, B1), R, C, F);
        if (arch.ffn_activation == Activation::GELU) {
            ops::gelu_forward(a.ffn_act, a.ffn_pre, R * F);
        } else {
            ops::relu_forward(a.ffn_act, a.ffn_pre, R * F);
        }
        ops::linear_forward(a.sum2, a.ffn_act, lw(l, W2), lw(l, B2), R, F, C);
        drop(a.sum2, R * C, arch.hidden_dropout, site_ffn(l));
        ops::add_forward(a.sum2, a.sum2, a.h1, R * C);
        ops::layernorm_forward(a.out, a.mean2, a.rstd2, a.sum2, lw(l, LN2_W), lw(l, LN2_B), R, C,
                               arch.eps);
    }

    double forward(const PackedBatch& bt, bool is_train, uint64_t seed, uint64_t step) {
        batch = &bt;
        train = is_train;
        rng = Philox(seed, step);
        T = bt.num_tokens();
        B = bt.num_sequences();
        validate(bt);
        const int64_t probs = ops::attention_probs_size(bt.offsets.data(), B, NH);
        ensure_capacity(T, B, probs);
        carve(probs);

        // Embeddings: positions restart at 0 in every sequence, as in the padded model.
        for (int64_t b = 0; b < B; ++b)
            for (int32_t t = bt.offsets[b]; t < bt.offsets[b + 1]; ++t)
                positions[t] = t - bt.offsets[b];
        const bool types = arch.token_types;
        // BERT without token types in the batch: all segment 0, as HF defaults them.
        type_ids = !types                      ? nullptr
                   : bt.token_type_ids.empty() ? zero_type_ids.data()
                                               : bt.token_type_ids.data();
        ops::embedding_forward(emb_sum, bt.input_ids.data(), positions.data(), type_ids, w(0), w(1),
                               types ? w(2) : nullptr, T, C);
        const size_t ln = types ? 3 : 2;
        ops::layernorm_forward(emb_out, emb_mean, emb_rstd, emb_sum, w(ln), w(ln + 1), T, C,
                               arch.eps);
        drop(emb_out, T * C, arch.hidden_dropout, site_embeddings());

        const float* x = emb_out;
        for (int64_t l = 0; l < L; ++l) {
            forward_layer(l, x, /*cls_only=*/l == L - 1);
            x = layers[static_cast<size_t>(l)].out;
        }

        // Head: [CLS] (the last layer's B rows) -> dense -> ReLU (DistilBERT) / tanh (BERT
        // pooler) -> dropout -> classifier.
        cls = layers[static_cast<size_t>(L - 1)].out;
        ops::linear_forward(pre, cls, w(head_first), w(head_first + 1), B, C, C);
        if (arch.head_tanh) {
            ops::tanh_forward(act, pre, B * C);
        } else {
            ops::relu_forward(act, pre, B * C);
        }
        std::memcpy(act_drop, act, static_cast<size_t>(B * C) * sizeof(float));
        drop(act_drop, B * C, arch.head_dropout, site_head());
        ops::linear_forward(logits, act_drop, w(head_first + 2), w(head_first + 3), B, C, K);

        loss = compute_loss();
        return loss;
    }

    void validate(const PackedBatch& bt) const {
        if (bt.offsets.empty() || bt.offsets[0] != 0)
            throw Error("packed batch: offsets must start with 0");
        for (int64_t b = 0; b < B; ++b) {
            const int64_t len = bt.offsets[b + 1] - bt.offsets[b];
            if (len <= 0) throw Error("packed batch: sequence " + std::to_string(b) + " is empty");
            if (len > config.max_positions())
                throw Error("packed batch: sequence " + std::to_string(b) + " has " +
                            std::to_string(len) +
                            " tokens; the model takes at most max_position_embeddings = " +
                            std::to_string(config.max_positions()));
        }
        if (static_cast<int64_t>(bt.input_ids.size()) != T)
            throw Error("packed batch: " + std::to_string(bt.input_ids.size()) + " input ids for " +
                        std::to_string(T) + " tokens");
        for (int64_t t = 0; t < T; ++t)
            if (bt.input_ids[t] < 0 || bt.input_ids[t] >= config.vocab())
                throw Error("packed batch: token id " + std::to_string(bt.input_ids[t]) +
                            " at position " + std::to_string(t) + " is outside the vocabulary of " +
                            std::to_string(config.vocab()));
        if (!bt.token_type_ids.empty()) {
            if (static_cast<int64_t>(bt.token_type_ids.size()) != T)
                throw Error("packed batch: token_type_ids has " +
                            std::to_string(bt.token_type_ids.size()) + " entries for " +
                            std::to_string(T) + " tokens");
            const int64_t types =
                config.family == ModelFamily::BERT ? config.bert.type_vocab_size : 1;
            for (int32_t t : bt.token_type_ids)
                if (t < 0 || t >= types)
                    throw Error("packed batch: token type " + std::to_string(t) +
                                " is outside 0.." + std::to_string(types - 1));
        }
        if (!bt.labels.empty() && static_cast<int64_t>(bt.labels.size()) != B)
            throw Error("packed batch: " + std::to_string(bt.labels.size()) + " labels for " +
                        std::to_string(B) + " sequences");
        if (!bt.targets.empty() && static_cast<int64_t>(bt.targets.size()) != B * K)
            throw Error("packed batch: " + std::to_string(bt.targets.size()) + " targets for " +
                        std::to_string(B) + " sequences x " + std::to_string(K) + " labels");
    }

    ProblemType problem() const {
        if (config.problem_type != ProblemType::NONE) return config.problem_type;
        return K == 1 ? ProblemType::REGRESSION : ProblemType::SINGLE_LABEL_CLASSIFICATION;
    }

    double compute_loss() {
        switch (problem()) {
            case ProblemType::REGRESSION:
                if (batch->targets.empty()) {
                    if (batch->labels.empty()) return std::numeric_limits<double>::quiet_NaN();
                    throw Error("regression needs float targets, the batch has class labels");
                }
                return ops::mse_forward_backward(g_logits, logits, batch->targets.data(), B * K);
            case ProblemType::MULTI_LABEL_CLASSIFICATION:
                if (batch->targets.empty()) return std::numeric_limits<double>::quiet_NaN();
                return ops::bce_with_logits_forward_backward(g_logits, logits,
                                                             batch->targets.data(), B, K);
            default:
                if (batch->labels.empty()) return std::numeric_limits<double>::quiet_NaN();
                for (int64_t b = 0; b < B; ++b)
                    if (batch->labels[b] != -100 && (batch->labels[b] < 0 || batch->labels[b] >= K))
                        throw Error("label " + std::to_string(batch->labels[b]) + " of sequence " +
                                    std::to_string(b) + " is outside 0.." + std::to_string(K - 1));
                return ops::cross_entropy_forward_backward(g_logits, logits, batch->labels.data(),
                                                           B, K);
        }
    }

    // g_y: gradient of the layer's output (B rows when cls_only, else T); g_x: of its input (T).
    void backward_layer(int64_t l, const float* x, float* g_x, const float* g_y, ModelWeights& g,
                        bool cls_only) {
        LayerActs& a = layers[static_cast<size_t>(l)];
        const int64_t R = cls_only ? B : T;
        const size_t base = layer_first + static_cast<size_t>(l) * SLOTS;
        auto gp = [&](int slot) { return gw(g, base + slot); };
        const int32_t* off = batch->offsets.data();

        // Output LayerNorm, then the FFN branch; the residual carries g_sum to h1 unchanged.
        ops::layernorm_backward(g_sum, gp(LN2_W), gp(LN2_B), g_y, a.sum2, lw(l, LN2_W), a.mean2,
                                a.rstd2, R, C);
        const float* g_ffn_out = drop_back(g_tmp, g_sum, R * C, arch.hidden_dropout, site_ffn(l));
        ops::linear_backward(g_f1, gp(W2), gp(B2), g_ffn_out, a.ffn_act, lw(l, W2), R, F, C, false);
        if (arch.ffn_activation == Activation::GELU) {
            ops::gelu_backward(g_f2, g_f1, a.ffn_pre, R * F);
        } else {
            ops::relu_backward(g_f2, g_f1, a.ffn_act, R * F);
        }
        std::memcpy(g_h1, g_sum, static_cast<size_t>(R * C) * sizeof(float));
        ops::linear_backward(g_h1, gp(W1), gp(B1), g_f2, a.h1, lw(l, W1), R, C, F, true);

        // Attention LayerNorm, then the attention branch; the residual carries g_sum to x.
        ops::layernorm_backward(g_sum, gp(LN1_W), gp(LN1_B), g_h1, a.sum1, lw(l, LN1_W), a.mean1,
                                a.rstd1, R, C);
        const float* g_attn_out =
            arch.attention_output_dropout
                ? drop_back(g_tmp, g_sum, R * C, arch.hidden_dropout, site_attention_output(l))
                : g_sum;
        const double pa = dropout_p(arch.attention_dropout);
        const Philox* attn_rng = pa > 0 ? &rng : nullptr;
        if (cls_only) {
            // Only the [CLS] rows had queries: their input gradient (the residual's g_sum plus
            // the query path's) is formed on B rows, then scattered; K and V add on all rows.
            ops::linear_backward(g_ctx_cls, gp(WO), gp(BO), g_attn_out, ctx_cls, lw(l, WO), B, C, C,
                                 false);
            ops::attention_first_query_backward(g_q, g_k, g_v, g_ctx_cls, a.q, a.k, a.v, a.probs,
                                                off, B, NH, HS, pa, attn_rng,
                                                site_offset(site_attention(l)));
            ops::linear_backward(g_sum, gp(WQ), gp(BQ), g_q, x_cls, lw(l, WQ), B, C, C, true);
            ops::gather_first_token_backward(g_x, g_sum, off, B, C, T);
        } else {
            ops::linear_backward(g_ctx, gp(WO), gp(BO), g_attn_out, a.ctx, lw(l, WO), T, C, C,
                                 false);
            ops::attention_backward(g_q, g_k, g_v, g_ctx, a.q, a.k, a.v, a.probs, off, B, NH, HS,
                                    pa, attn_rng, site_offset(site_attention(l)));
            std::memcpy(g_x, g_sum, static_cast<size_t>(T * C) * sizeof(float));
            ops::linear_backward(g_x, gp(WQ), gp(BQ), g_q, x, lw(l, WQ), T, C, C, true);
        }
        ops::linear_backward(g_x, gp(WK), gp(BK), g_k, x, lw(l, WK), T, C, C, true);
        ops::linear_backward(g_x, gp(WV), gp(BV), g_v, x, lw(l, WV), T, C, C, true);
    }

    void backward(ModelWeights& g, float loss_scale) {
        if (!batch || std::isnan(loss))
            throw Error("backward needs a forward pass with labels first");
        if (loss_scale != 1.0f)
            for (int64_t i = 0; i < B * K; ++i) g_logits[i] *= loss_scale;
        const size_t h = head_first;
        // Head.
        ops::linear_backward(g_act, gw(g, h + 2), gw(g, h + 3), g_logits, act_drop, w(h + 2), B, C,
                             K, false);
        const float* g_act_in = drop_back(g_pre, g_act, B * C, arch.head_dropout, site_head());
        if (arch.head_tanh) {
            ops::tanh_backward(g_cls, g_act_in, act, B * C);
        } else {
            ops::relu_backward(g_cls, g_act_in, act, B * C);
        }
        ops::linear_backward(g_act, gw(g, h), gw(g, h + 1), g_cls, cls, w(h), B, C, C, false);

        // Layers, last to first; g_in and g_out take turns holding the gradient moving down.
        const float* g_y = g_act;  // of the last layer's [CLS] rows
        float* turns[2] = {g_in, g_out};
        for (int64_t l = L - 1; l >= 0; --l) {
            const float* x = l == 0 ? emb_out : layers[static_cast<size_t>(l - 1)].out;
            float* g_x = turns[l % 2];
            backward_layer(l, x, g_x, g_y, g, /*cls_only=*/l == L - 1);
            g_y = g_x;
        }

        // Embeddings: dropout, LayerNorm, then the lookup tables.
        const float* g_emb = drop_back(g_tmp, g_y, T * C, arch.hidden_dropout, site_embeddings());
        const bool types = arch.token_types;
        const size_t ln = types ? 3 : 2;
        ops::layernorm_backward(g_sum, gw(g, ln), gw(g, ln + 1), g_emb, emb_sum, w(ln), emb_mean,
                                emb_rstd, T, C);
        ops::embedding_backward(gw(g, 0), gw(g, 1), types ? gw(g, 2) : nullptr, g_sum,
                                batch->input_ids.data(), positions.data(), type_ids, T, C);
    }
};

SequenceClassifier::SequenceClassifier(const ModelConfig& config, const ModelWeights& weights)
    : impl_(std::make_unique<Impl>(config, weights)) {}
SequenceClassifier::~SequenceClassifier() = default;

void SequenceClassifier::reserve(int64_t max_tokens, int64_t max_sequences, int64_t max_length) {
    const int64_t probs = impl_->NH * max_tokens * max_length;  // sum of len^2 <= T * max len
    impl_->ensure_capacity(max_tokens, max_sequences, probs);
}

double SequenceClassifier::forward(const PackedBatch& batch, bool train, uint64_t seed,
                                   uint64_t step) {
    return impl_->forward(batch, train, seed, step);
}

void SequenceClassifier::backward(ModelWeights& grads, float loss_scale) {
    impl_->backward(grads, loss_scale);
}
const float* SequenceClassifier::logits() const {
    return impl_->logits;
}
ProblemType SequenceClassifier::problem_type() const {
    return impl_->problem();
}
size_t SequenceClassifier::arena_bytes() const {
    return impl_->arena.capacity();
}

}  // namespace ft
