// Attention on packed batches: hand-worked cases, finite differences of the backward (with and
// without dropout) on a batch of three sequences of different lengths, packed against a padded
// reference with -inf on pad keys, each sequence alone against the packed batch, float against
// double, and determinism.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "finetune/core.h"
#include "ops/ops.h"
#include "ops/ops_test_util.h"

namespace ft::ops {

using test::F32_TOL;
using test::F64_TOL;

namespace {

// The brief's batch: three sequences of lengths 3, 5 and 2; two heads of size 4.
const std::vector<int32_t> OFFSETS = {0, 3, 8, 10};
constexpr int64_t B = 3, NH = 2, HS = 4, C = NH * HS, NTOK = 10;

template <class T>
struct Grads {
    std::vector<T> dq, dk, dv;
};

template <class T>
std::vector<T> forward(const Context& context, const std::vector<T>& q, const std::vector<T>& k,
                       const std::vector<T>& v, const std::vector<int32_t>& offsets, int64_t nh,
                       int64_t hs, double p, const Philox* rng, uint64_t offset,
                       std::vector<T>* probs_out = nullptr) {
    const int64_t b = static_cast<int64_t>(offsets.size()) - 1;
    std::vector<T> ctx(q.size(), T(-7)), probs(attention_probs_size(offsets.data(), b, nh));
    attention_forward(context, ctx.data(), probs.data(), q.data(), k.data(), v.data(),
                      offsets.data(), b, nh, hs, p, rng, offset);
    if (probs_out) *probs_out = probs;
    return ctx;
}
template <class T>
std::vector<T> forward(const std::vector<T>& q, const std::vector<T>& k, const std::vector<T>& v,
                       const std::vector<int32_t>& offsets, int64_t nh, int64_t hs, double p,
                       const Philox* rng, uint64_t offset, std::vector<T>* probs_out = nullptr) {
    return forward(cpu_context(), q, k, v, offsets, nh, hs, p, rng, offset, probs_out);
}

template <class T>
Grads<T> backward(const Context& context, const std::vector<T>& dctx, const std::vector<T>& q,
                  const std::vector<T>& k, const std::vector<T>& v, const std::vector<T>& probs,
                  const std::vector<int32_t>& offsets, int64_t nh, int64_t hs, double p,
                  const Philox* rng, uint64_t offset) {
    const int64_t b = static_cast<int64_t>(offsets.size()) - 1;
    // Start from garbage: the gradients are written, not accumulated.
    Grads<T> g{std::vector<T>(q.size(), T(5)), std::vector<T>(q.size(), T(5)),
               std::vector<T>(q.size(), T(5))};
    attention_backward(context, g.dq.data(), g.dk.data(), g.dv.data(), dctx.data(), q.data(),
                       k.data(), v.data(), probs.data(), offsets.data(), b, nh, hs, p, rng, offset);
    return g;
}
template <class T>
Grads<T> backward(const std::vector<T>& dctx, const std::vector<T>& q, const std::vector<T>& k,
                  const std::vector<T>& v, const std::vector<T>& probs,
                  const std::vector<int32_t>& offsets, int64_t nh, int64_t hs, double p,
                  const Philox* rng, uint64_t offset) {
    return backward(cpu_context(), dctx, q, k, v, probs, offsets, nh, hs, p, rng, offset);
}

// The padded computation HF does: every sequence padded to the longest, pad keys masked with
// -inf before the softmax. q, k, v are packed (T, C); pad rows of the padded copies get junk
// that must not leak into real rows. Returns ctx for the real rows, packed again.
std::vector<double> padded_reference(const std::vector<double>& q, const std::vector<double>& k,
                                     const std::vector<double>& v,
                                     const std::vector<int32_t>& offsets, int64_t nh, int64_t hs) {
    const int64_t b_count = static_cast<int64_t>(offsets.size()) - 1, c = nh * hs;
    int64_t lmax = 0;
    for (int64_t b = 0; b < b_count; ++b)
        lmax = std::max<int64_t>(lmax, offsets[b + 1] - offsets[b]);
    const auto junk = test::random_vec(static_cast<size_t>(b_count * lmax * c), 999, -50.0, 50.0);
    std::vector<double> qp = junk, kp = junk, vp = junk;  // (B, Lmax, C)
    for (int64_t b = 0; b < b_count; ++b)
        for (int64_t i = 0; i < offsets[b + 1] - offsets[b]; ++i)
            for (int64_t d = 0; d < c; ++d) {
                const int64_t src = (offsets[b] + i) * c + d, dst = (b * lmax + i) * c + d;
                qp[dst] = q[src], kp[dst] = k[src], vp[dst] = v[src];
            }
    std::vector<double> ctx(q.size());
    const double ninf = -std::numeric_limits<double>::infinity();
    for (int64_t b = 0; b < b_count; ++b) {
        const int64_t len = offsets[b + 1] - offsets[b];
        for (int64_t h = 0; h < nh; ++h)
            for (int64_t i = 0; i < len; ++i) {
                std::vector<double> s(lmax);
                double mx = ninf;
                for (int64_t j = 0; j < lmax; ++j) {
                    double dotp = 0;
                    for (int64_t d = 0; d < hs; ++d)
                        dotp += qp[(b * lmax + i) * c + h * hs + d] *
                                kp[(b * lmax + j) * c + h * hs + d];
                    s[j] = j < len ? dotp / std::sqrt(static_cast<double>(hs)) : ninf;
                    mx = std::max(mx, s[j]);
                }
                double sum = 0;
                for (double& x : s) sum += (x = std::exp(x - mx));
                for (int64_t d = 0; d < hs; ++d) {
                    double acc = 0;
                    for (int64_t j = 0; j < lmax; ++j)
                        acc += s[j] / sum * vp[(b * lmax + j) * c + h * hs + d];
                    ctx[(offsets[b] + i) * c + h * hs + d] = acc;
                }
            }
    }
    return ctx;
}

}  // namespace

TEST(OpsAttention, ProbsSizeSumsSquaredLengthsPerHead) {
    EXPECT_EQ(attention_probs_size(OFFSETS.data(), B, NH), 2 * (9 + 25 + 4));
}

TEST(OpsAttention, HandWorkedCases) {
    // One token: its probability is 1 and ctx = v. Zero queries: uniform probabilities, ctx is
    // the mean of the sequence's values per head.
    const std::vector<int32_t> offs = {0, 1, 4};
    auto q = test::random_vec(4 * C, 1), k = test::random_vec(4 * C, 2),
         v = test::random_vec(4 * C, 3);
    for (int64_t d = 0; d < 3 * C; ++d) q[C + d] = 0.0;
    std::vector<double> probs;
    const auto ctx = forward(q, k, v, offs, NH, HS, 0.0, nullptr, 0, &probs);
    ASSERT_EQ(probs.size(), 2u * (1 + 9));
    EXPECT_EQ(probs[0], 1.0);
    EXPECT_EQ(probs[1], 1.0);
    for (int64_t d = 0; d < C; ++d) EXPECT_EQ(ctx[d], v[d]);
    for (size_t i = 2; i < probs.size(); ++i) EXPECT_NEAR(probs[i], 1.0 / 3, 1e-15);
    for (int64_t i = 1; i < 4; ++i)
        for (int64_t d = 0; d < C; ++d)
            EXPECT_NEAR(ctx[i * C + d], (v[1 * C + d] + v[2 * C + d] + v[3 * C + d]) / 3, 1e-15);
}

TEST(OpsAttention, EmptySequenceContributesNothing) {
    // An empty sequence in the middle of the batch owns no tokens and no probabilities; the
    // others are computed as without it.
    const std::vector<int32_t> with_empty = {0, 3, 3, 5}, without = {0, 3, 5};
    const auto q = test::random_vec(5 * C, 1), k = test::random_vec(5 * C, 2),
               v = test::random_vec(5 * C, 3), up = test::random_vec(5 * C, 4);
    std::vector<double> p1, p2;
    EXPECT_EQ(forward(q, k, v, with_empty, NH, HS, 0.0, nullptr, 0, &p1),
              forward(q, k, v, without, NH, HS, 0.0, nullptr, 0, &p2));
    EXPECT_EQ(p1, p2);
    const auto g1 = backward(up, q, k, v, p1, with_empty, NH, HS, 0.0, nullptr, 0);
    const auto g2 = backward(up, q, k, v, p2, without, NH, HS, 0.0, nullptr, 0);
    EXPECT_EQ(g1.dq, g2.dq);
    EXPECT_EQ(g1.dk, g2.dk);
    EXPECT_EQ(g1.dv, g2.dv);
}

class OpsAttentionFd : public test::OpsTargetTestWith<double> {};  // dropout probability

TEST_P(OpsAttentionFd, BackwardMatchesFiniteDifferences) {
    const double p = extra();
    const Philox rng(2024, 3);
    const uint64_t offset = 17;
    auto q = test::random_vec(NTOK * C, 1, -2.0, 2.0), k = test::random_vec(NTOK * C, 2, -2.0, 2.0),
         v = test::random_vec(NTOK * C, 3);
    const auto up = test::random_vec(NTOK * C, 4);
    auto f = [&] {
        return test::dot(up, forward(ctx(), q, k, v, OFFSETS, NH, HS, p, &rng, offset));
    };
    std::vector<double> probs;
    forward(ctx(), q, k, v, OFFSETS, NH, HS, p, &rng, offset, &probs);
    const auto g = backward(ctx(), up, q, k, v, probs, OFFSETS, NH, HS, p, &rng, offset);
    test::expect_close(g.dq, test::numeric_grad(q, f), tol().fd, "attention dq");
    test::expect_close(g.dk, test::numeric_grad(k, f), tol().fd, "attention dk");
    test::expect_close(g.dv, test::numeric_grad(v, f), tol().fd, "attention dv");
}

INSTANTIATE_TEST_SUITE_P(Ops, OpsAttentionFd,
                         ::testing::Combine(::testing::ValuesIn(test::FD_TARGETS),
                                            ::testing::Values(0.0, 0.3)),
                         [](const auto& info) {
                             return test::ops_target_str(std::get<0>(info.param)) +
                                    (std::get<1>(info.param) > 0 ? "_Dropout" : "_NoDropout");
                         });

TEST(OpsAttention, DropoutZeroesProbabilitiesFromTheRng) {
    // With values = identity rows, ctx exposes dropout(P): entry (i, j) is P_ij / (1 - p) or 0,
    // decided by rng.uniform(offset + index of P_ij in probs).
    const std::vector<int32_t> offs = {0, 4};
    const int64_t nh = 1, hs = 4;
    const auto q = test::random_vec(16, 1), k = test::random_vec(16, 2);
    std::vector<double> v(16, 0.0);
    for (int j = 0; j < 4; ++j) v[j * 4 + j] = 1.0;
    const Philox rng(8);
    const double p = 0.5;
    std::vector<double> probs;
    const auto ctx = forward(q, k, v, offs, nh, hs, p, &rng, 3, &probs);
    int dropped = 0;
    for (int i = 0; i < 16; ++i) {
        if (rng.uniform(3 + i) < p) {
            EXPECT_EQ(ctx[i], 0.0) << i;
            ++dropped;
        } else {
            EXPECT_NEAR(ctx[i], probs[i] * 2, 1e-15) << i;
        }
    }
    EXPECT_GT(dropped, 0);
    EXPECT_LT(dropped, 16);
}

// The last layer's first-query attention against the full op (the oracle, checked above by
// finite differences and the padded reference): its context rows, probability rows and query
// gradients equal the full op's rows offsets[b], and its dk, dv equal the full backward's when
// only those rows carry a gradient. In double and float, with and without dropout.
template <class T>
void check_first_query_against_full(double p, test::Tolerance tol) {
    const Philox rng(21);
    const Philox* r = p > 0 ? &rng : nullptr;
    const uint64_t offset = 5;
    const auto q = test::convert<T>(test::random_vec(NTOK * C, 31));
    const auto k = test::convert<T>(test::random_vec(NTOK * C, 32));
    const auto v = test::convert<T>(test::random_vec(NTOK * C, 33));
    const auto dctx_first = test::convert<T>(test::random_vec(B * C, 34));
    std::vector<T> full_probs;
    const auto ctx = forward(q, k, v, OFFSETS, NH, HS, p, r, offset, &full_probs);
    std::vector<T> dctx(NTOK * C, T(0)), q_first(B * C), want_ctx(B * C), want_dq(B * C);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t c = 0; c < C; ++c) {
            q_first[b * C + c] = q[OFFSETS[b] * C + c];
            want_ctx[b * C + c] = ctx[OFFSETS[b] * C + c];
            dctx[OFFSETS[b] * C + c] = dctx_first[b * C + c];
        }
    const Grads<T> full = backward(dctx, q, k, v, full_probs, OFFSETS, NH, HS, p, r, offset);
    for (int64_t b = 0; b < B; ++b)
        for (int64_t c = 0; c < C; ++c) want_dq[b * C + c] = full.dq[OFFSETS[b] * C + c];

