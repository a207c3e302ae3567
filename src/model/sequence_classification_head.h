// The ForSequenceClassification head on each sequence's first token: dense -> activation (ReLU
// for DistilBERT, tanh for BERT's pooler) -> dropout -> out, and the loss HF picks from
// problem_type / num_labels: cross-entropy, MSE or BCE-with-logits.
#pragma once

#include "finetune/model.h"
#include "model/autocast.h"
#include "model/classification_head.h"
#include "model/family.h"

namespace ft {

class SequenceClassificationHead final : public ClassificationHead {
  public:
    // layers: the encoder's depth, which numbers this head's dropout site.
    SequenceClassificationHead(const ops::Context& ctx, const SequenceHeadSpec& spec, int64_t C,
                               int64_t K, int64_t layers, ProblemType problem);
    EncoderOutput input_rows() const override { return EncoderOutput::FIRST_TOKEN; }
    ProblemType problem() const override { return problem_; }

    void declare_activations(ActivationTable& table) override;
    // Labels: one per sequence; targets: B x K.
    void validate(const PackedBatch& batch) const override;
    void set_bf16(const SequenceHeadParams<const uint16_t>* p16) override;
    // x: (B, C) first-token hidden states.
    double forward(const SequenceHeadParams<const float>& p, const float* x,
                   const BatchPointers& batch, const Dropout& dropout) override;
    // Returns d(loss)/d(x), (B, C).
    const float* backward(const SequenceHeadParams<const float>& p, SequenceHeadParams<float>& g,
                          float loss_scale) override;
    // (B, K) on the context's device.
    const float* logits() const override { return logits_; }
    int64_t logit_rows() const override { return B; }

  private:
    double loss(const BatchPointers& batch);

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
