// CPUID and XGETBV, read once. Bits (Intel SDM vol. 2, CPUID; AMD APM vol. 3 agrees):
//   leaf 1 ECX bit 27: OSXSAVE (XGETBV usable)
//   leaf 7.0 EBX bit 16: AVX512F; EDX bit 22: AMX-BF16; EDX bit 24: AMX-TILE; EAX: last subleaf
//   leaf 7.1 EAX bit 5: AVX512_BF16
//   XCR0 bits 1, 2 (SSE, AVX), 5, 6, 7 (opmask, ZMM0-15 upper halves, ZMM16-31): AVX-512 state;
//   bits 17, 18 (XTILECFG, XTILEDATA): AMX state (Linux also wants a per-process permission,
//   which oneDNN requests itself)
#include "ops/cpu_features.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#define FT_HAVE_CPUID 1
#endif

namespace ft::ops {

namespace {

struct Bf16Support {
    bool avx512_bf16 = false;  // the instructions exist and the OS saves the ZMM state
    bool amx_bf16 = false;     // likewise for the tiles
    std::string missing;
};

std::string trim(std::string s) {
    const auto b = s.find_first_not_of(" \t");
    const auto e = s.find_last_not_of(" \t\r\n");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

#ifdef FT_HAVE_CPUID

// The 48-byte brand string of leaves 0x80000002..4, or "" where there is none.
std::string brand_string() {
    unsigned a, b, c, d;
    if (__get_cpuid(0x80000000u, &a, &b, &c, &d) == 0 || a < 0x80000004u) return "";
    char text[49] = {};
    for (unsigned leaf = 0; leaf < 3; ++leaf) {
        unsigned r[4];
        __get_cpuid(0x80000002u + leaf, &r[0], &r[1], &r[2], &r[3]);
        std::memcpy(text + 16 * leaf, r, 16);
    }
    return trim(text);
}

uint64_t xcr0() {
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (static_cast<uint64_t>(hi) << 32) | lo;
}

#endif

// /proc/cpuinfo's "model name" (Linux), else the CPUID brand string, else "unknown".
std::string cpu_model() {
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);)
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos) {
                std::string name = trim(line.substr(colon + 1));
                if (!name.empty()) return name;
            }
        }
#ifdef FT_HAVE_CPUID
    std::string brand = brand_string();
    if (!brand.empty()) return brand;
#endif
    return "unknown";
}

Bf16Support detect() {
    Bf16Support s;
#ifdef FT_HAVE_CPUID
    unsigned a = 0, b = 0, c = 0, d = 0;
    const bool osxsave = __get_cpuid(1, &a, &b, &c, &d) != 0 && (c & (1u << 27)) != 0;
    const uint64_t xcr = osxsave ? xcr0() : 0;
    bool avx512f = false, has_avx512_bf16 = false, has_amx_bf16 = false, has_amx_tile = false;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d) != 0) {
        const unsigned last_subleaf = a;
        avx512f = (b & (1u << 16)) != 0;
        has_amx_bf16 = (d & (1u << 22)) != 0;
        has_amx_tile = (d & (1u << 24)) != 0;
        if (last_subleaf >= 1 && __get_cpuid_count(7, 1, &a, &b, &c, &d) != 0)
            has_avx512_bf16 = avx512f && (a & (1u << 5)) != 0;
    }
    constexpr uint64_t AVX512_STATE = 0xe6;  // bits 1, 2, 5, 6, 7
    constexpr uint64_t AMX_STATE = 3ull << 17;
    const bool os_avx512 = (xcr & AVX512_STATE) == AVX512_STATE;
    const bool os_amx = (xcr & AMX_STATE) == AMX_STATE;
    s.avx512_bf16 = has_avx512_bf16 && os_avx512;
    s.amx_bf16 = has_amx_bf16 && has_amx_tile && os_amx;
    if (s.avx512_bf16 || s.amx_bf16) return s;
    const std::string cpu = "this CPU (" + cpu_model() + ")";
    if (has_avx512_bf16 || has_amx_bf16) {
        char hex[20];
        std::snprintf(hex, sizeof hex, "%llx", static_cast<unsigned long long>(xcr));
        s.missing = cpu + " has " + (has_avx512_bf16 ? "AVX512-BF16" : "AMX-BF16") +
                    " but the operating system has not enabled its registers (XCR0 = 0x" + hex +
                    ")";
    } else {
        s.missing = cpu + " has neither AVX512-BF16 nor AMX-BF16";
    }
#else
    s.missing = "this CPU (" + cpu_model() + ") is not x86-64: no AVX512-BF16 or AMX-BF16";
#endif
    return s;
}

const Bf16Support& support() {
    static const Bf16Support s = detect();
    return s;
}

}  // namespace

bool cpu_has_bf16_gemm() {
    return support().missing.empty();
}

std::string cpu_bf16_missing() {
    return support().missing;
}

}  // namespace ft::ops
