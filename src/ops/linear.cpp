// Fully connected layers in torch.nn.Linear's layout (weight (O, I)). float runs on oneDNN's
// matmul, one primitive cached per shape; double is plain loops, there for the
// finite-difference tests only.
#include <oneapi/dnnl/dnnl.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "finetune/ops.h"
#include "ops/ops_internal.h"

namespace ft::ops {

using detail::Acc;

namespace {

// The three products of a linear layer, each one oneDNN matmul dst (M, N) = src (M, K) x
// weights (K, N). Transposes are expressed as strides on the descriptors (format ab / ba), so
// oneDNN reads the tensors where they lie and no reorder ever copies them.
enum class Gemm : int {
    FORWARD,           // out (N,O) = inp (N,I) x W^T (I,O) [+ bias]
    BACKWARD_DATA,     // dinp (N,I) (+)= dout (N,O) x W (O,I)
    BACKWARD_WEIGHTS,  // dW (O,I) += dout^T (O,N) x inp (N,I)
};

struct MatmulKey {
    int64_t n, i, o;
    Gemm kind;
    bool accumulate;  // a sum post-op makes the primitive add into dst
    bool bias;
    auto operator<=>(const MatmulKey&) const = default;
};

// A primitive with its memory objects already bound to the key's shapes: a call only swaps data
// pointers, so after the first call of a shape nothing is allocated on our side.
struct Matmul {
    dnnl::matmul prim;
    dnnl::memory src, weights, bias, dst;
};

class DnnlContext {
  public:
    static DnnlContext& get() {
        static DnnlContext ctx;
        return ctx;
    }

    void run(const MatmulKey& key, const float* src, const float* weights, const float* bias,
             float* dst) {
        // One call at a time: the cached memory objects carry this call's pointers. Each call
        // uses every thread anyway.
        std::lock_guard<std::mutex> lock(mutex_);
        run_locked(key, src, weights, bias, dst);
    }

    // dinp (N,I) (+)= dout (N,O) x W (O,I) as a FORWARD product against W^T, which a reorder
    // writes into a scratch copy first (see backward_data below for why).
    void run_backward_data_transposed(bool accumulate, int64_t N, int64_t I, int64_t O,
                                      const float* dout, const float* weight, float* dinp) {
        std::lock_guard<std::mutex> lock(mutex_);
        Transpose& t = transpose_for(O, I);
        if (transposed_.size() < static_cast<size_t>(I * O))
            transposed_.resize(static_cast<size_t>(I * O));  // grows once per new shape
        t.from.set_data_handle(const_cast<float*>(weight));
        t.to.set_data_handle(transposed_.data());
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, t.from.get()}, {DNNL_ARG_TO, t.to.get()}};
        check(dnnl_primitive_execute(t.prim.get(), stream_.get(), 2, args), "reorder");
        // FORWARD with weights W' (O' = I, I' = O) = W^T: out = dout x W'^T = dout x W.
        run_locked({N, O, I, Gemm::FORWARD, accumulate, false}, dout, transposed_.data(), nullptr,
                   dinp);
    }

