// ForSequenceClassification / ForTokenClassification on packed batches: a family's encoder with
// the task's head on top (model/head_table.cpp), sharing one activation arena that one table sizes
// and carves. Forward in train or eval mode, the loss HF would pick, and the backward that
// accumulates into a flat gradient buffer. The model runs where its weights live: on the CPU
// context, or on a GPU context of its own with the arena and the batch's arrays in GPU memory.
#include <cmath>
#include <limits>
#include <memory>

#include "core/device_cuda.h"
#include "finetune/model.h"
#include "model/batch_pointers.h"
#include "model/classification_head.h"
#include "model/encoder.h"
#include "ops/ops.h"

namespace ft {

int64_t PackedBatch::max_length() const {
    int64_t m = 0;
    for (size_t b = 0; b + 1 < offsets.size(); ++b)
        m = std::max<int64_t>(m, offsets[b + 1] - offsets[b]);
    return m;
}

struct SequenceClassifier::Impl {
    // A GPU model's own context (stream, workspace, GEMM handles); null on the CPU.
    std::unique_ptr<ops::OwnedContext> gpu;
    // The context every op runs on: the GPU's, or the process's CPU context.
    const ops::Context& ctx;
    const ModelWeights& weights;
    ModelParams<const float> params;
    // bf16 autocast's view of its copy of the weights (set_autocast_bf16); empty in float32.
    ModelParams<const uint16_t> params16;
    Encoder encoder;
    std::unique_ptr<ClassificationHead> head;  // the task's (model/head_table.cpp)
    ActivationTable table;
    Arena arena;
    BatchGeometry capacity;
    BatchStaging staging;
    const int64_t K;

    // The last forward.
    const PackedBatch* batch = nullptr;
    int64_t T = 0, B = 0;
    double loss = std::numeric_limits<double>::quiet_NaN();
    // A GPU model's logits on the host, downloaded by the first logits() after a forward.
    std::vector<float> logits_host;
    bool logits_downloaded = false;
    // The gradient buffer's views, bound on first use and kept while the same buffer comes back.
    const float* grads_bound_to = nullptr;
    ModelParams<float> grads;

    static ProblemType problem_of(const ModelConfig& c) {
        if (c.problem_type != ProblemType::NONE) return c.problem_type;
        return c.num_labels() == 1 ? ProblemType::REGRESSION
                                   : ProblemType::SINGLE_LABEL_CLASSIFICATION;
    }

    static std::unique_ptr<ops::OwnedContext> gpu_context(const ModelWeights& w, bool tf32) {
        if (w.device() != Device::CUDA) return nullptr;
        auto c = std::make_unique<ops::OwnedContext>(Device::CUDA, /*timed=*/false);
        c->set_tf32(tf32);
        return c;
    }

    Impl(const ModelConfig& c, const ModelWeights& w, bool tf32)
        : gpu(gpu_context(w, tf32)),
          ctx(gpu ? gpu->get() : ops::cpu_context()),
          weights(w),
          params(bind_params(w, c.layers())),
          encoder(ctx, family_descriptor(c.family).encoder(c)),
          head(make_head(ctx, c, problem_of(c))),
          staging(ctx, static_cast<int32_t>(encoder.spec().position_offset), encoder.spec().TT > 0,
                  c.num_labels()),
          K(c.num_labels()) {
        encoder.declare_activations(table);
        head->declare_activations(table);
    }

    void ensure_capacity(const BatchGeometry& g) {
        if (g.tokens <= capacity.tokens && g.sequences <= capacity.sequences &&
            g.probs <= capacity.probs)
            return;
        capacity.tokens = std::max(capacity.tokens, g.tokens);
        capacity.sequences = std::max(capacity.sequences, g.sequences);
        capacity.probs = std::max(capacity.probs, g.probs);
        arena = Arena(table.bytes(capacity), ctx.device);
        staging.reserve(capacity.tokens, capacity.sequences);
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
        logits_downloaded = false;
        const BatchPointers on_device = staging.stage(bt);
        const Dropout dropout{&ctx, is_train, Philox(seed, step)};
        const float* hidden =
            encoder.forward(params.encoder, on_device, head->input_rows(), dropout);
        loss = head->forward(params.head, hidden, on_device, dropout);
        return loss;
    }

