// The parameter table of a model (its family descriptor writes it), the flat weight allocation on
// a device and its copies between devices, and HF's init.
#include <cmath>
#include <cstring>

#include "core/device_cuda.h"
#include "finetune/model.h"
#include "model/family.h"
#include "ops/ops.h"

namespace ft {

namespace {

// A bare GPU context on the default stream, for the copies and fills of whole weight buffers:
// ordered with the copies of device_cuda.h, which use the same stream.
const ops::Context& default_stream() {
    static const ops::Context ctx{.device = Device::CUDA};
    return ctx;
}

// Appends parameters in HF's named_parameters() order, each with its role.
class TableBuilder {
  public:
    explicit TableBuilder(std::vector<ParamSpec>& out) : out_(out) {}
    void linear(const std::string& prefix, int64_t in, int64_t out, const std::string& group,
                ParamRole weight_role, int32_t layer = -1) {
        out_.push_back({prefix + ".weight",
                        {out, in},
                        ParamKind::LINEAR_WEIGHT,
                        group,
                        -1,
                        weight_role,
                        layer});
        out_.push_back(
            {prefix + ".bias", {out}, ParamKind::BIAS, group, -1, bias_of(weight_role), layer});
    }
    void layer_norm(const std::string& prefix, int64_t c, const std::string& group,
                    ParamRole weight_role, int32_t layer = -1) {
        out_.push_back(
            {prefix + ".weight", {c}, ParamKind::LAYER_NORM_WEIGHT, group, -1, weight_role, layer});
        out_.push_back({prefix + ".bias",
                        {c},
                        ParamKind::LAYER_NORM_BIAS,
                        group,
                        -1,
                        bias_of(weight_role),
                        layer});
    }
    void embedding(const std::string& name, int64_t rows, int64_t c, ParamRole role,
                   int64_t padding_idx = -1) {
        out_.push_back({name, {rows, c}, ParamKind::EMBEDDING, "embeddings", padding_idx, role});
    }

  private:
    // Each weight role is followed by its bias role in ParamRole.
    static ParamRole bias_of(ParamRole weight_role) {
        return static_cast<ParamRole>(static_cast<int>(weight_role) + 1);
    }
    std::vector<ParamSpec>& out_;
};

}  // namespace

bool ParamSpec::no_weight_decay() const {
    return kind == ParamKind::BIAS || kind == ParamKind::LAYER_NORM_WEIGHT ||
           kind == ParamKind::LAYER_NORM_BIAS;
}

std::vector<ParamSpec> parameter_table(const ModelConfig& config) {
    const FamilyDescriptor& family = family_descriptor(config.family);
    const EncoderSpec e = family.encoder(config);
    const ParameterNames& n = family.names;
    const std::string emb(n.embeddings);
    std::vector<ParamSpec> specs;
    TableBuilder t(specs);
    t.embedding(emb + "word_embeddings.weight", e.V, e.C, ParamRole::WORD_EMBEDDINGS,
                e.padding_idx);
    t.embedding(emb + "position_embeddings.weight", e.P, e.C, ParamRole::POSITION_EMBEDDINGS,
                e.position_padding_idx);
    if (e.TT > 0)
        t.embedding(emb + "token_type_embeddings.weight", e.TT, e.C,
                    ParamRole::TOKEN_TYPE_EMBEDDINGS);
    t.layer_norm(emb + "LayerNorm", e.C, "embeddings", ParamRole::EMBEDDING_NORM_WEIGHT);
    for (int32_t l = 0; l < e.L; ++l) {
        const std::string g = "layer." + std::to_string(l);
        const std::string p = std::string(n.layers) + std::to_string(l) + ".";
        auto name = [&](std::string_view part) { return p + std::string(part); };
        t.linear(name(n.q), e.C, e.C, g, ParamRole::Q_WEIGHT, l);
        t.linear(name(n.k), e.C, e.C, g, ParamRole::K_WEIGHT, l);
        t.linear(name(n.v), e.C, e.C, g, ParamRole::V_WEIGHT, l);
        t.linear(name(n.o), e.C, e.C, g, ParamRole::O_WEIGHT, l);
        t.layer_norm(name(n.norm1), e.C, g, ParamRole::NORM1_WEIGHT, l);
        t.linear(name(n.ffn1), e.C, e.F, g, ParamRole::FFN1_WEIGHT, l);
        t.linear(name(n.ffn2), e.F, e.C, g, ParamRole::FFN2_WEIGHT, l);
        t.layer_norm(name(n.norm2), e.C, g, ParamRole::NORM2_WEIGHT, l);
    }
    if (config.task == ModelTask::TOKEN_CLASSIFICATION) {  // a classifier on every token
        t.linear(std::string(family.token_head.out), e.C, config.num_labels(), "classifier",
                 ParamRole::HEAD_OUT_WEIGHT);
        return specs;
    }
    t.linear(std::string(n.head_dense), e.C, e.C, std::string(n.head_dense_group),
             ParamRole::HEAD_DENSE_WEIGHT);
    t.linear(std::string(n.head_out), e.C, config.num_labels(), "classifier",
             ParamRole::HEAD_OUT_WEIGHT);
    return specs;
}

ModelWeights::ModelWeights(const ModelConfig& config, Device device)
    : ModelWeights(parameter_table(config), device) {}

ModelWeights::ModelWeights(std::vector<ParamSpec> specs, Device device) : specs_(std::move(specs)) {
    // Each tensor starts on a 64-byte boundary (16 floats) so kernels can use aligned loads.
    std::vector<int64_t> offsets;
    int64_t total = 0;
    for (const auto& s : specs_) {
        offsets.push_back(total);
        total += (s.shape.numel() + 15) / 16 * 16;
        numel_ += s.shape.numel();
    }
    flat_ = Buffer(static_cast<size_t>(total) * sizeof(float), device);  // zero-filled
    for (size_t i = 0; i < specs_.size(); ++i) {
        tensors_.push_back(Tensor::view(flat() + offsets[i], DType::F32, specs_[i].shape));
        tensors_.back().device = device;
        index_[specs_[i].name] = i;
    }
}

ModelWeights ModelWeights::to(Device device) const {
    ModelWeights out(specs_, device);
    out.copy_from(*this);
    return out;
}

void ModelWeights::copy_from(const ModelWeights& src) {
    FT_ASSERT(src.flat_size() == flat_size() && src.specs_.size() == specs_.size(),
              "copy_from: the weights have different parameter tables");
    const size_t bytes = static_cast<size_t>(flat_size()) * sizeof(float);
    const Device from = src.device(), here = device();
    if (from == Device::CPU && here == Device::CPU)
        std::memcpy(flat(), src.flat(), bytes);
    else if (from == Device::CPU)
        cuda::copy_to_device(flat(), src.flat(), bytes);
    else if (here == Device::CPU)
        cuda::copy_to_host(flat(), src.flat(), bytes);
    else {
        ops::copy(default_stream(), flat(), src.flat(), flat_size());
        cuda::synchronize();
    }
}

void ModelWeights::zero() {
    if (device() == Device::CPU) {
        std::fill_n(flat(), flat_size(), 0.0f);
        return;
    }
    ops::fill_zero(default_stream(), flat(), flat_size());
    cuda::synchronize();
}

const Tensor* ModelWeights::find(const std::string& name) const {
    auto it = index_.find(name);
    return it == index_.end() ? nullptr : &tensors_[it->second];
}

StateDict ModelWeights::state_dict() const {
    if (device() != Device::CPU)
        throw Error("state_dict: the weights are on " + std::string(device_name(device())) +
                    "; copy them to the host first (ModelWeights::to(Device::CPU))");
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
