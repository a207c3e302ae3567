// RoBERTa and XLM-RoBERTa: BERT's encoder and config keys (RobertaConfig is a BertConfig with
// other defaults; XLM-R is the same architecture under its own names), with what RoBERTa changes:
// - position ids start at pad_token_id + 1 and count only the real tokens (HF's
//   create_position_ids_from_input_ids), which on a packed batch is pad + 1 + the index in the
//   sequence; the position row `pad` is zeroed at init like the word row;
// - one token type (type_vocab_size 1 in the released models), no pooler;
// - RobertaClassificationHead on <s>: dropout, dense, tanh, dropout, out_proj.
#include "model/family.h"

namespace ft {

namespace {

template <auto M>
void read(ConfigFields& r, ModelConfig& c) {
    read_bert_config(r, c.*M);
}

template <auto M>
void write(const ModelConfig& c, nlohmann::json& obj) {
    write_bert_config(c.*M, obj);
}

template <auto M>
EncoderSpec encoder(const ModelConfig& c) {
    const BertConfig& r = c.*M;
    EncoderSpec e = bert_encoder_spec(r);
    e.position_offset = r.pad_token_id + 1;
    e.position_padding_idx = r.pad_token_id;
    return e;
}

template <auto M>
SequenceHeadSpec sequence_head(const ModelConfig& c) {
    const BertConfig& r = c.*M;
    return {Activation::TANH, r.classifier_dropout.value_or(r.hidden_dropout_prob),
            /*dropout_before_dense=*/true};
}

// RobertaForTokenClassification: dropout and a plain Linear named classifier (no dense layer).
template <auto M>
TokenHeadSpec token_head(const ModelConfig& c) {
    const BertConfig& r = c.*M;
    return {r.classifier_dropout.value_or(r.hidden_dropout_prob)};
}

template <auto M>
double initializer_range(const ModelConfig& c) {
    return (c.*M).initializer_range;
}

// The member of ModelConfig each family reads (both are BertConfigs).
constexpr auto ROBERTA = &ModelConfig::roberta;
constexpr auto XLM_ROBERTA = &ModelConfig::xlm_roberta;

constexpr ParameterNames NAMES = {
    "roberta.embeddings.",        "roberta.encoder.layer.", "attention.self.query",
    "attention.self.key",         "attention.self.value",   "attention.output.dense",
    "attention.output.LayerNorm", "intermediate.dense",     "output.dense",
    "output.LayerNorm",           "classifier.dense",       "classifier",
    "classifier.out_proj"};

}  // namespace

const FamilyDescriptor ROBERTA_FAMILY = {
    ModelFamily::ROBERTA,
    "roberta",
    "Roberta",
    "RobertaForSequenceClassification",
    "roberta",
    read<ROBERTA>,
    write<ROBERTA>,
    encoder<ROBERTA>,
    sequence_head<ROBERTA>,
    initializer_range<ROBERTA>,
    NAMES,
    {"RobertaForTokenClassification", "classifier", token_head<ROBERTA>},
};

const FamilyDescriptor XLM_ROBERTA_FAMILY = {
    ModelFamily::XLM_ROBERTA,
    "xlm-roberta",
    "XLMRoberta",
    "XLMRobertaForSequenceClassification",
    "roberta",
    read<XLM_ROBERTA>,
    write<XLM_ROBERTA>,
    encoder<XLM_ROBERTA>,
    sequence_head<XLM_ROBERTA>,
    initializer_range<XLM_ROBERTA>,
    NAMES,
    {"XLMRobertaForTokenClassification", "classifier", token_head<XLM_ROBERTA>},
};

}  // namespace ft
