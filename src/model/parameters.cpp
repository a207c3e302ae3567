// The parameter tables of DistilBertForSequenceClassification and BertForSequenceClassification
// (HF names, shapes, named_parameters() order), the flat weight allocation, and HF's init.
#include <cmath>

#include "finetune/model.h"

namespace ft {

namespace {

class TableBuilder {
  public:
    explicit TableBuilder(std::vector<ParamSpec>& out) : out_(out) {}
    void linear(const std::string& prefix, int64_t in, int64_t out, const std::string& group) {
        out_.push_back({prefix + ".weight", {out, in}, ParamKind::LINEAR_WEIGHT, group});
        out_.push_back({prefix + ".bias", {out}, ParamKind::BIAS, group});
    }
    void layer_norm(const std::string& prefix, int64_t c, const std::string& group) {
        out_.push_back({prefix + ".weight", {c}, ParamKind::LAYER_NORM_WEIGHT, group});
        out_.push_back({prefix + ".bias", {c}, ParamKind::LAYER_NORM_BIAS, group});
    }
    void embedding(const std::string& name, int64_t rows, int64_t c, const std::string& group,
                   int64_t padding_idx = -1) {
        out_.push_back({name, {rows, c}, ParamKind::EMBEDDING, group, padding_idx});
    }

  private:
    std::vector<ParamSpec>& out_;
};

void distilbert_table(const ModelConfig& cfg, TableBuilder& t) {
    const auto& d = cfg.distilbert;
    const int64_t C = d.dim, F = d.hidden_dim;
    const std::string e = "distilbert.embeddings.";
    t.embedding(e + "word_embeddings.weight", d.vocab_size, C, "embeddings", d.pad_token_id);
    t.embedding(e + "position_embeddings.weight", d.max_position_embeddings, C, "embeddings");
    t.layer_norm(e + "LayerNorm", C, "embeddings");
    for (int64_t l = 0; l < d.n_layers; ++l) {
        const std::string g = "layer." + std::to_string(l);
        const std::string p = "distilbert.transformer." + g + ".";
        for (const char* lin : {"q_lin", "k_lin", "v_lin", "out_lin"})
            t.linear(p + "attention." + lin, C, C, g);
        t.layer_norm(p + "sa_layer_norm", C, g);
        t.linear(p + "ffn.lin1", C, F, g);
        t.linear(p + "ffn.lin2", F, C, g);
        t.layer_norm(p + "output_layer_norm", C, g);
    }
    t.linear("pre_classifier", C, C, "classifier");
    t.linear("classifier", C, cfg.num_labels(), "classifier");
}

void bert_table(const ModelConfig& cfg, TableBuilder& t) {
    const auto& b = cfg.bert;
    const int64_t C = b.hidden_size, F = b.intermediate_size;
    const std::string e = "bert.embeddings.";
    t.embedding(e + "word_embeddings.weight", b.vocab_size, C, "embeddings", b.pad_token_id);
    t.embedding(e + "position_embeddings.weight", b.max_position_embeddings, C, "embeddings");
    t.embedding(e + "token_type_embeddings.weight", b.type_vocab_size, C, "embeddings");
    t.layer_norm(e + "LayerNorm", C, "embeddings");
    for (int64_t l = 0; l < b.num_hidden_layers; ++l) {
        const std::string g = "layer." + std::to_string(l);
        const std::string p = "bert.encoder." + g + ".";
        t.linear(p + "attention.self.query", C, C, g);
        t.linear(p + "attention.self.key", C, C, g);
        t.linear(p + "attention.self.value", C, C, g);
        t.linear(p + "attention.output.dense", C, C, g);
        t.layer_norm(p + "attention.output.LayerNorm", C, g);
        t.linear(p + "intermediate.dense", C, F, g);
        t.linear(p + "output.dense", F, C, g);
        t.layer_norm(p + "output.LayerNorm", C, g);
    }
    t.linear("bert.pooler.dense", C, C, "pooler");
    t.linear("classifier", C, cfg.num_labels(), "classifier");
}

}  // namespace

bool ParamSpec::no_weight_decay() const {
    return kind == ParamKind::BIAS || kind == ParamKind::LAYER_NORM_WEIGHT ||
           kind == ParamKind::LAYER_NORM_BIAS;
}

std::vector<ParamSpec> parameter_table(const ModelConfig& config) {
    std::vector<ParamSpec> specs;
    TableBuilder t(specs);
    if (config.family == ModelFamily::BERT) {
        bert_table(config, t);
    } else {
        distilbert_table(config, t);
    }
    return specs;
}

ModelWeights::ModelWeights(const ModelConfig& config) : specs_(parameter_table(config)) {
    // Each tensor starts on a 64-byte boundary (16 floats) so kernels can use aligned loads.
    std::vector<int64_t> offsets;
    int64_t total = 0;
    for (const auto& s : specs_) {
        offsets.push_back(total);
        total += (s.shape.numel() + 15) / 16 * 16;
        numel_ += s.shape.numel();
    }
    flat_ = Buffer(static_cast<size_t>(total) * sizeof(float));
    for (size_t i = 0; i < specs_.size(); ++i) {
        tensors_.push_back(Tensor::view(flat() + offsets[i], DType::F32, specs_[i].shape));
        index_[specs_[i].name] = i;
    }
}

const Tensor* ModelWeights::find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
}

StateDict ModelWeights::state_dict() const {
    StateDict sd;
    for (size_t i = 0; i < specs_.size(); ++i) sd.insert(specs_[i].name, tensors_[i]);
    return sd;
}

void init_parameter(Tensor& t, const ParamSpec& spec, double initializer_range, uint64_t seed,
                    uint64_t stream) {
    FT_ASSERT(t.dtype == DType::F32 && t.is_contiguous(), "init needs a contiguous f32 tensor");
    float* p = t.ptr<float>();
    const int64_t n = t.numel();
    switch (spec.kind) {
        case ParamKind::LINEAR_WEIGHT:
        case ParamKind::EMBEDDING: {
            const Philox rng(seed, stream);
            for (int64_t i = 0; i < n; ++i)
                p[i] = static_cast<float>(rng.normal(static_cast<uint64_t>(i)) * initializer_range);
            if (spec.padding_idx >= 0 && spec.padding_idx < spec.shape[0]) {
                const int64_t C = spec.shape[1];
                for (int64_t j = 0; j < C; ++j) p[spec.padding_idx * C + j] = 0.0f;
            }
            break;
        }
        case ParamKind::BIAS:
        case ParamKind::LAYER_NORM_BIAS:
            for (int64_t i = 0; i < n; ++i) p[i] = 0.0f;
            break;
        case ParamKind::LAYER_NORM_WEIGHT:
            for (int64_t i = 0; i < n; ++i) p[i] = 1.0f;
            break;
    }
}

}  // namespace ft
