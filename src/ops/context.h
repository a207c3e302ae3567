// The execution context every op takes: which device runs it, on which stream, with which scratch
// memory and backend handles, and where its time is counted. Ops read a Context; an OwnedContext
// owns what one points at. A Context serves one caller thread at a time, as a stream does.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "finetune/core.h"

namespace ft::ops {

// Where the time goes: wall time inside the GEMMs (linear) and attention, summed since the last
// reset (two clock reads per call, at the dispatch), and the GEMMs' arithmetic (2 flops per
// multiply-add) so that a benchmark can set their speed against the machine's peak.
struct OpTimes {
    double gemm_s = 0.0;
    double attention_s = 0.0;
    double gemm_flop = 0.0;
};

// Scratch memory on the context's device, grown to the largest request and then reused, so that
// after the first steps no op allocates. One request at a time: an op takes one block and carves
// it (e.g. into per-thread slices); the next op may reuse the same bytes.
class Workspace {
  public:
    explicit Workspace(Device device = Device::CPU) : device_(device) {}
    // At least `bytes` bytes, 64-byte aligned; contents undefined; valid until the next call.
    void* get(size_t bytes) {
        if (bytes > buffer_.size()) buffer_ = Buffer(bytes, device_);
        return buffer_.data();
    }
    size_t capacity() const { return buffer_.size(); }

  private:
    Device device_;
    Buffer buffer_;
};

// The CPU backend's handles: oneDNN's engine, stream and primitive cache (dnnl_backend.h),
// created on the first GEMM.
class DnnlBackend;
// A GPU context's stream and cuBLASLt handle (cuda_backend.h).
class CudaBackend;

struct Context {
    Device device = Device::CPU;
    void* stream = nullptr;  // cudaStream_t on CUDA (null: the default stream); unused on CPU
    Workspace* workspace = nullptr;  // scratch for ops that need it (attention, l2_norm)
    DnnlBackend* dnnl = nullptr;     // CPU GEMMs
    CudaBackend* cuda = nullptr;     // GPU handles (stream, cuBLASLt); null on CPU
    OpTimes* timings = nullptr;      // null: ops are not timed
    bool tf32 = false;  // GPU GEMMs in TF32 (--tf32, as torch's allow_tf32); exact f32 otherwise
};

// Owns a context's workspace, backend handles and timings.
class OwnedContext {
  public:
    explicit OwnedContext(Device device = Device::CPU, bool timed = true);
    ~OwnedContext();
    OwnedContext(const OwnedContext&) = delete;
    OwnedContext& operator=(const OwnedContext&) = delete;

    const Context& get() const { return ctx_; }
    void set_tf32(bool on) { ctx_.tf32 = on; }
    operator const Context&() const { return ctx_; }

  private:
    std::unique_ptr<Workspace> workspace_;
    std::unique_ptr<DnnlBackend> dnnl_;
    std::unique_ptr<CudaBackend> cuda_;
    std::unique_ptr<OpTimes> times_;
    Context ctx_;
};

// The process's default CPU context (timed): the one the context-free transition forms of ops.h
// use, and the benchmarks read timings from.
const Context& cpu_context();

namespace detail {

// Adds the wall time of its scope to one of ctx.timings' counters; nothing when ctx is untimed.
enum class TimedOp { GEMM, ATTENTION };
class ScopedOpTimer {
  public:
    ScopedOpTimer(const Context& ctx, TimedOp op) : times_(ctx.timings), op_(op) {
        if (times_) start_ = std::chrono::steady_clock::now();
    }
    ~ScopedOpTimer() {
        if (!times_) return;
        const double s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        (op_ == TimedOp::GEMM ? times_->gemm_s : times_->attention_s) += s;
    }
    ScopedOpTimer(const ScopedOpTimer&) = delete;
    ScopedOpTimer& operator=(const ScopedOpTimer&) = delete;

  private:
    OpTimes* times_;
    TimedOp op_;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace detail

}  // namespace ft::ops
