// The Parquet file walk: footer, flat schema, then each row group's column chunks page by page
// (dictionary page, data pages v1 and v2) into typed columns. Pages and codecs are decoded by
// parquet_pages.cpp, the Thrift structures by parquet_thrift.cpp.
#include <cstring>
#include <limits>

#include "data/parquet.h"
#include "data/parquet_pages.h"
#include "data/parquet_thrift.h"
#include "finetune/core.h"
#include "finetune/io.h"

namespace ft::data {

using namespace parquet;

namespace {

constexpr std::string_view MAGIC = "PAR1";
constexpr std::string_view ENCRYPTED_MAGIC = "PARE";

[[noreturn]] void fail(const std::string& where, const std::string& msg) {
    throw Error(where + ": " + msg);
}

// What the reader needs to know about one leaf of the flat schema.
struct Leaf {
    std::string name;
    int32_t physical = 0;
    bool optional = false;
    bool is_string = false;
    bool unsigned32 = false;  // UINT_8/16/32 in an INT32: zero-extend
};

ParquetType to_public_type(int32_t t) {
    switch (t) {
        case BOOLEAN:
            return ParquetType::Boolean;
        case INT32:
            return ParquetType::Int32;
        case INT64:
            return ParquetType::Int64;
        case FLOAT:
            return ParquetType::Float;
        case DOUBLE:
            return ParquetType::Double;
        default:
            return ParquetType::ByteArray;
    }
}

// Checks a leaf's physical type and annotations; returns what decoding needs.
Leaf describe_leaf(const SchemaElement& e, const std::string& file) {
    const std::string where = file + ": column '" + e.name + "'";
    Leaf leaf;
    leaf.name = e.name;
    if (!e.type) fail(where, "schema leaf has no physical type");
    leaf.physical = *e.type;
    leaf.optional = e.repetition.value_or(REQUIRED) == OPTIONAL;
    switch (leaf.physical) {
        case BOOLEAN:
        case INT32:
        case INT64:
        case FLOAT:
        case DOUBLE:
        case BYTE_ARRAY:
            break;
        default:
            fail(where, "unsupported physical type " + physical_type_name(leaf.physical));
    }
    const bool int_type = leaf.physical == INT32 || leaf.physical == INT64;
    auto unsupported_annotation = [&](const std::string& what) {
        fail(where, "unsupported " + what + " on " + physical_type_name(leaf.physical));
    };
    if (e.logical_type && e.logical_type->kind != 0) {
        const LogicalType& lt = *e.logical_type;
        const std::string name = "logical type " + logical_type_name(lt.kind);
        switch (lt.kind) {
            case LOGICAL_STRING:
            case LOGICAL_ENUM:
            case LOGICAL_JSON:
                if (leaf.physical != BYTE_ARRAY) unsupported_annotation(name);
                leaf.is_string = true;
                break;
            case LOGICAL_INTEGER:
                if (!int_type) unsupported_annotation(name);
                if (!lt.int_signed && lt.int_bit_width == 64)
                    unsupported_annotation("logical type INTEGER(64, unsigned)");
                leaf.unsigned32 = !lt.int_signed && leaf.physical == INT32;
                break;
            case LOGICAL_UNKNOWN:  // an all-null column
                break;
            default:
                unsupported_annotation(name);
        }
    } else if (e.converted_type) {
        const int32_t c = *e.converted_type;
        const std::string name = "converted type " + converted_type_name(c);
        switch (c) {
            case UTF8:
            case ENUM:
            case JSON:
                if (leaf.physical != BYTE_ARRAY) unsupported_annotation(name);
                leaf.is_string = true;
                break;
            case INT_8:
            case INT_16:
            case INT_32:
            case INT_64:
                if (!int_type) unsupported_annotation(name);
                break;
            case UINT_8:
            case UINT_16:
            case UINT_32:
                if (!int_type) unsupported_annotation(name);
                leaf.unsigned32 = leaf.physical == INT32;
                break;
            default:
                unsupported_annotation(name);
        }
    }
    return leaf;
}

std::vector<Leaf> flat_schema(const FileMetaData& meta, const std::string& file) {
    if (meta.schema.empty()) fail(file, "footer has an empty schema");
    const SchemaElement& root = meta.schema[0];
    for (size_t i = 1; i < meta.schema.size(); ++i) {
        const SchemaElement& e = meta.schema[i];
        if (e.num_children > 0 || e.repetition.value_or(REQUIRED) == REPEATED)
            fail(file, "unsupported: repeated/nested column '" + e.name + "'");
    }
    if (root.num_children < 0 || static_cast<size_t>(root.num_children) != meta.schema.size() - 1)
        fail(file, "schema root has " + std::to_string(root.num_children) + " children but " +
                       std::to_string(meta.schema.size() - 1) + " columns follow");
    std::vector<Leaf> leaves;
    for (size_t i = 1; i < meta.schema.size(); ++i)
        leaves.push_back(describe_leaf(meta.schema[i], file));
    return leaves;
}

// Decodes one column chunk into rows [row0, row0 + rows) of `col`.
class ChunkDecoder {
  public:
    ChunkDecoder(std::span<const uint8_t> file, const std::string& where, const Leaf& leaf,
                 const ColumnMetaData& meta, ParquetColumn* col, uint64_t* string_bytes,
                 uint64_t max_string_bytes)
        : file_(file),
          where_(where),
          leaf_(leaf),
          meta_(meta),
          col_(col),
          string_bytes_(string_bytes),
          max_string_bytes_(max_string_bytes) {}

