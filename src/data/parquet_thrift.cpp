// Thrift compact protocol decoding of the Parquet footer (FileMetaData) and page headers. The
// bytes are untrusted: every read is bounds-checked, list sizes are bounded by the bytes left and
// nesting depth is capped, so a hostile footer costs neither memory nor stack.
#include "data/parquet_thrift.h"

#include <array>
#include <cstring>
#include <limits>

#include "finetune/core.h"

namespace ft::data::parquet {
namespace {

// Compact protocol wire types (the low nibble of a field header).
enum WireType : uint8_t {
    T_STOP = 0,
    T_BOOL_TRUE = 1,
    T_BOOL_FALSE = 2,
    T_BYTE = 3,
    T_I16 = 4,
    T_I32 = 5,
    T_I64 = 6,
    T_DOUBLE = 7,
    T_BINARY = 8,
    T_LIST = 9,
    T_SET = 10,
    T_MAP = 11,
    T_STRUCT = 12
};

// Parquet's own structs nest about 5 deep; anything far deeper is an attack on the stack.
constexpr int MAX_DEPTH = 64;

class CompactReader {
  public:
    CompactReader(std::span<const uint8_t> bytes, const std::string& where, uint64_t base)
        : bytes_(bytes), where_(where), base_(base) {}

    size_t pos() const { return pos_; }
    size_t remaining() const { return bytes_.size() - pos_; }

    [[noreturn]] void fail(const std::string& msg) const {
        throw Error(where_ + ": corrupt Thrift at byte " + std::to_string(base_ + pos_) + ": " +
                    msg);
    }

    uint8_t byte() {
        if (pos_ >= bytes_.size()) fail("unexpected end of data");
        return bytes_[pos_++];
    }

    uint64_t varint() {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            const uint8_t b = byte();
            v |= static_cast<uint64_t>(b & 0x7f) << shift;
            if (!(b & 0x80)) return v;
        }
        fail("varint longer than 10 bytes");
    }

    int64_t zigzag() {
        const uint64_t v = varint();
        return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
    }

    int32_t zigzag32() {
        const int64_t v = zigzag();
        if (v < std::numeric_limits<int32_t>::min() || v > std::numeric_limits<int32_t>::max())
            fail("i32 value " + std::to_string(v) + " out of range");
        return static_cast<int32_t>(v);
    }

    std::string binary() {
        const uint64_t n = varint();
        if (n > remaining()) fail("string of " + std::to_string(n) + " bytes runs past the end");
        std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
        pos_ += n;
        return s;
    }

    void skip_bytes(uint64_t n) {
        if (n > remaining()) fail("field of " + std::to_string(n) + " bytes runs past the end");
        pos_ += n;
    }

    // A list or set header: element wire type and count (bounded by the bytes left, since each
    // element takes at least one byte, except booleans... which also take one byte in lists).
    std::pair<uint8_t, uint64_t> list_header() {
        const uint8_t h = byte();
        uint64_t n = h >> 4;
        if (n == 15) n = varint();
        if (n > remaining()) fail("list of " + std::to_string(n) + " elements runs past the end");
        return {static_cast<uint8_t>(h & 0x0f), n};
    }

    void enter() {
        if (++depth_ > MAX_DEPTH)
            fail("structures nested deeper than " + std::to_string(MAX_DEPTH));
    }
    void leave() { --depth_; }

    void skip(uint8_t type) {
        switch (type) {
            case T_BOOL_TRUE:
            case T_BOOL_FALSE:
                return;  // the value is in the field header
            case T_BYTE:
                byte();
                return;
            case T_I16:
            case T_I32:
            case T_I64:
                varint();
                return;
            case T_DOUBLE:
                skip_bytes(8);
                return;
            case T_BINARY:
                skip_bytes(varint());
                return;
            case T_LIST:
            case T_SET: {
                const auto [elem, n] = list_header();
                enter();
                for (uint64_t i = 0; i < n; ++i) skip_element(elem);
                leave();
                return;
            }
            case T_MAP: {
                const uint64_t n = varint();
                if (n == 0) return;
                if (n > remaining())
                    fail("map of " + std::to_string(n) + " entries runs past the end");
                const uint8_t kv = byte();
                enter();
                for (uint64_t i = 0; i < n; ++i) {
                    skip_element(kv >> 4);
                    skip_element(kv & 0x0f);
                }
                leave();
                return;
            }
            case T_STRUCT:
                read_struct([](int16_t, uint8_t) { return false; });
                return;
            default:
                fail("unknown wire type " + std::to_string(type));
        }
    }