  private:
    void run_locked(const MatmulKey& key, const float* src, const float* weights, const float* bias,
                    float* dst) {
        Matmul& m = lookup(key);
        m.src.set_data_handle(const_cast<float*>(src));
        m.weights.set_data_handle(const_cast<float*>(weights));
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

    static void check(dnnl_status_t st, const char* what) {
        if (st != dnnl_success)
            assert_fail(
                "dnnl_primitive_execute", __FILE__, __LINE__,
                std::string("oneDNN ") + what + " failed with status " + std::to_string(st));
    }

    // A reorder from W (O,I) row-major to the same matrix stored column-major, i.e. W^T (I,O)
    // row-major; one per weight shape (a model has two or three).
    struct Transpose {
        dnnl::reorder prim;
        dnnl::memory from, to;
    };

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

    DnnlContext() : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_) {}

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
        md src, wei, dst;
        switch (key.kind) {
            case Gemm::FORWARD:
                src = md({N, I}, dt::f32, {I, 1});
                wei = md({I, O}, dt::f32, {1, I});  // W (O,I) read as its transpose
                dst = md({N, O}, dt::f32, {O, 1});
                break;
            case Gemm::BACKWARD_DATA:
                src = md({N, O}, dt::f32, {O, 1});
                wei = md({O, I}, dt::f32, {I, 1});
                dst = md({N, I}, dt::f32, {I, 1});
                break;
            case Gemm::BACKWARD_WEIGHTS:
                src = md({O, N}, dt::f32, {1, O});  // dout (N,O) read as its transpose
                wei = md({N, I}, dt::f32, {I, 1});
                dst = md({O, I}, dt::f32, {I, 1});
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
    std::mutex mutex_;
    std::map<MatmulKey, std::unique_ptr<Matmul>> cache_;
    std::map<std::pair<int64_t, int64_t>, std::unique_ptr<Transpose>> transposes_;
    std::vector<float> transposed_;  // W^T for run_backward_data_transposed
};

void matmul(Gemm kind, bool accumulate, int64_t N, int64_t I, int64_t O, const float* src,
            const float* weights, const float* bias, float* dst) {
    detail::threads();  // applies FT_NUM_THREADS before oneDNN sizes its OpenMP team
    detail::add_gemm_flop(2 * N * I * O);
    DnnlContext::get().run({N, I, O, kind, accumulate, bias != nullptr}, src, weights, bias, dst);
}

// dinp (N,I) (+)= dout (N,O) x W (O,I). Measured in bench/train_step: with W read in place and I
// much wider than O (the FFN output layer: dinp (T,3072) from dout (T,768)), oneDNN's matmul ran
// at ~75 GFLOP/s inside the training step (it reaches ~130 on the same operands in a program of
// its own; the cause was not found), while the same product against a transposed copy of W ran
// at ~135, and the copy (a 9.4 MB oneDNN reorder) costs ~2 ms. So wide products over enough rows
// to repay the copy take that route (not the last layer's 16 [CLS] rows: ~0.5 ms either way).
void backward_data(bool accumulate, int64_t N, int64_t I, int64_t O, const float* dout,
                   const float* weight, float* dinp) {
    if (I >= 2 * O && O >= 256 && N >= 64) {
        detail::threads();
        detail::add_gemm_flop(2 * N * I * O);
        DnnlContext::get().run_backward_data_transposed(accumulate, N, I, O, dout, weight, dinp);
    } else {
        matmul(Gemm::BACKWARD_DATA, accumulate, N, I, O, dout, weight, nullptr, dinp);
    }
}

// The double path: straightforward loops, rows split across threads.
void linear_forward_ref(double* out, const double* inp, const double* weight, const double* bias,
                        int64_t N, int64_t I, int64_t O) {
#pragma omp parallel for num_threads(detail::threads()) schedule(static)
    for (int64_t n = 0; n < N; ++n)
        for (int64_t o = 0; o < O; ++o) {
            double acc = bias ? bias[o] : 0.0;
            for (int64_t i = 0; i < I; ++i) acc += inp[n * I + i] * weight[o * I + i];
            out[n * O + o] = acc;
        }
}

void linear_backward_ref(double* dinp, double* dweight, const double* dout, const double* inp,
                         const double* weight, int64_t N, int64_t I, int64_t O,
                         bool accumulate_dinp) {
    // Loops ordered so that the innermost one runs along contiguous rows.
    if (dinp) {
#pragma omp parallel for num_threads(detail::threads()) schedule(static)
        for (int64_t n = 0; n < N; ++n) {
            double* d = dinp + n * I;
            if (!accumulate_dinp)
                for (int64_t i = 0; i < I; ++i) d[i] = 0.0;
            for (int64_t o = 0; o < O; ++o) {
                const double g = dout[n * O + o];
                const double* w = weight + o * I;
                for (int64_t i = 0; i < I; ++i) d[i] += g * w[i];
            }
        }
    }
#pragma omp parallel for num_threads(detail::threads()) schedule(static)
    for (int64_t o = 0; o < O; ++o) {
        double* dw = dweight + o * I;
        for (int64_t n = 0; n < N; ++n) {
            const double g = dout[n * O + o];
            const double* x = inp + n * I;
            for (int64_t i = 0; i < I; ++i) dw[i] += g * x[i];
        }
    }
}

void linear_forward_impl(float* out, const float* inp, const float* weight, const float* bias,
                         int64_t N, int64_t I, int64_t O) {
    matmul(Gemm::FORWARD, false, N, I, O, inp, weight, bias, out);
}
void linear_forward_impl(double* out, const double* inp, const double* weight, const double* bias,
                         int64_t N, int64_t I, int64_t O) {
    linear_forward_ref(out, inp, weight, bias, N, I, O);
}

void linear_backward_impl(float* dinp, float* dweight, const float* dout, const float* inp,
                          const float* weight, int64_t N, int64_t I, int64_t O,
                          bool accumulate_dinp) {
    if (dinp) backward_data(accumulate_dinp, N, I, O, dout, weight, dinp);
    matmul(Gemm::BACKWARD_WEIGHTS, true, N, I, O, dout, inp, nullptr, dweight);
}
void linear_backward_impl(double* dinp, double* dweight, const double* dout, const double* inp,
                          const double* weight, int64_t N, int64_t I, int64_t O,
                          bool accumulate_dinp) {
    linear_backward_ref(dinp, dweight, dout, inp, weight, N, I, O, accumulate_dinp);
}

}  // namespace

