// A model family in one place: its config.json keys and defaults, its parameter table under HF's
// names (each tensor tagged with the role the engine binds it by), the shape of its encoder and
// of its sequence- and token-classification heads, and HF's class names. Adding a family is one new
// family_<name>.cpp with a descriptor, plus its row in family_table.cpp.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "finetune/model.h"
#include "model/config_fields.h"

namespace ft {

// A family's HF parameter names; the table's structure (embeddings, L layers of Q, K, V, output,
// LayerNorm, FFN in, FFN out, LayerNorm, then the head) is the same for every family.
struct ParameterNames {
    std::string_view embeddings;  // prefix of word/position/token-type tables and the LayerNorm
    std::string_view layers;      // prefix of layer l, followed by "<l>."
    std::string_view q, k, v, o, norm1, ffn1, ffn2, norm2;  // within a layer
    std::string_view head_dense, head_dense_group;          // e.g. "bert.pooler.dense", "pooler"
    std::string_view head_out;                              // "classifier"
};

struct FamilyDescriptor {
    ModelFamily family;
    std::string_view model_type;           // config.json's model_type, e.g. "bert"
    std::string_view architecture_prefix;  // how HF's class names start, e.g. "Bert"
    std::string_view sequence_classification_class;
    std::string_view base_prefix;  // the base model's state-dict prefix, e.g. "bert"

    // Reads and checks the family's keys (the rest of config.json is the caller's).
    void (*read_config)(ConfigFields& fields, ModelConfig& config);
    void (*write_config)(const ModelConfig& config, nlohmann::json& obj);
    EncoderSpec (*encoder)(const ModelConfig& config);
    SequenceHeadSpec (*sequence_head)(const ModelConfig& config);
    double (*initializer_range)(const ModelConfig& config);
    ParameterNames names;
    // ForTokenClassification: HF's class, its classifier's name, and its dropout.
    struct TokenHead {
        std::string_view class_name;  // e.g. "BertForTokenClassification"
        std::string_view out;         // "classifier"
        TokenHeadSpec (*spec)(const ModelConfig& config);
    } token_head;
};

const FamilyDescriptor& family_descriptor(ModelFamily family);
// By config.json's model_type / by the start of an architecture name; null when none matches.
const FamilyDescriptor* find_family_by_model_type(std::string_view model_type);
const FamilyDescriptor* find_family_by_architecture(std::string_view architecture);
// "distilbert, bert" and "DistilBert*, Bert*": what is supported, for error messages.
std::string supported_model_types();
std::string supported_architectures();

// The descriptors, one per family_<name>.cpp (family_roberta.cpp has RoBERTa's and XLM-R's).
extern const FamilyDescriptor DISTILBERT_FAMILY;
extern const FamilyDescriptor BERT_FAMILY;
extern const FamilyDescriptor ROBERTA_FAMILY;
extern const FamilyDescriptor XLM_ROBERTA_FAMILY;

// BERT's config keys and encoder (family_bert.cpp), which RoBERTa's configs share.
void read_bert_config(ConfigFields& fields, BertConfig& config);
void write_bert_config(const BertConfig& config, nlohmann::json& obj);
EncoderSpec bert_encoder_spec(const BertConfig& config);

}  // namespace ft