    void decode(int64_t data_end, int64_t row0, int64_t rows) {
        row_ = row0;
        rows_ = rows;
        const int64_t end_row = row0 + rows;
        int64_t start = meta_.data_page_offset;
        // Some writers store 0 for "no dictionary"; only an offset before the data pages counts.
        if (meta_.dictionary_page_offset && *meta_.dictionary_page_offset > 0 &&
            *meta_.dictionary_page_offset < start)
            start = *meta_.dictionary_page_offset;
        if (start < static_cast<int64_t>(MAGIC.size()) || start > data_end)
            fail(where_, "column chunk offset " + std::to_string(start) + " outside the data");
        if (meta_.total_compressed_size < 0 || meta_.total_compressed_size > data_end - start)
            fail(where_, "column chunk of " + std::to_string(meta_.total_compressed_size) +
                             " bytes at offset " + std::to_string(start) + " runs past the data");
        const size_t chunk_end = static_cast<size_t>(start + meta_.total_compressed_size);
        size_t pos = static_cast<size_t>(start);
        for (int page = 0; row_ < end_row; ++page) {
            const std::string page_where =
                where_ + ": page " + std::to_string(page) + " at offset " + std::to_string(pos);
            if (pos >= chunk_end)
                fail(where_, "column chunk ends after " + std::to_string(row_ - row0) + " of " +
                                 std::to_string(rows) + " values");
            size_t header_size = 0;
            const PageHeader h = decode_page_header(file_.subspan(pos, chunk_end - pos), page_where,
                                                    pos, &header_size);
            pos += header_size;
            if (h.compressed_page_size < 0 ||
                static_cast<size_t>(h.compressed_page_size) > chunk_end - pos)
                fail(page_where, "page of " + std::to_string(h.compressed_page_size) +
                                     " bytes runs past the column chunk");
            if (h.uncompressed_page_size < 0) fail(page_where, "negative uncompressed page size");
            const auto body = file_.subspan(pos, static_cast<size_t>(h.compressed_page_size));
            pos += body.size();
            switch (h.type) {
                case DICTIONARY_PAGE:
                    read_dictionary(h, body, page_where);
                    break;
                case DATA_PAGE:
                    read_data_page_v1(h, body, end_row, page_where);
                    break;
                case DATA_PAGE_V2:
                    read_data_page_v2(h, body, end_row, page_where);
                    break;
                default:
                    break;  // index pages and future page types carry no values
            }
        }
    }

