// bf16 autocast attention (attention_bf16.cpp) against an oracle written from
// docs/bf16-autocast.md's rounding points alone: straight loops in double (sums of bf16 products
// exact), every bf16 tensor rounded once with core's f32_to_bf16, softmax in double. The op sums
// in float32 and takes its exp from vec_math, so a value may sit one bf16 unit away where the
// exact result lies next to a tie: the check is "almost every value bit for bit, none further
// than one unit". Both scalings (DistilBERT's queries, BERT's scores), with and without dropout,
// the full and the first-query forms.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "finetune/core.h"
#include "ops/ops.h"
#include "ops/ops_test_util.h"
#include "test_env.h"

namespace ft::ops {

namespace {

float r16(double x) {
    return bf16_to_f32(f32_to_bf16(static_cast<float>(x)));
}

std::vector<float> bf16_values(size_t n, uint64_t seed, double scale) {
    std::vector<double> v = test::random_vec(n, seed, -scale, scale);
    std::vector<float> out(n);
    for (size_t i = 0; i < n; ++i) out[i] = r16(v[i]);
    return out;
}

struct Case {
    AttentionScale scale;
    double p;
    bool first_query;
};

struct Tensors {
    std::vector<float> out, probs, dq, dk, dv;
};

// The oracle for one (sequence, head): rows t0.., len tokens, head columns h*HS.., keep[i*len+j]
// the dropout mask (1 kept, 0 dropped) of query row i.
void oracle_block(Tensors& o, const std::vector<float>& q, const std::vector<float>& k,
                  const std::vector<float>& v, const std::vector<float>& dout, int64_t qrow0,
                  int64_t t0, int64_t len, int64_t nq, int64_t h, int64_t C, int64_t HS,
                  const Case& c, const std::vector<float>& keep, int64_t prob0) {
    const bool Qs = c.scale == AttentionScale::QUERIES;
    const double div = r16(std::sqrt(static_cast<double>(HS)));
    const double f = 1.0 / (1.0 - c.p);
    const double factor = Qs ? r16(f) : static_cast<float>(f);
    auto Q = [&](int64_t i, int64_t d) {
        const double x = q[(qrow0 + i) * C + h * HS + d];
        return Qs ? static_cast<double>(r16(x / div)) : x;
    };
    auto K = [&](int64_t j, int64_t d) {
        return static_cast<double>(k[(t0 + j) * C + h * HS + d]);
    };
    auto V = [&](int64_t j, int64_t d) {
        return static_cast<double>(v[(t0 + j) * C + h * HS + d]);
    };
    std::vector<double> P(nq * len), pd(nq * len), ds(nq * len);
    for (int64_t i = 0; i < nq; ++i) {
        std::vector<double> s(len);
        double mx = -INFINITY, sum = 0;
        for (int64_t j = 0; j < len; ++j) {
            double acc = 0;
            for (int64_t d = 0; d < HS; ++d) acc += Q(i, d) * K(j, d);
            s[j] = Qs ? r16(acc) : r16(r16(acc) / div);
            mx = std::max(mx, s[j]);
        }
        for (int64_t j = 0; j < len; ++j) sum += std::exp(s[j] - mx);
        for (int64_t j = 0; j < len; ++j) {
            const double pij = std::exp(s[j] - mx) / sum;
            P[i * len + j] = Qs ? r16(pij) : pij;
            const double kept = c.p > 0 ? keep[i * len + j] * factor : 1.0;
            pd[i * len + j] = r16(P[i * len + j] * kept);
            o.probs[prob0 + i * len + j] = static_cast<float>(P[i * len + j]);
        }
        for (int64_t d = 0; d < HS; ++d) {
            double acc = 0;
            for (int64_t j = 0; j < len; ++j) acc += pd[i * len + j] * V(j, d);
            o.out[(qrow0 + i) * C + h * HS + d] = r16(acc);
        }
        // Backward.
        std::vector<double> g(len);
        double rs = 0;
        for (int64_t j = 0; j < len; ++j) {
            double acc = 0;
            for (int64_t d = 0; d < HS; ++d) acc += dout[(qrow0 + i) * C + h * HS + d] * V(j, d);
            g[j] = r16(acc);
            if (c.p > 0)
                g[j] =
                    Qs ? r16(g[j] * keep[i * len + j] * factor) : g[j] * keep[i * len + j] * factor;
            rs += g[j] * P[i * len + j];
        }
        if (Qs) rs = r16(rs);
        for (int64_t j = 0; j < len; ++j) {
            const double x = r16(P[i * len + j] * (g[j] - rs));
            ds[i * len + j] = Qs ? x : r16(x / div);
        }
        for (int64_t d = 0; d < HS; ++d) {
            double acc = 0;
            for (int64_t j = 0; j < len; ++j) acc += ds[i * len + j] * K(j, d);
            o.dq[(qrow0 + i) * C + h * HS + d] = Qs ? r16(r16(acc) / div) : r16(acc);
        }
    }
    for (int64_t j = 0; j < len; ++j)
        for (int64_t d = 0; d < HS; ++d) {
            double ak = 0, av = 0;
            for (int64_t i = 0; i < nq; ++i) {
                ak += ds[i * len + j] * Q(i, d);
                av += pd[i * len + j] * dout[(qrow0 + i) * C + h * HS + d];
            }
            o.dk[(t0 + j) * C + h * HS + d] = r16(ak);
            o.dv[(t0 + j) * C + h * HS + d] = r16(av);
        }
}

// Values bit for bit but for at most `flips` (1 bf16 unit of the largest |want| at most).
void expect_bf16_equal(const std::vector<float>& got, const std::vector<float>& want,
                       const char* what, double flips_fraction) {
    double max_ref = 0;
    for (float w : want) max_ref = std::max(max_ref, std::fabs(static_cast<double>(w)));
    int64_t off = 0;
    for (size_t i = 0; i < want.size(); ++i) {
        if (got[i] == want[i]) continue;
        ++off;
        EXPECT_LE(std::fabs(static_cast<double>(got[i]) - want[i]), max_ref / 128.0)
            << what << "[" << i << "]: " << got[i] << " vs " << want[i];
    }
    EXPECT_LE(static_cast<double>(off), flips_fraction * static_cast<double>(want.size()))
        << what << ": " << off << " of " << want.size() << " values differ";
}

void check_case(const Case& c) {
    const std::vector<int32_t> offsets = {0, 5, 8, 15};
    const int64_t B = 3, NH = 2, HS = 8, C = NH * HS, T = offsets.back();
    const int64_t QR = c.first_query ? B : T;  // query rows
    const auto q = bf16_values(QR * C, 11, 2.0), k = bf16_values(T * C, 12, 2.0),
               v = bf16_values(T * C, 13, 1.0), dout = bf16_values(QR * C, 14, 1.0);
    const Philox rng(7, 3);
    const uint64_t site = 1ull << 40;
    const int64_t nprobs = c.first_query ? NH * T : attention_probs_size(offsets.data(), B, NH);
    // The mask: the float32 attention's draws, read off dropout_forward on ones at the pair's
    // element offsets (the op documents that both draw the same elements).
    std::vector<float> ones(static_cast<size_t>(attention_probs_size(offsets.data(), B, NH)), 1.f),
        mask(ones.size());
    dropout_forward(cpu_context(), mask.data(), ones.data(), static_cast<int64_t>(ones.size()), c.p,
                    rng, site);

    Tensors want{std::vector<float>(QR * C), std::vector<float>(nprobs), std::vector<float>(QR * C),
                 std::vector<float>(T * C), std::vector<float>(T * C)};
    int64_t base = 0;
    for (int64_t b = 0; b < B; ++b) {
        const int64_t t0 = offsets[b], len = offsets[b + 1] - offsets[b];
        for (int64_t h = 0; h < NH; ++h) {
            const int64_t block = base + h * len * len;  // the full form's pair block
            const int64_t nq = c.first_query ? 1 : len;
            std::vector<float> keep(nq * len);
            for (int64_t e = 0; e < nq * len; ++e) keep[e] = mask[block + e] != 0.f ? 1.f : 0.f;
            const int64_t prob0 = c.first_query ? NH * t0 + h * len : block;
            oracle_block(want, q, k, v, dout, c.first_query ? b : t0, t0, len, nq, h, C, HS, c,
                         keep, prob0);
        }
        base += NH * (offsets[b + 1] - offsets[b]) * (offsets[b + 1] - offsets[b]);
    }

    Tensors got{std::vector<float>(QR * C), std::vector<float>(nprobs), std::vector<float>(QR * C),
                std::vector<float>(T * C), std::vector<float>(T * C)};
    const Philox* drop = c.p > 0 ? &rng : nullptr;
    attention_forward_bf16(cpu_context(), got.out.data(), got.probs.data(), q.data(), k.data(),
                           v.data(), offsets.data(), B, NH, HS, c.scale, c.p, drop, site,
                           c.first_query);
    attention_backward_bf16(cpu_context(), got.dq.data(), got.dk.data(), got.dv.data(), dout.data(),
                            q.data(), k.data(), v.data(), got.probs.data(), offsets.data(), B, NH,
                            HS, c.scale, c.p, drop, site, c.first_query);
    const double flips = 0.01;  // measured: none
    expect_bf16_equal(got.out, want.out, "out", flips);
    expect_bf16_equal(got.dq, want.dq, "dq", flips);
    expect_bf16_equal(got.dk, want.dk, "dk", flips);
    expect_bf16_equal(got.dv, want.dv, "dv", flips);
    if (c.scale == AttentionScale::QUERIES)
        expect_bf16_equal(got.probs, want.probs, "probs", flips);
    else  // float32 probabilities: the op's float exp against double's
        for (size_t i = 0; i < want.probs.size(); ++i)
            EXPECT_NEAR(got.probs[i], want.probs[i], 1e-6) << "probs[" << i << "]";
}

}  // namespace

TEST(OpsBf16, AttentionMatchesTheRoundingPointsOracle) {
    for (const AttentionScale s : {AttentionScale::QUERIES, AttentionScale::SCORES})
        for (const double p : {0.0, 0.25})
            for (const bool first : {false, true}) {
                SCOPED_TRACE(testing::Message()
                             << (s == AttentionScale::QUERIES ? "queries" : "scores") << " p=" << p
                             << (first ? " first query" : " full"));
                check_case({s, p, first});
            }
}

TEST(OpsBf16, AttentionOnAGpuContextIsRefused) {
    Context gpu;
    gpu.device = Device::CUDA;
    const std::vector<int32_t> offsets = {0, 1};
    float x = 0;
    const std::string msg = test::error_of([&] {
        attention_forward_bf16(gpu, &x, &x, &x, &x, &x, offsets.data(), 1, 1, 1,
                               AttentionScale::SCORES, 0.0, nullptr, 0, false);
    });
    EXPECT_NE(msg.find("CPU only"), std::string::npos) << msg;
}

}  // namespace ft::ops
