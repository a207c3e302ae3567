// BERT: config keys and defaults (BertConfig), BertForSequenceClassification's parameters, a
// post-LayerNorm encoder with token types and dropout on the attention output, and the pooler
// (dense + tanh) head.
#include "model/family.h"

namespace ft {

namespace {

void read(ConfigFields& r, ModelConfig& c) {
    auto& b = c.bert;
    r.integer("vocab_size", &b.vocab_size);
    r.integer("hidden_size", &b.hidden_size);
    r.integer("num_hidden_layers", &b.num_hidden_layers);
    r.integer("num_attention_heads", &b.num_attention_heads);
    r.integer("intermediate_size", &b.intermediate_size);
    r.string("hidden_act", &b.hidden_act);
    r.number("hidden_dropout_prob", &b.hidden_dropout_prob);
    r.number("attention_probs_dropout_prob", &b.attention_probs_dropout_prob);
    r.optional_number("classifier_dropout", &b.classifier_dropout);
    r.integer("type_vocab_size", &b.type_vocab_size);
    r.number("layer_norm_eps", &b.layer_norm_eps);
    r.string("position_embedding_type", &b.position_embedding_type);
    r.integer("max_position_embeddings", &b.max_position_embeddings);
    r.integer("pad_token_id", &b.pad_token_id);
    r.number("initializer_range", &b.initializer_range);
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
    const auto& b = c.bert;
    obj["vocab_size"] = b.vocab_size;
    obj["hidden_size"] = b.hidden_size;
    obj["num_hidden_layers"] = b.num_hidden_layers;
    obj["num_attention_heads"] = b.num_attention_heads;
    obj["intermediate_size"] = b.intermediate_size;
    obj["hidden_act"] = b.hidden_act;
    obj["hidden_dropout_prob"] = b.hidden_dropout_prob;
    obj["attention_probs_dropout_prob"] = b.attention_probs_dropout_prob;
    obj["classifier_dropout"] =
        b.classifier_dropout ? nlohmann::json(*b.classifier_dropout) : nlohmann::json(nullptr);
    obj["type_vocab_size"] = b.type_vocab_size;
    obj["layer_norm_eps"] = b.layer_norm_eps;
    obj["position_embedding_type"] = b.position_embedding_type;
    obj["max_position_embeddings"] = b.max_position_embeddings;
    obj["pad_token_id"] = b.pad_token_id;
    obj["initializer_range"] = b.initializer_range;
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