  private:
    void read_dictionary(const PageHeader& h, std::span<const uint8_t> body,
                         const std::string& where) {
        if (!h.dictionary_page) fail(where, "dictionary page without dictionary_page_header");
        if (have_dictionary_) fail(where, "second dictionary page in one column chunk");
        if (saw_data_page_) fail(where, "dictionary page after a data page");
        const DictionaryPageHeader& d = *h.dictionary_page;
        if (d.encoding != PLAIN && d.encoding != PLAIN_DICTIONARY)
            fail(where, "unsupported dictionary encoding " + encoding_name(d.encoding));
        // Entries are distinct values of this chunk, so more of them than rows is corrupt (and
        // would let a small page claim a huge table).
        if (d.num_values < 0 || d.num_values > rows_)
            fail(where, "dictionary of " + std::to_string(d.num_values) + " entries for " +
                            std::to_string(rows_) + " rows");
        dictionary_page_ =
            decompress(meta_.codec, body, static_cast<size_t>(h.uncompressed_page_size), where);
        decode_plain(leaf_.physical, dictionary_page_.bytes(), static_cast<size_t>(d.num_values),
                     &dictionary_, where);
        if (leaf_.is_string)
            for (size_t i = 0; i < dictionary_.strings.size(); ++i)
                if (!is_valid_utf8(dictionary_.strings[i]))
                    fail(where, "dictionary entry " + std::to_string(i) + " is not valid UTF-8");
        have_dictionary_ = true;
    }

    // Checks the page's value count against the rows left and readies valid[] for it.
    size_t begin_page(int64_t num_values, int64_t end_row, const std::string& where) {
        if (num_values < 0) fail(where, "negative value count");
        if (num_values > end_row - row_)
            fail(where, "page holds " + std::to_string(num_values) + " values but only " +
                            std::to_string(end_row - row_) + " rows remain in the row group");
        saw_data_page_ = true;
        const size_t n = static_cast<size_t>(num_values);
        levels_.assign(n, 1);
        return n;
    }

    void read_data_page_v1(const PageHeader& h, std::span<const uint8_t> body, int64_t end_row,
                           const std::string& where) {
        if (!h.data_page) fail(where, "data page without data_page_header");
        const DataPageHeader& d = *h.data_page;
        const size_t n = begin_page(d.num_values, end_row, where);
        const PageBytes page =
            decompress(meta_.codec, body, static_cast<size_t>(h.uncompressed_page_size), where);
        auto data = page.bytes();
        // A flat column has no repetition levels; definition levels only when OPTIONAL.
        if (leaf_.optional) {
            if (d.definition_level_encoding != RLE)
                fail(where, "unsupported definition level encoding " +
                                encoding_name(d.definition_level_encoding));
            data = data.subspan(decode_levels_v1(data, n, levels_.data(), where));
        }
        read_values(d.encoding, data, n, where);
    }