    // Calls on_field(id, wire type) for each field; it returns false to have the field skipped.
    template <class OnField>
    void read_struct(OnField&& on_field) {
        enter();
        int16_t last = 0;
        for (;;) {
            const uint8_t h = byte();
            const uint8_t type = h & 0x0f;
            if (type == T_STOP) break;
            int16_t id;
            if (h >> 4) {
                id = static_cast<int16_t>(last + (h >> 4));
            } else {
                const int64_t v = zigzag();
                if (v < std::numeric_limits<int16_t>::min() ||
                    v > std::numeric_limits<int16_t>::max())
                    fail("field id " + std::to_string(v) + " out of range");
                id = static_cast<int16_t>(v);
            }
            last = id;
            if (!on_field(id, type)) skip(type);
        }
        leave();
    }

    // Typed field reads: the wire type must match what parquet.thrift declares.
    void expect(uint8_t type, uint8_t want, const char* field) {
        if (type != want)
            fail(std::string("field '") + field + "' has wire type " + std::to_string(type) +
                 ", expected " + std::to_string(want));
    }
    int32_t i32(uint8_t type, const char* field) {
        expect(type, T_I32, field);
        return zigzag32();
    }
    int64_t i64(uint8_t type, const char* field) {
        expect(type, T_I64, field);
        return zigzag();
    }
    std::string str(uint8_t type, const char* field) {
        expect(type, T_BINARY, field);
        return binary();
    }
    bool boolean(uint8_t type, const char* field) {
        if (type != T_BOOL_TRUE && type != T_BOOL_FALSE)
            fail(std::string("field '") + field + "' is not a boolean");
        return type == T_BOOL_TRUE;
    }
    // Reads a list<elem> field, calling read_elem() once per element.
    template <class ReadElem>
    void list(uint8_t type, uint8_t want_elem, const char* field, ReadElem&& read_elem) {
        expect(type, T_LIST, field);
        const auto [elem, n] = list_header();
        if (n > 0 && elem != want_elem)
            fail(std::string("list '") + field + "' has element type " + std::to_string(elem));
        enter();
        for (uint64_t i = 0; i < n; ++i) read_elem();
        leave();
    }

  private:
    void skip_element(uint8_t type) {
        // Booleans inside containers take one byte each, unlike fields.
        if (type == T_BOOL_TRUE || type == T_BOOL_FALSE) {
            byte();
            return;
        }
        skip(type);
    }

    std::span<const uint8_t> bytes_;
    const std::string& where_;
    uint64_t base_;
    size_t pos_ = 0;
    int depth_ = 0;
};

// Tracks which required fields a struct had; a missing one is corrupt Thrift.
class Required {
  public:
    void saw(int16_t id) {
        if (id >= 0 && id < 64) mask_ |= uint64_t{1} << id;
    }
    void check(CompactReader& r, const char* strct,
               std::initializer_list<std::pair<int16_t, const char*>> fields) const {
        for (const auto& [id, name] : fields)
            if (!(mask_ >> id & 1))
                r.fail(std::string(strct) + " lacks required field '" + name + "'");
    }

