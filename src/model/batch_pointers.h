// A packed batch as the model's ops read it: the index arrays the encoder and the head take, on
// the context's device. On the CPU they are the batch's own vectors; on a GPU they are uploaded
// once per forward into a buffer the model owns. Only the offsets stay on the host (ops.h).
#pragma once

#include <cstdint>
#include <vector>

#include "finetune/model.h"
#include "ops/context.h"

namespace ft {

struct BatchPointers {
    int64_t T = 0, B = 0;
    const int32_t* offsets = nullptr;      // (B+1), always host memory
    const int32_t* input_ids = nullptr;    // (T)
    const int32_t* positions = nullptr;    // (T) position id of each token
    const int32_t* token_types = nullptr;  // (T); null when the family has no token types
    const int64_t* labels = nullptr;       // (B) or (T) class ids, or null
    const float* targets = nullptr;        // (B*K) float targets, or null
};

// Makes a validated PackedBatch's BatchPointers for one context. A step never allocates once
// reserve() has seen the largest batch.
class BatchStaging {
  public:
    // position_offset: the family's first position id; token_types: whether the family reads
    // them; K: the model's labels (the targets' columns).
    BatchStaging(const ops::Context& ctx, int32_t position_offset, bool token_types, int64_t K);
    void reserve(int64_t max_tokens, int64_t max_sequences);
    // Valid until the next stage(); `batch` must outlive the result on the CPU (it is read in
    // place). On a GPU the upload is ordered after the work already queued on the context.
    BatchPointers stage(const PackedBatch& batch);

  private:
    const ops::Context& ctx_;
    int32_t position_offset_;
    bool token_types_;
    int64_t K_;
    std::vector<int32_t> positions_;      // (T) host
    std::vector<int32_t> zero_type_ids_;  // (T) all 0, for batches without token types
    std::vector<std::byte> host_block_;   // GPU only: the block as uploaded
    Buffer device_block_;                 // GPU only
};

}  // namespace ft