    void read_data_page_v2(const PageHeader& h, std::span<const uint8_t> body, int64_t end_row,
                           const std::string& where) {
        if (!h.data_page_v2) fail(where, "data page v2 without data_page_header_v2");
        const DataPageHeaderV2& d = *h.data_page_v2;
        if (d.num_rows != d.num_values)
            fail(where, "num_rows " + std::to_string(d.num_rows) + " differs from num_values " +
                            std::to_string(d.num_values) + " in a flat column");
        const size_t n = begin_page(d.num_values, end_row, where);
        if (d.repetition_levels_byte_length != 0) fail(where, "repetition levels in a flat column");
        if (d.definition_levels_byte_length < 0 ||
            static_cast<size_t>(d.definition_levels_byte_length) > body.size() ||
            d.definition_levels_byte_length > h.uncompressed_page_size)
            fail(where, "definition levels length " +
                            std::to_string(d.definition_levels_byte_length) +
                            " runs past the page");
        const size_t levels_len = static_cast<size_t>(d.definition_levels_byte_length);
        if (leaf_.optional) {
            decode_levels_v2(body.first(levels_len), n, levels_.data(), where);
        } else if (levels_len != 0) {
            fail(where, "definition levels in a REQUIRED column");
        }
        // Levels are never compressed in v2; the values are unless is_compressed says otherwise.
        const auto values = body.subspan(levels_len);
        const size_t values_size = static_cast<size_t>(h.uncompressed_page_size) - levels_len;
        const PageBytes page = decompress(d.is_compressed ? meta_.codec : int32_t{UNCOMPRESSED},
                                          values, values_size, where);
        const size_t present = read_values(d.encoding, page.bytes(), n, where);
        if (n - present != static_cast<size_t>(d.num_nulls))
            fail(where, "header says " + std::to_string(d.num_nulls) + " nulls, levels give " +
                            std::to_string(n - present));
    }

    // Decodes the present values of a page and spreads them over its n rows; returns how many
    // were present.
    size_t read_values(int32_t encoding, std::span<const uint8_t> data, size_t n,
                       const std::string& where) {
        size_t present = 0;
        for (size_t i = 0; i < n; ++i) present += levels_[i];
        dense_.clear();
        switch (encoding) {
            case PLAIN:
                decode_plain(leaf_.physical, data, present, &dense_, where);
                check_utf8(where);
                break;
            case PLAIN_DICTIONARY:
            case RLE_DICTIONARY:
                if (!have_dictionary_)
                    fail(where, "dictionary-encoded page without a dictionary page");
                decode_dictionary_indices(data, present, dictionary_size(), &indices_, where);
                gather_from_dictionary();
                break;
            case DELTA_BINARY_PACKED:
                decode_delta_binary_packed(leaf_.physical, data, present, &dense_, where);
                break;
            case DELTA_LENGTH_BYTE_ARRAY:
            case DELTA_BYTE_ARRAY:
                if (leaf_.physical != BYTE_ARRAY)
                    fail(where, "unsupported encoding " + encoding_name(encoding) + " for " +
                                    physical_type_name(leaf_.physical));
                if (encoding == DELTA_LENGTH_BYTE_ARRAY)
                    decode_delta_length_byte_array(data, present, &dense_, where);
                else
                    decode_delta_byte_array(data, present, max_string_bytes_ - *string_bytes_,
                                            &delta_strings_, &dense_, where);
                check_utf8(where);
                break;
            case BYTE_STREAM_SPLIT:
                decode_byte_stream_split(leaf_.physical, data, present, &dense_, where);
                break;
            case RLE:
                if (leaf_.physical != BOOLEAN)
                    fail(where,
                         "unsupported encoding RLE for " + physical_type_name(leaf_.physical));
                decode_rle_booleans(data, present, &dense_, where);
                break;
            default:
                fail(where, "unsupported encoding " + encoding_name(encoding));
        }
        scatter(n, where);
        return present;
    }

    void check_utf8(const std::string& where) const {
        if (!leaf_.is_string) return;
        for (size_t i = 0; i < dense_.strings.size(); ++i)
            if (!is_valid_utf8(dense_.strings[i]))
                fail(where, "value " + std::to_string(i) + " is not valid UTF-8");
    }

    size_t dictionary_size() const {
        switch (leaf_.physical) {
            case FLOAT:
            case DOUBLE:
                return dictionary_.doubles.size();
            case BYTE_ARRAY:
                return dictionary_.strings.size();
            default:
                return dictionary_.ints.size();
        }
    }

    void gather_from_dictionary() {
        switch (leaf_.physical) {
            case FLOAT:
            case DOUBLE:
                for (uint32_t i : indices_) dense_.doubles.push_back(dictionary_.doubles[i]);
                break;
            case BYTE_ARRAY:
                for (uint32_t i : indices_) dense_.strings.push_back(dictionary_.strings[i]);
                break;
            default:
                for (uint32_t i : indices_) dense_.ints.push_back(dictionary_.ints[i]);
        }
    }

