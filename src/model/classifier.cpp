// ForSequenceClassification on packed batches: a family's encoder with the sequence-
// classification head on top, sharing one activation arena that one table sizes and carves.
// Forward in train or eval mode, the loss HF would pick, and the backward that accumulates into a
// flat gradient buffer.
#include <cmath>
#include <limits>

#include "finetune/model.h"
#include "model/encoder.h"
#include "model/sequence_classification_head.h"
#include "ops/ops.h"

namespace ft {

int64_t PackedBatch::max_length() const {
    int64_t m = 0;
    for (size_t b = 0; b + 1 < offsets.size(); ++b)
        m = std::max<int64_t>(m, offsets[b + 1] - offsets[b]);
    return m;
}

struct SequenceClassifier::Impl {
    // The CPU context every op runs on (a device choice will hand the model its own).
    const ops::Context& ctx = ops::cpu_context();
    ModelParams<const float> params;
    Encoder encoder;
    SequenceClassificationHead head;
    ActivationTable table;
    Arena arena;
    BatchGeometry capacity;

    // The last forward.
    const PackedBatch* batch = nullptr;
    int64_t T = 0, B = 0;
    double loss = std::numeric_limits<double>::quiet_NaN();
    // The gradient buffer's views, bound on first use and kept while the same buffer comes back.
    const float* grads_bound_to = nullptr;
    ModelParams<float> grads;

    static ProblemType problem_of(const ModelConfig& c) {
        if (c.problem_type != ProblemType::NONE) return c.problem_type;
        return c.num_labels() == 1 ? ProblemType::REGRESSION
                                   : ProblemType::SINGLE_LABEL_CLASSIFICATION;
    }

    Impl(const ModelConfig& c, const ModelWeights& w)
        : params(bind_params(w, c.layers())),
          encoder(ctx, family_descriptor(c.family).encoder(c)),
          head(ctx, family_descriptor(c.family).sequence_head(c), c.hidden(), c.num_labels(),
               c.layers(), problem_of(c)) {
        encoder.declare_activations(table);
        head.declare_activations(table);
    }

    void ensure_capacity(const BatchGeometry& g) {
        if (g.tokens <= capacity.tokens && g.sequences <= capacity.sequences &&
            g.probs <= capacity.probs)
            return;
        capacity.tokens = std::max(capacity.tokens, g.tokens);
        capacity.sequences = std::max(capacity.sequences, g.sequences);
        capacity.probs = std::max(capacity.probs, g.probs);
        arena = Arena(table.bytes(capacity));
        encoder.reserve(capacity.tokens);
    }

    double forward(const PackedBatch& bt, bool is_train, uint64_t seed, uint64_t step) {
        batch = &bt;
        T = bt.num_tokens();
        B = bt.num_sequences();
        validate(bt);
        const BatchGeometry g{T, B,
                              ops::attention_probs_size(bt.offsets.data(), B, encoder.spec().NH)};
        ensure_capacity(g);
        table.carve(arena, g);
        const Dropout dropout{&ctx, is_train, Philox(seed, step)};
        const float* hidden =
            encoder.forward(params.encoder, bt, SequenceClassificationHead::input_rows, dropout);
        loss = head.forward(params.head, hidden, bt, dropout);
        return loss;
    }

    void validate(const PackedBatch& bt) const {
        if (bt.offsets.empty() || bt.offsets[0] != 0)
            throw Error("packed batch: offsets must start with 0");
        for (int64_t b = 0; b < B; ++b) {
            const int64_t len = bt.offsets[b + 1] - bt.offsets[b];
            if (len <= 0) throw Error("packed batch: sequence " + std::to_string(b) + " is empty");
            if (len > encoder.spec().P)
                throw Error("packed batch: sequence " + std::to_string(b) + " has " +
                            std::to_string(len) +
                            " tokens; the model takes at most max_position_embeddings = " +
                            std::to_string(encoder.spec().P));
        }
        if (static_cast<int64_t>(bt.input_ids.size()) != T)
            throw Error("packed batch: " + std::to_string(bt.input_ids.size()) + " input ids for " +
                        std::to_string(T) + " tokens");
        for (int64_t t = 0; t < T; ++t)
            if (bt.input_ids[t] < 0 || bt.input_ids[t] >= encoder.spec().V)
                throw Error("packed batch: token id " + std::to_string(bt.input_ids[t]) +
                            " at position " + std::to_string(t) + " is outside the vocabulary of " +
                            std::to_string(encoder.spec().V));
        if (!bt.token_type_ids.empty()) {
            if (static_cast<int64_t>(bt.token_type_ids.size()) != T)
                throw Error("packed batch: token_type_ids has " +
                            std::to_string(bt.token_type_ids.size()) + " entries for " +
                            std::to_string(T) + " tokens");
            const int64_t types = encoder.spec().TT > 0 ? encoder.spec().TT : 1;
            for (int32_t t : bt.token_type_ids)
                if (t < 0 || t >= types)
                    throw Error("packed batch: token type " + std::to_string(t) +
                                " is outside 0.." + std::to_string(types - 1));
        }
        head.validate(bt);
    }

    void backward(ModelWeights& g, float loss_scale) {
        if (!batch || std::isnan(loss))
            throw Error("backward needs a forward pass with labels first");
        if (grads_bound_to != g.flat()) {
            grads = bind_params(g, encoder.spec().L);
            grads_bound_to = g.flat();
        }
        const float* g_hidden = head.backward(params.head, grads.head, loss_scale);
        encoder.backward(params.encoder, grads.encoder, g_hidden);
    }
};

SequenceClassifier::SequenceClassifier(const ModelConfig& config, const ModelWeights& weights)
    : impl_(std::make_unique<Impl>(config, weights)) {}
SequenceClassifier::~SequenceClassifier() = default;

void SequenceClassifier::reserve(int64_t max_tokens, int64_t max_sequences, int64_t max_length) {
    const int64_t probs = impl_->encoder.spec().NH * max_tokens * max_length;  // sum len^2 <= T*max
    impl_->ensure_capacity({max_tokens, max_sequences, probs});
}

double SequenceClassifier::forward(const PackedBatch& batch, bool train, uint64_t seed,
                                   uint64_t step) {
    return impl_->forward(batch, train, seed, step);
}

void SequenceClassifier::backward(ModelWeights& grads, float loss_scale) {
    impl_->backward(grads, loss_scale);
}
const float* SequenceClassifier::logits() const {
    return impl_->head.logits();
}
ProblemType SequenceClassifier::problem_type() const {
    return impl_->head.problem();
}
size_t SequenceClassifier::arena_bytes() const {
    return impl_->arena.capacity();
}

}  // namespace ft
