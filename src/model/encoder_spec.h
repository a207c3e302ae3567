// What the encoder and the sequence-classification head of a model need to know, resolved from
// config.json by the model's family (model/family.h).
#pragma once

#include <cstdint>

#include "finetune/model.h"
#include "ops/ops.h"

namespace ft {

// What the encoder needs to know, resolved from config.json (DESIGN.md's letters).
struct EncoderSpec {
    int64_t C = 0, L = 0, NH = 0, F = 0, V = 0;
    int64_t P = 0;                // max_position_embeddings
    int64_t TT = 0;               // token-type rows; 0: the family has no token-type embeddings
    int64_t position_offset = 0;  // the first position id of a sequence (RoBERTa: pad id + 1)
    int64_t padding_idx = -1;     // the word embedding row zeroed at init (pad_token_id)
    int64_t position_padding_idx = -1;  // the position row zeroed at init (RoBERTa: pad id)
    double eps = 1e-12;
    Activation ffn_activation = Activation::GELU;
    double hidden_dropout = 0.1, attention_dropout = 0.1;
    bool attention_output_dropout = false;  // dropout on the attention projection's output
    // Where the attention divides by sqrt(HS) (DistilBERT: the queries; BERT: the scores): the
    // same in float32, but it decides which tensors are bf16 under autocast.
    ops::AttentionScale attention_scale = ops::AttentionScale::SCORES;
};

// The token-classification head on every token: dropout -> classifier.
struct TokenHeadSpec {
    double dropout = 0.1;  // classifier_dropout, else hidden_dropout_prob; DistilBERT: dropout
};

// The sequence-classification head on the first token: dense -> activation -> dropout -> out.
struct SequenceHeadSpec {
    Activation activation = Activation::TANH;  // BERT's pooler: tanh; DistilBERT: ReLU
    double dropout = 0.1;
    // RobertaClassificationHead: dropout on the first token's hidden state before the dense
    // layer too (dropout -> dense -> tanh -> dropout -> out_proj), at the same rate.
    bool dropout_before_dense = false;
};

}  // namespace ft
