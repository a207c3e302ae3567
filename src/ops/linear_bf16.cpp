// Linear layers under bf16 autocast (docs/bf16-autocast.md), and the float -> bf16 conversions.
// Tensors stay float in memory; the GEMMs run on oneDNN with bf16 operands and float32
// accumulation, and every result autocast would hold as a bf16 tensor is rounded to bf16 values.
//
// What torch 1.13 (Debian python3-torch) does, measured with tools/gen_bf16_linear_golden.py and
// probes of the same kind, and what these ops reproduce:
// - Forward, F.linear under autocast (addmm): x, W and b are each cast to bf16; the products and
//   the bias are summed in float32 and the sum is rounded once. Rounding the bias after the sum,
//   or not at all, differs from torch (150 of 1920 outputs on a 40x64x48 probe).
// - Backward (autograd outside autocast), g the bf16 gradient of the output:
//   dX = r(g @ W_bf16) and dW = r(g^T @ X_bf16), float32 accumulation, one rounding each; their
//   cast backward converts them exactly to float32 and AccumulateGrad adds dW to the float32
//   .grad in float32. db = r(sum over rows of g): torch sums the bf16 column in float32 and
//   rounds once; here the sum is in double (exact for any realistic N), then rounded once, so it
//   can differ from torch's only where its float32 sum lands within a float32 rounding of a bf16
//   tie (none in the golden; tests/ops/linear_bf16_test.cpp builds one). The same holds for the
//   GEMMs: oneDNN's float32 sums and the exact ones round to bf16 differently only next to a tie,
//   by one bf16 unit.
// - Inputs shared by several bf16 linears (Q, K, V on one LayerNorm output): autocast does not
//   cache the cast of a non-leaf tensor, so each linear has its own cast and autograd sums the
//   three rounded dX in float32, in its execution order: the linear created last first. In a
//   DistilBERT block the sum into the LayerNorm output x measured (hf_modules.DistilBlock,
//   4096 elements, 0 mismatches) is ((r + dX_v) + dX_k) + dX_q, r being the residual's float32
//   gradient; the engine's order ((r + dX_q) + dX_k) + dX_v mismatched 113. Two or three
//   bf16 values of similar size sum exactly in float32, so the order matters only where
//   magnitudes are far apart or a float32 r is involved. accumulate_dinp adds the rounded dX to
//   dinp in float32 (dinp += r(...)): calling V, then K, then Q (V with dinp holding r, or
//   written when there is no residual) reproduces autograd bit for bit.
//   (A leaf tensor's cast is cached: one cast node, whose incoming bf16 gradients autograd sums
//   in bf16, rounding each partial sum. The encoder never has that case.)
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <string>

#include "ops/bf16_bits.h"
#include "ops/dnnl_backend.h"
#include "ops/ops.h"
#include "ops/ops_internal.h"

namespace ft::ops {

namespace {

using detail::bf16_bits;
using detail::round_bf16;

FT_BF16_CLONES void to_bf16_span(uint16_t* dst, const float* src, int64_t n) {
    for (int64_t i = 0; i < n; ++i)
        dst[i] = static_cast<uint16_t>(bf16_bits(std::bit_cast<uint32_t>(src[i])));
}

FT_BF16_CLONES void round_span(float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) x[i] = round_bf16(x[i]);
}

// acc += r(x): a bf16 gradient added to a float32 one.
FT_BF16_CLONES void add_rounded_span(float* acc, const float* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) acc[i] += round_bf16(x[i]);
}

// acc += x, x bf16 bits: a rounded bf16 gradient added to a float32 one.
FT_BF16_CLONES void add_bf16_span(float* acc, const uint16_t* x, int64_t n) {
    for (int64_t i = 0; i < n; ++i) acc[i] += std::bit_cast<float>(uint32_t{x[i]} << 16);
}

// acc[c] += the sum over rows n of g[n * ld + c], for c < nc, rows in order (double).
FT_BF16_CLONES void column_sums_bf16_block(double* acc, const uint16_t* g, int64_t nrow, int64_t ld,
                                           int64_t nc) {
    for (int64_t n = 0; n < nrow; ++n) {
        const uint16_t* row = g + n * ld;
        for (int64_t c = 0; c < nc; ++c)
            acc[c] += static_cast<double>(std::bit_cast<float>(uint32_t{row[c]} << 16));
    }
}

