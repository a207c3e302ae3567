// Every CUDA op against the CPU op on the same inputs: forward and backward, in float, to the
// (CUDA, F32) row's op bound of tolerances.h; two GPU runs of the ops whose results are sums
// (embedding, LayerNorm and linear backward, attention, the norm) give the same bits; dropout draws
// the same mask on both devices. Skips with the reason where no GPU can be used (a build without
// CUDA, no driver, no device).
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "core/device_cuda.h"
#include "ops/ops.h"
#include "ops/ops_test_util.h"

namespace ft::ops {

namespace {

// A host vector's copy in GPU memory.
template <class T>
class DeviceVec {
  public:
    explicit DeviceVec(const std::vector<T>& host)
        : n_(host.size()), buf_(std::max<size_t>(1, host.size()) * sizeof(T), Device::CUDA) {
        cuda::copy_to_device(buf_.data(), host.data(), n_ * sizeof(T));
    }
    T* data() { return static_cast<T*>(buf_.data()); }
    std::vector<T> host() const {
        std::vector<T> out(n_);
        cuda::copy_to_host(out.data(), buf_.data(), n_ * sizeof(T));
        return out;
    }

  private:
    size_t n_;
    Buffer buf_;
};

std::vector<float> rand_f(size_t n, uint64_t seed, double lo = -1.0, double hi = 1.0) {
    return test::convert<float>(test::random_vec(n, seed, lo, hi));
}

const test::Tolerance TOL = test::tolerance_for(Device::CUDA, DType::F32).op;

class CudaOps : public ::testing::Test {
  protected:
    void SetUp() override {
        const std::string why = cuda::unavailable_reason();
        if (!why.empty()) GTEST_SKIP() << why;
        gpu_ = std::make_unique<OwnedContext>(Device::CUDA, /*timed=*/false);
    }
    const Context& gpu() const { return gpu_->get(); }
    static const Context& cpu() { return cpu_context(); }
    // Waits for the GPU's work, so that a failed kernel fails the test that launched it.
    void sync() const { cuda::synchronize(gpu().stream); }