    std::vector<T> ctx_first(B * C, T(-7)), probs(NH * NTOK, T(-7));
    attention_first_query_forward(cpu_context(), ctx_first.data(), probs.data(), q_first.data(),
                                  k.data(), v.data(), OFFSETS.data(), B, NH, HS, p, r, offset);
    test::expect_close(ctx_first, want_ctx, tol, "first-query ctx");
    std::vector<T> want_probs;  // row 0 of every (sequence, head) block
    for (int64_t b = 0, base = 0; b < B; ++b) {
        const int64_t len = OFFSETS[b + 1] - OFFSETS[b];
        for (int64_t h = 0; h < NH; ++h)
            for (int64_t j = 0; j < len; ++j)
                want_probs.push_back(full_probs[base + h * len * len + j]);
        base += NH * len * len;
    }
    test::expect_close(probs, want_probs, tol, "first-query probs");

    std::vector<T> dq(B * C, T(5)), dk(NTOK * C, T(5)), dv(NTOK * C, T(5));
    attention_first_query_backward(cpu_context(), dq.data(), dk.data(), dv.data(),
                                   dctx_first.data(), q_first.data(), k.data(), v.data(),
                                   probs.data(), OFFSETS.data(), B, NH, HS, p, r, offset);
    test::expect_close(dq, want_dq, tol, "first-query dq");
    test::expect_close(dk, full.dk, tol, "first-query dk");
    test::expect_close(dv, full.dv, tol, "first-query dv");
}