    void scatter(size_t n, const std::string& where) {
        const size_t row = static_cast<size_t>(row_);
        col_->valid.resize(row + n);
        std::memcpy(col_->valid.data() + row, levels_.data(), n);
        size_t j = 0;
        switch (leaf_.physical) {
            case FLOAT:
            case DOUBLE:
                col_->doubles.resize(row + n, 0.0);
                for (size_t i = 0; i < n; ++i)
                    if (levels_[i]) col_->doubles[row + i] = dense_.doubles[j++];
                break;
            case BYTE_ARRAY:
                col_->strings.resize(row + n);
                for (size_t i = 0; i < n; ++i) {
                    if (!levels_[i]) continue;
                    const std::string_view s = dense_.strings[j++];
                    *string_bytes_ += s.size();
                    if (*string_bytes_ > max_string_bytes_)
                        fail(where, "strings exceed the limit of " +
                                        std::to_string(max_string_bytes_) + " bytes");
                    col_->strings[row + i].assign(s);
                }
                break;
            default:
                col_->ints.resize(row + n, 0);
                for (size_t i = 0; i < n; ++i) {
                    if (!levels_[i]) continue;
                    const int64_t v = dense_.ints[j++];
                    col_->ints[row + i] =
                        leaf_.unsigned32 ? static_cast<int64_t>(static_cast<uint32_t>(v)) : v;
                }
        }
        row_ += static_cast<int64_t>(n);
    }

    std::span<const uint8_t> file_;
    const std::string& where_;
    const Leaf& leaf_;
    const ColumnMetaData& meta_;
    ParquetColumn* col_;
    uint64_t* string_bytes_;
    uint64_t max_string_bytes_;

