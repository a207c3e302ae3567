// Opens cuBLASLt at run time and resolves the entry points the GEMMs use (cublaslt_api.cuh). The
// library stays loaded for the life of the process: handles created from it may outlive any
// one caller.
#include <dlfcn.h>

#include <string>

#include "finetune/core.h"
#include "ops/cuda/cublaslt_api.cuh"

namespace ft::ops::cuda {

namespace {

// The soname of the major version the headers describe (libcublasLt.so.13 for CUDA 13); then
// the unversioned development link, and the toolkit's default folder for machines whose loader
// path does not list it.
#define FT_CUBLASLT_STRING(x) #x
#define FT_CUBLASLT_VERSION_STRING(x) FT_CUBLASLT_STRING(x)
constexpr const char* LIBRARY = "libcublasLt.so." FT_CUBLASLT_VERSION_STRING(CUBLAS_VER_MAJOR);
constexpr const char* FALLBACKS[] = {
    "libcublasLt.so",
    "/usr/local/cuda/lib64/libcublasLt.so." FT_CUBLASLT_VERSION_STRING(CUBLAS_VER_MAJOR)};

struct Loaded {
    CublasLtApi api;
    std::string error;  // empty when api is complete
};

std::string last_dl_error() {
    const char* e = dlerror();
    return e ? e : "unknown error";
}

// Resolves `name` into fn; false (and the reason in error) when the library lacks it.
template <class Fn>
bool resolve(void* library, const char* name, Fn& fn, std::string& error) {
    dlerror();  // clears a stale message
    void* address = dlsym(library, name);
    if (!address) {
        error = std::string("no symbol ") + name + ": " + last_dl_error();
        return false;
    }
    fn = reinterpret_cast<Fn>(address);
    return true;
}

// The versioned soname first; a fallback must report the same major version, since the
// attribute enums and struct sizes of the header are only promised within one.
void* open_library(std::string& error) {
    void* library = dlopen(LIBRARY, RTLD_NOW | RTLD_LOCAL);
    if (library) return library;
    error = last_dl_error();
    for (const char* name : FALLBACKS) {
        library = dlopen(name, RTLD_NOW | RTLD_LOCAL);
        if (!library) continue;
        decltype(&cublasLtGetVersion) get_version = nullptr;
        std::string ignored;
        if (resolve(library, "cublasLtGetVersion", get_version, ignored) &&
            get_version() / 10000 == CUBLAS_VER_MAJOR)
            return library;
        dlclose(library);
    }
    return nullptr;
}

Loaded load() {
    Loaded loaded;
    std::string error;
    void* library = open_library(error);
    CublasLtApi& api = loaded.api;
    const bool complete =
        library && resolve(library, "cublasLtCreate", api.create, error) &&
        resolve(library, "cublasLtDestroy", api.destroy, error) &&
        resolve(library, "cublasLtMatmul", api.matmul, error) &&
        resolve(library, "cublasLtMatmulDescCreate", api.matmul_desc_create, error) &&
        resolve(library, "cublasLtMatmulDescDestroy", api.matmul_desc_destroy, error) &&
        resolve(library, "cublasLtMatmulDescSetAttribute", api.matmul_desc_set_attribute, error) &&
        resolve(library, "cublasLtMatrixLayoutCreate", api.matrix_layout_create, error) &&
        resolve(library, "cublasLtMatrixLayoutDestroy", api.matrix_layout_destroy, error) &&
        resolve(library, "cublasLtMatmulPreferenceCreate", api.preference_create, error) &&
        resolve(library, "cublasLtMatmulPreferenceDestroy", api.preference_destroy, error) &&
        resolve(library, "cublasLtMatmulPreferenceSetAttribute", api.preference_set_attribute,
                error) &&
        resolve(library, "cublasLtMatmulAlgoGetHeuristic", api.algo_get_heuristic, error);
    if (!complete)
        loaded.error = std::string("cuBLASLt could not be loaded (") + LIBRARY + "): " + error;
    return loaded;
}

const char* status_name(cublasStatus_t status) {
    switch (status) {
        case CUBLAS_STATUS_SUCCESS:
            return "CUBLAS_STATUS_SUCCESS";
        case CUBLAS_STATUS_NOT_INITIALIZED:
            return "CUBLAS_STATUS_NOT_INITIALIZED";
        case CUBLAS_STATUS_ALLOC_FAILED:
            return "CUBLAS_STATUS_ALLOC_FAILED";
        case CUBLAS_STATUS_INVALID_VALUE:
            return "CUBLAS_STATUS_INVALID_VALUE";
        case CUBLAS_STATUS_ARCH_MISMATCH:
            return "CUBLAS_STATUS_ARCH_MISMATCH";
        case CUBLAS_STATUS_MAPPING_ERROR:
            return "CUBLAS_STATUS_MAPPING_ERROR";
        case CUBLAS_STATUS_EXECUTION_FAILED:
            return "CUBLAS_STATUS_EXECUTION_FAILED";
        case CUBLAS_STATUS_INTERNAL_ERROR:
            return "CUBLAS_STATUS_INTERNAL_ERROR";
        case CUBLAS_STATUS_NOT_SUPPORTED:
            return "CUBLAS_STATUS_NOT_SUPPORTED";
        case CUBLAS_STATUS_LICENSE_ERROR:
            return "CUBLAS_STATUS_LICENSE_ERROR";
    }
    return "an unknown cuBLAS status";
}

}  // namespace

const CublasLtApi& cublaslt() {
    static const Loaded loaded = load();
    if (!loaded.error.empty()) throw Error(loaded.error);
    return loaded.api;
}

void check_cublaslt(cublasStatus_t status, const char* call) {
    if (status != CUBLAS_STATUS_SUCCESS)
        throw Error(std::string(call) + ": " + status_name(status) + " (" +
                    std::to_string(static_cast<int>(status)) + ")");
}

}  // namespace ft::ops::cuda