// sums[c] += the column sums of the bf16 matrix g (nrow, ncol), in double; threads own blocks of
// columns, so the bits do not depend on the thread count.
void column_sums_bf16(double* sums, const uint16_t* g, int64_t nrow, int64_t ncol) {
    constexpr int64_t BLOCK = 128;
    const int64_t nblocks = (ncol + BLOCK - 1) / BLOCK;
#pragma omp parallel for num_threads(detail::threads()) \
    schedule(static) if (nrow * ncol > detail::PARALLEL_MIN)
    for (int64_t blk = 0; blk < nblocks; ++blk) {
        const int64_t c0 = blk * BLOCK, nc = std::min(BLOCK, ncol - c0);
        double acc[BLOCK] = {};
        column_sums_bf16_block(acc, g + c0, nrow, ncol, nc);
        for (int64_t c = 0; c < nc; ++c) sums[c0 + c] += acc[c];
    }
}

void to_bf16_par(uint16_t* dst, const float* src, int64_t n) {
    detail::parallel_chunks(n, [&](int64_t b, int64_t c) { to_bf16_span(dst + b, src + b, c); });
}
void round_par(float* x, int64_t n) {
    detail::parallel_chunks(n, [&](int64_t b, int64_t c) { round_span(x + b, c); });
}
void add_rounded_par(float* acc, const float* x, int64_t n) {
    detail::parallel_chunks(n, [&](int64_t b, int64_t c) { add_rounded_span(acc + b, x + b, c); });
}
void add_bf16_par(float* acc, const uint16_t* x, int64_t n) {
    detail::parallel_chunks(n, [&](int64_t b, int64_t c) { add_bf16_span(acc + b, x + b, c); });
}

// The bf16 value nearest to d (ties to even), rounded once: d is first rounded to float with
// round-to-odd (float's 24 bits keep the information a second rounding to bf16's 8 needs), so
// the bf16 rounding of that float is the correct rounding of d.
float round_bf16(double d) {
    float f = static_cast<float>(d);
    if (std::isfinite(f) && static_cast<double>(f) != d && (std::bit_cast<uint32_t>(f) & 1u) == 0)
        f = std::nextafter(f, d > static_cast<double>(f) ? INFINITY : -INFINITY);
    return round_bf16(f);
}

// The scratch of one op, carved from ctx.workspace in 64-byte aligned pieces.
class Scratch {
  public:
    // Sizes in bytes of the pieces, in the order take() will hand them out.
    Scratch(const Context& ctx, std::initializer_list<size_t> bytes) {
        size_t total = 0;
        for (const size_t b : bytes) total += padded(b);
        next_ = static_cast<char*>(ctx.workspace->get(total));
    }
    template <class T>
    T* take(int64_t n) {
        T* p = reinterpret_cast<T*>(next_);
        next_ += padded(static_cast<size_t>(n) * sizeof(T));
        return p;
    }

  private:
    static size_t padded(size_t b) { return (b + 63) / 64 * 64; }
    char* next_;
};

void check_cpu(const Context& ctx, const char* op) {
    if (ctx.device != Device::CPU)
        throw Error(std::string("op ") + op +
                    ": bf16 autocast runs on the CPU only (no CUDA kernel yet)");
    FT_ASSERT(ctx.dnnl && ctx.workspace, std::string(op) + ": the context has no oneDNN/workspace");
}

void count_flop(const Context& ctx, int64_t products, int64_t N, int64_t I, int64_t O) {
    if (ctx.timings && N > 0 && I > 0 && O > 0)
        ctx.timings->gemm_flop += static_cast<double>(2 * products * N * I * O);
}

}  // namespace

void round_to_bf16(const Context& ctx, float* x, int64_t n) {
    FT_ASSERT(n >= 0 && (n == 0 || x), "round_to_bf16: bad tensor");
    check_cpu(ctx, "round_to_bf16");
    round_par(x, n);
}

void to_bf16(const Context& ctx, uint16_t* dst, const float* src, int64_t n) {
    FT_ASSERT(n >= 0 && (n == 0 || (dst && src)), "to_bf16: bad tensor");
    check_cpu(ctx, "to_bf16");
    to_bf16_par(dst, src, n);
}

