// Every op against PyTorch: tests/goldens/ops.safetensors (tools/gen_goldens.py) holds inputs,
// outputs and gradients named "<op>.<ops.h argument>", computed in float64 autograd from float32
// inputs and rounded to float32. Each op runs per (device, dtype) row of tolerances.h, to that
// row's golden bound: float to F32_TOL, double to the float32 rounding of the exact answer.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "finetune/io.h"
#include "ops/ops.h"
#include "ops/ops_test_util.h"
#include "test_env.h"

namespace ft::ops {

namespace {

// Each test runs per (device, dtype) row; the bound is the row's `golden` tolerance (the double
// kernels against exact values rounded to float32).
class OpsGolden : public test::OpsTargetTest {
  protected:
    static void SetUpTestSuite() {
        const auto path = test::tools_dir() / ".." / "tests" / "goldens" / "ops.safetensors";
        if (std::filesystem::exists(path)) file_ = new SafetensorsFile(read_safetensors(path));
    }
    static void TearDownTestSuite() {
        delete file_;
        file_ = nullptr;
    }
    void SetUp() override {
        OpsTargetTest::SetUp();
        if (IsSkipped()) return;
        ASSERT_NE(file_, nullptr)
            << "tests/goldens/ops.safetensors is missing (tools/gen_goldens.py makes it)";
    }

    // A golden tensor's elements converted to E. safetensors does not align tensor data, so
    // elements are copied out byte-wise rather than read through a typed pointer.
    template <class E>
    static std::vector<E> get(const std::string& name) {
        const Tensor& t = file_->tensors.at(name);
        std::vector<E> out(static_cast<size_t>(t.numel()));
        for (size_t i = 0; i < out.size(); ++i) {
            switch (t.dtype) {
                case DType::F32:
                    out[i] = static_cast<E>(element<float>(t, i));
                    break;
                case DType::F64:
                    out[i] = static_cast<E>(element<double>(t, i));
                    break;
                case DType::I32:
                    out[i] = static_cast<E>(element<int32_t>(t, i));
                    break;
                case DType::I64:
                    out[i] = static_cast<E>(element<int64_t>(t, i));
                    break;
                default:
                    ADD_FAILURE() << name << ": unexpected dtype";
                    return {};
            }
        }
        return out;
    }
    template <class S>
    static S element(const Tensor& t, size_t i) {
        S v;
        std::memcpy(&v, static_cast<const char*>(t.data) + i * sizeof(S), sizeof(S));
        return v;
    }
    static int64_t dim(const std::string& name, int d) { return file_->tensors.at(name).shape[d]; }
    static double scalar(const std::string& name) { return get<double>(name).at(0); }

    static inline SafetensorsFile* file_ = nullptr;

    // Each op runs in T on the (float32) inputs.
    template <class T>
    void embedding() {
        const auto ids = get<int32_t>("embedding.ids"), pos = get<int32_t>("embedding.pos"),
                   types = get<int32_t>("embedding.types");
        const auto wte = get<T>("embedding.wte"), wpe = get<T>("embedding.wpe"),
                   wtt = get<T>("embedding.wtt"), dout = get<T>("embedding.dout");
        const int64_t T_ = static_cast<int64_t>(ids.size()), C = dim("embedding.wte", 1);
        std::vector<T> out(T_ * C), dwte(wte.size()), dwpe(wpe.size()), dwtt(wtt.size());
        embedding_forward(ctx(), out.data(), ids.data(), pos.data(), types.data(), wte.data(),
                          wpe.data(), wtt.data(), T_, C);
        embedding_backward(ctx(), dwte.data(), dwpe.data(), dwtt.data(), dout.data(), ids.data(),
                           pos.data(), types.data(), T_, C);
        test::expect_close(out, get<double>("embedding.out"), tol().golden, "embedding.out");
        test::expect_close(dwte, get<double>("embedding.dwte"), tol().golden, "embedding.dwte");
        test::expect_close(dwpe, get<double>("embedding.dwpe"), tol().golden, "embedding.dwpe");
        test::expect_close(dwtt, get<double>("embedding.dwtt"), tol().golden, "embedding.dwtt");
    }

