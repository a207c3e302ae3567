// The activation arena: one allocation, bump-pointer carving, reset per step.
#include "finetune/core.h"

namespace ft {

Arena::Arena(size_t capacity_bytes, Device device) : buffer_(capacity_bytes, device) {}

void* Arena::alloc(size_t bytes) {
    const size_t start = (used_ + 63) / 64 * 64;
    if (start + bytes > buffer_.size())
        throw Error("arena full: asked for " + std::to_string(bytes) + " bytes with " +
                    std::to_string(buffer_.size() - std::min(start, buffer_.size())) + " of " +
                    std::to_string(buffer_.size()) + " left");
    used_ = start + bytes;
    if (used_ > high_water_) high_water_ = used_;
    return static_cast<uint8_t*>(buffer_.data()) + start;
}

Tensor Arena::alloc_tensor(DType dtype, const Shape& shape) {
    void* p = alloc(static_cast<size_t>(shape.numel()) * dtype_size(dtype));
    Tensor t = Tensor::view(p, dtype, shape);
    t.device = device();
    return t;
}

}  // namespace ft