    int64_t row_ = 0;
    int64_t rows_ = 0;  // in this row group
    bool have_dictionary_ = false;
    bool saw_data_page_ = false;
    PageBytes dictionary_page_;  // owns the bytes dictionary_.strings views
    DenseValues dictionary_;
    DenseValues dense_;
    std::vector<uint8_t> levels_;
    std::vector<uint32_t> indices_;
    std::string delta_strings_;  // DELTA_BYTE_ARRAY values of the current page
};

}  // namespace

std::string_view parquet_type_name(ParquetType t) {
    switch (t) {
        case ParquetType::Boolean:
            return "BOOLEAN";
        case ParquetType::Int32:
            return "INT32";
        case ParquetType::Int64:
            return "INT64";
        case ParquetType::Float:
            return "FLOAT";
        case ParquetType::Double:
            return "DOUBLE";
        case ParquetType::ByteArray:
            return "BYTE_ARRAY";
    }
    return "?";
}

ParquetTable parse_parquet(std::span<const uint8_t> bytes, const std::string& file,
                           const ParquetLimits& limits) {
    // Layout: "PAR1" <column chunks> <footer: FileMetaData> <u32 footer length> "PAR1".
    const size_t size = bytes.size();
    if (size < 2 * MAGIC.size() + 4)
        fail(file, "too small to be a Parquet file (" + std::to_string(size) + " bytes)");
    auto magic_at = [&](size_t pos) {
        return std::string_view(reinterpret_cast<const char*>(bytes.data() + pos), MAGIC.size());
    };
    if (magic_at(size - 4) == ENCRYPTED_MAGIC) fail(file, "unsupported: encrypted Parquet footer");
    if (magic_at(0) != MAGIC) fail(file, "bad magic at offset 0 (not a Parquet file)");
    if (magic_at(size - 4) != MAGIC)
        fail(file, "bad magic at offset " + std::to_string(size - 4) + " (truncated file?)");
    uint32_t footer_len;
    std::memcpy(&footer_len, bytes.data() + size - 8, 4);
    if (footer_len > size - 12)
        fail(file, "footer length " + std::to_string(footer_len) +
                       " runs past the start of the file (" + std::to_string(size) + " bytes)");
    const size_t footer_start = size - 8 - footer_len;
    const FileMetaData meta = decode_file_metadata(bytes.subspan(footer_start, footer_len),
                                                   file + ": footer", footer_start);

    const std::vector<Leaf> leaves = flat_schema(meta, file);
    if (meta.num_rows < 0 || meta.num_rows > limits.max_rows)
        fail(file, "footer num_rows " + std::to_string(meta.num_rows) + " outside 0.." +
                       std::to_string(limits.max_rows));
    int64_t total = 0;
    for (size_t g = 0; g < meta.row_groups.size(); ++g) {
        const int64_t r = meta.row_groups[g].num_rows;
        if (r < 0 || r > meta.num_rows - total)
            fail(file, "row group " + std::to_string(g) + ": num_rows " + std::to_string(r) +
                           " exceeds the file's " + std::to_string(meta.num_rows));
        total += r;
    }
    if (total != meta.num_rows)
        fail(file, "row groups hold " + std::to_string(total) + " rows, footer says " +
                       std::to_string(meta.num_rows));

    ParquetTable table;
    table.num_rows = meta.num_rows;
    table.metadata = meta.key_value_metadata;
    for (const Leaf& leaf : leaves) {
        ParquetColumn c;
        c.name = leaf.name;
        c.physical = to_public_type(leaf.physical);
        c.is_string = leaf.is_string;
        table.columns.push_back(std::move(c));
    }

    uint64_t string_bytes = 0;
    int64_t row0 = 0;
    for (size_t g = 0; g < meta.row_groups.size(); ++g) {
        const RowGroup& rg = meta.row_groups[g];
        if (rg.columns.size() != leaves.size())
            fail(file, "row group " + std::to_string(g) + " has " +
                           std::to_string(rg.columns.size()) + " column chunks, schema has " +
                           std::to_string(leaves.size()) + " columns");
        for (size_t c = 0; c < leaves.size(); ++c) {
            const Leaf& leaf = leaves[c];
            const std::string where =
                file + ": column '" + leaf.name + "': row group " + std::to_string(g);
            const ColumnChunk& chunk = rg.columns[c];
            if (chunk.file_path)
                fail(where, "unsupported: column data in another file '" + *chunk.file_path + "'");
            if (!chunk.meta_data) fail(where, "column chunk has no meta_data");
            const ColumnMetaData& cm = *chunk.meta_data;
            if (cm.path_in_schema.size() != 1 || cm.path_in_schema[0] != leaf.name)
                fail(where, "column chunk path does not match the schema");
            if (cm.type != leaf.physical)
                fail(where, "column chunk type " + physical_type_name(cm.type) +
                                " differs from the schema's " + physical_type_name(leaf.physical));
            if (cm.num_values != rg.num_rows)
                fail(where, "column chunk has " + std::to_string(cm.num_values) +
                                " values, row group has " + std::to_string(rg.num_rows) + " rows");
            ChunkDecoder dec(bytes, where, leaf, cm, &table.columns[c], &string_bytes,
                             limits.max_string_bytes);
            dec.decode(static_cast<int64_t>(footer_start), row0, rg.num_rows);
        }
        row0 += rg.num_rows;
    }

    // Columns without nulls carry no validity vector.
    for (ParquetColumn& c : table.columns) {
        bool all_valid = true;
        for (uint8_t v : c.valid) all_valid = all_valid && v;
        if (all_valid) c.valid.clear();
        // A file with no rows still gets typed vectors of the right (zero) length.
    }
    return table;
}

ParquetTable read_parquet(const std::filesystem::path& path) {
    const auto mapped = MappedFile::open(path);
    return parse_parquet(mapped->bytes(), path.string());
}

}  // namespace ft::data
