// Execution contexts: a CUDA context in a build without CUDA says so, an untimed context counts
// nothing, a context's workspace grows once and is reused, and two contexts give the same bits.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/device_cuda.h"
#include "ops/ops.h"
#include "ops/ops_test_util.h"

namespace ft::ops {

TEST(OpsContext, CudaWithoutCudaSaysSo) {
    if (cuda::built_with_cuda()) GTEST_SKIP() << "built with CUDA";
    const OwnedContext gpu(Device::CUDA);
    std::vector<float> x(4, 1.0f), y(4);
    try {
        activation_forward(gpu.get(), Activation::GELU, y.data(), x.data(), 4);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("built without CUDA"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("activation_forward"), std::string::npos) << e.what();
    }
    double loss = 0.0;
    const std::vector<int64_t> labels = {0};
    EXPECT_THROW(
        cross_entropy_forward_backward(gpu.get(), &loss, y.data(), x.data(), labels.data(), 1, 4),
        Error);
    EXPECT_THROW(l2_norm(gpu.get(), &loss, x.data(), 4), Error);
}

// A build with CUDA on a machine without a usable GPU (CI, this machine): asking for a GPU
// context fails at once with the reason, not at the first kernel.
TEST(OpsContext, CudaBuildWithoutAGpuSaysWhy) {
    if (!cuda::built_with_cuda()) GTEST_SKIP() << "built without CUDA";
    if (cuda::device_count() > 0) GTEST_SKIP() << "a GPU is present";
    const std::string why = cuda::unavailable_reason();
    ASSERT_FALSE(why.empty());
    try {
        const OwnedContext gpu(Device::CUDA);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
    EXPECT_THROW(Buffer(64, Device::CUDA), Error);
}

TEST(OpsContext, DoubleOnCudaSaysFloatOnly) {
    // The CUDA twins take float; the double instantiations are the CPU's (finite differences).
    // A hand-made context reaches the dispatch without a device (OwnedContext would allocate).
    Context gpu;
    gpu.device = Device::CUDA;
    std::vector<double> x(4, 1.0), y(4);
    try {
        activation_forward(gpu, Activation::GELU, y.data(), x.data(), 4);
        FAIL() << "no error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("float only"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("activation_forward"), std::string::npos) << e.what();
    }
    const std::vector<int32_t> offsets = {0, 2};
    EXPECT_THROW(attention_first_query_forward(gpu, y.data(), y.data(), x.data(), x.data(),
                                               x.data(), offsets.data(), 1, 1, 2, 0.0, nullptr, 0),
                 Error);
}

TEST(OpsContext, UntimedContextCountsNothingAndTimedOneCounts) {
    const OwnedContext untimed(Device::CPU, /*timed=*/false), timed(Device::CPU, /*timed=*/true);
    EXPECT_EQ(untimed.get().timings, nullptr);
    const int64_t N = 3, I = 4, O = 5;
    std::vector<float> inp(N * I, 1.0f), w(O * I, 0.5f), out(N * O);
    linear_forward<float>(untimed.get(), out.data(), inp.data(), w.data(), nullptr, N, I, O);
    linear_forward<float>(timed.get(), out.data(), inp.data(), w.data(), nullptr, N, I, O);
    EXPECT_EQ(timed.get().timings->gemm_flop, 2.0 * N * I * O);
}

TEST(OpsContext, WorkspaceGrowsToTheLargestRequestAndIsReused) {
    Workspace ws;
    void* a = ws.get(1000);
    EXPECT_GE(ws.capacity(), 1000u);
    EXPECT_EQ(ws.get(10), a);  // smaller: the same bytes
    ws.get(5000);
    EXPECT_GE(ws.capacity(), 5000u);
    const size_t cap = ws.capacity();
    ws.get(100);
    EXPECT_EQ(ws.capacity(), cap);
}

TEST(OpsContext, TwoContextsGiveTheSameBits) {
    // Attention's scratch and the GEMM handles belong to the context: results do not depend on
    // which context ran them.
    const std::vector<int32_t> offsets = {0, 3, 8, 10};
    const int64_t B = 3, NH = 2, HS = 4, C = NH * HS, T = 10;
    const auto q = test::convert<float>(test::random_vec(T * C, 1)),
               k = test::convert<float>(test::random_vec(T * C, 2)),
               v = test::convert<float>(test::random_vec(T * C, 3));
    const Philox rng(5, 6);
    const OwnedContext other;
    std::vector<float> out1(T * C), out2(T * C), p1(attention_probs_size(offsets.data(), B, NH)),
        p2(p1.size());
    attention_forward(cpu_context(), out1.data(), p1.data(), q.data(), k.data(), v.data(),
                      offsets.data(), B, NH, HS, 0.1, &rng, 0);
    attention_forward(other.get(), out2.data(), p2.data(), q.data(), k.data(), v.data(),
                      offsets.data(), B, NH, HS, 0.1, &rng, 0);
    EXPECT_EQ(out1, out2);
    EXPECT_EQ(p1, p2);
    std::vector<float> y1(T * C), y2(T * C);
    linear_forward<float>(cpu_context(), y1.data(), out1.data(), q.data(), nullptr, T, C, C);
    linear_forward<float>(other.get(), y2.data(), out1.data(), q.data(), nullptr, T, C, C);
    EXPECT_EQ(y1, y2);
}

}  // namespace ft::ops
