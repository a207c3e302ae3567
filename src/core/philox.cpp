// Philox-4x32-10: ten rounds of multiply-xor on a 128-bit counter with a 64-bit key.
// Constants from Salmon et al. (SC'11); the same generator torch uses for CUDA dropout.
#include <cmath>

#include "finetune/core.h"

namespace ft {

namespace {
constexpr uint32_t PHILOX_M0 = 0xD2511F53u;
constexpr uint32_t PHILOX_M1 = 0xCD9E8D57u;
constexpr uint32_t PHILOX_W0 = 0x9E3779B9u;
constexpr uint32_t PHILOX_W1 = 0xBB67AE85u;
}  // namespace

std::array<uint32_t, 4> philox4x32_10(std::array<uint32_t, 4> c, std::array<uint32_t, 2> k) {
    for (int round = 0; round < 10; ++round) {
        const uint64_t p0 = static_cast<uint64_t>(PHILOX_M0) * c[0];
        const uint64_t p1 = static_cast<uint64_t>(PHILOX_M1) * c[2];
        const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
        const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
        c = {hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0};
        k[0] += PHILOX_W0;
        k[1] += PHILOX_W1;
    }
    return c;
}

std::array<uint32_t, 4> Philox::block(uint64_t index) const {
    return philox4x32_10({static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32),
                          static_cast<uint32_t>(stream_), static_cast<uint32_t>(stream_ >> 32)},
                         {static_cast<uint32_t>(seed_), static_cast<uint32_t>(seed_ >> 32)});
}

float Philox::uniform(uint64_t i) const {
    const uint32_t w = block(i / 4)[i % 4];
    return static_cast<float>(w >> 8) * (1.0f / 16777216.0f);
}

uint64_t Philox::next_u64(uint64_t i) const {
    const auto b = block(i / 2);
    const int j = static_cast<int>(i % 2) * 2;
    return static_cast<uint64_t>(b[j]) << 32 | b[j + 1];
}

double Philox::normal(uint64_t i) const {
    const auto b = block(i);
    const uint64_t a = static_cast<uint64_t>(b[0]) << 32 | b[1];
    const uint64_t c = static_cast<uint64_t>(b[2]) << 32 | b[3];
    // u1 in (0, 1], u2 in [0, 1) with 53 bits each.
    const double u1 = (static_cast<double>(a >> 11) + 1.0) * (1.0 / 9007199254740992.0);
    const double u2 = static_cast<double>(c >> 11) * (1.0 / 9007199254740992.0);
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
}

}  // namespace ft
