// The Trainer's device, as HF picks it: use_cpu (or the deprecated no_cuda) keeps it on the CPU,
// otherwise a GPU when one can be used; a machine or build without one trains on the CPU, the
// same bits as asking for the CPU.
#include <gtest/gtest.h>

#include <cstring>

#include "core/device_cuda.h"
#include "trainer_fixture.h"

namespace ft {
namespace {

TEST(DeviceChoice, UseCpuElseAGpuWhenThereIsOne) {
    TrainingArguments a;
    EXPECT_EQ(choose_device(a, 0), Device::CPU);
    EXPECT_EQ(choose_device(a, 1), Device::CUDA);
    EXPECT_EQ(choose_device(a, 8), Device::CUDA);
    a.use_cpu = true;
    EXPECT_EQ(choose_device(a, 1), Device::CPU);
    TrainingArguments deprecated;
    deprecated.no_cuda = true;
    EXPECT_EQ(choose_device(deprecated, 1), Device::CPU);  // before finalize() too
    deprecated.finalize();
    EXPECT_TRUE(deprecated.use_cpu);
    EXPECT_EQ(choose_device(deprecated, 1), Device::CPU);
}

TEST(DeviceChoice, WithoutAGpuTheTrainerTrainsOnTheCpu) {
    if (cuda::device_count() > 0) GTEST_SKIP() << "a GPU can be used here";
    EXPECT_EQ(choose_device(TrainingArguments{}), Device::CPU);
    // use_cpu = false falls back to the CPU: the run is the use_cpu run, bit for bit.
    auto run = [](bool use_cpu) {
        auto job = test::make_tiny_job(8, 4, /*dropout=*/true);
        TrainingArguments a = test::tiny_args(test::make_temp_dir("device_choice"));
        a.use_cpu = use_cpu;
        a.max_steps = 2;
        Trainer trainer(*job.model, a, &job.train, nullptr, nullptr);
        trainer.train();
        std::vector<double> losses;
        for (const auto& e : trainer.state().log_history)
            if (e.has("loss")) losses.push_back(*e.get("loss"));
        return std::pair{losses, std::move(job.model)};
    };
    const auto [cpu_losses, cpu_model] = run(true);
    const auto [auto_losses, auto_model] = run(false);
    ASSERT_EQ(cpu_losses.size(), 2u);
    EXPECT_EQ(auto_losses, cpu_losses);
    EXPECT_EQ(auto_model->weights.device(), Device::CPU);
    EXPECT_EQ(0, std::memcmp(auto_model->weights.flat(), cpu_model->weights.flat(),
                             static_cast<size_t>(cpu_model->weights.flat_size()) * sizeof(float)));
}

}  // namespace
}  // namespace ft
