// The ForTokenClassification head on every token: dropout -> classifier (C -> K), and
// cross-entropy over the tokens whose label is not -100 (HF's ignore_index), averaged over them.
#pragma once

#include "finetune/model.h"
#include "model/autocast.h"
#include "model/classification_head.h"
#include "model/encoder_spec.h"

namespace ft {

class TokenClassificationHead final : public ClassificationHead {
  public:
    // layers: the encoder's depth, which numbers this head's dropout site.
    TokenClassificationHead(const ops::Context& ctx, const TokenHeadSpec& spec, int64_t C,
                            int64_t K, int64_t layers);
    EncoderOutput input_rows() const override { return EncoderOutput::ALL_TOKENS; }
    ProblemType problem() const override { return ProblemType::SINGLE_LABEL_CLASSIFICATION; }

    void declare_activations(ActivationTable& table) override;
    // Labels: one per token, a class id or -100; float targets are refused.
    void validate(const PackedBatch& batch) const override;
    void set_bf16(const HeadParams<const uint16_t>* p16) override;
    // x: (T, C), every token's hidden state.
    double forward(const HeadParams<const float>& p, const float* x, const BatchPointers& batch,
                   const Dropout& dropout) override;
    // Returns d(loss)/d(x), (T, C).
    const float* backward(const HeadParams<const float>& p, HeadParams<float>& g,
                          float loss_scale) override;
    const float* logits() const override { return logits_; }
    int64_t logit_rows() const override { return T; }

  private:
    const ops::Context& ctx_;
    TokenHeadSpec s_;
    int64_t C, K, L;
    Autocast ac_;
    HeadParams<const uint16_t> p16_;  // all null in float32
    int64_t T = 0;
    const float* x_ = nullptr;  // the classifier's input: x, or x_drop_ in training
    Dropout dropout_;
    float *x_drop_, *logits_, *g_logits_, *g_x_, *g_x_drop_;
    double* loss_;  // (1) the loss op's slot, on the context's device
};

}  // namespace ft
