// oneDNN's matmul for the linear layers' GEMMs (float, or bf16 operands with float32
// accumulation), one primitive cached per shape and type. Transposes are expressed as strides on
// the descriptors (format ab / ba), so oneDNN reads the tensors where they lie and no reorder
// ever copies them (except backward_data_transposed's, on purpose).
#include "ops/dnnl_backend.h"

#include <oneapi/dnnl/dnnl.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "finetune/core.h"

namespace ft::ops {

namespace {

struct MatmulKey {
    int64_t n, i, o;
    Gemm kind;
    bool accumulate;  // a sum post-op makes the primitive add into dst
    bool bias;
    dnnl::memory::data_type type;  // of src and weights: f32, or bf16 (the bias is f32)
    dnnl::memory::data_type dst_type = dnnl::memory::data_type::f32;  // bf16: rounded by oneDNN
    auto operator<=>(const MatmulKey&) const = default;
};

// A primitive with its memory objects already bound to the key's shapes: a call only swaps data
// pointers, so after the first call of a shape nothing is allocated on our side.
struct Matmul {
    dnnl::matmul prim;
    dnnl::memory src, weights, bias, dst;
};

// A reorder from W (O,I) row-major to the same matrix stored column-major, i.e. W^T (I,O)
// row-major; one per weight shape (a model has two or three).
struct Transpose {
    dnnl::reorder prim;
    dnnl::memory from, to;
};

void check(dnnl_status_t st, const char* what) {
    if (st != dnnl_success)
        assert_fail("dnnl_primitive_execute", __FILE__, __LINE__,
                    std::string("oneDNN ") + what + " failed with status " + std::to_string(st));
}

}  // namespace

class DnnlBackend::Impl {
  public:
    Impl() : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {}

    void run(const MatmulKey& key, const void* src, const void* weights, const float* bias,
             void* dst) {
        Matmul& m = lookup(key);
        m.src.set_data_handle(const_cast<void*>(src));
        m.weights.set_data_handle(const_cast<void*>(weights));
        m.dst.set_data_handle(dst);
        dnnl_exec_arg_t args[4] = {{DNNL_ARG_SRC, m.src.get()},
                                   {DNNL_ARG_WEIGHTS, m.weights.get()},
                                   {DNNL_ARG_DST, m.dst.get()},
                                   {DNNL_ARG_BIAS, nullptr}};
        int nargs = 3;
        if (key.bias) {
            m.bias.set_data_handle(const_cast<float*>(bias));
            args[nargs++].memory = m.bias.get();
        }
        // The C entry point takes the arguments as an array: no std::unordered_map per call.
        check(dnnl_primitive_execute(m.prim.get(), stream_.get(), nargs, args), "matmul");
    }

