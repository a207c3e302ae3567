// The device a Trainer runs on (train.h's choose_device): HF's order of use_cpu, then a GPU when
// one can be used, then the CPU. A build or machine without a GPU always trains on the CPU.
#include "core/device_cuda.h"
#include "finetune/train.h"
#include "ops/cpu_features.h"

namespace ft {

Device choose_device(const TrainingArguments& args) {
    return choose_device(args, cuda::device_count());
}

Device choose_device(const TrainingArguments& args, int gpu_count) {
    // no_cuda counts even before finalize() has folded it into use_cpu.
    if (args.use_cpu || args.no_cuda) return Device::CPU;
    return gpu_count > 0 ? Device::CUDA : Device::CPU;
}

void check_bf16_support(const TrainingArguments& args, Device device, int gpu_count,
                        const std::string& cpu_missing) {
    if (!args.bf16 && !args.bf16_full_eval) return;
    const char* flag = args.bf16 ? "--bf16" : "--bf16_full_eval";
    // HF (transformers 5.x TrainingArguments.__post_init__), word for word.
    if (!args.use_cpu && !args.no_cuda && gpu_count == 0)
        throw Error(
            "Your setup doesn't support bf16/gpu. You need to assign use_cpu if you want to "
            "train the model on CPU.");
    if (device != Device::CPU)
        throw Error(std::string(flag) +
                    ": bf16 on a GPU is not built yet in finetune.cpp; add --use_cpu to run "
                    "bf16 autocast on the CPU");
    if (!cpu_missing.empty())
        throw Error(std::string(flag) + ": " + cpu_missing + ", which bf16 needs; drop " + flag +
                    " to run in float32");
}

void check_bf16_support(const TrainingArguments& args, Device device) {
    if (!args.bf16 && !args.bf16_full_eval) return;
    check_bf16_support(args, device, cuda::device_count(), ops::cpu_bf16_missing());
}

}  // namespace ft
