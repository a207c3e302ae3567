// Forward, loss and backward of the sequence-classification head (see its header).
#include "model/sequence_classification_head.h"

#include <cmath>
#include <limits>

#include "core/device_cuda.h"
#include "ops/ops.h"

namespace ft {

SequenceClassificationHead::SequenceClassificationHead(const ops::Context& ctx,
                                                       const SequenceHeadSpec& spec, int64_t c,
                                                       int64_t k, int64_t layers,
                                                       ProblemType problem)
    : ctx_(ctx), s_(spec), C(c), K(k), L(layers), problem_(problem), ac_(ctx) {
    FT_ASSERT(s_.activation == Activation::TANH || s_.activation == Activation::RELU,
              "the head's activation is tanh or ReLU");
}

void SequenceClassificationHead::declare_activations(ActivationTable& t) {
    for (float** p : {&x_drop_, &pre_, &act_, &act_drop_}) t.add(p, Rows::SEQUENCES, C);
    t.add(&logits_, Rows::SEQUENCES, K);
    t.add(&g_logits_, Rows::SEQUENCES, K);
    t.add(&loss_, Rows::ONE, 1, DType::F64);
    for (float** p : {&g_act_, &g_pre_, &g_x_}) t.add(p, Rows::SEQUENCES, C);
}

void SequenceClassificationHead::validate(const PackedBatch& bt) const {
    const int64_t b = bt.num_sequences();
    if (!bt.labels.empty() && static_cast<int64_t>(bt.labels.size()) != b)
        throw Error("packed batch: " + std::to_string(bt.labels.size()) + " labels for " +
                    std::to_string(b) + " sequences");
    if (!bt.targets.empty() && static_cast<int64_t>(bt.targets.size()) != b * K)
        throw Error("packed batch: " + std::to_string(bt.targets.size()) + " targets for " +
                    std::to_string(b) + " sequences x " + std::to_string(K) + " labels");
    // Class ids feed single-label cross-entropy only (regression and multi-label read targets).
    const bool class_ids =
        problem_ != ProblemType::REGRESSION && problem_ != ProblemType::MULTI_LABEL_CLASSIFICATION;
    if (class_ids)
        for (int64_t i = 0; i < static_cast<int64_t>(bt.labels.size()); ++i)
            if (bt.labels[i] != -100 && (bt.labels[i] < 0 || bt.labels[i] >= K))
                throw Error("label " + std::to_string(bt.labels[i]) + " of sequence " +
                            std::to_string(i) + " is outside 0.." + std::to_string(K - 1));
}

void SequenceClassificationHead::set_bf16(const SequenceHeadParams<const uint16_t>* p16) {
    p16_ = p16 ? *p16 : SequenceHeadParams<const uint16_t>{};
    ac_.set_bf16(p16 != nullptr);
}

double SequenceClassificationHead::forward(const SequenceHeadParams<const float>& p, const float* x,
                                           const BatchPointers& batch, const Dropout& dropout) {
    B = batch.B;
    dropout_ = dropout;
    x_ = x;
    if (s_.dropout_before_dense && dropout_.p(s_.dropout) > 0) {  // float32 even under autocast
        ops::copy(ctx_, x_drop_, x, B * C);
        dropout_.apply(x_drop_, B * C, s_.dropout, dropout_site::head_input(L));
        x_ = x_drop_;
    }
    ac_.linear_forward(pre_, x_, p.dense, p16_.dense, B, C, C);
    ops::activation_forward(ctx_, s_.activation, act_, pre_, B * C);
    ac_.round(act_, B * C);
    ops::copy(ctx_, act_drop_, act_, B * C);
    ac_.dropout(dropout_, act_drop_, B * C, s_.dropout, dropout_site::head(L));
    // Under bf16 the logits are bf16 values; the losses read them as float32 (exact).
    ac_.linear_forward(logits_, act_drop_, p.out, p16_.out, B, C, K);
    return loss(batch);
}

// The labels were checked by validate(), on the host.
double SequenceClassificationHead::loss(const BatchPointers& batch) {
    switch (problem_) {
        case ProblemType::REGRESSION:
            if (!batch.targets) {
                if (!batch.labels) return std::numeric_limits<double>::quiet_NaN();
                throw Error("regression needs float targets, the batch has class labels");
            }
            ops::mse_forward_backward(ctx_, loss_, g_logits_, logits_, batch.targets, B * K);
            return read_loss_slot(ctx_, loss_);
        case ProblemType::MULTI_LABEL_CLASSIFICATION:
            if (!batch.targets) return std::numeric_limits<double>::quiet_NaN();
            ops::bce_with_logits_forward_backward(ctx_, loss_, g_logits_, logits_, batch.targets, B,
                                                  K);
            return read_loss_slot(ctx_, loss_);
        default:
            if (!batch.labels) return std::numeric_limits<double>::quiet_NaN();
            ops::cross_entropy_forward_backward(ctx_, loss_, g_logits_, logits_, batch.labels, B,
                                                K);
            return read_loss_slot(ctx_, loss_);
    }
}

const float* SequenceClassificationHead::backward(const SequenceHeadParams<const float>& p,
                                                  SequenceHeadParams<float>& g, float loss_scale) {
    if (loss_scale != 1.0f) ops::scale(ctx_, g_logits_, B * K, loss_scale);
    ac_.linear_backward(g_act_, g.out, g_logits_, act_drop_, p.out, p16_.out, B, C, K, false);
    const float* g_act_in =
        ac_.dropout_backward(dropout_, g_pre_, g_act_, B * C, s_.dropout, dropout_site::head(L));
    ops::activation_backward(ctx_, s_.activation, g_x_, g_act_in, pre_, act_, B * C);
    ac_.round(g_x_, B * C);
    // g_x_ holds the gradient before the dense layer; the result goes to g_act_ (free again).
    ac_.linear_backward(g_act_, g.dense, g_x_, x_, p.dense, p16_.dense, B, C, C, false);
    if (s_.dropout_before_dense)  // g_x_ is free again
        return dropout_.backward(g_x_, g_act_, B * C, s_.dropout, dropout_site::head_input(L));
    return g_act_;
}

}  // namespace ft