    template <class T>
    void layernorm() {
        const auto inp = get<T>("layernorm.inp"), w = get<T>("layernorm.weight"),
                   b = get<T>("layernorm.bias"), dout = get<T>("layernorm.dout");
        const int64_t T_ = dim("layernorm.inp", 0), C = dim("layernorm.inp", 1);
        std::vector<T> out(T_ * C), mean(T_), rstd(T_), dinp(T_ * C), dw(C), db(C);
        layernorm_forward(ctx(), out.data(), mean.data(), rstd.data(), inp.data(), w.data(),
                          b.data(), T_, C, scalar("layernorm.eps"));
        layernorm_backward(ctx(), dinp.data(), dw.data(), db.data(), dout.data(), inp.data(),
                           w.data(), mean.data(), rstd.data(), T_, C);
        test::expect_close(out, get<double>("layernorm.out"), tol().golden, "layernorm.out");
        test::expect_close(mean, get<double>("layernorm.mean"), tol().golden, "layernorm.mean");
        test::expect_close(rstd, get<double>("layernorm.rstd"), tol().golden, "layernorm.rstd");
        test::expect_close(dinp, get<double>("layernorm.dinp"), tol().golden, "layernorm.dinp");
        test::expect_close(dw, get<double>("layernorm.dweight"), tol().golden, "layernorm.dweight");
        test::expect_close(db, get<double>("layernorm.dbias"), tol().golden, "layernorm.dbias");
    }

    template <class T>
    void linear() {
        const auto inp = get<T>("linear.inp"), w = get<T>("linear.weight"),
                   b = get<T>("linear.bias"), dout = get<T>("linear.dout");
        const int64_t N = dim("linear.inp", 0), I = dim("linear.inp", 1),
                      O = dim("linear.weight", 0);
        std::vector<T> out(N * O), dinp(N * I), dw(O * I), db(O);
        linear_forward(ctx(), out.data(), inp.data(), w.data(), b.data(), N, I, O);
        linear_backward(ctx(), dinp.data(), dw.data(), db.data(), dout.data(), inp.data(), w.data(),
                        N, I, O, false);
        test::expect_close(out, get<double>("linear.out"), tol().golden, "linear.out");
        test::expect_close(dinp, get<double>("linear.dinp"), tol().golden, "linear.dinp");
        test::expect_close(dw, get<double>("linear.dweight"), tol().golden, "linear.dweight");
        test::expect_close(db, get<double>("linear.dbias"), tol().golden, "linear.dbias");
    }

    template <class T>
    void attention() {
        const auto offsets = get<int32_t>("attention.offsets");
        const int64_t B = static_cast<int64_t>(offsets.size()) - 1;
        const int64_t NH = static_cast<int64_t>(scalar("attention.nh")),
                      HS = static_cast<int64_t>(scalar("attention.hs"));
        const auto q = get<T>("attention.q"), k = get<T>("attention.k"), v = get<T>("attention.v"),
                   dctx = get<T>("attention.dctx");
        std::vector<T> out(q.size()), probs(attention_probs_size(offsets.data(), B, NH)),
            dq(q.size()), dk(q.size()), dv(q.size());
        attention_forward(ctx(), out.data(), probs.data(), q.data(), k.data(), v.data(),
                          offsets.data(), B, NH, HS, 0.0, nullptr, 0);
        attention_backward(ctx(), dq.data(), dk.data(), dv.data(), dctx.data(), q.data(), k.data(),
                           v.data(), probs.data(), offsets.data(), B, NH, HS, 0.0, nullptr, 0);
        test::expect_close(out, get<double>("attention.ctx"), tol().golden, "attention.ctx");
        test::expect_close(probs, get<double>("attention.probs"), tol().golden, "attention.probs");
        test::expect_close(dq, get<double>("attention.dq"), tol().golden, "attention.dq");
        test::expect_close(dk, get<double>("attention.dk"), tol().golden, "attention.dk");
        test::expect_close(dv, get<double>("attention.dv"), tol().golden, "attention.dv");
    }

    template <class T>
    void pointwise() {
        for (const std::string op : {"gelu", "relu", "tanh"}) {
            const auto inp = get<T>(op + ".inp"), dout = get<T>(op + ".dout");
            const int64_t n = static_cast<int64_t>(inp.size());
            std::vector<T> out(n), dinp(n);
            const Activation act = op == "gelu"   ? Activation::GELU
                                   : op == "relu" ? Activation::RELU
                                                  : Activation::TANH;
            activation_forward(ctx(), act, out.data(), inp.data(), n);
            // ReLU and tanh take their output: tanh the golden output, rounded to float32, so
            // that both instantiations see the value the float forward would store.
            const auto out32 = get<T>(op + ".out");
            const T* saved_out = op == "relu" ? out.data() : out32.data();
            activation_backward<T>(ctx(), act, dinp.data(), dout.data(),
                                   op == "gelu" ? inp.data() : nullptr,
                                   op == "gelu" ? nullptr : saved_out, n);
            test::expect_close(out, get<double>(op + ".out"), tol().golden, op + ".out");
            test::expect_close(dinp, get<double>(op + ".dinp"), tol().golden, op + ".dinp");
        }
        const auto a = get<T>("add.a"), b = get<T>("add.b");
        std::vector<T> sum(a.size());
        add_forward(ctx(), sum.data(), a.data(), b.data(), static_cast<int64_t>(a.size()));
        test::expect_close(sum, get<double>("add.out"), tol().golden, "add.out");
    }

