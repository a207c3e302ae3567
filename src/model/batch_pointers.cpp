// A packed batch's index arrays where the model's ops read them (see batch_pointers.h).
#include "model/batch_pointers.h"

#include <algorithm>
#include <cstring>

#include "core/device_cuda.h"

namespace ft {

namespace {

// Where each array sits in the GPU block: three int32 arrays of T, then the int64 labels (one per
// sequence or per token) on an 8-byte boundary, then the float targets.
struct BlockLayout {
    size_t positions, types, labels, targets, total;
};

BlockLayout block_layout(int64_t T, int64_t B, int64_t K) {
    const size_t t = static_cast<size_t>(T) * sizeof(int32_t);
    BlockLayout l;
    l.positions = t;
    l.types = 2 * t;
    l.labels = (3 * t + 7) / 8 * 8;
    // Room for a label per token (token classification); a sequence's label needs less (B <= T).
    l.targets = l.labels + static_cast<size_t>(std::max(T, B)) * sizeof(int64_t);
    l.total = l.targets + static_cast<size_t>(B * K) * sizeof(float);
    return l;
}

}  // namespace

BatchStaging::BatchStaging(const ops::Context& ctx, int32_t position_offset, bool token_types,
                           int64_t K)
    : ctx_(ctx), position_offset_(position_offset), token_types_(token_types), K_(K) {}

void BatchStaging::reserve(int64_t max_tokens, int64_t max_sequences) {
    if (static_cast<int64_t>(positions_.size()) < max_tokens) {
        positions_.resize(static_cast<size_t>(max_tokens));
        zero_type_ids_.assign(static_cast<size_t>(max_tokens), 0);
    }
    if (ctx_.device == Device::CPU) return;
    const size_t bytes = block_layout(max_tokens, max_sequences, K_).total;
    if (bytes <= device_block_.size()) return;
    host_block_.resize(bytes);
    device_block_ = Buffer(bytes, ctx_.device);
}

BatchPointers BatchStaging::stage(const PackedBatch& bt) {
    BatchPointers p;
    p.T = bt.num_tokens();
    p.B = bt.num_sequences();
    FT_ASSERT(static_cast<int64_t>(positions_.size()) >= p.T, "batch staged past its reserve()");
    p.offsets = bt.offsets.data();
    // Positions restart in every sequence, as in the padded model (from the family's offset).
    for (int64_t b = 0; b < p.B; ++b)
        for (int32_t t = bt.offsets[b]; t < bt.offsets[b + 1]; ++t)
            positions_[t] = position_offset_ + t - bt.offsets[b];
    // Without token types in the batch all tokens are segment 0, as HF defaults them.
    const int32_t* types = !token_types_               ? nullptr
                           : bt.token_type_ids.empty() ? zero_type_ids_.data()
                                                       : bt.token_type_ids.data();
    const int64_t* labels = bt.labels.empty() ? nullptr : bt.labels.data();
    const float* targets = bt.targets.empty() ? nullptr : bt.targets.data();
    if (ctx_.device == Device::CPU) {
        p.input_ids = bt.input_ids.data();
        p.positions = positions_.data();
        p.token_types = types;
        p.labels = labels;
        p.targets = targets;
        return p;
    }

    // GPU: one block, one copy (one synchronisation) per forward.
    const int64_t n_targets = targets ? static_cast<int64_t>(bt.targets.size()) : 0;
    FT_ASSERT(n_targets <= p.B * K_, "more targets than sequences x labels");
    const BlockLayout l = block_layout(p.T, p.B, K_);
    FT_ASSERT(l.total <= device_block_.size(), "batch staged past its reserve()");
    std::byte* h = host_block_.data();
    const size_t t_bytes = static_cast<size_t>(p.T) * sizeof(int32_t);
    std::memcpy(h, bt.input_ids.data(), t_bytes);
    std::memcpy(h + l.positions, positions_.data(), t_bytes);
    if (types) std::memcpy(h + l.types, types, t_bytes);
    FT_ASSERT(static_cast<int64_t>(bt.labels.size()) <= std::max(p.T, p.B), "labels past T");
    if (labels) std::memcpy(h + l.labels, labels, bt.labels.size() * sizeof(int64_t));
    if (targets)
        std::memcpy(h + l.targets, targets, static_cast<size_t>(n_targets) * sizeof(float));
    // Ordered after the previous step's kernels, which may still read the old block.
    cuda::copy_to_device(device_block_.data(), h, l.total, ctx_.stream);
    const auto* d = static_cast<const std::byte*>(device_block_.data());
    p.input_ids = reinterpret_cast<const int32_t*>(d);
    p.positions = reinterpret_cast<const int32_t*>(d + l.positions);
    p.token_types = types ? reinterpret_cast<const int32_t*>(d + l.types) : nullptr;
    p.labels = labels ? reinterpret_cast<const int64_t*>(d + l.labels) : nullptr;
    p.targets = targets ? reinterpret_cast<const float*>(d + l.targets) : nullptr;
    return p;
}

}  // namespace ft
