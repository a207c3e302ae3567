// DistilBERT: config keys and defaults (DistilBertConfig), DistilBertForSequenceClassification's
// parameters, a post-LayerNorm encoder without token types or dropout on the attention output,
// and a pre_classifier + ReLU head.
#include "model/family.h"

namespace ft {

namespace {

using D = DistilBertConfig;
using E = EncoderSpec;
const ConfigKey<D> KEYS[] = {
    {"vocab_size", &D::vocab_size, &E::V},
    {"dim", &D::dim, &E::C},
    {"n_layers", &D::n_layers, &E::L},
    {"n_heads", &D::n_heads, &E::NH},
    {"hidden_dim", &D::hidden_dim, &E::F},
    {"dropout", &D::dropout, &E::hidden_dropout, KeyCheck::DROPOUT},
    {"attention_dropout", &D::attention_dropout, &E::attention_dropout, KeyCheck::DROPOUT},
    {"seq_classif_dropout", &D::seq_classif_dropout, {}, KeyCheck::DROPOUT},
    {"qa_dropout", &D::qa_dropout, {}, KeyCheck::DROPOUT},
    {"activation", &D::activation, &E::ffn_activation, KeyCheck::ACTIVATION},
    {"max_position_embeddings", &D::max_position_embeddings, &E::P},
    {"sinusoidal_pos_embds", &D::sinusoidal_pos_embds},
    {"initializer_range", &D::initializer_range},
    {"pad_token_id", &D::pad_token_id, &E::padding_idx},
};

void read(ConfigFields& r, ModelConfig& c) {
    read_keys<D>(r, c.distilbert, KEYS);
    if (c.distilbert.sinusoidal_pos_embds)
        throw Error(r.source() +
                    ": sinusoidal_pos_embds=true is not supported (learned position "
                    "embeddings only)");
}

void write(const ModelConfig& c, nlohmann::json& obj) {
    write_keys<D>(obj, c.distilbert, KEYS);
}

EncoderSpec encoder(const ModelConfig& c) {
    EncoderSpec e;
    set_spec_fields<D>(e, c.distilbert, KEYS);
    e.TT = 0;                                          // no token-type embeddings
    e.eps = 1e-12;                                     // hard-coded in HF's DistilBERT
    e.attention_output_dropout = false;                // DistilBERT's attention output has none
    e.attention_scale = ops::AttentionScale::QUERIES;  // q / sqrt(dim_per_head)
    return e;
}

SequenceHeadSpec sequence_head(const ModelConfig& c) {
    return {Activation::RELU, c.distilbert.seq_classif_dropout};
}

// DistilBertForTokenClassification's dropout is the config's `dropout`, not seq_classif_dropout.
TokenHeadSpec token_head(const ModelConfig& c) {
    return {c.distilbert.dropout};
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
    {"DistilBertForTokenClassification", "classifier", token_head},
};

}  // namespace ft
