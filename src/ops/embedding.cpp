// Embedding lookup of a packed batch: word + position (+ token type for BERT) rows summed per
// token, and the backward that scatters the gradient into the tables. The backward splits the
// hidden dimension across threads, so repeated ids accumulate in token order on one thread.
#include <algorithm>

#include "ops/ops.h"
#include "ops/ops_cuda.h"
#include "ops/ops_internal.h"

namespace ft::ops {

template <class T>
void embedding_forward_cpu(const Context&, T* out /*(T,C)*/, const int32_t* ids /*(T)*/,
                           const int32_t* pos /*(T)*/, const int32_t* types /*(T) or null*/,
                           const T* wte /*(V,C)*/, const T* wpe /*(P,C)*/,
                           const T* wtt /*(TT,C) or null*/, int64_t ntok, int64_t C) {
#pragma omp parallel for num_threads(detail::threads()) \
    schedule(static) if (ntok * C > detail::PARALLEL_MIN)
    for (int64_t t = 0; t < ntok; ++t) {
        T* o = out + t * C;
        const T* w = wte + static_cast<int64_t>(ids[t]) * C;
        const T* p = wpe + static_cast<int64_t>(pos[t]) * C;
        if (wtt) {
            // HF's BERT adds word + token type first, then the positions: same order, same bits.
            const T* y = wtt + static_cast<int64_t>(types ? types[t] : 0) * C;
            for (int64_t c = 0; c < C; ++c) o[c] = (w[c] + y[c]) + p[c];
        } else {
            for (int64_t c = 0; c < C; ++c) o[c] = w[c] + p[c];
        }
    }
}

template <class T>
void embedding_backward_cpu(const Context&, T* dwte /*(V,C)*/, T* dwpe /*(P,C)*/,
                            T* dwtt /*(TT,C) or null*/, const T* dout /*(T,C)*/,
                            const int32_t* ids /*(T)*/, const int32_t* pos /*(T)*/,
                            const int32_t* types /*(T) or null*/, int64_t ntok, int64_t C) {
    // Column blocks of 16 floats (a cache line) per thread: no false sharing, and every table
    // row receives its tokens' gradients in token order whatever the thread count.
    constexpr int64_t BLOCK = 16;
    const int64_t nblocks = (C + BLOCK - 1) / BLOCK;
#pragma omp parallel for num_threads(detail::threads()) \
    schedule(static) if (ntok * C > detail::PARALLEL_MIN)
    for (int64_t blk = 0; blk < nblocks; ++blk) {
        const int64_t c0 = blk * BLOCK, c1 = std::min(C, c0 + BLOCK);
        for (int64_t t = 0; t < ntok; ++t) {
            const T* g = dout + t * C;
            T* w = dwte + static_cast<int64_t>(ids[t]) * C;
            T* p = dwpe + static_cast<int64_t>(pos[t]) * C;
            for (int64_t c = c0; c < c1; ++c) w[c] += g[c];
            for (int64_t c = c0; c < c1; ++c) p[c] += g[c];
            if (dwtt) {
                T* y = dwtt + static_cast<int64_t>(types ? types[t] : 0) * C;
                for (int64_t c = c0; c < c1; ++c) y[c] += g[c];
            }
        }
    }
}

template <class T>
void embedding_forward(const Context& ctx, T* out, const int32_t* ids, const int32_t* pos,
                       const int32_t* types, const T* wte, const T* wpe, const T* wtt, int64_t ntok,
                       int64_t C) {
    FT_ASSERT(ntok >= 0 && C >= 0, "embedding_forward: negative size");
    FT_ASSERT(ntok == 0 || (out && ids && pos && wte && wpe), "embedding_forward: null tensor");
    FT_CUDA_TWIN(T, ctx, embedding_forward, out, ids, pos, types, wte, wpe, wtt, ntok, C);
    embedding_forward_cpu(ctx, out, ids, pos, types, wte, wpe, wtt, ntok, C);
}

template <class T>
void embedding_backward(const Context& ctx, T* dwte, T* dwpe, T* dwtt, const T* dout,
                        const int32_t* ids, const int32_t* pos, const int32_t* types, int64_t ntok,
                        int64_t C) {
    FT_ASSERT(ntok >= 0 && C >= 0, "embedding_backward: negative size");
    FT_ASSERT(ntok == 0 || (dwte && dwpe && dout && ids && pos), "embedding_backward: null tensor");
    FT_CUDA_TWIN(T, ctx, embedding_backward, dwte, dwpe, dwtt, dout, ids, pos, types, ntok, C);
    embedding_backward_cpu(ctx, dwte, dwpe, dwtt, dout, ids, pos, types, ntok, C);
}

#define FT_INSTANTIATE(T)                                                                     \
    template void embedding_forward<T>(const Context&, T*, const int32_t*, const int32_t*,    \
                                       const int32_t*, const T*, const T*, const T*, int64_t, \
                                       int64_t);                                              \
    template void embedding_backward<T>(const Context&, T*, T*, T*, const T*, const int32_t*, \
                                        const int32_t*, const int32_t*, int64_t, int64_t);
FT_INSTANTIATE(float)
FT_INSTANTIATE(double)
#undef FT_INSTANTIATE

}  // namespace ft::ops
