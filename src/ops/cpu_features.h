// Run-time checks of what the CPU can do, for the paths whose speed depends on it. One build runs
// everywhere: nothing here is a compile-time flag, and oneDNN picks its own kernels at run time.
#pragma once

#include <string>

namespace ft::ops {

// True when bf16 GEMMs run natively: the CPU has AVX512-BF16 (with the AVX-512 registers enabled
// by the OS) or AMX-BF16 (with the tile registers enabled). Elsewhere oneDNN still computes bf16
// matmuls correctly, but emulated or in reference code, far slower than float32.
bool cpu_has_bf16_gemm();

// "" when cpu_has_bf16_gemm(), else one line saying what is missing, naming the CPU, e.g.
// "this CPU (Intel(R) Core(TM) i7-8700) has neither AVX512-BF16 nor AMX-BF16".
std::string cpu_bf16_missing();

}  // namespace ft::ops
