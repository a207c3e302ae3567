// The family seam: every parameter is bound by its role to the tensor HF names for it (so the
// engine never depends on the table's order), the activation table sizes exactly what it carves,
// and the descriptors answer the questions the layers above used to answer with family checks.
#include <gtest/gtest.h>

#include <vector>

#include "finetune/model.h"
#include "model/activation_table.h"
#include "model/family.h"
#include "model/param_views.h"

namespace ft {

namespace {

ModelConfig small(ModelFamily family) {
    ModelConfig c;
    c.family = family;
    c.bert = {};
    c.bert.vocab_size = 50;
    c.bert.hidden_size = 8;
    c.bert.num_hidden_layers = 2;
    c.bert.num_attention_heads = 2;
    c.bert.intermediate_size = 16;
    c.bert.max_position_embeddings = 20;
    c.distilbert.vocab_size = 50;
    c.distilbert.dim = 8;
    c.distilbert.n_layers = 2;
    c.distilbert.n_heads = 2;
    c.distilbert.hidden_dim = 16;
    c.distilbert.max_position_embeddings = 20;
    c.set_num_labels(3);
    return c;
}

const float* named(const ModelWeights& w, const std::string& name) {
    const Tensor* t = w.find(name);
    EXPECT_NE(t, nullptr) << name;
    return t ? t->ptr<const float>() : nullptr;
}

}  // namespace

TEST(ModelFamily, BertParametersBindToTheirHuggingFaceNames) {
    const ModelConfig c = small(ModelFamily::BERT);
    const ModelWeights w(c);
    const auto p = bind_params(w, c.layers());
    EXPECT_EQ(p.encoder.wte, named(w, "bert.embeddings.word_embeddings.weight"));
    EXPECT_EQ(p.encoder.wpe, named(w, "bert.embeddings.position_embeddings.weight"));
    EXPECT_EQ(p.encoder.wtt, named(w, "bert.embeddings.token_type_embeddings.weight"));
    EXPECT_EQ(p.encoder.ln.b, named(w, "bert.embeddings.LayerNorm.bias"));
    const std::string l1 = "bert.encoder.layer.1.";
    const auto& layer = p.encoder.layers[1];
    EXPECT_EQ(layer.q.w, named(w, l1 + "attention.self.query.weight"));
    EXPECT_EQ(layer.k.b, named(w, l1 + "attention.self.key.bias"));
    EXPECT_EQ(layer.v.w, named(w, l1 + "attention.self.value.weight"));
    EXPECT_EQ(layer.o.w, named(w, l1 + "attention.output.dense.weight"));
    EXPECT_EQ(layer.ln1.w, named(w, l1 + "attention.output.LayerNorm.weight"));
    EXPECT_EQ(layer.ffn1.b, named(w, l1 + "intermediate.dense.bias"));
    EXPECT_EQ(layer.ffn2.w, named(w, l1 + "output.dense.weight"));
    EXPECT_EQ(layer.ln2.b, named(w, l1 + "output.LayerNorm.bias"));
    EXPECT_EQ(p.head.dense.w, named(w, "bert.pooler.dense.weight"));
    EXPECT_EQ(p.head.out.b, named(w, "classifier.bias"));
}

TEST(ModelFamily, DistilBertParametersBindToTheirHuggingFaceNames) {
    const ModelConfig c = small(ModelFamily::DISTILBERT);
    const ModelWeights w(c);
    const auto p = bind_params(w, c.layers());
    EXPECT_EQ(p.encoder.wtt, nullptr);
    EXPECT_EQ(p.encoder.wpe, named(w, "distilbert.embeddings.position_embeddings.weight"));
    const std::string l0 = "distilbert.transformer.layer.0.";
    const auto& layer = p.encoder.layers[0];
    EXPECT_EQ(layer.q.b, named(w, l0 + "attention.q_lin.bias"));
    EXPECT_EQ(layer.k.w, named(w, l0 + "attention.k_lin.weight"));
    EXPECT_EQ(layer.v.w, named(w, l0 + "attention.v_lin.weight"));
    EXPECT_EQ(layer.o.w, named(w, l0 + "attention.out_lin.weight"));
    EXPECT_EQ(layer.ln1.w, named(w, l0 + "sa_layer_norm.weight"));
    EXPECT_EQ(layer.ffn1.w, named(w, l0 + "ffn.lin1.weight"));
    EXPECT_EQ(layer.ffn2.b, named(w, l0 + "ffn.lin2.bias"));
    EXPECT_EQ(layer.ln2.w, named(w, l0 + "output_layer_norm.weight"));
    EXPECT_EQ(p.head.dense.w, named(w, "pre_classifier.weight"));
    EXPECT_EQ(p.head.out.w, named(w, "classifier.weight"));
}

TEST(ModelFamily, DescriptorsAnswerForTheirFamily) {
    EXPECT_TRUE(small(ModelFamily::BERT).uses_token_types());
    EXPECT_FALSE(small(ModelFamily::DISTILBERT).uses_token_types());
    EXPECT_EQ(find_family_by_model_type("bert"), &BERT_FAMILY);
    EXPECT_EQ(find_family_by_architecture("DistilBertForMaskedLM"), &DISTILBERT_FAMILY);
    EXPECT_EQ(find_family_by_model_type("roberta"), &ROBERTA_FAMILY);
    EXPECT_EQ(find_family_by_model_type("xlm-roberta"), &XLM_ROBERTA_FAMILY);
    EXPECT_EQ(find_family_by_architecture("XLMRobertaForMaskedLM"), &XLM_ROBERTA_FAMILY);
    EXPECT_EQ(find_family_by_architecture("RobertaModel"), &ROBERTA_FAMILY);
    EXPECT_EQ(find_family_by_model_type("deberta"), nullptr);
    EXPECT_EQ(supported_model_types(), "distilbert, bert, roberta, xlm-roberta");
    // The head: BERT's pooler is tanh with classifier_dropout falling back to hidden dropout.
    ModelConfig b = small(ModelFamily::BERT);
    b.bert.hidden_dropout_prob = 0.3;
    EXPECT_EQ(BERT_FAMILY.sequence_head(b).activation, Activation::TANH);
    EXPECT_DOUBLE_EQ(BERT_FAMILY.sequence_head(b).dropout, 0.3);
    EXPECT_EQ(DISTILBERT_FAMILY.sequence_head(small(ModelFamily::DISTILBERT)).activation,
              Activation::RELU);
}

// Each encoder-spec field comes from its own config key (distinct values, so a swapped or missing
// row of a family's key table shows), and the fields no key sets are the family's.
TEST(ModelFamily, EncoderSpecFieldsComeFromTheirKeys) {
    ModelConfig b = small(ModelFamily::BERT);
    b.bert.type_vocab_size = 3;
    b.bert.pad_token_id = 4;
    b.bert.layer_norm_eps = 1e-7;
    b.bert.hidden_act = "relu";
    b.bert.hidden_dropout_prob = 0.25;
    b.bert.attention_probs_dropout_prob = 0.125;
    const EncoderSpec e = BERT_FAMILY.encoder(b);
    EXPECT_EQ(std::vector<int64_t>({e.V, e.C, e.L, e.NH, e.F, e.P, e.TT, e.padding_idx}),
              std::vector<int64_t>({50, 8, 2, 2, 16, 20, 3, 4}));
    EXPECT_EQ(e.eps, 1e-7);
    EXPECT_EQ(e.ffn_activation, Activation::RELU);
    EXPECT_EQ(e.hidden_dropout, 0.25);
    EXPECT_EQ(e.attention_dropout, 0.125);
    EXPECT_TRUE(e.attention_output_dropout);

    ModelConfig d = small(ModelFamily::DISTILBERT);
    d.distilbert.pad_token_id = 5;
    d.distilbert.dropout = 0.375;
    d.distilbert.attention_dropout = 0.0625;
    const EncoderSpec f = DISTILBERT_FAMILY.encoder(d);
    EXPECT_EQ(std::vector<int64_t>({f.V, f.C, f.L, f.NH, f.F, f.P, f.TT, f.padding_idx}),
              std::vector<int64_t>({50, 8, 2, 2, 16, 20, 0, 5}));
    EXPECT_EQ(f.eps, 1e-12);
    EXPECT_EQ(f.ffn_activation, Activation::GELU);
    EXPECT_EQ(f.hidden_dropout, 0.375);
    EXPECT_EQ(f.attention_dropout, 0.0625);
    EXPECT_FALSE(f.attention_output_dropout);
}

TEST(ActivationTable, SizesExactlyWhatItCarves) {
    float *a, *b, *c;
    uint16_t* h;
    ActivationTable t;
    t.add(&a, Rows::TOKENS, 7);
    t.add(&b, Rows::PROBS, 1);
    t.add(&h, Rows::SEQUENCES, 5, DType::BF16);
    t.add(&c, Rows::SEQUENCES, 3);
    for (const BatchGeometry g :
         {BatchGeometry{13, 2, 100}, BatchGeometry{1, 1, 1}, BatchGeometry{64, 16, 4096}}) {
        Arena arena(t.bytes(g));
        t.carve(arena, g);
        EXPECT_EQ(arena.used(), t.bytes(g));
        // In table order, each 64-byte aligned, none overlapping.
        const auto at = [&](const void* p) {
            return static_cast<size_t>(static_cast<const char*>(p) -
                                       static_cast<const char*>(static_cast<void*>(a)));
        };
        EXPECT_GE(at(b), size_t(g.tokens * 7 * 4));
        EXPECT_GE(at(h), at(b) + size_t(g.probs * 4));
        EXPECT_GE(at(c), at(h) + size_t(g.sequences * 5 * 2));
        EXPECT_EQ(at(c) % 64, 0u);
        EXPECT_EQ(t.bytes(g), at(c) + size_t(g.sequences * 3 * 4));
    }
}

}  // namespace ft
