// See crash_point.h.
#include "core/crash_point.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace ft {

namespace {

struct CrashSpec {
    std::string name;
    long count = 0;  // 0: none set
};

CrashSpec read_spec() {
    CrashSpec s;
    const char* v = std::getenv("FT_CRASH_AT");
    if (!v) return s;
    const std::string text = v;
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return s;
    s.name = text.substr(0, colon);
    s.count = std::strtol(text.c_str() + colon + 1, nullptr, 10);
    return s;
}

}  // namespace

void crash_point(std::string_view name) {
    static const CrashSpec spec = read_spec();
    static std::atomic<long> seen{0};
    if (spec.count <= 0 || name != spec.name) return;
    if (seen.fetch_add(1) + 1 == spec.count) _exit(137);
}

}  // namespace ft