TEST(OpsAttention, FirstQueryEqualsTheFullOpsFirstRows) {
    for (const double p : {0.0, 0.3}) {
        SCOPED_TRACE(p > 0 ? "dropout" : "no dropout");
        check_first_query_against_full<double>(p, F64_TOL);
        check_first_query_against_full<float>(p, F32_TOL);
    }
}

TEST(OpsAttention, PackedEqualsPaddedReference) {
    const auto q = test::random_vec(NTOK * C, 1, -2.0, 2.0),
               k = test::random_vec(NTOK * C, 2, -2.0, 2.0), v = test::random_vec(NTOK * C, 3);
    const auto ref = padded_reference(q, k, v, OFFSETS, NH, HS);
    test::expect_close(forward(q, k, v, OFFSETS, NH, HS, 0.0, nullptr, 0), ref, F64_TOL,
                       "packed double vs padded");
    const auto qf = test::convert<float>(q), kf = test::convert<float>(k),
               vf = test::convert<float>(v);
    const auto ref_f = padded_reference(test::convert<double>(qf), test::convert<double>(kf),
                                        test::convert<double>(vf), OFFSETS, NH, HS);
    test::expect_close(forward(qf, kf, vf, OFFSETS, NH, HS, 0.0, nullptr, 0), ref_f, F32_TOL,
                       "packed float vs padded");
}

