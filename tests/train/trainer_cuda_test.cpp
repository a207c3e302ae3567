// The Trainer on a GPU: a short run (dropout, clipping, evaluation) against the same run on the
// CPU within the (CUDA, F32) row of tolerances.h; two GPU runs are the same bits; the caller's
// weights come back to the host; checkpoints written on either device resume on the GPU. Skips
// with the reason where no GPU can be used.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "core/device_cuda.h"
#include "model/golden_model.h"
#include "tolerances.h"
#include "trainer_fixture.h"

namespace ft {
namespace {

namespace fs = std::filesystem;

const test::Tolerances& GPU = test::tolerance_for(Device::CUDA, DType::F32);

class TrainerCuda : public ::testing::Test {
  protected:
    void SetUp() override {
        const std::string why = cuda::unavailable_reason();
        if (!why.empty()) GTEST_SKIP() << why;
    }
};

// What a run leaves: its logs and the caller's (host) weights.
struct RunResult {
    std::vector<double> losses, grad_norms, eval_losses;
    std::unique_ptr<PretrainedModel> model;
};

// Six steps of the tiny job with dropout and clipping, evaluated every 3 steps; saved every
// save_steps when > 0; on the GPU unless use_cpu.
RunResult train_tiny(bool use_cpu, const fs::path& out, int64_t save_steps = 0,
                     const std::string& resume = "") {
    auto job = test::make_tiny_job(16, 8, /*dropout=*/true);
    TrainingArguments a = test::tiny_args(out);
    a.use_cpu = use_cpu;
    a.max_steps = 6;
    a.max_grad_norm = 0.5;
    a.eval_strategy = IntervalStrategy::STEPS;
    a.eval_steps = 3;
    if (save_steps > 0) {
        a.save_strategy = SaveStrategy::STEPS;
        a.save_steps = static_cast<double>(save_steps);
    }
    Trainer trainer(*job.model, a, &job.train, &job.eval, nullptr);
    trainer.train(resume);
    RunResult r;
    for (const auto& e : trainer.state().log_history) {
        if (e.has("loss")) {
            r.losses.push_back(*e.get("loss"));
            r.grad_norms.push_back(*e.get("grad_norm"));
        }
        if (e.has("eval_loss")) r.eval_losses.push_back(*e.get("eval_loss"));
    }
    r.model = std::move(job.model);
    return r;
}

void expect_close_all(const std::vector<double>& got, const std::vector<double>& want,
                      const char* what) {
    ASSERT_EQ(got.size(), want.size()) << what;
    for (size_t i = 0; i < got.size(); ++i)
        EXPECT_TRUE(test::close(got[i], want[i], GPU.logits_rel)) << what << " " << i;
}

bool same_bits(const ModelWeights& a, const ModelWeights& b) {
    return a.flat_size() == b.flat_size() &&
           std::memcmp(a.flat(), b.flat(), static_cast<size_t>(a.flat_size()) * sizeof(float)) == 0;
}

// Each parameter's sum of squares, sum and max |x| against the CPU run's, as the parity tests
// compare with PyTorch (parity_helpers.h), within param_abs; the key biases, whose gradient is
// rounding noise that Adam normalises, are left out.
void expect_params_close(const ModelWeights& got, const ModelWeights& want) {
    for (size_t i = 0; i < want.specs().size(); ++i) {
        const auto& spec = want.specs()[i];
        if (spec.name.find("k_lin.bias") != std::string::npos) continue;
        const float* x = got.tensors()[i].ptr<float>();
        const float* y = want.tensors()[i].ptr<float>();
        double sx = 0, sy = 0, qx = 0, qy = 0, mx = 0, my = 0;
        const int64_t n = spec.shape.numel();
        for (int64_t j = 0; j < n; ++j) {
            sx += x[j];
            sy += y[j];
            qx += double(x[j]) * x[j];
            qy += double(y[j]) * y[j];
            mx = std::max(mx, std::fabs(double(x[j])));
            my = std::max(my, std::fabs(double(y[j])));
        }
        EXPECT_LE(std::fabs(qx - qy) / std::max(1.0, qy), GPU.param_abs) << spec.name;
        EXPECT_LE(std::fabs(sx - sy) / std::max(1.0, std::sqrt(double(n) * qy)), GPU.param_abs)
            << spec.name;
        EXPECT_LE(std::fabs(mx - my), GPU.param_abs) << spec.name;
    }
}

TEST_F(TrainerCuda, ShortRunMatchesTheCpuAndRepeatsBitForBit) {
    const RunResult cpu = train_tiny(true, test::make_temp_dir("trainer_cuda_cpu"));
    const RunResult gpu = train_tiny(false, test::make_temp_dir("trainer_cuda_gpu"));
    const RunResult again = train_tiny(false, test::make_temp_dir("trainer_cuda_gpu2"));
    ASSERT_EQ(cpu.losses.size(), 6u);
    ASSERT_EQ(cpu.eval_losses.size(), 2u);
    expect_close_all(gpu.losses, cpu.losses, "loss");
    expect_close_all(gpu.grad_norms, cpu.grad_norms, "grad_norm");
    expect_close_all(gpu.eval_losses, cpu.eval_losses, "eval_loss");
    // The trained weights are back in the caller's host weights.
    ASSERT_EQ(gpu.model->weights.device(), Device::CPU);
    expect_params_close(gpu.model->weights, cpu.model->weights);
    // Two GPU runs: the same bits.
    EXPECT_EQ(again.losses, gpu.losses);
    EXPECT_EQ(again.grad_norms, gpu.grad_norms);
    EXPECT_EQ(again.eval_losses, gpu.eval_losses);
    EXPECT_TRUE(same_bits(again.model->weights, gpu.model->weights));
}

TEST_F(TrainerCuda, CheckpointsOfEitherDeviceResumeOnTheGpu) {
    // A GPU run saving at steps 3 and 6, and its resume from step 3: the same run, bit for bit.
    const fs::path gpu_dir = test::make_temp_dir("trainer_cuda_ckpt_gpu");
    const RunResult whole = train_tiny(false, gpu_dir, 3);
    ASSERT_TRUE(fs::exists(gpu_dir / "checkpoint-3" / "optimizer.safetensors"));
    const RunResult resumed = train_tiny(false, test::make_temp_dir("trainer_cuda_resume_gpu"), 0,
                                         (gpu_dir / "checkpoint-3").string());
    EXPECT_EQ(resumed.losses, whole.losses);
    EXPECT_EQ(resumed.grad_norms, whole.grad_norms);
    EXPECT_TRUE(same_bits(resumed.model->weights, whole.model->weights));
    // The GPU's final checkpoint holds the weights the caller got back.
    ModelWeights saved(whole.model->config);
    {
        auto reloaded = load_pretrained(gpu_dir / "checkpoint-6");
        saved.copy_from(reloaded.weights);
    }
    EXPECT_TRUE(same_bits(saved, whole.model->weights));

    // A CPU checkpoint resumed on the GPU: the CPU run's last steps, within the GPU's bounds.
    const fs::path cpu_dir = test::make_temp_dir("trainer_cuda_ckpt_cpu");
    const RunResult cpu = train_tiny(true, cpu_dir, 3);
    const RunResult cross = train_tiny(false, test::make_temp_dir("trainer_cuda_resume_cross"), 0,
                                       (cpu_dir / "checkpoint-3").string());
    expect_close_all(cross.losses, cpu.losses, "loss");
    expect_close_all(cross.grad_norms, cpu.grad_norms, "grad_norm");
    expect_params_close(cross.model->weights, cpu.model->weights);
}

}  // namespace
}  // namespace ft