    void run_backward_data_transposed(bool accumulate, int64_t N, int64_t I, int64_t O,
                                      const float* dout, const float* weight, float* dinp) {
        Transpose& t = transpose_for(O, I);
        if (transposed_.size() < static_cast<size_t>(I * O))
            transposed_.resize(static_cast<size_t>(I * O));  // grows once per new shape
        t.from.set_data_handle(const_cast<float*>(weight));
        t.to.set_data_handle(transposed_.data());
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, t.from.get()}, {DNNL_ARG_TO, t.to.get()}};
        check(dnnl_primitive_execute(t.prim.get(), stream_.get(), 2, args), "reorder");
        // FORWARD with weights W' (O' = I, I' = O) = W^T: out = dout x W'^T = dout x W.
        run({N, O, I, Gemm::FORWARD, accumulate, false, dnnl::memory::data_type::f32}, dout,
            transposed_.data(), nullptr, dinp);
    }

  private:
    Transpose& transpose_for(int64_t O, int64_t I) {
        auto& t = transposes_[{O, I}];
        if (!t) {
            using md = dnnl::memory::desc;
            const md from({O, I}, dnnl::memory::data_type::f32, {I, 1});
            const md to({O, I}, dnnl::memory::data_type::f32, {1, O});
            t = std::make_unique<Transpose>();
            t->prim = dnnl::reorder(dnnl::reorder::primitive_desc(engine_, from, engine_, to));
            t->from = dnnl::memory(from, engine_, DNNL_MEMORY_NONE);
            t->to = dnnl::memory(to, engine_, DNNL_MEMORY_NONE);
        }
        return *t;
    }

    // Shapes vary with every packed batch (T differs per step), so the cache grows by a few
    // primitives per distinct token count. Measured here: creating one costs ~0.1 ms and keeps
    // ~26 KB, so the bound caps memory at ~26 MB, and clearing everything when it is reached
    // costs only the re-creation of the shapes still in use.
    static constexpr size_t MAX_CACHED = 1024;

    Matmul& lookup(const MatmulKey& key) {
        auto it = cache_.find(key);
        if (it != cache_.end()) return *it->second;
        if (cache_.size() >= MAX_CACHED) {
            log_debug("ops: dropping " + std::to_string(cache_.size()) + " cached matmuls");
            cache_.clear();
        }
        try {
            return *cache_.emplace(key, create(key)).first->second;
        } catch (const dnnl::error& e) {
            assert_fail("oneDNN matmul creation", __FILE__, __LINE__,
                        std::string(e.what()) + " for N=" + std::to_string(key.n) +
                            " I=" + std::to_string(key.i) + " O=" + std::to_string(key.o));
        }
    }

    std::unique_ptr<Matmul> create(const MatmulKey& key) const {
        using dt = dnnl::memory::data_type;
        using md = dnnl::memory::desc;
        const int64_t N = key.n, I = key.i, O = key.o;
        const dt in = key.type;  // src and weights
        md src, wei, dst;
        switch (key.kind) {
            case Gemm::FORWARD:
                src = md({N, I}, in, {I, 1});
                wei = md({I, O}, in, {1, I});  // W (O,I) read as its transpose
                dst = md({N, O}, key.dst_type, {O, 1});
                break;
            case Gemm::BACKWARD_DATA:
                src = md({N, O}, in, {O, 1});
                wei = md({O, I}, in, {I, 1});
                dst = md({N, I}, key.dst_type, {I, 1});
                break;
            case Gemm::BACKWARD_WEIGHTS:
                src = md({O, N}, in, {1, O});  // dout (N,O) read as its transpose
                wei = md({N, I}, in, {I, 1});
                dst = md({O, I}, key.dst_type, {I, 1});
                break;
        }
        const md bias = key.bias ? md({1, dst.dims()[1]}, dt::f32, {dst.dims()[1], 1}) : md();
        dnnl::primitive_attr attr;
        if (key.accumulate) {
            dnnl::post_ops ops;
            ops.append_sum(1.0f);
            attr.set_post_ops(ops);
        }
        const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, wei, bias, dst), attr,
                                              engine_);
        auto m = std::make_unique<Matmul>();
        m->prim = dnnl::matmul(pd);
        // DNNL_MEMORY_NONE: the objects own no buffer; run() points them at the caller's data.
        m->src = dnnl::memory(src, engine_, DNNL_MEMORY_NONE);
        m->weights = dnnl::memory(wei, engine_, DNNL_MEMORY_NONE);
        m->dst = dnnl::memory(dst, engine_, DNNL_MEMORY_NONE);
        if (key.bias) m->bias = dnnl::memory(bias, engine_, DNNL_MEMORY_NONE);
        return m;
    }

    dnnl::engine engine_;
    dnnl::stream stream_;
    std::map<MatmulKey, std::unique_ptr<Matmul>> cache_;
    std::map<std::pair<int64_t, int64_t>, std::unique_ptr<Transpose>> transposes_;
    std::vector<float> transposed_;  // W^T for run_backward_data_transposed
};

DnnlBackend::DnnlBackend() = default;
DnnlBackend::~DnnlBackend() = default;

DnnlBackend::Impl& DnnlBackend::impl() {
    if (!impl_) impl_ = std::make_unique<Impl>();
    return *impl_;
}

void DnnlBackend::matmul(Gemm kind, bool accumulate, int64_t N, int64_t I, int64_t O,
                         const float* src, const float* weights, const float* bias, float* dst) {
    const std::lock_guard<std::mutex> lock(mutex_);
    impl().run({N, I, O, kind, accumulate, bias != nullptr, dnnl::memory::data_type::f32}, src,
               weights, bias, dst);
}

void DnnlBackend::matmul_bf16(Gemm kind, bool accumulate, int64_t N, int64_t I, int64_t O,
                              const uint16_t* src, const uint16_t* weights, const float* bias,
                              float* dst) {
    const std::lock_guard<std::mutex> lock(mutex_);
    impl().run({N, I, O, kind, accumulate, bias != nullptr, dnnl::memory::data_type::bf16}, src,
               weights, bias, dst);
}

void DnnlBackend::matmul_bf16_rounded(Gemm kind, int64_t N, int64_t I, int64_t O,
                                      const uint16_t* src, const uint16_t* weights, uint16_t* dst) {
    const std::lock_guard<std::mutex> lock(mutex_);
    using dt = dnnl::memory::data_type;
    impl().run({N, I, O, kind, false, false, dt::bf16, dt::bf16}, src, weights, nullptr, dst);
}

void DnnlBackend::backward_data_transposed(bool accumulate, int64_t N, int64_t I, int64_t O,
                                           const float* dout, const float* weight, float* dinp) {
    const std::lock_guard<std::mutex> lock(mutex_);
    impl().run_backward_data_transposed(accumulate, N, I, O, dout, weight, dinp);
}

}  // namespace ft::ops
