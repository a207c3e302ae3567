// The device a Trainer runs on (train.h's choose_device): HF's order of use_cpu, then a GPU when
// one can be used, then the CPU. A build or machine without a GPU always trains on the CPU.
#include "core/device_cuda.h"
#include "finetune/train.h"

namespace ft {

Device choose_device(const TrainingArguments& args) {
    return choose_device(args, cuda::device_count());
}

Device choose_device(const TrainingArguments& args, int gpu_count) {
    // no_cuda counts even before finalize() has folded it into use_cpu.
    if (args.use_cpu || args.no_cuda) return Device::CPU;
    return gpu_count > 0 ? Device::CUDA : Device::CPU;
}

}  // namespace ft
