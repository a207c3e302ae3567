// cuBLASLt's entry points, opened at run time (dlopen) rather than linked: the binary then starts
// on machines without the toolkit's libraries, and only a GPU GEMM asks for the library.
// <cublasLt.h> is included for its types and enums only; nothing here calls a symbol directly.
#pragma once

#include <cublasLt.h>

namespace ft::ops::cuda {

// The functions the GEMMs use, resolved by dlsym with the header's own signatures.
struct CublasLtApi {
    decltype(&cublasLtCreate) create = nullptr;
    decltype(&cublasLtDestroy) destroy = nullptr;
    decltype(&cublasLtMatmul) matmul = nullptr;
    decltype(&cublasLtMatmulDescCreate) matmul_desc_create = nullptr;
    decltype(&cublasLtMatmulDescDestroy) matmul_desc_destroy = nullptr;
    decltype(&cublasLtMatmulDescSetAttribute) matmul_desc_set_attribute = nullptr;
    decltype(&cublasLtMatrixLayoutCreate) matrix_layout_create = nullptr;
    decltype(&cublasLtMatrixLayoutDestroy) matrix_layout_destroy = nullptr;
    decltype(&cublasLtMatmulPreferenceCreate) preference_create = nullptr;
    decltype(&cublasLtMatmulPreferenceDestroy) preference_destroy = nullptr;
    decltype(&cublasLtMatmulPreferenceSetAttribute) preference_set_attribute = nullptr;
    decltype(&cublasLtMatmulAlgoGetHeuristic) algo_get_heuristic = nullptr;
};

// The process's table, loaded on the first call (thread-safe). Throws ft::Error
// "cuBLASLt could not be loaded (libcublasLt.so.13): <reason>" on this and every later call when
// the library or one of its entry points is missing, or the library is of another major version.
const CublasLtApi& cublaslt();

// Throws ft::Error "<call>: <status name>" unless status is CUBLAS_STATUS_SUCCESS.
void check_cublaslt(cublasStatus_t status, const char* call);

}  // namespace ft::ops::cuda
