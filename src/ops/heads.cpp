// The classification heads' input: the hidden state of each sequence's first ([CLS]) token,
// gathered from the packed batch, and its backward.
#include <cstring>

#include "finetune/ops.h"
#include "ops/ops_internal.h"

namespace ft::ops {

template <class T>
void gather_first_token(T* out /*(B,C)*/, const T* hidden /*(T,C)*/, const int32_t* offsets,
                        int64_t B, int64_t C) {
    for (int64_t b = 0; b < B; ++b)
        std::memcpy(out + b * C, hidden + static_cast<int64_t>(offsets[b]) * C,
                    static_cast<size_t>(C) * sizeof(T));
}

template <class T>
void gather_first_token_backward(T* dhidden /*(T,C)*/, const T* dout /*(B,C)*/,
                                 const int32_t* offsets, int64_t B, int64_t C, int64_t ntok) {
    std::memset(dhidden, 0, static_cast<size_t>(ntok * C) * sizeof(T));
    for (int64_t b = 0; b < B; ++b)
        std::memcpy(dhidden + static_cast<int64_t>(offsets[b]) * C, dout + b * C,
                    static_cast<size_t>(C) * sizeof(T));
}

#define FT_INSTANTIATE(T)                                                                        \
    template void gather_first_token<T>(T*, const T*, const int32_t*, int64_t, int64_t);         \
    template void gather_first_token_backward<T>(T*, const T*, const int32_t*, int64_t, int64_t, \
                                                 int64_t);
FT_INSTANTIATE(float)
FT_INSTANTIATE(double)
#undef FT_INSTANTIATE

}  // namespace ft::ops
