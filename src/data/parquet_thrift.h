// The Parquet footer and page headers, decoded from the Thrift compact protocol: only the fields
// the reader uses are kept, every other field is skipped by its wire type. Names and numbers
// follow parquet.thrift (apache/parquet-format).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace ft::data::parquet {

// Enum values as parquet.thrift numbers them.
enum PhysicalType : int32_t {
    BOOLEAN = 0,
    INT32 = 1,
    INT64 = 2,
    INT96 = 3,
    FLOAT = 4,
    DOUBLE = 5,
    BYTE_ARRAY = 6,
    FIXED_LEN_BYTE_ARRAY = 7
};
enum Repetition : int32_t { REQUIRED = 0, OPTIONAL = 1, REPEATED = 2 };
enum Encoding : int32_t {
    PLAIN = 0,
    PLAIN_DICTIONARY = 2,
    RLE = 3,
    BIT_PACKED = 4,
    DELTA_BINARY_PACKED = 5,
    DELTA_LENGTH_BYTE_ARRAY = 6,
    DELTA_BYTE_ARRAY = 7,
    RLE_DICTIONARY = 8,
    BYTE_STREAM_SPLIT = 9
};
enum Codec : int32_t {
    UNCOMPRESSED = 0,
    SNAPPY = 1,
    GZIP = 2,
    LZO = 3,
    BROTLI = 4,
    LZ4 = 5,
    ZSTD = 6,
    LZ4_RAW = 7
};
enum PageType : int32_t { DATA_PAGE = 0, INDEX_PAGE = 1, DICTIONARY_PAGE = 2, DATA_PAGE_V2 = 3 };
// ConvertedType numbers used by the reader (the rest are named only in messages).
enum ConvertedType : int32_t {
    UTF8 = 0,
    ENUM = 4,
    UINT_8 = 11,
    UINT_16 = 12,
    UINT_32 = 13,
    UINT_64 = 14,
    INT_8 = 15,
    INT_16 = 16,
    INT_32 = 17,
    INT_64 = 18,
    JSON = 19
};
// LogicalType is a union; the field id of its set member says which one it is.
enum LogicalKind : int16_t {
    LOGICAL_STRING = 1,
    LOGICAL_ENUM = 4,
    LOGICAL_INTEGER = 10,
    LOGICAL_UNKNOWN = 11,
    LOGICAL_JSON = 12
};

struct LogicalType {
    int16_t kind = 0;  // the union member's field id
    int8_t int_bit_width = 0;
    bool int_signed = true;
};

struct SchemaElement {
    std::optional<int32_t> type;
    std::optional<int32_t> repetition;
    std::string name;
    int32_t num_children = 0;
    std::optional<int32_t> converted_type;
    std::optional<LogicalType> logical_type;
};

struct ColumnMetaData {
    int32_t type = 0;
    std::vector<int32_t> encodings;
    std::vector<std::string> path_in_schema;
    int32_t codec = 0;
    int64_t num_values = 0;
    int64_t total_compressed_size = 0;
    int64_t data_page_offset = 0;
    std::optional<int64_t> dictionary_page_offset;
};

struct ColumnChunk {
    std::optional<std::string> file_path;  // set when the data lives in another file
    std::optional<ColumnMetaData> meta_data;
};

struct RowGroup {
    std::vector<ColumnChunk> columns;
    int64_t num_rows = 0;
};

struct FileMetaData {
    std::vector<SchemaElement> schema;
    int64_t num_rows = 0;
    std::vector<RowGroup> row_groups;
    std::vector<std::pair<std::string, std::string>> key_value_metadata;
};

struct DataPageHeader {
    int32_t num_values = 0;
    int32_t encoding = 0;
    int32_t definition_level_encoding = 0;
    int32_t repetition_level_encoding = 0;
};

struct DictionaryPageHeader {
    int32_t num_values = 0;
    int32_t encoding = 0;
};

struct DataPageHeaderV2 {
    int32_t num_values = 0;
    int32_t num_nulls = 0;
    int32_t num_rows = 0;
    int32_t encoding = 0;
    int32_t definition_levels_byte_length = 0;
    int32_t repetition_levels_byte_length = 0;
    bool is_compressed = true;
};

struct PageHeader {
    int32_t type = 0;
    int32_t uncompressed_page_size = 0;
    int32_t compressed_page_size = 0;
    std::optional<DataPageHeader> data_page;
    std::optional<DictionaryPageHeader> dictionary_page;
    std::optional<DataPageHeaderV2> data_page_v2;
};

// Both throw ft::Error("<where>: ...") naming the byte offset (within `bytes`, plus `base_offset`
// so messages give file offsets) of a malformed or truncated structure or a missing required field.
FileMetaData decode_file_metadata(std::span<const uint8_t> bytes, const std::string& where,
                                  uint64_t base_offset);
// Decodes the header at the start of `bytes`; *header_size receives its encoded length.
PageHeader decode_page_header(std::span<const uint8_t> bytes, const std::string& where,
                              uint64_t base_offset, size_t* header_size);

// Names for messages: "SNAPPY", "DELTA_BINARY_PACKED", "INT96", "DECIMAL" (or "<n>" if unknown).
std::string codec_name(int32_t codec);
std::string encoding_name(int32_t encoding);
std::string physical_type_name(int32_t type);
std::string converted_type_name(int32_t converted);
std::string logical_type_name(int16_t kind);

}  // namespace ft::data::parquet
