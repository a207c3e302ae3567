// Typed views of a model's parameters (or of its gradients, which share the table), bound once by
// role from the family's parameter table: the engine says `layer.q.w`, never a table index.
#pragma once

#include <vector>

#include "finetune/model.h"

namespace ft {

template <class P>
struct LinearParams {
    P* w = nullptr;  // (O, I)
    P* b = nullptr;  // (O)
};

template <class P>
struct NormParams {
    P* w = nullptr;  // (C)
    P* b = nullptr;  // (C)
};

template <class P>
struct LayerParams {
    LinearParams<P> q, k, v, o;
    NormParams<P> ln1;
    LinearParams<P> ffn1, ffn2;
    NormParams<P> ln2;
};

template <class P>
struct EncoderParams {
    P* wte = nullptr;  // (V, C) word embeddings
    P* wpe = nullptr;  // (P, C) position embeddings
    P* wtt = nullptr;  // (TT, C) token-type embeddings, null for families without them
    NormParams<P> ln;
    std::vector<LayerParams<P>> layers;
};

// A classification head's parameters: a token head has `out` only (dense stays null).
template <class P>
struct SequenceHeadParams {
    LinearParams<P> dense;  // pre_classifier (DistilBERT) / pooler (BERT)
    LinearParams<P> out;    // classifier
};
template <class P>
using HeadParams = SequenceHeadParams<P>;

template <class P>
struct ModelParams {
    EncoderParams<P> encoder;
    SequenceHeadParams<P> head;
};

// Every role in the table is bound exactly once, and every role the engine reads is present
// (token types only where the table has them); anything else is an internal error.
ModelParams<const float> bind_params(const ModelWeights& weights, int64_t layers);
ModelParams<float> bind_params(ModelWeights& weights, int64_t layers);
// The bf16 copy of `weights` (Bf16Weights), viewed through the same table.
ModelParams<const uint16_t> bind_params(const Bf16Weights& copy, const ModelWeights& weights,
                                        int64_t layers);

}  // namespace ft
