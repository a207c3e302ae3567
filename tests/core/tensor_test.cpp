// Shapes, strides, buffers and the contiguous copy of strided views.
#include <gtest/gtest.h>

#include "finetune/core.h"

namespace ft {

TEST(Tensor, ContiguousStridesAreRowMajor) {
    Shape s{2, 3, 4};
    EXPECT_EQ(contiguous_strides(s), (Shape{12, 4, 1}));
    EXPECT_EQ(s.numel(), 24);
    EXPECT_EQ(s.str(), "[2, 3, 4]");
}

TEST(Tensor, TransposedViewCopiesInRowMajorOrder) {
    // A 2x3 matrix [[0,1,2],[3,4,5]] viewed as its 3x2 transpose: [[0,3],[1,4],[2,5]].
    Tensor m = Tensor::empty(DType::F32, {2, 3});
    for (int i = 0; i < 6; ++i) m.ptr<float>()[i] = static_cast<float>(i);
    Tensor t = m;
    t.shape = {3, 2};
    t.strides = {1, 3};
    EXPECT_FALSE(t.is_contiguous());
    Tensor c = t.contiguous_copy();
    const float expected[] = {0, 3, 1, 4, 2, 5};
    for (int i = 0; i < 6; ++i) EXPECT_EQ(c.ptr<float>()[i], expected[i]) << i;
}

TEST(Tensor, BufferIsAlignedAndZeroed) {
    Buffer b(100);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % 64, 0u);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(static_cast<uint8_t*>(b.data())[i], 0);
}

TEST(Arena, CarvesAlignedBlocksAndReportsWhenFull) {
    Arena a(256);
    void* p = a.alloc(10);
    void* q = a.alloc(10);
    EXPECT_EQ(static_cast<uint8_t*>(q) - static_cast<uint8_t*>(p), 64);
    EXPECT_THROW(a.alloc(200), Error);
    a.reset();
    EXPECT_EQ(a.alloc(200), p);
    EXPECT_EQ(a.high_water(), 200u);
}

}  // namespace ft
