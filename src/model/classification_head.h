// What the engine asks of a head on the encoder (DESIGN's head seam): which rows of the encoder's
// output it reads, its activations in the model's table, its forward (logits and the loss HF would
// compute) and its backward. One file per head; make_head() is the table from ModelTask to head.
#pragma once

#include <memory>

#include "finetune/model.h"
#include "model/activation_table.h"
#include "model/batch_pointers.h"
#include "model/dropout.h"
#include "model/encoder.h"
#include "model/param_views.h"
#include "ops/context.h"

namespace ft {

class ClassificationHead {
  public:
    virtual ~ClassificationHead() = default;
    // The encoder rows forward() takes: each sequence's first token, or every token.
    virtual EncoderOutput input_rows() const = 0;
    virtual ProblemType problem() const = 0;
    virtual void declare_activations(ActivationTable& table) = 0;
    // Checks the batch's labels / targets on the host (counts; class ids in range) before anything
    // runs: the loss ops read them where they cannot throw.
    virtual void validate(const PackedBatch& batch) const = 0;
    // bf16 autocast from now on with these bf16 weights; null: float32.
    virtual void set_bf16(const HeadParams<const uint16_t>* p16) = 0;
    // x: the encoder's input_rows() hidden states. Writes the logits and, when the batch carries
    // labels or targets, d(loss)/d(logits); returns the mean loss (NaN without labels).
    virtual double forward(const HeadParams<const float>& p, const float* x,
                           const BatchPointers& batch, const Dropout& dropout) = 0;
    // grads += loss_scale * d(loss)/d(head params); returns d(loss)/d(x).
    virtual const float* backward(const HeadParams<const float>& p, HeadParams<float>& g,
                                  float loss_scale) = 0;
    // (logit_rows(), K) of the last forward, on the context's device.
    virtual const float* logits() const = 0;
    virtual int64_t logit_rows() const = 0;
};

// The head config.task asks for, with the family's spec (model/family.h).
std::unique_ptr<ClassificationHead> make_head(const ops::Context& ctx, const ModelConfig& config,
                                              ProblemType problem);

// A loss slot's value on the host: on a GPU this waits for the forward (one synchronisation).
double read_loss_slot(const ops::Context& ctx, const double* slot);

}  // namespace ft