template <class T>
void linear_forward(T* out /*(N,O)*/, const T* inp /*(N,I)*/, const T* weight /*(O,I)*/,
                    const T* bias /*(O) or null*/, int64_t N, int64_t I, int64_t O) {
    const detail::ScopedOpTimer timer(detail::TimedOp::GEMM);
    if (N == 0 || O == 0) return;
    if (I == 0) {  // an empty product: only the bias (oneDNN rejects zero-sized K)
        for (int64_t n = 0; n < N; ++n)
            for (int64_t o = 0; o < O; ++o) out[n * O + o] = bias ? bias[o] : T(0);
        return;
    }
    linear_forward_impl(out, inp, weight, bias, N, I, O);
}

template <class T>
void linear_backward(T* dinp /*(N,I) or null*/, T* dweight /*(O,I)*/, T* dbias /*(O) or null*/,
                     const T* dout /*(N,O)*/, const T* inp /*(N,I)*/, const T* weight /*(O,I)*/,
                     int64_t N, int64_t I, int64_t O, bool accumulate_dinp) {
    const detail::ScopedOpTimer timer(detail::TimedOp::GEMM);
    if (N > 0 && I > 0 && O > 0) {
        linear_backward_impl(dinp, dweight, dout, inp, weight, N, I, O, accumulate_dinp);
    } else if (dinp && !accumulate_dinp) {  // nothing flows, but a written dinp must be defined
        for (int64_t k = 0; k < N * I; ++k) dinp[k] = T(0);
    }
    if (dbias)
        detail::column_sums_add(
            dbias, N, O, [&](int64_t n, int64_t o) { return static_cast<Acc>(dout[n * O + o]); });
}

#define FT_INSTANTIATE(T)                                                                         \
    template void linear_forward<T>(T*, const T*, const T*, const T*, int64_t, int64_t, int64_t); \
    template void linear_backward<T>(T*, T*, T*, const T*, const T*, const T*, int64_t, int64_t,  \
                                     int64_t, bool);
FT_INSTANTIATE(float)
FT_INSTANTIATE(double)
#undef FT_INSTANTIATE

}  // namespace ft::ops