    template <class T>
    void gather() {
        const auto offsets = get<int32_t>("gather_first_token.offsets");
        const auto hidden = get<T>("gather_first_token.hidden"),
                   dout = get<T>("gather_first_token.dout");
        const int64_t B = static_cast<int64_t>(offsets.size()) - 1,
                      C = dim("gather_first_token.hidden", 1),
                      T_ = dim("gather_first_token.hidden", 0);
        std::vector<T> out(B * C), dhidden(T_ * C);
        gather_first_token(ctx(), out.data(), hidden.data(), offsets.data(), B, C);
        gather_first_token_backward(ctx(), dhidden.data(), dout.data(), offsets.data(), B, C, T_);
        test::expect_close(out, get<double>("gather_first_token.out"), tol().golden, "out");
        test::expect_close(dhidden, get<double>("gather_first_token.dhidden"), tol().golden,
                           "dhidden");
    }

    template <class T>
    void losses() {
        // The losses accumulate in double from the float32 inputs, as the goldens do: the loss
        // matches to double rounding whatever T is.
        const auto logits = get<T>("cross_entropy.logits");
        const auto labels = get<int64_t>("cross_entropy.labels");
        const int64_t B = dim("cross_entropy.logits", 0), K = dim("cross_entropy.logits", 1);
        std::vector<T> d(B * K);
        double ce = 0.0;
        cross_entropy_forward_backward(ctx(), &ce, d.data(), logits.data(), labels.data(), B, K);
        EXPECT_NEAR(ce, scalar("cross_entropy.loss"), 1e-12 * std::abs(ce));
        test::expect_close(d, get<double>("cross_entropy.dlogits"), tol().golden, "ce.dlogits");

        const auto pred = get<T>("mse.pred"), target = get<T>("mse.target");
        std::vector<T> dp(pred.size());
        double mse = 0.0;
        mse_forward_backward(ctx(), &mse, dp.data(), pred.data(), target.data(),
                             static_cast<int64_t>(pred.size()));
        EXPECT_NEAR(mse, scalar("mse.loss"), 1e-12 * std::abs(mse));
        test::expect_close(dp, get<double>("mse.dpred"), tol().golden, "mse.dpred");

        const auto bl = get<T>("bce.logits"), bt = get<T>("bce.target");
        const int64_t BB = dim("bce.logits", 0), BK = dim("bce.logits", 1);
        std::vector<T> db(BB * BK);
        double bce = 0.0;
        bce_with_logits_forward_backward(ctx(), &bce, db.data(), bl.data(), bt.data(), BB, BK);
        EXPECT_NEAR(bce, scalar("bce.loss"), 1e-12 * std::abs(bce));
        test::expect_close(db, get<double>("bce.dlogits"), tol().golden, "bce.dlogits");
    }
};

}  // namespace

TEST_P(OpsGolden, Embedding) {
    if (is_f64())
        embedding<double>();
    else
        embedding<float>();
}
TEST_P(OpsGolden, LayerNorm) {
    if (is_f64())
        layernorm<double>();
    else
        layernorm<float>();
}
TEST_P(OpsGolden, Linear) {
    if (is_f64())
        linear<double>();
    else
        linear<float>();
}
TEST_P(OpsGolden, Attention) {
    if (is_f64())
        attention<double>();
    else
        attention<float>();
}
TEST_P(OpsGolden, Pointwise) {
    if (is_f64())
        pointwise<double>();
    else
        pointwise<float>();
}
TEST_P(OpsGolden, GatherFirstToken) {
    if (is_f64())
        gather<double>();
    else
        gather<float>();
}
TEST_P(OpsGolden, Losses) {
    if (is_f64())
        losses<double>();
    else
        losses<float>();
}

INSTANTIATE_TEST_SUITE_P(Ops, OpsGolden,
                         ::testing::Values(test::OpsTarget{Device::CPU, DType::F32},
                                           test::OpsTarget{Device::CPU, DType::F64},
                                           test::OpsTarget{Device::CUDA, DType::F32}),
                         test::ops_target_name);

}  // namespace ft::ops
