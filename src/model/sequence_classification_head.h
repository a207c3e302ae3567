// The ForSequenceClassification head on each sequence's first token: dense -> activation (ReLU
// for DistilBERT, tanh for BERT's pooler) -> dropout -> out, and the loss HF picks from
// problem_type / num_labels: cross-entropy, MSE or BCE-with-logits.
#pragma once

#include "finetune/model.h"
#include "model/activation_table.h"
#include "model/autocast.h"
#include "model/dropout.h"
#include "model/encoder.h"
#include "model/family.h"
#include "model/param_views.h"
#include "ops/context.h"

namespace ft {

class SequenceClassificationHead {
  public:
    // layers: the encoder's depth, which numbers this head's dropout site.
    SequenceClassificationHead(const ops::Context& ctx, const SequenceHeadSpec& spec, int64_t C,
                               int64_t K, int64_t layers, ProblemType problem);
    static constexpr EncoderOutput input_rows = EncoderOutput::FIRST_TOKEN;
    ProblemType problem() const { return problem_; }

    void declare_activations(ActivationTable& table);
    // Checks the batch's labels / targets against this head on the host (shapes; class ids in
    // range), before anything runs: the loss ops read them where they cannot throw.
    void validate(const PackedBatch& batch) const;

    // bf16 autocast from now on with these bf16 weights; null: float32.
    void set_bf16(const SequenceHeadParams<const uint16_t>* p16);
    // x: (B, C) first-token hidden states. Writes the logits and, when the batch carries labels
    // or targets, d(loss)/d(logits); returns the mean loss (NaN without labels).
    double forward(const SequenceHeadParams<const float>& p, const float* x,
                   const BatchPointers& batch, const Dropout& dropout);
    // grads += loss_scale * d(loss)/d(head params); returns d(loss)/d(x), (B, C).
    const float* backward(const SequenceHeadParams<const float>& p, SequenceHeadParams<float>& g,
                          float loss_scale);
    // (B, K) on the context's device.
    const float* logits() const { return logits_; }

  private:
    double loss(const BatchPointers& batch);
    // The loss slot's value on the host.
    double read_loss() const;

    const ops::Context& ctx_;
    SequenceHeadSpec s_;
    int64_t C, K, L;
    ProblemType problem_;
    Autocast ac_;
    SequenceHeadParams<const uint16_t> p16_;  // all null in float32
    int64_t B = 0;
    const float* x_ = nullptr;
    Dropout dropout_;
    float *x_drop_, *pre_, *act_, *act_drop_, *logits_;
    float *g_logits_, *g_act_, *g_pre_, *g_x_;
    double* loss_;  // (1) the loss op's slot, on the context's device; read once per forward
};

}  // namespace ft
