// finetune/core.h — the bottom layer: errors, dtypes, tensors (views and owned buffers),
// the activation arena, the counter-based RNG, thread control, logging and Python's reprs.
// Everything above (io, model, ops, train) speaks in these types.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace ft {

// The activations of encoders and heads (ops::activation_forward); GELU is the exact (erf) form,
// HF's "gelu".
enum class Activation { GELU, RELU, TANH };  // GELU is the exact (erf) form, HF's "gelu"

// ---------------------------------------------------------------------------------------------
// Errors. User and data errors throw ft::Error whose message names the file, line, field or
// shape at fault; internal invariants use FT_ASSERT, which stays on in release builds.

class Error : public std::runtime_error {
  public:
    explicit Error(const std::string& what) : std::runtime_error(what) {}
};

[[noreturn]] void assert_fail(const char* cond, const char* file, int line, const std::string& msg);

#define FT_ASSERT(cond, msg)                                              \
    do {                                                                  \
        if (!(cond)) ::ft::assert_fail(#cond, __FILE__, __LINE__, (msg)); \
    } while (0)

// ---------------------------------------------------------------------------------------------
// Dtypes. The names are safetensors' ("F32", "BF16", ...); torch storage names map onto them.

enum class DType : uint8_t { F32, F64, F16, BF16, I64, I32, I16, I8, U8, BOOL };

size_t dtype_size(DType t);
std::string_view dtype_name(DType t);  // safetensors spelling, e.g. "F32"
// Parses a safetensors dtype name; returns false for an unknown one.
bool dtype_from_name(std::string_view name, DType* out);

// bf16 / f16 <-> f32. bf16 rounds to nearest even like torch; f16 is IEEE binary16.
float bf16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

// ---------------------------------------------------------------------------------------------
// Shapes: at most 8 dimensions, stored inline so that making a view never allocates.

constexpr int MAX_DIMS = 8;

struct Shape {
    int ndim = 0;
    std::array<int64_t, MAX_DIMS> dims{};

    Shape() = default;
    Shape(std::initializer_list<int64_t> d);
    static Shape from(const std::vector<int64_t>& d);

    int64_t operator[](int i) const { return dims[i]; }
    int64_t numel() const;
    std::vector<int64_t> to_vector() const { return {dims.begin(), dims.begin() + ndim}; }
    std::string str() const;  // "[2, 3]"
    bool operator==(const Shape& o) const;
    bool operator!=(const Shape& o) const { return !(*this == o); }
};

// ---------------------------------------------------------------------------------------------
// Devices. Every Buffer, Arena and Tensor says where its bytes live. CUDA is known to every build;
// one built without it throws "built without CUDA" when asked to allocate or run there.

enum class Device : uint8_t { CPU, CUDA };
std::string_view device_name(Device d);  // "cpu", "cuda", as torch spells them

// Where a device's memory comes from; allocate() returns 64-byte aligned, zero-filled bytes.
class Allocator {
  public:
    virtual ~Allocator() = default;
    virtual void* allocate(size_t bytes) = 0;
    virtual void deallocate(void* p) = 0;
};
// The allocator of a device (throws ft::Error when this build or machine cannot use it).
Allocator& allocator_for(Device d);

// ---------------------------------------------------------------------------------------------
// Owned memory, 64-byte aligned (cache lines and AVX-512 loads). Zero-initialised.

class Buffer {
  public:
    Buffer() = default;
    explicit Buffer(size_t bytes, Device device = Device::CPU);
    ~Buffer();
    Buffer(Buffer&& o) noexcept;
    Buffer& operator=(Buffer&& o) noexcept;
    Buffer(const Buffer&) = delete;
    Buffer& operator=(const Buffer&) = delete;

    void* data() { return data_; }
    const void* data() const { return data_; }
    size_t size() const { return size_; }
    Device device() const { return device_; }

  private:
    void release();
    void* data_ = nullptr;
    size_t size_ = 0;
    Device device_ = Device::CPU;
};

// ---------------------------------------------------------------------------------------------
// Tensor: a strided view of memory plus an optional keep-alive handle on whatever owns the bytes
// (a Buffer, an mmap'd file, a zip entry). Strides are in elements. Copying a Tensor copies the
// view, never the data.

struct Tensor {
    void* data = nullptr;
    DType dtype = DType::F32;
    Device device = Device::CPU;
    Shape shape;
    Shape strides;
    std::shared_ptr<const void> owner;

    // A contiguous view of `data` (row-major strides).
    static Tensor view(void* data, DType dtype, const Shape& shape,
                       std::shared_ptr<const void> owner = nullptr);
    // A fresh zero-filled contiguous tensor that owns its memory.
    static Tensor empty(DType dtype, const Shape& shape);

    int64_t numel() const { return shape.numel(); }
    size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype); }
    bool is_contiguous() const;
    template <class T>
    T* ptr() const {
        return static_cast<T*>(data);
    }
    // A contiguous copy that owns its memory (also when this view is already contiguous).
    Tensor contiguous_copy() const;
};