class OpsAttentionPaddedFd : public test::OpsTargetTest {};

TEST_P(OpsAttentionPaddedFd, PackedBackwardEqualsPaddedReferenceGradients) {
    // Differentiate the padded reference numerically: gradients of the packed op must match on
    // the real tokens (pad keys and queries get none).
    auto q = test::random_vec(NTOK * C, 5, -2.0, 2.0), k = test::random_vec(NTOK * C, 6, -2.0, 2.0),
         v = test::random_vec(NTOK * C, 7);
    const auto up = test::random_vec(NTOK * C, 8);
    auto f = [&] { return test::dot(up, padded_reference(q, k, v, OFFSETS, NH, HS)); };
    std::vector<double> probs;
    forward(ctx(), q, k, v, OFFSETS, NH, HS, 0.0, nullptr, 0, &probs);
    const auto g = backward(ctx(), up, q, k, v, probs, OFFSETS, NH, HS, 0.0, nullptr, 0);
    test::expect_close(g.dq, test::numeric_grad(q, f), tol().fd, "dq vs padded");
    test::expect_close(g.dk, test::numeric_grad(k, f), tol().fd, "dk vs padded");
    test::expect_close(g.dv, test::numeric_grad(v, f), tol().fd, "dv vs padded");
}

INSTANTIATE_TEST_SUITE_P(Ops, OpsAttentionPaddedFd, ::testing::ValuesIn(test::FD_TARGETS),
                         test::ops_target_name);

