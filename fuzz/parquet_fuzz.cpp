// libFuzzer target for the Parquet reader: any byte string must either decode into columns of
// num_rows entries each or throw ft::Error. Every decoded value is read, so ASan reports a value
// built from bytes outside the input. Limits keep a claimed billion-row file from exhausting
// memory.
#include <cstddef>
#include <cstdint>

#include "data/parquet.h"
#include "finetune/core.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    ft::data::ParquetLimits limits;
    limits.max_rows = 1 << 20;
    limits.max_string_bytes = 64 << 20;
    try {
        const auto table = ft::data::parse_parquet({data, size}, "fuzz input", limits);
        uint64_t sum = static_cast<uint64_t>(table.num_rows);
        for (const auto& c : table.columns) {
            for (int64_t v : c.ints) sum += static_cast<uint64_t>(v);
            for (double v : c.doubles) sum += static_cast<uint64_t>(v == v);
            for (const auto& s : c.strings)
                for (char ch : s) sum += static_cast<uint8_t>(ch);
            for (uint8_t v : c.valid) sum += v;
        }
        for (const auto& [k, v] : table.metadata) sum += k.size() + v.size();
        // Keeps the reads from being optimised away.
        volatile uint64_t sink = sum;
        (void)sink;
    } catch (const ft::Error&) {
        // Rejecting malformed input is the expected outcome for most inputs.
    }
    return 0;
}