  private:
    uint64_t mask_ = 0;
};

LogicalType read_logical_type(CompactReader& r) {
    LogicalType lt;
    r.read_struct([&](int16_t id, uint8_t type) {
        if (type != T_STRUCT) return false;
        lt.kind = id;
        if (id != LOGICAL_INTEGER) return false;  // the other members' contents are not needed
        r.read_struct([&](int16_t f, uint8_t t) {
            if (f == 1) {
                r.expect(t, T_BYTE, "IntType.bitWidth");
                lt.int_bit_width = static_cast<int8_t>(r.byte());
            } else if (f == 2) {
                lt.int_signed = r.boolean(t, "IntType.isSigned");
            } else {
                return false;
            }
            return true;
        });
        return true;
    });
    return lt;
}

SchemaElement read_schema_element(CompactReader& r) {
    SchemaElement e;
    Required req;
    r.read_struct([&](int16_t id, uint8_t type) {
        req.saw(id);
        switch (id) {
            case 1:
                e.type = r.i32(type, "SchemaElement.type");
                return true;
            case 3:
                e.repetition = r.i32(type, "SchemaElement.repetition_type");
                return true;
            case 4:
                e.name = r.str(type, "SchemaElement.name");
                return true;
            case 5:
                e.num_children = r.i32(type, "SchemaElement.num_children");
                return true;
            case 6:
                e.converted_type = r.i32(type, "SchemaElement.converted_type");
                return true;
            case 10:
                r.expect(type, T_STRUCT, "SchemaElement.logicalType");
                e.logical_type = read_logical_type(r);
                return true;
            default:
                return false;
        }
    });
    req.check(r, "SchemaElement", {{4, "name"}});
    return e;
}

ColumnMetaData read_column_metadata(CompactReader& r) {
    ColumnMetaData m;
    Required req;
    r.read_struct([&](int16_t id, uint8_t type) {
        req.saw(id);
        switch (id) {
            case 1:
                m.type = r.i32(type, "ColumnMetaData.type");
                return true;
            case 2:
                r.list(type, T_I32, "ColumnMetaData.encodings",
                       [&] { m.encodings.push_back(r.zigzag32()); });
                return true;
            case 3:
                r.list(type, T_BINARY, "ColumnMetaData.path_in_schema",
                       [&] { m.path_in_schema.push_back(r.binary()); });
                return true;
            case 4:
                m.codec = r.i32(type, "ColumnMetaData.codec");
                return true;
            case 5:
                m.num_values = r.i64(type, "ColumnMetaData.num_values");
                return true;
            case 7:
                m.total_compressed_size = r.i64(type, "ColumnMetaData.total_compressed_size");
                return true;
            case 9:
                m.data_page_offset = r.i64(type, "ColumnMetaData.data_page_offset");
                return true;
            case 11:
                m.dictionary_page_offset = r.i64(type, "ColumnMetaData.dictionary_page_offset");
                return true;
            default:
                return false;
        }
    });
    req.check(r, "ColumnMetaData",
              {{1, "type"},
               {3, "path_in_schema"},
               {4, "codec"},
               {5, "num_values"},
               {7, "total_compressed_size"},
               {9, "data_page_offset"}});
    return m;
}

ColumnChunk read_column_chunk(CompactReader& r) {
    ColumnChunk c;
    r.read_struct([&](int16_t id, uint8_t type) {
        switch (id) {
            case 1:
                c.file_path = r.str(type, "ColumnChunk.file_path");
                return true;
            case 3:
                r.expect(type, T_STRUCT, "ColumnChunk.meta_data");
                c.meta_data = read_column_metadata(r);
                return true;
            default:
                return false;
        }
    });
    return c;
}

RowGroup read_row_group(CompactReader& r) {
    RowGroup g;
    Required req;
    r.read_struct([&](int16_t id, uint8_t type) {
        req.saw(id);
        switch (id) {
            case 1:
                r.list(type, T_STRUCT, "RowGroup.columns",
                       [&] { g.columns.push_back(read_column_chunk(r)); });
                return true;
            case 3:
                g.num_rows = r.i64(type, "RowGroup.num_rows");
                return true;
            default:
                return false;
        }
    });
    req.check(r, "RowGroup", {{1, "columns"}, {3, "num_rows"}});
    return g;
}

std::pair<std::string, std::string> read_key_value(CompactReader& r) {
    std::pair<std::string, std::string> kv;
    Required req;
    r.read_struct([&](int16_t id, uint8_t type) {
        req.saw(id);
        switch (id) {
            case 1:
                kv.first = r.str(type, "KeyValue.key");
                return true;
            case 2:
                kv.second = r.str(type, "KeyValue.value");
                return true;
            default:
                return false;
        }
    });
    req.check(r, "KeyValue", {{1, "key"}});
    return kv;
}

DataPageHeader read_data_page_header(CompactReader& r) {
    DataPageHeader h;
    Required req;
    r.read_struct([&](int16_t id, uint8_t type) {
        req.saw(id);
        switch (id) {
            case 1:
                h.num_values = r.i32(type, "DataPageHeader.num_values");
                return true;
            case 2:
                h.encoding = r.i32(type, "DataPageHeader.encoding");
                return true;
            case 3:
                h.definition_level_encoding =
                    r.i32(type, "DataPageHeader.definition_level_encoding");
                return true;
            case 4:
                h.repetition_level_encoding =
                    r.i32(type, "DataPageHeader.repetition_level_encoding");
                return true;
            default:
                return false;
        }
    });
    req.check(r, "DataPageHeader",
              {{1, "num_values"},
               {2, "encoding"},
               {3, "definition_level_encoding"},
               {4, "repetition_level_encoding"}});
    return h;
}

DictionaryPageHeader read_dictionary_page_header(CompactReader& r) {
    DictionaryPageHeader h;
    Required req;
    r.read_struct([&](int16_t id, uint8_t type) {
        req.saw(id);
        switch (id) {
            case 1:
                h.num_values = r.i32(type, "DictionaryPageHeader.num_values");
                return true;
            case 2:
                h.encoding = r.i32(type, "DictionaryPageHeader.encoding");
                return true;
            default:
                return false;
        }
    });
    req.check(r, "DictionaryPageHeader", {{1, "num_values"}, {2, "encoding"}});
    return h;
}

DataPageHeaderV2 read_data_page_header_v2(CompactReader& r) {
    DataPageHeaderV2 h;
    Required req;
    r.read_struct([&](int16_t id, uint8_t type) {
        req.saw(id);
        switch (id) {
            case 1:
                h.num_values = r.i32(type, "DataPageHeaderV2.num_values");
                return true;
            case 2:
                h.num_nulls = r.i32(type, "DataPageHeaderV2.num_nulls");
                return true;
            case 3:
                h.num_rows = r.i32(type, "DataPageHeaderV2.num_rows");
                return true;
            case 4:
                h.encoding = r.i32(type, "DataPageHeaderV2.encoding");
                return true;
            case 5:
                h.definition_levels_byte_length =
                    r.i32(type, "DataPageHeaderV2.definition_levels_byte_length");
                return true;
            case 6:
                h.repetition_levels_byte_length =
                    r.i32(type, "DataPageHeaderV2.repetition_levels_byte_length");
                return true;
            case 7:
                h.is_compressed = r.boolean(type, "DataPageHeaderV2.is_compressed");
                return true;
            default:
                return false;
        }
    });
    req.check(r, "DataPageHeaderV2",
              {{1, "num_values"},
               {2, "num_nulls"},
               {3, "num_rows"},
               {4, "encoding"},
               {5, "definition_levels_byte_length"},
               {6, "repetition_levels_byte_length"}});
    return h;
}

std::string name_or_number(int32_t v, std::span<const char* const> names) {
    if (v >= 0 && static_cast<size_t>(v) < names.size() && names[v][0] != '\0') return names[v];
    return std::to_string(v);
}

}  // namespace