TEST(OpsAttention, EachSequenceAloneEqualsThePackedBatch) {
    // Sequence b run alone, with rng_offset advanced by its place in probs, gives the very same
    // bits as inside the packed batch, forward and backward, dropout included.
    const std::vector<int32_t> offs = {0, 11, 12, 42, 49};
    const int64_t nh = 12, hs = 64, c = nh * hs, ntok = 49;
    const auto q = test::convert<float>(test::random_vec(ntok * c, 1));
    const auto k = test::convert<float>(test::random_vec(ntok * c, 2));
    const auto v = test::convert<float>(test::random_vec(ntok * c, 3));
    const auto up = test::convert<float>(test::random_vec(ntok * c, 4));
    const Philox rng(31);
    const double p = 0.1;
    std::vector<float> probs;
    const auto ctx = forward(q, k, v, offs, nh, hs, p, &rng, 5, &probs);
    const auto g = backward(up, q, k, v, probs, offs, nh, hs, p, &rng, 5);
    uint64_t pbase = 0;
    for (size_t b = 0; b + 1 < offs.size(); ++b) {
        const int64_t t0 = offs[b], len = offs[b + 1] - offs[b];
        auto slice = [&](const std::vector<float>& x) {
            return std::vector<float>(x.begin() + t0 * c, x.begin() + (t0 + len) * c);
        };
        const std::vector<int32_t> one = {0, static_cast<int32_t>(len)};
        std::vector<float> probs_b;
        const auto ctx_b =
            forward(slice(q), slice(k), slice(v), one, nh, hs, p, &rng, 5 + pbase, &probs_b);
        const auto g_b = backward(slice(up), slice(q), slice(k), slice(v), probs_b, one, nh, hs, p,
                                  &rng, 5 + pbase);
        EXPECT_EQ(ctx_b, slice(ctx)) << "sequence " << b;
        EXPECT_TRUE(std::equal(probs_b.begin(), probs_b.end(), probs.begin() + pbase))
            << "sequence " << b;
        EXPECT_EQ(g_b.dq, slice(g.dq)) << "sequence " << b;
        EXPECT_EQ(g_b.dk, slice(g.dk)) << "sequence " << b;
        EXPECT_EQ(g_b.dv, slice(g.dv)) << "sequence " << b;
        pbase += static_cast<uint64_t>(nh * len * len);
    }
}

