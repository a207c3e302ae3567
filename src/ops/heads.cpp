// The classification heads' input: the hidden state of each sequence's first ([CLS]) token,
// gathered from the packed batch, and its backward.
#include <cstring>

#include "ops/ops.h"
#include "ops/ops_cuda.h"
#include "ops/ops_internal.h"

namespace ft::ops {

template <class T>
void gather_first_token_cpu(const Context&, T* out /*(B,C)*/, const T* hidden /*(T,C)*/,
                            const int32_t* offsets, int64_t B, int64_t C) {
    for (int64_t b = 0; b < B; ++b)
        std::memcpy(out + b * C, hidden + static_cast<int64_t>(offsets[b]) * C,
                    static_cast<size_t>(C) * sizeof(T));
}

template <class T>
void gather_first_token_backward_cpu(const Context&, T* dhidden /*(T,C)*/, const T* dout /*(B,C)*/,
                                     const int32_t* offsets, int64_t B, int64_t C, int64_t ntok) {
    std::memset(dhidden, 0, static_cast<size_t>(ntok * C) * sizeof(T));
    for (int64_t b = 0; b < B; ++b)
        std::memcpy(dhidden + static_cast<int64_t>(offsets[b]) * C, dout + b * C,
                    static_cast<size_t>(C) * sizeof(T));
}

template <class T>
void gather_first_token(const Context& ctx, T* out, const T* hidden, const int32_t* offsets,
                        int64_t B, int64_t C) {
    FT_ASSERT(B >= 0 && C >= 0, "gather_first_token: negative size");
    FT_ASSERT(B == 0 || (out && hidden && offsets), "gather_first_token: null tensor");
    FT_CUDA_TWIN(T, ctx, gather_first_token, out, hidden, offsets, B, C);
    gather_first_token_cpu(ctx, out, hidden, offsets, B, C);
}

template <class T>
void gather_first_token_backward(const Context& ctx, T* dhidden, const T* dout,
                                 const int32_t* offsets, int64_t B, int64_t C, int64_t ntok) {
    FT_ASSERT(B >= 0 && C >= 0 && ntok >= 0, "gather_first_token_backward: negative size");
    FT_ASSERT(ntok == 0 || (dhidden && (B == 0 || (dout && offsets))),
              "gather_first_token_backward: null tensor");
    FT_CUDA_TWIN(T, ctx, gather_first_token_backward, dhidden, dout, offsets, B, C, ntok);
    gather_first_token_backward_cpu(ctx, dhidden, dout, offsets, B, C, ntok);
}

#define FT_INSTANTIATE(T)                                                                      \
    template void gather_first_token<T>(const Context&, T*, const T*, const int32_t*, int64_t, \
                                        int64_t);                                              \
    template void gather_first_token_backward<T>(const Context&, T*, const T*, const int32_t*, \
                                                 int64_t, int64_t, int64_t);
FT_INSTANTIATE(float)
FT_INSTANTIATE(double)
#undef FT_INSTANTIATE

}  // namespace ft::ops
