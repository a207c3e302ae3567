// Embeddings: the forward sum (with and without token types), finite differences of the table
// gradients with repeated ids, and thread-count independence of the scatter-add.
#include <gtest/gtest.h>

#include "finetune/core.h"
#include "ops/ops.h"
#include "ops/ops_test_util.h"

namespace ft::ops {

TEST(OpsEmbedding, ForwardSumsTheRows) {
    const int64_t C = 2;
    const std::vector<float> wte = {1, 2, 10, 20, 100, 200}, wpe = {0.5f, 0.25f, 3, 4},
                             wtt = {1000, 1000, 7, 7};
    const std::vector<int32_t> ids = {2, 0}, pos = {0, 1}, types = {1, 0};
    std::vector<float> out(4);
    embedding_forward(cpu_context(), out.data(), ids.data(), pos.data(),
                      static_cast<const int32_t*>(nullptr), wte.data(), wpe.data(),
                      static_cast<const float*>(nullptr), 2, C);
    EXPECT_EQ(out, (std::vector<float>{100.5f, 200.25f, 4, 6}));
    embedding_forward(cpu_context(), out.data(), ids.data(), pos.data(), types.data(), wte.data(),
                      wpe.data(), wtt.data(), 2, C);
    EXPECT_EQ(out, (std::vector<float>{107.5f, 207.25f, 1004, 1006}));
    // A token-type table without ids means type 0 everywhere (BERT with no segment ids).
    embedding_forward(cpu_context(), out.data(), ids.data(), pos.data(),
                      static_cast<const int32_t*>(nullptr), wte.data(), wpe.data(), wtt.data(), 2,
                      C);
    EXPECT_EQ(out, (std::vector<float>{1100.5f, 1200.25f, 1004, 1006}));
}

class OpsEmbeddingFd : public test::OpsTargetTestWith<bool> {};  // with token types

TEST_P(OpsEmbeddingFd, BackwardMatchesFiniteDifferences) {
    const bool with_types = extra();
    const int64_t V = 6, P = 5, TT = 2, C = 3, T = 8;
    // Repeated ids and positions: their gradients must add up.
    const std::vector<int32_t> ids = {1, 4, 1, 0, 4, 4, 5, 1}, pos = {0, 1, 2, 0, 1, 2, 3, 0},
                               types = {0, 1, 1, 0, 0, 1, 1, 0};
    auto wte = test::random_vec(V * C, 1), wpe = test::random_vec(P * C, 2),
         wtt = test::random_vec(TT * C, 3);
    const auto up = test::random_vec(T * C, 4);
    std::vector<double> out(T * C);
    auto f = [&] {
        embedding_forward(ctx(), out.data(), ids.data(), pos.data(),
                          with_types ? types.data() : nullptr, wte.data(), wpe.data(),
                          with_types ? wtt.data() : nullptr, T, C);
        return test::dot(up, out);
    };
    const auto g0 = test::random_vec(V * C, 5);
    std::vector<double> dwte = g0, dwpe(P * C), dwtt(TT * C);
    embedding_backward(ctx(), dwte.data(), dwpe.data(), with_types ? dwtt.data() : nullptr,
                       up.data(), ids.data(), pos.data(), with_types ? types.data() : nullptr, T,
                       C);
    for (size_t i = 0; i < dwte.size(); ++i) dwte[i] -= g0[i];  // += semantics
    test::expect_close(dwte, test::numeric_grad(wte, f), tol().fd, "dwte");
    test::expect_close(dwpe, test::numeric_grad(wpe, f), tol().fd, "dwpe");
    if (with_types) test::expect_close(dwtt, test::numeric_grad(wtt, f), tol().fd, "dwtt");
}

INSTANTIATE_TEST_SUITE_P(Ops, OpsEmbeddingFd,
                         ::testing::Combine(::testing::ValuesIn(test::FD_TARGETS),
                                            ::testing::Bool()),
                         [](const auto& info) {
                             return test::ops_target_str(std::get<0>(info.param)) +
                                    (std::get<1>(info.param) ? "_Bert" : "_DistilBert");
                         });

TEST(OpsEmbedding, BackwardDoesNotDependOnThreadCount) {
    const int64_t V = 50, P = 64, C = 768, T = 400;
    std::vector<int32_t> ids(T), pos(T);
    for (int64_t t = 0; t < T; ++t) ids[t] = static_cast<int32_t>((t * 7) % V), pos[t] = t % P;
    const auto up = test::convert<float>(test::random_vec(T * C, 1));
    auto run = [&](int threads) {
        const int saved = get_num_threads();
        set_num_threads(threads);
        std::vector<float> dwte(V * C), dwpe(P * C);
        embedding_backward(cpu_context(), dwte.data(), dwpe.data(), static_cast<float*>(nullptr),
                           up.data(), ids.data(), pos.data(), nullptr, T, C);
        set_num_threads(saved);
        dwte.insert(dwte.end(), dwpe.begin(), dwpe.end());
        return dwte;
    };
    const auto one = run(1);
    EXPECT_TRUE(run(2) == one);
}

}  // namespace ft::ops