class OpsAttentionFloat : public ::testing::TestWithParam<double> {};  // dropout probability

TEST_P(OpsAttentionFloat, FloatMatchesDouble) {
    const double p = GetParam();
    const std::vector<int32_t> offs = {0, 11, 12, 42, 49, 177};
    const int64_t nh = 12, hs = 64, c = nh * hs, ntok = 177;
    const auto qf = test::convert<float>(test::random_vec(ntok * c, 1, -1.5, 1.5));
    const auto kf = test::convert<float>(test::random_vec(ntok * c, 2, -1.5, 1.5));
    const auto vf = test::convert<float>(test::random_vec(ntok * c, 3));
    const auto upf = test::convert<float>(test::random_vec(ntok * c, 4));
    const auto q = test::convert<double>(qf), k = test::convert<double>(kf),
               v = test::convert<double>(vf), up = test::convert<double>(upf);
    const Philox rng(12);
    std::vector<float> probs_f;
    std::vector<double> probs;
    test::expect_close(forward(qf, kf, vf, offs, nh, hs, p, &rng, 0, &probs_f),
                       forward(q, k, v, offs, nh, hs, p, &rng, 0, &probs), F32_TOL, "ctx");
    test::expect_close(probs_f, probs, F32_TOL, "probs");
    const auto gf = backward(upf, qf, kf, vf, probs_f, offs, nh, hs, p, &rng, 0);
    const auto g = backward(up, q, k, v, probs, offs, nh, hs, p, &rng, 0);
    test::expect_close(gf.dq, g.dq, F32_TOL, "dq");
    test::expect_close(gf.dk, g.dk, F32_TOL, "dk");
    test::expect_close(gf.dv, g.dv, F32_TOL, "dv");
}

INSTANTIATE_TEST_SUITE_P(Ops, OpsAttentionFloat, ::testing::Values(0.0, 0.1),
                         [](const auto& info) { return info.param > 0 ? "Dropout" : "NoDropout"; });

TEST(OpsAttention, FloatIsDeterministicForAnyThreadCount) {
    const std::vector<int32_t> offs = {0, 11, 22, 40, 41, 60};
    const int64_t nh = 12, hs = 64, c = nh * hs, ntok = 60;
    const auto q = test::convert<float>(test::random_vec(ntok * c, 1));
    const auto k = test::convert<float>(test::random_vec(ntok * c, 2));
    const auto v = test::convert<float>(test::random_vec(ntok * c, 3));
    const auto up = test::convert<float>(test::random_vec(ntok * c, 4));
    const Philox rng(3);
    auto run = [&](int threads) {
        const int saved = get_num_threads();
        set_num_threads(threads);
        std::vector<float> probs;
        auto out = forward(q, k, v, offs, nh, hs, 0.1, &rng, 0, &probs);
        const auto g = backward(up, q, k, v, probs, offs, nh, hs, 0.1, &rng, 0);
        set_num_threads(saved);
        auto append = [&](const std::vector<float>& x) {
            out.insert(out.end(), x.begin(), x.end());
        };
        append(probs);
        append(g.dq);
        append(g.dk);
        append(g.dv);
        return out;
    };
    const auto first = run(2);
    EXPECT_TRUE(first == run(2));
    EXPECT_TRUE(first == run(1));
}

}  // namespace ft::ops
