// Internal-invariant failures: print where and why, then abort (kept on in release builds).
#include <cstdio>
#include <cstdlib>

#include "finetune/core.h"

namespace ft {

void assert_fail(const char* cond, const char* file, int line, const std::string& msg) {
    std::fprintf(stderr, "finetune: internal error at %s:%d: %s (%s)\n", file, line, msg.c_str(),
                 cond);
    std::abort();
}

}  // namespace ft
