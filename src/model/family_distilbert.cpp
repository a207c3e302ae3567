// DistilBERT: config keys and defaults (DistilBertConfig), DistilBertForSequenceClassification's
// parameters, a post-LayerNorm encoder without token types or dropout on the attention output,
// and a pre_classifier + ReLU head.
#include "model/family.h"

namespace ft {

namespace {

void read(ConfigFields& r, ModelConfig& c) {
    auto& d = c.distilbert;
    r.integer("vocab_size", &d.vocab_size);
    r.integer("dim", &d.dim);
    r.integer("n_layers", &d.n_layers);
    r.integer("n_heads", &d.n_heads);
    r.integer("hidden_dim", &d.hidden_dim);
    r.number("dropout", &d.dropout);
    r.number("attention_dropout", &d.attention_dropout);
    r.number("seq_classif_dropout", &d.seq_classif_dropout);
    r.number("qa_dropout", &d.qa_dropout);
    r.string("activation", &d.activation);
    r.integer("max_position_embeddings", &d.max_position_embeddings);
    r.boolean("sinusoidal_pos_embds", &d.sinusoidal_pos_embds);
    r.number("initializer_range", &d.initializer_range);
    r.integer("pad_token_id", &d.pad_token_id);
    if (d.sinusoidal_pos_embds)
        throw Error(r.source() +
                    ": sinusoidal_pos_embds=true is not supported (learned position "
                    "embeddings only)");
    r.check_activation("activation", d.activation);
    r.check_dropout("dropout", d.dropout);
    r.check_dropout("attention_dropout", d.attention_dropout);
    r.check_dropout("seq_classif_dropout", d.seq_classif_dropout);
    r.check_dropout("qa_dropout", d.qa_dropout);
}

void write(const ModelConfig& c, nlohmann::json& obj) {
    const auto& d = c.distilbert;
    obj["vocab_size"] = d.vocab_size;
    obj["dim"] = d.dim;
    obj["n_layers"] = d.n_layers;
    obj["n_heads"] = d.n_heads;
    obj["hidden_dim"] = d.hidden_dim;
    obj["dropout"] = d.dropout;
    obj["attention_dropout"] = d.attention_dropout;
    obj["seq_classif_dropout"] = d.seq_classif_dropout;
    obj["qa_dropout"] = d.qa_dropout;
    obj["activation"] = d.activation;
    obj["max_position_embeddings"] = d.max_position_embeddings;
    obj["sinusoidal_pos_embds"] = d.sinusoidal_pos_embds;
    obj["initializer_range"] = d.initializer_range;
    obj["pad_token_id"] = d.pad_token_id;
}

EncoderSpec encoder(const ModelConfig& c) {
    const auto& d = c.distilbert;
    EncoderSpec e;
    e.C = d.dim;
    e.L = d.n_layers;
    e.NH = d.n_heads;
    e.F = d.hidden_dim;
    e.V = d.vocab_size;
    e.P = d.max_position_embeddings;
    e.TT = 0;
    e.padding_idx = d.pad_token_id;
    e.eps = 1e-12;  // hard-coded in HF's DistilBERT
    e.ffn_activation = d.activation == "relu" ? Activation::RELU : Activation::GELU;
    e.hidden_dropout = d.dropout;
    e.attention_dropout = d.attention_dropout;
    e.attention_output_dropout = false;
    return e;
}

SequenceHeadSpec sequence_head(const ModelConfig& c) {
    return {Activation::RELU, c.distilbert.seq_classif_dropout};
}

double initializer_range(const ModelConfig& c) {
    return c.distilbert.initializer_range;
}

}  // namespace

const FamilyDescriptor DISTILBERT_FAMILY = {
    ModelFamily::DISTILBERT,
    "distilbert",
    "DistilBert",
    "DistilBertForSequenceClassification",
    "distilbert",
    read,
    write,
    encoder,
    sequence_head,
    initializer_range,
    {"distilbert.embeddings.", "distilbert.transformer.layer.", "attention.q_lin",
     "attention.k_lin", "attention.v_lin", "attention.out_lin", "sa_layer_norm", "ffn.lin1",
     "ffn.lin2", "output_layer_norm", "pre_classifier", "classifier", "classifier"},
};

}  // namespace ft
