// Forward, loss and backward of the token-classification head (see its header).
#include "model/token_classification_head.h"

#include <limits>

#include "ops/ops.h"

namespace ft {

TokenClassificationHead::TokenClassificationHead(const ops::Context& ctx, const TokenHeadSpec& spec,
                                                 int64_t c, int64_t k, int64_t layers)
    : ctx_(ctx), s_(spec), C(c), K(k), L(layers), ac_(ctx) {}

void TokenClassificationHead::declare_activations(ActivationTable& t) {
    t.add(&x_drop_, Rows::TOKENS, C);
    t.add(&logits_, Rows::TOKENS, K);
    t.add(&g_logits_, Rows::TOKENS, K);
    t.add(&loss_, Rows::ONE, 1, DType::F64);
    t.add(&g_x_, Rows::TOKENS, C);
    t.add(&g_x_drop_, Rows::TOKENS, C);
}

void TokenClassificationHead::validate(const PackedBatch& bt) const {
    const int64_t t = bt.num_tokens();
    if (!bt.targets.empty())
        throw Error(
            "packed batch: token classification takes class ids per token, the batch has "
            "float targets");
    if (!bt.labels.empty() && static_cast<int64_t>(bt.labels.size()) != t)
        throw Error("packed batch: " + std::to_string(bt.labels.size()) + " labels for " +
                    std::to_string(t) +
                    " tokens (token classification labels every token; -100 "
                    "marks one the loss skips)");
    for (int64_t i = 0; i < static_cast<int64_t>(bt.labels.size()); ++i)
        if (bt.labels[i] != -100 && (bt.labels[i] < 0 || bt.labels[i] >= K))
            throw Error("label " + std::to_string(bt.labels[i]) + " of token " + std::to_string(i) +
                        " is outside 0.." + std::to_string(K - 1) + " (or -100)");
}

void TokenClassificationHead::set_bf16(const HeadParams<const uint16_t>* p16) {
    p16_ = p16 ? *p16 : HeadParams<const uint16_t>{};
    ac_.set_bf16(p16 != nullptr);
}

double TokenClassificationHead::forward(const HeadParams<const float>& p, const float* x,
                                        const BatchPointers& batch, const Dropout& dropout) {
    T = batch.T;
    dropout_ = dropout;
    x_ = x;
    // The encoder's output is float32 under autocast too (LayerNorm), so is this dropout.
    if (dropout_.p(s_.dropout) > 0) {
        ops::copy(ctx_, x_drop_, x, T * C);
        dropout_.apply(x_drop_, T * C, s_.dropout, dropout_site::head(L));
        x_ = x_drop_;
    }
    ac_.linear_forward(logits_, x_, p.out, p16_.out, T, C, K);
    if (!batch.labels) return std::numeric_limits<double>::quiet_NaN();
    ops::cross_entropy_forward_backward(ctx_, loss_, g_logits_, logits_, batch.labels, T, K);
    return read_loss_slot(ctx_, loss_);
}

const float* TokenClassificationHead::backward(const HeadParams<const float>& p,
                                               HeadParams<float>& g, float loss_scale) {
    if (loss_scale != 1.0f) ops::scale(ctx_, g_logits_, T * K, loss_scale);
    ac_.linear_backward(g_x_, g.out, g_logits_, x_, p.out, p16_.out, T, C, K, false);
    return dropout_.backward(g_x_drop_, g_x_, T * C, s_.dropout, dropout_site::head(L));
}

}  // namespace ft