Shape contiguous_strides(const Shape& shape);

// True when both have the same dtype, shape and bytes (NaN payloads compared bitwise).
bool bit_equal(const Tensor& a, const Tensor& b);

// ---------------------------------------------------------------------------------------------
// Arena: one allocation sized up front; activations are carved out of it by bumping an offset,
// so a training step never calls malloc. reset() frees everything at once.

class Arena {
  public:
    explicit Arena(size_t capacity_bytes = 0, Device device = Device::CPU);
    Device device() const { return buffer_.device(); }
    void* alloc(size_t bytes);  // 64-byte aligned; throws ft::Error when the arena is full
    Tensor alloc_tensor(DType dtype, const Shape& shape);
    void reset() { used_ = 0; }
    size_t used() const { return used_; }
    size_t capacity() const { return buffer_.size(); }
    size_t high_water() const { return high_water_; }

  private:
    Buffer buffer_;
    size_t used_ = 0;
    size_t high_water_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Philox-4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3"): a counter-based
// generator, so element i of a dropout mask is a pure function of (seed, stream, i) and any
// thread can produce any slice of it without shared state.

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> counter, std::array<uint32_t, 2> key);

class Philox {
  public:
    explicit Philox(uint64_t seed, uint64_t stream = 0) : seed_(seed), stream_(stream) {}
    // The 4 words of block `index` in this stream.
    std::array<uint32_t, 4> block(uint64_t index) const;
    // Uniform float in [0, 1) for element i (24 random bits, like torch's float uniform).
    float uniform(uint64_t i) const;
    // Uniform 64-bit integer for element i (for shuffling).
    uint64_t next_u64(uint64_t i) const;
    // Standard normal for element i (Box-Muller over one block).
    double normal(uint64_t i) const;
    // The key and the stream, for a device implementation of the same generator.
    uint64_t seed() const { return seed_; }
    uint64_t stream() const { return stream_; }

  private:
    uint64_t seed_;
    uint64_t stream_;
};

// ---------------------------------------------------------------------------------------------
// Threads (OpenMP). Defaults to the number of cores; FT_NUM_THREADS or OMP_NUM_THREADS override.

void set_num_threads(int n);
int get_num_threads();

// ---------------------------------------------------------------------------------------------
// Logging to stderr, with a level: FT_LOG_LEVEL=debug|info|warning|error (default info).

enum class LogLevel { DEBUG, INFO, WARNING, ERROR };
void set_log_level(LogLevel level);
LogLevel get_log_level();
void log(LogLevel level, const std::string& msg);
inline void log_info(const std::string& msg) {
    log(LogLevel::INFO, msg);
}
inline void log_warning(const std::string& msg) {
    log(LogLevel::WARNING, msg);
}
inline void log_debug(const std::string& msg) {
    log(LogLevel::DEBUG, msg);
}

// ---------------------------------------------------------------------------------------------
// Python's repr of a str (quote choice and escapes as CPython does) and of a float (the shortest
// text that reads back exactly: "3.0", "0.0001", "5e-05", "nan"), for what HF prints and writes.

std::string python_repr(std::string_view s);
std::string python_float_repr(double v);

}  // namespace ft
