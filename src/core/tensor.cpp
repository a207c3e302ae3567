// Shapes, aligned owned buffers and strided tensor views.
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "finetune/core.h"

namespace ft {

Shape::Shape(std::initializer_list<int64_t> d) {
    FT_ASSERT(d.size() <= MAX_DIMS, "too many dimensions");
    for (int64_t x : d) dims[ndim++] = x;
}

Shape Shape::from(const std::vector<int64_t>& d) {
    if (d.size() > MAX_DIMS)
        throw Error("tensor has " + std::to_string(d.size()) + " dimensions; at most " +
                    std::to_string(MAX_DIMS) + " are supported");
    Shape s;
    for (int64_t x : d) s.dims[s.ndim++] = x;
    return s;
}

int64_t Shape::numel() const {
    int64_t n = 1;
    for (int i = 0; i < ndim; ++i) n *= dims[i];
    return n;
}

std::string Shape::str() const {
    std::ostringstream os;
    os << '[';
    for (int i = 0; i < ndim; ++i) os << (i ? ", " : "") << dims[i];
    os << ']';
    return os.str();
}

bool Shape::operator==(const Shape& o) const {
    if (ndim != o.ndim) return false;
    for (int i = 0; i < ndim; ++i)
        if (dims[i] != o.dims[i]) return false;
    return true;
}

Shape contiguous_strides(const Shape& shape) {
    Shape s;
    s.ndim = shape.ndim;
    int64_t stride = 1;
    for (int i = shape.ndim - 1; i >= 0; --i) {
        s.dims[i] = stride;
        stride *= shape.dims[i];
    }
    return s;
}

Buffer::Buffer(size_t bytes, Device device) : size_(bytes), device_(device) {
    if (bytes == 0) return;
    data_ = allocator_for(device).allocate(bytes);
}

void Buffer::release() {
    if (data_) allocator_for(device_).deallocate(data_);
    data_ = nullptr;
    size_ = 0;
}

Buffer::~Buffer() {
    release();
}

Buffer::Buffer(Buffer&& o) noexcept : data_(o.data_), size_(o.size_), device_(o.device_) {
    o.data_ = nullptr;
    o.size_ = 0;
}

Buffer& Buffer::operator=(Buffer&& o) noexcept {
    if (this != &o) {
        release();
        data_ = o.data_;
        size_ = o.size_;
        device_ = o.device_;
        o.data_ = nullptr;
        o.size_ = 0;
    }
    return *this;
}

Tensor Tensor::view(void* data, DType dtype, const Shape& shape,
                    std::shared_ptr<const void> owner) {
    Tensor t;
    t.data = data;
    t.dtype = dtype;
    t.shape = shape;
    t.strides = contiguous_strides(shape);
    t.owner = std::move(owner);
    return t;
}

Tensor Tensor::empty(DType dtype, const Shape& shape) {
    auto buf = std::make_shared<Buffer>(static_cast<size_t>(shape.numel()) * dtype_size(dtype));
    void* p = buf->data();
    return view(p, dtype, shape, std::move(buf));
}

bool Tensor::is_contiguous() const {
    int64_t expected = 1;
    for (int i = shape.ndim - 1; i >= 0; --i) {
        if (shape.dims[i] != 1 && strides.dims[i] != expected) return false;
        expected *= shape.dims[i];
    }
    return true;
}

Tensor Tensor::contiguous_copy() const {
    Tensor out = empty(dtype, shape);
    const size_t es = dtype_size(dtype);
    const int64_t n = numel();
    if (n == 0) return out;
    if (is_contiguous()) {
        std::memcpy(out.data, data, nbytes());
        return out;
    }
    // Walk the elements in row-major order with an index counter.
    std::array<int64_t, MAX_DIMS> idx{};
    auto* dst = static_cast<uint8_t*>(out.data);
    const auto* src = static_cast<const uint8_t*>(data);
    for (int64_t k = 0; k < n; ++k) {
        int64_t off = 0;
        for (int d = 0; d < shape.ndim; ++d) off += idx[d] * strides.dims[d];
        std::memcpy(dst + k * es, src + off * static_cast<int64_t>(es), es);
        for (int d = shape.ndim - 1; d >= 0; --d) {
            if (++idx[d] < shape.dims[d]) break;
            idx[d] = 0;
        }
    }
    return out;
}

bool bit_equal(const Tensor& a, const Tensor& b) {
    if (a.dtype != b.dtype || a.shape != b.shape) return false;
    const Tensor ca = a.is_contiguous() ? a : a.contiguous_copy();
    const Tensor cb = b.is_contiguous() ? b : b.contiguous_copy();
    return a.nbytes() == 0 || std::memcmp(ca.data, cb.data, ca.nbytes()) == 0;
}

}  // namespace ft
