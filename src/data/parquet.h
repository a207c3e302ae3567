// Parquet reader (internal to the data layer): decodes a whole flat Parquet file into typed
// columns. The Hub stores datasets as Parquet, and Debian has no Parquet library, so we decode
// the format ourselves: Thrift footer, column chunks, pages, encodings and codecs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace ft::data {

enum class ParquetType { Boolean, Int32, Int64, Float, Double, ByteArray };

// One column. A flat column has num_rows entries in the vector of its type (a null slot holds
// 0 or ""). A list column (LIST of a primitive, e.g. HF's Sequence(Value("int32"))) keeps all rows'
// elements back to back in that vector: row r is [offsets[r], offsets[r + 1]), and `valid` marks
// null lists. Null elements inside a list are not supported (an ft::Error).
struct ParquetColumn {
    std::string name;
    ParquetType physical = ParquetType::Int32;  // of the values (list elements for a list)
    bool is_string = false;                     // BYTE_ARRAY annotated STRING/UTF8 (or ENUM/JSON)
    bool is_list = false;
    std::vector<int64_t> ints;         // Boolean (0/1), Int32, Int64
    std::vector<double> doubles;       // Float, Double
    std::vector<std::string> strings;  // ByteArray
    std::vector<uint8_t> valid;        // per row, 1 = present; empty when the column has no nulls
    std::vector<int64_t> offsets;      // list columns only: num_rows + 1 entries
};

struct ParquetTable {
    int64_t num_rows = 0;
    std::vector<ParquetColumn> columns;                         // in schema order
    std::vector<std::pair<std::string, std::string>> metadata;  // key_value_metadata
};

// Caps on what one file may make us allocate. A few bytes of RLE can claim billions of rows (or
// repeat a long dictionary string), so a hostile file is refused before it exhausts memory.
struct ParquetLimits {
    int64_t max_rows = int64_t{1} << 31;  // also the most list elements in one column chunk
    uint64_t max_string_bytes = uint64_t{1} << 36;  // sum over all decoded string values
};

// Reads a file through a memory mapping. Every violation of the format, and every feature we do
// not support (named: encoding, codec, type, nested column other than a list of a primitive), is an
// ft::Error naming the file and where in it (column, row group, page, byte offset).
ParquetTable read_parquet(const std::filesystem::path& path);
ParquetTable parse_parquet(std::span<const uint8_t> bytes, const std::string& name_for_errors,
                           const ParquetLimits& limits = {});

std::string_view parquet_type_name(ParquetType t);  // "INT32", "BYTE_ARRAY", ...

}  // namespace ft::data