  private:
    std::unique_ptr<OwnedContext> gpu_;
};

// A packed batch of sequences of these lengths.
std::vector<int32_t> offsets_of(const std::vector<int32_t>& lengths) {
    std::vector<int32_t> o = {0};
    for (int32_t len : lengths) o.push_back(o.back() + len);
    return o;
}

}  // namespace

TEST_F(CudaOps, EmbeddingForwardBackward) {
    const int64_t T = 37, C = 24, V = 11, P = 40, TT = 2;
    std::vector<int32_t> ids(T), pos(T), types(T);
    for (int64_t t = 0; t < T; ++t) {
        ids[t] = static_cast<int32_t>((t * 7) % V);  // repeated ids: the backward sums rows
        pos[t] = static_cast<int32_t>(t % 13);
        types[t] = static_cast<int32_t>(t % TT);
    }
    const auto wte = rand_f(V * C, 1), wpe = rand_f(P * C, 2), wtt = rand_f(TT * C, 3),
               dout = rand_f(T * C, 4);
    std::vector<float> out(T * C), dwte(V * C, 0.5f), dwpe(P * C, 0.25f), dwtt(TT * C, -1.0f);
    DeviceVec<int32_t> d_ids(ids), d_pos(pos), d_types(types);
    DeviceVec<float> d_wte(wte), d_wpe(wpe), d_wtt(wtt), d_dout(dout), d_out(out), d_dwte(dwte),
        d_dwpe(dwpe), d_dwtt(dwtt);
    embedding_forward(cpu(), out.data(), ids.data(), pos.data(), types.data(), wte.data(),
                      wpe.data(), wtt.data(), T, C);
    embedding_backward(cpu(), dwte.data(), dwpe.data(), dwtt.data(), dout.data(), ids.data(),
                       pos.data(), types.data(), T, C);
    embedding_forward(gpu(), d_out.data(), d_ids.data(), d_pos.data(), d_types.data(), d_wte.data(),
                      d_wpe.data(), d_wtt.data(), T, C);
    embedding_backward(gpu(), d_dwte.data(), d_dwpe.data(), d_dwtt.data(), d_dout.data(),
                       d_ids.data(), d_pos.data(), d_types.data(), T, C);
    sync();
    test::expect_close(d_out.host(), out, TOL, "embedding out");
    test::expect_close(d_dwte.host(), dwte, TOL, "embedding dwte (+=)");
    test::expect_close(d_dwpe.host(), dwpe, TOL, "embedding dwpe (+=)");
    test::expect_close(d_dwtt.host(), dwtt, TOL, "embedding dwtt (+=)");
}

TEST_F(CudaOps, LayerNormForwardBackward) {
    const int64_t T = 29, C = 48;
    const auto inp = rand_f(T * C, 5, -3.0, 3.0), w = rand_f(C, 6), b = rand_f(C, 7),
               dout = rand_f(T * C, 8);
    std::vector<float> out(T * C), mean(T), rstd(T), dinp(T * C), dw(C, 0.5f), db(C, -0.5f);
    DeviceVec<float> d_inp(inp), d_w(w), d_b(b), d_dout(dout), d_out(out), d_mean(mean),
        d_rstd(rstd), d_dinp(dinp), d_dw(dw), d_db(db);
    layernorm_forward(cpu(), out.data(), mean.data(), rstd.data(), inp.data(), w.data(), b.data(),
                      T, C, 1e-12);
    layernorm_backward(cpu(), dinp.data(), dw.data(), db.data(), dout.data(), inp.data(), w.data(),
                       mean.data(), rstd.data(), T, C);
    layernorm_forward(gpu(), d_out.data(), d_mean.data(), d_rstd.data(), d_inp.data(), d_w.data(),
                      d_b.data(), T, C, 1e-12);
    layernorm_backward(gpu(), d_dinp.data(), d_dw.data(), d_db.data(), d_dout.data(), d_inp.data(),
                       d_w.data(), d_mean.data(), d_rstd.data(), T, C);
    sync();
    test::expect_close(d_out.host(), out, TOL, "layernorm out");
    test::expect_close(d_mean.host(), mean, TOL, "layernorm mean");
    test::expect_close(d_rstd.host(), rstd, TOL, "layernorm rstd");
    test::expect_close(d_dinp.host(), dinp, TOL, "layernorm dinp");
    test::expect_close(d_dw.host(), dw, TOL, "layernorm dweight (+=)");
    test::expect_close(d_db.host(), db, TOL, "layernorm dbias (+=)");
}

TEST_F(CudaOps, LinearForwardBackward) {
    // Odd sizes (no multiple of a tile), with and without bias, written and accumulated dinp.
    for (const bool with_bias : {true, false})
        for (const bool accumulate : {false, true}) {
            const int64_t N = 33, I = 70, O = 45;
            const auto inp = rand_f(N * I, 9), w = rand_f(O * I, 10), bias = rand_f(O, 11),
                       dout = rand_f(N * O, 12);
            std::vector<float> out(N * O), dinp(N * I, 0.25f), dw(O * I, 0.5f), db(O, -0.5f);
            DeviceVec<float> d_inp(inp), d_w(w), d_bias(bias), d_dout(dout), d_out(out),
                d_dinp(dinp), d_dw(dw), d_db(db);
            const float* b = with_bias ? bias.data() : nullptr;
            float* dbp = with_bias ? db.data() : nullptr;
            linear_forward(cpu(), out.data(), inp.data(), w.data(), b, N, I, O);
            linear_backward(cpu(), dinp.data(), dw.data(), dbp, dout.data(), inp.data(), w.data(),
                            N, I, O, accumulate);
            linear_forward(gpu(), d_out.data(), d_inp.data(), d_w.data(),
                           with_bias ? d_bias.data() : nullptr, N, I, O);
            linear_backward(gpu(), d_dinp.data(), d_dw.data(), with_bias ? d_db.data() : nullptr,
                            d_dout.data(), d_inp.data(), d_w.data(), N, I, O, accumulate);
            sync();
            const std::string what = std::string(with_bias ? "bias" : "no bias") +
                                     (accumulate ? ", dinp +=" : ", dinp =");
            test::expect_close(d_out.host(), out, TOL, "linear out, " + what);
            test::expect_close(d_dinp.host(), dinp, TOL, "linear dinp, " + what);
            test::expect_close(d_dw.host(), dw, TOL, "linear dweight (+=), " + what);
            if (with_bias) test::expect_close(d_db.host(), db, TOL, "linear dbias (+=), " + what);
        }
}

TEST_F(CudaOps, ActivationsAddAndDropout) {
    const int64_t n = 100003;  // not a multiple of 4: the last Philox block is partial
    const auto x = rand_f(n, 13, -4.0, 4.0), dout = rand_f(n, 14), b = rand_f(n, 15);
    DeviceVec<float> d_x(x), d_dout(dout), d_b(b);
    for (const Activation act : {Activation::GELU, Activation::RELU, Activation::TANH}) {
        std::vector<float> out(n), dinp(n);
        DeviceVec<float> d_out(out), d_dinp(dinp);
        activation_forward(cpu(), act, out.data(), x.data(), n);
        activation_backward(cpu(), act, dinp.data(), dout.data(), x.data(), out.data(), n);
        activation_forward(gpu(), act, d_out.data(), d_x.data(), n);
        activation_backward(gpu(), act, d_dinp.data(), d_dout.data(), d_x.data(), d_out.data(), n);
        sync();
        const std::string name = act == Activation::GELU   ? "gelu"
                                 : act == Activation::RELU ? "relu"
                                                           : "tanh";
        test::expect_close(d_out.host(), out, TOL, name + " out");
        test::expect_close(d_dinp.host(), dinp, TOL, name + " dinp");
    }
    std::vector<float> sum(n);
    DeviceVec<float> d_sum(sum);
    add_forward(cpu(), sum.data(), x.data(), b.data(), n);
    add_forward(gpu(), d_sum.data(), d_x.data(), d_b.data(), n);
    sync();
    EXPECT_EQ(d_sum.host(), sum) << "add";
    // The same Philox stream draws the same mask: equal bits, not just close values.
    const Philox rng(20261206, 3);
    for (const double p : {0.1, 0.5}) {
        std::vector<float> dropped(n), back(n);
        DeviceVec<float> d_dropped(dropped), d_back(back);
        dropout_forward(cpu(), dropped.data(), x.data(), n, p, rng, 7);
        dropout_backward(cpu(), back.data(), dout.data(), n, p, rng, 7);
        dropout_forward(gpu(), d_dropped.data(), d_x.data(), n, p, rng, 7);
        dropout_backward(gpu(), d_back.data(), d_dout.data(), n, p, rng, 7);
        sync();
        EXPECT_EQ(d_dropped.host(), dropped) << "dropout forward, p " << p;
        EXPECT_EQ(d_back.host(), back) << "dropout backward, p " << p;
    }
}

TEST_F(CudaOps, AttentionBothFormsWithAndWithoutDropout) {
    const std::vector<int32_t> offsets = offsets_of({5, 1, 17, 0, 64, 9});
    const int64_t B = 6, NH = 4, HS = 16, C = NH * HS, T = offsets.back();
    const auto q = rand_f(T * C, 16), k = rand_f(T * C, 17), v = rand_f(T * C, 18),
               dout = rand_f(T * C, 19);
    const int64_t P = attention_probs_size(offsets.data(), B, NH);
    DeviceVec<float> d_q(q), d_k(k), d_v(v), d_dout(dout);
    const Philox rng(99, 1);
    for (const double p : {0.0, 0.1}) {
        const Philox* r = p > 0 ? &rng : nullptr;
        std::vector<float> out(T * C), probs(P), dq(T * C), dk(T * C), dv(T * C);
        DeviceVec<float> d_out(out), d_probs(probs), d_dq(dq), d_dk(dk), d_dv(dv);
        attention_forward(cpu(), out.data(), probs.data(), q.data(), k.data(), v.data(),
                          offsets.data(), B, NH, HS, p, r, 11);
        attention_backward(cpu(), dq.data(), dk.data(), dv.data(), dout.data(), q.data(), k.data(),
                           v.data(), probs.data(), offsets.data(), B, NH, HS, p, r, 11);
        attention_forward(gpu(), d_out.data(), d_probs.data(), d_q.data(), d_k.data(), d_v.data(),
                          offsets.data(), B, NH, HS, p, r, 11);
        attention_backward(gpu(), d_dq.data(), d_dk.data(), d_dv.data(), d_dout.data(), d_q.data(),
                           d_k.data(), d_v.data(), d_probs.data(), offsets.data(), B, NH, HS, p, r,
                           11);
        sync();
        const std::string what = p > 0 ? " (dropout)" : "";
        test::expect_close(d_out.host(), out, TOL, "attention out" + what);
        test::expect_close(d_probs.host(), probs, TOL, "attention probs" + what);
        test::expect_close(d_dq.host(), dq, TOL, "attention dq" + what);
        test::expect_close(d_dk.host(), dk, TOL, "attention dk" + what);
        test::expect_close(d_dv.host(), dv, TOL, "attention dv" + what);

        // The first-query form: the [CLS] rows of the same batch.
        std::vector<float> q_first(B * C), dout_first(B * C);
        for (int64_t b = 0; b < B; ++b)
            for (int64_t c = 0; c < C; ++c) {
                q_first[b * C + c] = q[offsets[b] * C + c];
                dout_first[b * C + c] = dout[offsets[b] * C + c];
            }
        std::vector<float> out_f(B * C), probs_f(NH * T), dq_f(B * C), dk_f(T * C), dv_f(T * C);
        DeviceVec<float> d_q_first(q_first), d_dout_first(dout_first), d_out_f(out_f),
            d_probs_f(probs_f), d_dq_f(dq_f), d_dk_f(dk_f), d_dv_f(dv_f);
        attention_first_query_forward(cpu(), out_f.data(), probs_f.data(), q_first.data(), k.data(),
                                      v.data(), offsets.data(), B, NH, HS, p, r, 11);
        attention_first_query_backward(cpu(), dq_f.data(), dk_f.data(), dv_f.data(),
                                       dout_first.data(), q_first.data(), k.data(), v.data(),
                                       probs_f.data(), offsets.data(), B, NH, HS, p, r, 11);
        attention_first_query_forward(gpu(), d_out_f.data(), d_probs_f.data(), d_q_first.data(),
                                      d_k.data(), d_v.data(), offsets.data(), B, NH, HS, p, r, 11);
        attention_first_query_backward(gpu(), d_dq_f.data(), d_dk_f.data(), d_dv_f.data(),
                                       d_dout_first.data(), d_q_first.data(), d_k.data(),
                                       d_v.data(), d_probs_f.data(), offsets.data(), B, NH, HS, p,
                                       r, 11);
        sync();
        test::expect_close(d_out_f.host(), out_f, TOL, "first-query out" + what);
        test::expect_close(d_probs_f.host(), probs_f, TOL, "first-query probs" + what);
        test::expect_close(d_dq_f.host(), dq_f, TOL, "first-query dq" + what);
        test::expect_close(d_dk_f.host(), dk_f, TOL, "first-query dk" + what);
        test::expect_close(d_dv_f.host(), dv_f, TOL, "first-query dv" + what);
    }
}

TEST_F(CudaOps, GatherFirstTokenAndLosses) {
    const std::vector<int32_t> offsets = offsets_of({3, 1, 6});
    const int64_t B = 3, C = 10, T = offsets.back(), K = 4;
    const auto hidden = rand_f(T * C, 20), dout = rand_f(B * C, 21);
    std::vector<float> first(B * C), dhidden(T * C, 9.0f);
    DeviceVec<float> d_hidden(hidden), d_dout(dout), d_first(first), d_dhidden(dhidden);
    gather_first_token(cpu(), first.data(), hidden.data(), offsets.data(), B, C);
    gather_first_token_backward(cpu(), dhidden.data(), dout.data(), offsets.data(), B, C, T);
    gather_first_token(gpu(), d_first.data(), d_hidden.data(), offsets.data(), B, C);
    gather_first_token_backward(gpu(), d_dhidden.data(), d_dout.data(), offsets.data(), B, C, T);
    sync();
    EXPECT_EQ(d_first.host(), first);
    EXPECT_EQ(d_dhidden.host(), dhidden);

    const auto logits = rand_f(B * K, 22, -3.0, 3.0), target = rand_f(B * K, 23, 0.0, 1.0);
    const std::vector<int64_t> labels = {2, -100, 0};
    DeviceVec<float> d_logits(logits), d_target(target);
    DeviceVec<int64_t> d_labels(labels);
    std::vector<double> loss(1);
    DeviceVec<double> d_loss(loss);
    std::vector<float> grad(B * K);
    DeviceVec<float> d_grad(grad);
    cross_entropy_forward_backward(cpu(), loss.data(), grad.data(), logits.data(), labels.data(), B,
                                   K);
    cross_entropy_forward_backward(gpu(), d_loss.data(), d_grad.data(), d_logits.data(),
                                   d_labels.data(), B, K);
    sync();
    test::expect_close(d_loss.host(), loss, TOL, "cross-entropy loss");
    test::expect_close(d_grad.host(), grad, TOL, "cross-entropy dlogits");
    mse_forward_backward(cpu(), loss.data(), grad.data(), logits.data(), target.data(), B);
    mse_forward_backward(gpu(), d_loss.data(), d_grad.data(), d_logits.data(), d_target.data(), B);
    sync();
    test::expect_close(d_loss.host(), loss, TOL, "mse loss");
    test::expect_close(std::vector<float>(d_grad.host().begin(), d_grad.host().begin() + B),
                       std::vector<float>(grad.begin(), grad.begin() + B), TOL, "mse dpred");
    bce_with_logits_forward_backward(cpu(), loss.data(), grad.data(), logits.data(), target.data(),
                                     B, K);
    bce_with_logits_forward_backward(gpu(), d_loss.data(), d_grad.data(), d_logits.data(),
                                     d_target.data(), B, K);
    sync();
    test::expect_close(d_loss.host(), loss, TOL, "bce loss");
    test::expect_close(d_grad.host(), grad, TOL, "bce dlogits");
}

TEST_F(CudaOps, OptimizerPasses) {
    const int64_t n = 70001;
    const auto p0 = rand_f(n, 24), g0 = rand_f(n, 25), m0 = rand_f(n, 26, -0.1, 0.1),
               v0 = rand_f(n, 27, 0.0, 0.01);
    for (const bool torch_form : {true, false}) {
        AdamWScalars k{0.9f, 0.999f, 0.1f, 0.001f, 1e-8f, 0.0f, -2e-5f, 0.9f, torch_form};
        k.decay = torch_form ? 1.0f - 2e-7f : -2e-7f;
        auto p = p0, g = g0, m = m0, v = v0;
        DeviceVec<float> d_p(p), d_g(g), d_m(m), d_v(v);
        adamw_update(cpu(), p.data(), g.data(), m.data(), v.data(), n, k, 0.5f, true);
        adamw_update(gpu(), d_p.data(), d_g.data(), d_m.data(), d_v.data(), n, k, 0.5f, true);
        sync();
        const std::string form = torch_form ? "torch form" : "HF form";
        test::expect_close(d_p.host(), p, TOL, "adamw p, " + form);
        test::expect_close(d_m.host(), m, TOL, "adamw m, " + form);
        test::expect_close(d_v.host(), v, TOL, "adamw v, " + form);
        EXPECT_EQ(d_g.host(), std::vector<float>(n, 0.0f)) << "adamw zeroes the gradient";
    }
    std::vector<double> norm(1);
    DeviceVec<double> d_norm(norm);
    DeviceVec<float> d_x(g0);
    l2_norm(cpu(), norm.data(), g0.data(), n);
    l2_norm(gpu(), d_norm.data(), d_x.data(), n);
    sync();
    test::expect_close(d_norm.host(), norm, TOL, "l2_norm");
    auto x = g0;
    scale(cpu(), x.data(), n, 0.25f);
    scale(gpu(), d_x.data(), n, 0.25f);
    std::vector<float> copied(n);
    DeviceVec<float> d_copied(copied);
    copy(gpu(), d_copied.data(), d_x.data(), n);
    sync();
    EXPECT_EQ(d_x.host(), x) << "scale";
    EXPECT_EQ(d_copied.host(), x) << "copy";
    fill_zero(gpu(), d_x.data(), n);
    sync();
    EXPECT_EQ(d_x.host(), std::vector<float>(n, 0.0f)) << "fill_zero";
}

// The sums of the backward passes and of the norm run in a fixed order: the same inputs give the
// same bits on every run (issue: two GPU runs are bit-identical).
TEST_F(CudaOps, TwoRunsGiveTheSameBits) {
    const std::vector<int32_t> offsets = offsets_of({12, 7, 30});
    const int64_t B = 3, NH = 2, HS = 8, C = NH * HS, T = offsets.back(), V = 5;
    const auto q = rand_f(T * C, 28), dout = rand_f(T * C, 29), w = rand_f(C * C, 30);
    std::vector<int32_t> ids(T, 1), pos(T);
    for (int64_t t = 0; t < T; ++t) pos[t] = static_cast<int32_t>(t % 7);
    const auto wte = rand_f(V * C, 31), wpe = rand_f(T * C, 32);
    DeviceVec<float> d_q(q), d_dout(dout), d_w(w), d_wte(wte), d_wpe(wpe);
    DeviceVec<int32_t> d_ids(ids), d_pos(pos);
    const Philox rng(5, 5);
    const int64_t P = attention_probs_size(offsets.data(), B, NH);
    auto run = [&] {
        std::vector<float> zeros_tc(T * C), zeros_p(P), zeros_cc(C * C), zeros_c(C),
            zeros_vc(V * C), zeros_pc(T * C);
        DeviceVec<float> out(zeros_tc), probs(zeros_p), dq(zeros_tc), dk(zeros_tc), dv(zeros_tc),
            dinp(zeros_tc), dw(zeros_cc), db(zeros_c), dwte(zeros_vc), dwpe(zeros_pc);
        std::vector<double> zero_norm(1);
        DeviceVec<double> norm(zero_norm);
        attention_forward(gpu(), out.data(), probs.data(), d_q.data(), d_q.data(), d_q.data(),
                          offsets.data(), B, NH, HS, 0.1, &rng, 0);
        attention_backward(gpu(), dq.data(), dk.data(), dv.data(), d_dout.data(), d_q.data(),
                           d_q.data(), d_q.data(), probs.data(), offsets.data(), B, NH, HS, 0.1,
                           &rng, 0);
        linear_backward(gpu(), dinp.data(), dw.data(), db.data(), d_dout.data(), d_q.data(),
                        d_w.data(), T, C, C, false);
        embedding_backward<float>(gpu(), dwte.data(), dwpe.data(), nullptr, d_dout.data(),
                                  d_ids.data(), d_pos.data(), nullptr, T, C);
        l2_norm(gpu(), norm.data(), dw.data(), C * C);
        sync();
        std::vector<std::vector<float>> all = {out.host(), dq.host(),   dk.host(),
                                               dv.host(),  dinp.host(), dw.host(),
                                               db.host(),  dwte.host(), dwpe.host()};
        const double n = norm.host()[0];
        std::vector<float> bits(2);
        std::memcpy(bits.data(), &n, sizeof n);
        all.push_back(bits);
        return all;
    };
    const auto first = run(), second = run();
    for (size_t i = 0; i < first.size(); ++i) EXPECT_EQ(first[i], second[i]) << "result " << i;
}

}  // namespace ft::ops
