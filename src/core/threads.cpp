// Thread-count control over OpenMP, honouring FT_NUM_THREADS, then OMP_NUM_THREADS.
#include <omp.h>

#include <cstdlib>

#include "finetune/core.h"

namespace ft {

namespace {
int initial_threads() {
    for (const char* var : {"FT_NUM_THREADS", "OMP_NUM_THREADS"}) {
        if (const char* v = std::getenv(var)) {
            const int n = std::atoi(v);
            if (n > 0) return n;
        }
    }
    return omp_get_num_procs();
}
int g_threads = 0;
}  // namespace

void set_num_threads(int n) {
    if (n <= 0) throw Error("thread count must be positive, got " + std::to_string(n));
    g_threads = n;
    omp_set_num_threads(n);
}

int get_num_threads() {
    if (g_threads == 0) set_num_threads(initial_threads());
    return g_threads;
}

}  // namespace ft
