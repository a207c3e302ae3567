// DistilBERT: config keys and defaults (DistilBertConfig), DistilBertForSequenceClassification's
// parameters, a post-LayerNorm encoder without token types or dropout on the attention output,
// and a pre_classifier + ReLU head.
#include "model/family.h"

namespace ft {

namespace {

using D = DistilBertConfig;
const ConfigKey<D> KEYS[] = {
    {"vocab_size", &D::vocab_size},
    {"dim", &D::dim},
    {"n_layers", &D::n_layers},
    {"n_heads", &D::n_heads},
    {"hidden_dim", &D::hidden_dim},
    {"dropout", &D::dropout},
    {"attention_dropout", &D::attention_dropout},
    {"seq_classif_dropout", &D::seq_classif_dropout},
    {"qa_dropout", &D::qa_dropout},
    {"activation", &D::activation},
    {"max_position_embeddings", &D::max_position_embeddings},
    {"sinusoidal_pos_embds", &D::sinusoidal_pos_embds},
    {"initializer_range", &D::initializer_range},
    {"pad_token_id", &D::pad_token_id},
};

void read(ConfigFields& r, ModelConfig& c) {
    auto& d = c.distilbert;
    read_keys<D>(r, d, KEYS);
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
    write_keys<D>(obj, c.distilbert, KEYS);
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
