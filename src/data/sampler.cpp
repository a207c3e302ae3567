// Samplers: sequential, seeded random (Fisher-Yates over Philox, so the same seed gives the same
// order on any machine), and HF's LengthGroupedSampler (get_length_grouped_indices).
#include <algorithm>
#include <numeric>

#include "finetune/data.h"

namespace ft {

std::vector<int64_t> sequential_sampler(int64_t n) {
    std::vector<int64_t> idx(static_cast<size_t>(std::max<int64_t>(n, 0)));
    std::iota(idx.begin(), idx.end(), int64_t{0});
    return idx;
}

std::vector<int64_t> list_lengths(const Dataset& ds, std::string_view column) {
    const Column& c = ds.column(column);
    if (c.type() != ColumnType::INT32_LIST)
        throw Error("column '" + std::string(column) + "' is " + c.feature().repr() +
                    ", not a list");
    const auto& off = c.list_offsets();
    std::vector<int64_t> lengths(off.size() - 1);
    for (size_t i = 0; i + 1 < off.size(); ++i) lengths[i] = off[i + 1] - off[i];
    return lengths;
}

std::vector<int64_t> random_sampler(int64_t n, uint64_t seed) {
    std::vector<int64_t> idx = sequential_sampler(n);
    // Stream 0x5348 ("SH") keeps shuffles apart from dropout draws that use the same seed.
    const Philox rng(seed, 0x5348);
    for (int64_t i = n - 1; i > 0; --i) {
        // Lemire's multiply-shift maps 64 random bits onto [0, i]; the bias is below 2^-40 here.
        const unsigned __int128 m =
            static_cast<unsigned __int128>(rng.next_u64(static_cast<uint64_t>(i))) *
            static_cast<uint64_t>(i + 1);
        const auto j = static_cast<int64_t>(m >> 64);
        std::swap(idx[static_cast<size_t>(i)], idx[static_cast<size_t>(j)]);
    }
    return idx;
}

std::vector<int64_t> group_by_length_from_permutation(std::span<const int64_t> lengths,
                                                      std::vector<int64_t> permutation,
                                                      int64_t batch_size, int64_t mega_batch_mult) {
    const auto n = static_cast<int64_t>(lengths.size());
    if (batch_size <= 0) throw Error("group_by_length: batch_size must be positive");
    if (static_cast<int64_t>(permutation.size()) != n)
        throw Error("group_by_length: the permutation has " + std::to_string(permutation.size()) +
                    " entries for " + std::to_string(n) + " lengths");
    if (n == 0) return {};
    if (mega_batch_mult <= 0)
        mega_batch_mult = std::max<int64_t>(1, std::min<int64_t>(n / (batch_size * 4), 50));
    const int64_t mega = mega_batch_mult * batch_size;
    auto len = [&](int64_t i) { return lengths[static_cast<size_t>(i)]; };
    // Sort each megabatch by length, longest first; stable like Python's sorted().
    std::vector<size_t> starts;
    for (int64_t s = 0; s < n; s += mega) {
        const auto b = permutation.begin() + s, e = permutation.begin() + std::min(n, s + mega);
        std::stable_sort(b, e, [&](int64_t x, int64_t y) { return len(x) > len(y); });
        starts.push_back(static_cast<size_t>(s));
    }
    // The megabatch whose head is longest (first one on ties, like argmax) gives its head to the
    // very front, so the first batch is the most memory-hungry.
    size_t best = 0;
    for (size_t m = 1; m < starts.size(); ++m)
        if (len(permutation[starts[m]]) > len(permutation[starts[best]])) best = m;
    std::swap(permutation[0], permutation[starts[best]]);
    return permutation;
}

std::vector<int64_t> group_by_length_sampler(std::span<const int64_t> lengths, int64_t batch_size,
                                             uint64_t seed, int64_t mega_batch_mult) {
    return group_by_length_from_permutation(
        lengths, random_sampler(static_cast<int64_t>(lengths.size()), seed), batch_size,
        mega_batch_mult);
}

}  // namespace ft