FileMetaData decode_file_metadata(std::span<const uint8_t> bytes, const std::string& where,
                                  uint64_t base_offset) {
    CompactReader r(bytes, where, base_offset);
    FileMetaData f;
    Required req;
    r.read_struct([&](int16_t id, uint8_t type) {
        req.saw(id);
        switch (id) {
            case 2:
                r.list(type, T_STRUCT, "FileMetaData.schema",
                       [&] { f.schema.push_back(read_schema_element(r)); });
                return true;
            case 3:
                f.num_rows = r.i64(type, "FileMetaData.num_rows");
                return true;
            case 4:
                r.list(type, T_STRUCT, "FileMetaData.row_groups",
                       [&] { f.row_groups.push_back(read_row_group(r)); });
                return true;
            case 5:
                r.list(type, T_STRUCT, "FileMetaData.key_value_metadata",
                       [&] { f.key_value_metadata.push_back(read_key_value(r)); });
                return true;
            default:
                return false;
        }
    });
    req.check(r, "FileMetaData", {{2, "schema"}, {3, "num_rows"}, {4, "row_groups"}});
    return f;
}

PageHeader decode_page_header(std::span<const uint8_t> bytes, const std::string& where,
                              uint64_t base_offset, size_t* header_size) {
    CompactReader r(bytes, where, base_offset);
    PageHeader h;
    Required req;
    r.read_struct([&](int16_t id, uint8_t type) {
        req.saw(id);
        switch (id) {
            case 1:
                h.type = r.i32(type, "PageHeader.type");
                return true;
            case 2:
                h.uncompressed_page_size = r.i32(type, "PageHeader.uncompressed_page_size");
                return true;
            case 3:
                h.compressed_page_size = r.i32(type, "PageHeader.compressed_page_size");
                return true;
            case 5:
                r.expect(type, T_STRUCT, "PageHeader.data_page_header");
                h.data_page = read_data_page_header(r);
                return true;
            case 7:
                r.expect(type, T_STRUCT, "PageHeader.dictionary_page_header");
                h.dictionary_page = read_dictionary_page_header(r);
                return true;
            case 8:
                r.expect(type, T_STRUCT, "PageHeader.data_page_header_v2");
                h.data_page_v2 = read_data_page_header_v2(r);
                return true;
            default:
                return false;
        }
    });
    req.check(r, "PageHeader",
              {{1, "type"}, {2, "uncompressed_page_size"}, {3, "compressed_page_size"}});
    *header_size = r.pos();
    return h;
}