    const float* logits() {
        if (ctx.device == Device::CPU) return head->logits();
        if (!logits_downloaded) {
            logits_host.resize(static_cast<size_t>(head->logit_rows() * K));
            cuda::copy_to_host(logits_host.data(), head->logits(),
                               logits_host.size() * sizeof(float), ctx.stream);
            logits_downloaded = true;
        }
        return logits_host.data();
    }

    void validate(const PackedBatch& bt) const {
        if (bt.offsets.empty() || bt.offsets[0] != 0)
            throw Error("packed batch: offsets must start with 0");
        for (int64_t b = 0; b < B; ++b) {
            const int64_t len = bt.offsets[b + 1] - bt.offsets[b];
            if (len <= 0) throw Error("packed batch: sequence " + std::to_string(b) + " is empty");
            // RoBERTa's positions start after the pad id: 514 positions take 512 tokens.
            const int64_t room = encoder.spec().P - encoder.spec().position_offset;
            if (len > room)
                throw Error(
                    "packed batch: sequence " + std::to_string(b) + " has " + std::to_string(len) +
                    " tokens; the model takes at most " + std::to_string(room) +
                    " (max_position_embeddings = " + std::to_string(encoder.spec().P) +
                    (encoder.spec().position_offset
                         ? ", positions from " + std::to_string(encoder.spec().position_offset)
                         : std::string()) +
                    ")");
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
        head->validate(bt);
    }

    void set_autocast_bf16(const Bf16Weights* copy) {
        if (copy && ctx.device != Device::CPU)
            throw Error("bf16 autocast runs on the CPU only (the CUDA bf16 path is not built yet)");
        if (copy) params16 = bind_params(*copy, weights, encoder.spec().L);
        encoder.set_bf16(copy ? &params16.encoder : nullptr);
        head->set_bf16(copy ? &params16.head : nullptr);
    }

    void backward(ModelWeights& g, float loss_scale) {
        if (!batch || std::isnan(loss))
            throw Error("backward needs a forward pass with labels first");
        if (g.device() != ctx.device)
            throw Error("backward: the gradients are on " + std::string(device_name(g.device())) +
                        ", the model runs on " + std::string(device_name(ctx.device)));
        if (grads_bound_to != g.flat()) {
            grads = bind_params(g, encoder.spec().L);
            grads_bound_to = g.flat();
        }
        const float* g_hidden = head->backward(params.head, grads.head, loss_scale);
        encoder.backward(params.encoder, grads.encoder, g_hidden);
    }
};

SequenceClassifier::SequenceClassifier(const ModelConfig& config, const ModelWeights& weights,
                                       bool tf32)
    : impl_(std::make_unique<Impl>(config, weights, tf32)) {}
SequenceClassifier::~SequenceClassifier() = default;

void SequenceClassifier::reserve(int64_t max_tokens, int64_t max_sequences, int64_t max_length) {
    const int64_t probs = impl_->encoder.spec().NH * max_tokens * max_length;  // sum len^2 <= T*max
    impl_->ensure_capacity({max_tokens, max_sequences, probs});
}

double SequenceClassifier::forward(const PackedBatch& batch, bool train, uint64_t seed,
                                   uint64_t step) {
    return impl_->forward(batch, train, seed, step);
}

void SequenceClassifier::set_autocast_bf16(const Bf16Weights* copy) {
    impl_->set_autocast_bf16(copy);
}

void SequenceClassifier::backward(ModelWeights& grads, float loss_scale) {
    impl_->backward(grads, loss_scale);
}
const float* SequenceClassifier::logits() const {
    return impl_->logits();
}
Device SequenceClassifier::device() const {
    return impl_->ctx.device;
}
const ops::Context& SequenceClassifier::context() const {
    return impl_->ctx;
}
ProblemType SequenceClassifier::problem_type() const {
    return impl_->head->problem();
}
int64_t SequenceClassifier::logit_rows() const {
    return impl_->head->logit_rows();
}
size_t SequenceClassifier::arena_bytes() const {
    return impl_->arena.capacity();
}

}  // namespace ft
