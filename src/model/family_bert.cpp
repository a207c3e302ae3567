// BERT: config keys and defaults (BertConfig), BertForSequenceClassification's parameters, a
// post-LayerNorm encoder with token types and dropout on the attention output, and the pooler
// (dense + tanh) head.
#include "model/family.h"

namespace ft {

namespace {

using B = BertConfig;
using E = EncoderSpec;
const ConfigKey<B> KEYS[] = {
    {"vocab_size", &B::vocab_size, &E::V},
    {"hidden_size", &B::hidden_size, &E::C},
    {"num_hidden_layers", &B::num_hidden_layers, &E::L},
    {"num_attention_heads", &B::num_attention_heads, &E::NH},
    {"intermediate_size", &B::intermediate_size, &E::F},
    {"hidden_act", &B::hidden_act, &E::ffn_activation, KeyCheck::ACTIVATION},
    {"hidden_dropout_prob", &B::hidden_dropout_prob, &E::hidden_dropout, KeyCheck::DROPOUT},
    {"attention_probs_dropout_prob", &B::attention_probs_dropout_prob, &E::attention_dropout,
     KeyCheck::DROPOUT},
    {"classifier_dropout", &B::classifier_dropout, {}, KeyCheck::DROPOUT},
    {"type_vocab_size", &B::type_vocab_size, &E::TT, KeyCheck::POSITIVE},
    {"layer_norm_eps", &B::layer_norm_eps, &E::eps},
    {"position_embedding_type", &B::position_embedding_type},
    {"max_position_embeddings", &B::max_position_embeddings, &E::P},
    {"pad_token_id", &B::pad_token_id, &E::padding_idx},
    {"initializer_range", &B::initializer_range},
};

void read(ConfigFields& r, ModelConfig& c) {
    read_bert_config(r, c.bert);
}

void write(const ModelConfig& c, nlohmann::json& obj) {
    write_bert_config(c.bert, obj);
}

EncoderSpec encoder(const ModelConfig& c) {
    return bert_encoder_spec(c.bert);
}

SequenceHeadSpec sequence_head(const ModelConfig& c) {
    const auto& b = c.bert;
    return {Activation::TANH, b.classifier_dropout.value_or(b.hidden_dropout_prob)};
}

TokenHeadSpec token_head(const ModelConfig& c) {
    const auto& b = c.bert;
    return {b.classifier_dropout.value_or(b.hidden_dropout_prob)};
}

double initializer_range(const ModelConfig& c) {
    return c.bert.initializer_range;
}

}  // namespace

void read_bert_config(ConfigFields& r, BertConfig& c) {
    read_keys<B>(r, c, KEYS);
    if (c.position_embedding_type != "absolute")
        throw Error(r.source() + ": position_embedding_type '" + c.position_embedding_type +
                    "' is not supported (absolute only)");
}

void write_bert_config(const BertConfig& c, nlohmann::json& obj) {
    write_keys<B>(obj, c, KEYS);
}

EncoderSpec bert_encoder_spec(const BertConfig& c) {
    EncoderSpec e;
    set_spec_fields<B>(e, c, KEYS);
    e.attention_output_dropout = true;                // BertSelfOutput
    e.attention_scale = ops::AttentionScale::SCORES;  // scores / sqrt(attention_head_size)
    return e;
}

const FamilyDescriptor BERT_FAMILY = {
    ModelFamily::BERT,
    "bert",
    "Bert",
    "BertForSequenceClassification",
    "bert",
    read,
    write,
    encoder,
    sequence_head,
    initializer_range,
    {"bert.embeddings.", "bert.encoder.layer.", "attention.self.query", "attention.self.key",
     "attention.self.value", "attention.output.dense", "attention.output.LayerNorm",
     "intermediate.dense", "output.dense", "output.LayerNorm", "bert.pooler.dense", "pooler",
     "classifier"},
    {"BertForTokenClassification", "classifier", token_head},
};

}  // namespace ft
