// Binding a parameter table's tensors to the typed views of param_views.h by their roles.
#include "model/param_views.h"

namespace ft {

namespace {

template <class P>
P** slot_of(ModelParams<P>& m, ParamRole role, int32_t layer) {
    auto& e = m.encoder;
    switch (role) {
        case ParamRole::WORD_EMBEDDINGS:
            return &e.wte;
        case ParamRole::POSITION_EMBEDDINGS:
            return &e.wpe;
        case ParamRole::TOKEN_TYPE_EMBEDDINGS:
            return &e.wtt;
        case ParamRole::EMBEDDING_NORM_WEIGHT:
            return &e.ln.w;
        case ParamRole::EMBEDDING_NORM_BIAS:
            return &e.ln.b;
        case ParamRole::HEAD_DENSE_WEIGHT:
            return &m.head.dense.w;
        case ParamRole::HEAD_DENSE_BIAS:
            return &m.head.dense.b;
        case ParamRole::HEAD_OUT_WEIGHT:
            return &m.head.out.w;
        case ParamRole::HEAD_OUT_BIAS:
            return &m.head.out.b;
        default:
            break;
    }
    FT_ASSERT(layer >= 0 && layer < static_cast<int32_t>(e.layers.size()),
              "per-layer parameter without a valid layer");
    LayerParams<P>& l = e.layers[static_cast<size_t>(layer)];
    switch (role) {
        case ParamRole::Q_WEIGHT:
            return &l.q.w;
        case ParamRole::Q_BIAS:
            return &l.q.b;
        case ParamRole::K_WEIGHT:
            return &l.k.w;
        case ParamRole::K_BIAS:
            return &l.k.b;
        case ParamRole::V_WEIGHT:
            return &l.v.w;
        case ParamRole::V_BIAS:
            return &l.v.b;
        case ParamRole::O_WEIGHT:
            return &l.o.w;
        case ParamRole::O_BIAS:
            return &l.o.b;
        case ParamRole::NORM1_WEIGHT:
            return &l.ln1.w;
        case ParamRole::NORM1_BIAS:
            return &l.ln1.b;
        case ParamRole::FFN1_WEIGHT:
            return &l.ffn1.w;
        case ParamRole::FFN1_BIAS:
            return &l.ffn1.b;
        case ParamRole::FFN2_WEIGHT:
            return &l.ffn2.w;
        case ParamRole::FFN2_BIAS:
            return &l.ffn2.b;
        case ParamRole::NORM2_WEIGHT:
            return &l.ln2.w;
        case ParamRole::NORM2_BIAS:
            return &l.ln2.b;
        default:
            break;
    }
    FT_ASSERT(false, "parameter role the engine does not know");
}

// ptr_of(i): where parameter i of the table lives.
template <class P, class F>
ModelParams<P> bind_table(const std::vector<ParamSpec>& specs, int64_t layers, const F& ptr_of) {
    ModelParams<P> m;
    m.encoder.layers.resize(static_cast<size_t>(layers));
    for (size_t i = 0; i < specs.size(); ++i) {
        const ParamSpec& s = specs[i];
        P** slot = slot_of(m, s.role, s.layer);
        FT_ASSERT(*slot == nullptr, "parameter '" + s.name + "' binds a role already bound");
        *slot = ptr_of(i);
    }
    auto need = [](const void* p, const char* what) {
        FT_ASSERT(p != nullptr, std::string("the parameter table has no ") + what);
    };
    need(m.encoder.wte, "word embeddings");
    need(m.encoder.wpe, "position embeddings");
    need(m.encoder.ln.w, "embedding LayerNorm");
    need(m.encoder.ln.b, "embedding LayerNorm bias");
    for (const auto& l : m.encoder.layers)
        for (const void* p : {l.q.w, l.q.b, l.k.w, l.k.b, l.v.w, l.v.b, l.o.w, l.o.b, l.ln1.w,
                              l.ln1.b, l.ffn1.w, l.ffn1.b, l.ffn2.w, l.ffn2.b, l.ln2.w, l.ln2.b})
            need(p, "complete encoder layer");
    // The output layer always; the dense layer with both tensors or neither (a token head).
    for (const void* p : {m.head.out.w, m.head.out.b}) need(p, "complete classifier");
    FT_ASSERT((m.head.dense.w == nullptr) == (m.head.dense.b == nullptr),
              "the parameter table has half a head dense layer");
    return m;
}

}  // namespace

ModelParams<const float> bind_params(const ModelWeights& weights, int64_t layers) {
    return bind_table<const float>(
        weights.specs(), layers, [&](size_t i) { return weights.tensors()[i].ptr<const float>(); });
}

ModelParams<float> bind_params(ModelWeights& weights, int64_t layers) {
    return bind_table<float>(weights.specs(), layers,
                             [&](size_t i) { return weights.tensors()[i].ptr<float>(); });
}

ModelParams<const uint16_t> bind_params(const Bf16Weights& copy, const ModelWeights& weights,
                                        int64_t layers) {
    FT_ASSERT(copy.flat_size() == weights.flat_size(), "the bf16 copy is of another model");
    return bind_table<const uint16_t>(weights.specs(), layers,
                                      [&](size_t i) { return copy.flat() + weights.offset_of(i); });
}

}  // namespace ft
