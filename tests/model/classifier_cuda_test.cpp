// The model on a GPU against the same model on the CPU: ModelWeights' copies between devices are
// exact, and one forward and backward of the golden models (DistilBERT and BERT, class labels,
// token types and regression targets) give the CPU's logits, loss and every parameter gradient
// within the (CUDA, F32) row of tolerances.h. Skips with the reason where no GPU can be used.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/device_cuda.h"
#include "finetune/train.h"
#include "model/golden_model.h"
#include "ops/context.h"
#include "tolerances.h"

namespace ft {

namespace {

const test::Tolerances& GPU = test::tolerance_for(Device::CUDA, DType::F32);

const char* GOLDENS[] = {"distilbert_cls.safetensors", "bert_cls.safetensors",
                         "bert_reg.safetensors", "roberta_cls.safetensors",
                         "xlm_roberta_cls.safetensors"};

class ClassifierCuda : public ::testing::Test {
  protected:
    void SetUp() override {
        const std::string why = cuda::unavailable_reason();
        if (!why.empty()) GTEST_SKIP() << why;
    }
};

bool same_bits(const ModelWeights& a, const ModelWeights& b) {
    return a.flat_size() == b.flat_size() &&
           std::memcmp(a.flat(), b.flat(), static_cast<size_t>(a.flat_size()) * sizeof(float)) == 0;
}

// The largest |gradient| of a host gradient buffer: the scale of the near-zero key biases.
double max_abs(const ModelWeights& g) {
    double m = 0;
    for (int64_t i = 0; i < g.flat_size(); ++i) m = std::max(m, std::fabs(double(g.flat()[i])));
    return m;
}

}  // namespace

TEST_F(ClassifierCuda, WeightsRoundTripThroughTheGpuBitForBit) {
    auto g = test::load_golden_model("bert_cls.safetensors");
    const ModelWeights gpu = g.weights->to(Device::CUDA);
    EXPECT_EQ(gpu.device(), Device::CUDA);
    EXPECT_EQ(gpu.tensors()[0].device, Device::CUDA);
    EXPECT_THROW(gpu.state_dict(), Error);  // device views are not for the host
    const ModelWeights back = gpu.to(Device::CPU);
    EXPECT_EQ(back.device(), Device::CPU);
    EXPECT_TRUE(same_bits(back, *g.weights));

    // GPU to GPU, then zero() on the GPU and a copy into existing host weights.
    ModelWeights gpu2 = gpu.to(Device::CUDA);
    ModelWeights host(g.config);
    host.copy_from(gpu2);
    EXPECT_TRUE(same_bits(host, *g.weights));
    gpu2.zero();
    host.copy_from(gpu2);
    EXPECT_TRUE(std::all_of(host.flat(), host.flat() + host.flat_size(),
                            [](float x) { return x == 0.0f; }));
    // A fresh GPU buffer is zero, as a gradient buffer must start.
    ModelWeights fresh(g.config, Device::CUDA);
    host.copy_from(*g.weights);
    host.copy_from(fresh);
    EXPECT_TRUE(std::all_of(host.flat(), host.flat() + host.flat_size(),
                            [](float x) { return x == 0.0f; }));
}

TEST_F(ClassifierCuda, ForwardAndBackwardEqualTheCpu) {
    for (const char* name : GOLDENS) {
        for (const bool dropout : {false, true}) {
            SCOPED_TRACE(std::string(name) + (dropout ? " with dropout" : " without dropout"));
            auto g = test::load_golden_model(name);
            if (!dropout) test::zero_dropout(g.config);
            SequenceClassifier cpu(g.config, *g.weights);
            const ModelWeights gpu_weights = g.weights->to(Device::CUDA);
            SequenceClassifier gpu(g.config, gpu_weights);
            ASSERT_EQ(gpu.device(), Device::CUDA);
            ASSERT_EQ(cpu.device(), Device::CPU);
            const int64_t n = g.batch.num_sequences() * g.config.num_labels();

            // Eval mode: the logits and the loss.
            const double eval_cpu = cpu.forward(g.batch, false);
            const double eval_gpu = gpu.forward(g.batch, false);
            EXPECT_TRUE(test::close(eval_gpu, eval_cpu, GPU.logits_rel));
            EXPECT_TRUE(test::all_close(gpu.logits(), cpu.logits(), n, GPU.logits_rel,
                                        test::Scale::RELATIVE));

            // Train mode (the same dropout masks on both devices) and every gradient.
            ModelWeights grads_cpu(g.config), grads_gpu(g.config, Device::CUDA);
            const double train_cpu = cpu.forward(g.batch, true, 42, 3);
            cpu.backward(grads_cpu, 0.5f);
            const double train_gpu = gpu.forward(g.batch, true, 42, 3);
            gpu.backward(grads_gpu, 0.5f);
            EXPECT_TRUE(test::close(train_gpu, train_cpu, GPU.logits_rel));
            EXPECT_TRUE(test::all_close(gpu.logits(), cpu.logits(), n, GPU.logits_rel,
                                        test::Scale::RELATIVE));
            cuda::synchronize(gpu.context().stream);
            const ModelWeights got = grads_gpu.to(Device::CPU);
            // As in classifier_test.cpp: the key bias's true gradient is 0 (rounding noise),
            // compared against the scale of all the gradients.
            const double scale = max_abs(grads_cpu);
            for (size_t i = 0; i < got.specs().size(); ++i) {
                const auto& spec = got.specs()[i];
                const bool noise = spec.name.find("k_lin.bias") != std::string::npos ||
                                   spec.name.find("key.bias") != std::string::npos;
                const float* want = grads_cpu.tensors()[i].ptr<float>();
                const float* have = got.tensors()[i].ptr<float>();
                const int64_t m = spec.shape.numel();
                EXPECT_TRUE(noise ? test::all_close(have, want, m, GPU.grad_rel_max * scale,
                                                    test::Scale::ABSOLUTE)
                                  : test::all_close(have, want, m, GPU.grad_rel_max,
                                                    test::Scale::RELATIVE_TO_MAX))
                    << spec.name;
            }
        }
    }
}

TEST_F(ClassifierCuda, TwoGpuRunsAreBitIdentical) {
    auto g = test::load_golden_model("bert_cls.safetensors");
    const ModelWeights w = g.weights->to(Device::CUDA);
    SequenceClassifier model(g.config, w);
    ModelWeights g1(g.config, Device::CUDA), g2(g.config, Device::CUDA);
    const double a = model.forward(g.batch, true, 42, 7);
    model.backward(g1);
    const double b = model.forward(g.batch, true, 42, 7);
    model.backward(g2);
    cuda::synchronize(model.context().stream);
    EXPECT_EQ(a, b);
    EXPECT_TRUE(same_bits(g1.to(Device::CPU), g2.to(Device::CPU)));
}

TEST_F(ClassifierCuda, OneTrainStepEqualsTheCpu) {
    auto g = test::load_golden_model("distilbert_cls.safetensors");
    AdamWSettings s;
    s.weight_decay = 0.01;
    // CPU.
    ModelWeights cpu_w = g.weights->to(Device::CPU);
    SequenceClassifier cpu(g.config, cpu_w);
    ModelWeights cpu_g(g.config);
    AdamW cpu_opt(cpu_w, s);
    // GPU: weights, gradients and moments on the device, the optimizer on the model's context.
    ModelWeights gpu_w = g.weights->to(Device::CUDA);
    SequenceClassifier gpu(g.config, gpu_w);
    ModelWeights gpu_g(g.config, Device::CUDA);
    AdamW gpu_opt(gpu_w, s, gpu.context());
    EXPECT_EQ(gpu_opt.device(), Device::CUDA);
    EXPECT_THROW(AdamW bad(gpu_w, s), Error);  // GPU weights need the model's context
    for (uint64_t step = 0; step < 3; ++step) {
        SCOPED_TRACE("step " + std::to_string(step));
        const StepStats c = train_step(cpu, cpu_w, cpu_g, cpu_opt, g.batch, 1e-3, 0.5, 42, step);
        const StepStats d = train_step(gpu, gpu_w, gpu_g, gpu_opt, g.batch, 1e-3, 0.5, 42, step);
        EXPECT_TRUE(test::close(d.loss, c.loss, GPU.logits_rel));
        EXPECT_TRUE(test::close(d.grad_norm, c.grad_norm, GPU.logits_rel));
    }
    cuda::synchronize(gpu.context().stream);
    const ModelWeights after = gpu_w.to(Device::CPU);
    EXPECT_TRUE(test::all_close(after.flat(), cpu_w.flat(), cpu_w.flat_size(), GPU.param_abs,
                                test::Scale::ABSOLUTE));
    // The gradients are left zero on the GPU too.
    const ModelWeights grads_after = gpu_g.to(Device::CPU);
    EXPECT_TRUE(std::all_of(grads_after.flat(), grads_after.flat() + grads_after.flat_size(),
                            [](float x) { return x == 0.0f; }));
}

}  // namespace ft