std::string codec_name(int32_t codec) {
    static constexpr std::array names = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                         "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};
    return name_or_number(codec, names);
}

std::string encoding_name(int32_t encoding) {
    static constexpr std::array names = {
        "PLAIN",          "GROUP_VAR_INT",       "PLAIN_DICTIONARY",        "RLE",
        "BIT_PACKED",     "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
        "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
    return name_or_number(encoding, names);
}

std::string physical_type_name(int32_t type) {
    static constexpr std::array names = {"BOOLEAN", "INT32",  "INT64",      "INT96",
                                         "FLOAT",   "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
    return name_or_number(type, names);
}

std::string converted_type_name(int32_t converted) {
    static constexpr std::array names = {"UTF8",
                                         "MAP",
                                         "MAP_KEY_VALUE",
                                         "LIST",
                                         "ENUM",
                                         "DECIMAL",
                                         "DATE",
                                         "TIME_MILLIS",
                                         "TIME_MICROS",
                                         "TIMESTAMP_MILLIS",
                                         "TIMESTAMP_MICROS",
                                         "UINT_8",
                                         "UINT_16",
                                         "UINT_32",
                                         "UINT_64",
                                         "INT_8",
                                         "INT_16",
                                         "INT_32",
                                         "INT_64",
                                         "JSON",
                                         "BSON",
                                         "INTERVAL"};
    return name_or_number(converted, names);
}

std::string logical_type_name(int16_t kind) {
    static constexpr std::array names = {"",        "STRING",  "MAP",      "LIST",      "ENUM",
                                         "DECIMAL", "DATE",    "TIME",     "TIMESTAMP", "",
                                         "INTEGER", "UNKNOWN", "JSON",     "BSON",      "UUID",
                                         "FLOAT16", "VARIANT", "GEOMETRY", "GEOGRAPHY"};
    return name_or_number(kind, names);
}

}  // namespace ft::data::parquet
