// BERT: config keys and defaults (BertConfig), BertForSequenceClassification's parameters, a
// post-LayerNorm encoder with token types and dropout on the attention output, and the pooler
// (dense + tanh) head.
#include "model/family.h"

namespace ft {

namespace {

using B = BertConfig;
const ConfigKey<B> KEYS[] = {
    {"vocab_size", &B::vocab_size},
    {"hidden_size", &B::hidden_size},
    {"num_hidden_layers", &B::num_hidden_layers},
    {"num_attention_heads", &B::num_attention_heads},
    {"intermediate_size", &B::intermediate_size},
    {"hidden_act", &B::hidden_act},
    {"hidden_dropout_prob", &B::hidden_dropout_prob},
    {"attention_probs_dropout_prob", &B::attention_probs_dropout_prob},
    {"classifier_dropout", &B::classifier_dropout},
    {"type_vocab_size", &B::type_vocab_size},
    {"layer_norm_eps", &B::layer_norm_eps},
    {"position_embedding_type", &B::position_embedding_type},
    {"max_position_embeddings", &B::max_position_embeddings},
    {"pad_token_id", &B::pad_token_id},
    {"initializer_range", &B::initializer_range},
};

void read(ConfigFields& r, ModelConfig& c) {
    auto& b = c.bert;
    read_keys<B>(r, b, KEYS);
    if (b.position_embedding_type != "absolute")
        throw Error(r.source() + ": position_embedding_type '" + b.position_embedding_type +
                    "' is not supported (absolute only)");
    r.check_activation("hidden_act", b.hidden_act);
    r.check_dropout("hidden_dropout_prob", b.hidden_dropout_prob);
    r.check_dropout("attention_probs_dropout_prob", b.attention_probs_dropout_prob);
    if (b.classifier_dropout) r.check_dropout("classifier_dropout", *b.classifier_dropout);
    r.require_positive("type_vocab_size", b.type_vocab_size);
}

void write(const ModelConfig& c, nlohmann::json& obj) {
    write_keys<B>(obj, c.bert, KEYS);
}

EncoderSpec encoder(const ModelConfig& c) {
    const auto& b = c.bert;
    EncoderSpec e;
    e.C = b.hidden_size;
    e.L = b.num_hidden_layers;
    e.NH = b.num_attention_heads;
    e.F = b.intermediate_size;
    e.V = b.vocab_size;
    e.P = b.max_position_embeddings;
    e.TT = b.type_vocab_size;
    e.padding_idx = b.pad_token_id;
    e.eps = b.layer_norm_eps;
    e.ffn_activation = b.hidden_act == "relu" ? Activation::RELU : Activation::GELU;
    e.hidden_dropout = b.hidden_dropout_prob;
    e.attention_dropout = b.attention_probs_dropout_prob;
    e.attention_output_dropout = true;  // BertSelfOutput
    return e;
}

SequenceHeadSpec sequence_head(const ModelConfig& c) {
    const auto& b = c.bert;
    return {Activation::TANH, b.classifier_dropout.value_or(b.hidden_dropout_prob)};
}

double initializer_range(const ModelConfig& c) {
    return c.bert.initializer_range;
}

}  // namespace

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
};

}  // namespace ft
