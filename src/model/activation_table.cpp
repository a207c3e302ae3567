// Sizing and carving an activation arena from one table (see activation_table.h).
#include "model/activation_table.h"

namespace ft {

namespace {

constexpr size_t ALIGN = 64;  // Arena::alloc's alignment

size_t entry_bytes(int64_t rows, int64_t cols, DType dtype) {
    return static_cast<size_t>(rows * cols) * dtype_size(dtype);
}

}  // namespace

int64_t BatchGeometry::rows(Rows r) const {
    switch (r) {
        case Rows::TOKENS:
            return tokens;
        case Rows::SEQUENCES:
            return sequences;
        case Rows::PROBS:
            return probs;
        case Rows::ONE:
            return 1;
    }
    return 0;
}

size_t ActivationTable::bytes(const BatchGeometry& g) const {
    size_t total = 0;
    for (const Entry& e : entries_)
        total = (total + ALIGN - 1) / ALIGN * ALIGN + entry_bytes(g.rows(e.rows), e.cols, e.dtype);
    return total;
}

void ActivationTable::carve(Arena& arena, const BatchGeometry& g) const {
    arena.reset();
    for (const Entry& e : entries_)
        *e.slot = arena.alloc(entry_bytes(g.rows(e.rows), e.cols, e.dtype));
}

}  // namespace ft