void linear_forward_bf16(const Context& ctx, float* out, const float* inp,
                         const uint16_t* weight_bf16, const float* bias, int64_t N, int64_t I,
                         int64_t O) {
    FT_ASSERT(N >= 0 && I >= 0 && O >= 0, "linear_forward_bf16: negative size");
    FT_ASSERT(N * O == 0 || (out && (I == 0 || (inp && weight_bf16))),
              "linear_forward_bf16: null tensor");
    check_cpu(ctx, "linear_forward_bf16");
    const detail::ScopedOpTimer timer(ctx, detail::TimedOp::GEMM);
    count_flop(ctx, 1, N, I, O);
    if (N == 0 || O == 0) return;
    if (I == 0) {  // an empty product: only the bias (oneDNN rejects zero-sized K)
        for (int64_t n = 0; n < N; ++n)
            for (int64_t o = 0; o < O; ++o) out[n * O + o] = bias ? round_bf16(bias[o]) : 0.0f;
        return;
    }
    detail::threads();  // applies FT_NUM_THREADS before oneDNN sizes its OpenMP team
    // The input goes through a bf16 copy: oneDNN 2.6's matmul takes no float src with bf16
    // weights. The conversion is one pass over N*I, ~1% of the GEMM's time, and oneDNN's own
    // reorder is no faster (FT_BF16_CLONES above).
    Scratch s(ctx, {static_cast<size_t>(N * I) * 2, bias ? static_cast<size_t>(O) * 4 : 0});
    uint16_t* x16 = s.take<uint16_t>(N * I);
    float* b = bias ? s.take<float>(O) : nullptr;
    to_bf16_par(x16, inp, N * I);
    if (b)
        for (int64_t o = 0; o < O; ++o) b[o] = round_bf16(bias[o]);
    ctx.dnnl->matmul_bf16(Gemm::FORWARD, false, N, I, O, x16, weight_bf16, b, out);
    round_par(out, N * O);
}

void linear_backward_bf16(const Context& ctx, float* dinp, float* dweight, float* dbias,
                          const float* dout, const float* inp, const uint16_t* weight_bf16,
                          int64_t N, int64_t I, int64_t O, bool accumulate_dinp) {
    FT_ASSERT(N >= 0 && I >= 0 && O >= 0, "linear_backward_bf16: negative size");
    FT_ASSERT(N * I * O == 0 || (dweight && dout && inp && weight_bf16),
              "linear_backward_bf16: null tensor");
    FT_ASSERT(!dbias || N * O == 0 || dout, "linear_backward_bf16: null dout");
    check_cpu(ctx, "linear_backward_bf16");
    const detail::ScopedOpTimer timer(ctx, detail::TimedOp::GEMM);
    count_flop(ctx, dinp ? 2 : 1, N, I, O);
    const bool products = N > 0 && I > 0 && O > 0;
    const bool dinp_via_scratch = dinp && accumulate_dinp;
    const int64_t tmp_n = products ? std::max(O * I, dinp_via_scratch ? N * I : 0) : 0;
    Scratch s(ctx, {products ? static_cast<size_t>(N * O) * 2 : 0,
                    products ? static_cast<size_t>(N * I) * 2 : 0, static_cast<size_t>(tmp_n) * 4,
                    dbias ? static_cast<size_t>(O) * 8 : 0});
    uint16_t* g16 = nullptr;  // r(dout), when there are products
    if (products) {
        detail::threads();
        g16 = s.take<uint16_t>(N * O);
        uint16_t* x16 = s.take<uint16_t>(N * I);
        float* tmp = s.take<float>(tmp_n);
        to_bf16_par(g16, dout, N * O);
        to_bf16_par(x16, inp, N * I);
        if (dinp && !accumulate_dinp) {
            ctx.dnnl->matmul_bf16(Gemm::BACKWARD_DATA, false, N, I, O, g16, weight_bf16, nullptr,
                                  dinp);
            round_par(dinp, N * I);
        } else if (dinp) {
            ctx.dnnl->matmul_bf16(Gemm::BACKWARD_DATA, false, N, I, O, g16, weight_bf16, nullptr,
                                  tmp);
            add_rounded_par(dinp, tmp, N * I);
        }
        // oneDNN rounds dW as it writes it: 2 bytes a weight instead of 4 written and read back.
        uint16_t* dw16 = reinterpret_cast<uint16_t*>(tmp);
        ctx.dnnl->matmul_bf16_rounded(Gemm::BACKWARD_WEIGHTS, N, I, O, g16, x16, dw16);
        add_bf16_par(dweight, dw16, O * I);
    } else if (dinp && !accumulate_dinp) {  // nothing flows, but a written dinp must be defined
        std::memset(dinp, 0, sizeof(float) * static_cast<size_t>(N * I));
    }
    if (dbias && O > 0) {
        double* sums = s.take<double>(O);
        std::fill(sums, sums + O, 0.0);
        if (g16)  // the bf16 copy made for the products
            column_sums_bf16(sums, g16, N, O);
        else
            detail::column_sums_add(sums, N, O, [&](int64_t n, int64_t o) {
                return static_cast<double>(round_bf16(dout[n * O + o]));
            });
        for (int64_t o = 0; o < O; ++o) dbias[o] += round_bf16(sums[o]);
    }
}

}  // namespace ft::ops
