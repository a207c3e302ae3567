// One table of a model's activations: each entry names its slot, its rows (in terms of the
// batch) and its columns and dtype. The same table sizes the arena and carves it, so the two can
// never disagree.
#pragma once

#include <vector>

#include "finetune/core.h"

namespace ft {

// How many rows an activation has, for a given batch.
enum class Rows {
    TOKENS,     // T, all tokens of the packed batch
    SEQUENCES,  // B
    PROBS,      // attention probabilities: the sum over sequences of NH * len^2 (one column)
    ONE,        // a single row, e.g. a loss slot
};

struct BatchGeometry {
    int64_t tokens = 0, sequences = 0, probs = 0;
    int64_t rows(Rows r) const;
};

class ActivationTable {
  public:
    template <class T>
    void add(T** slot, Rows rows, int64_t cols, DType dtype) {
        FT_ASSERT(dtype_size(dtype) == sizeof(T), "activation slot type does not match its dtype");
        entries_.push_back({reinterpret_cast<void**>(slot), rows, cols, dtype});
    }
    void add(float** slot, Rows rows, int64_t cols) { add(slot, rows, cols, DType::F32); }

    // Bytes an arena needs to carve every entry for this geometry, alignment included.
    size_t bytes(const BatchGeometry& g) const;
    // Resets the arena and points every slot at its carve-out.
    void carve(Arena& arena, const BatchGeometry& g) const;

  private:
    struct Entry {
        void** slot;
        Rows rows;
        int64_t cols;
        DType dtype;
    };
    std::vector<Entry> entries_;
};

}  // namespace ft
