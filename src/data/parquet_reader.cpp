// The Parquet file walk: footer, schema, then each row group's column chunks page by page
// (dictionary page, data pages v1 and v2, levels) into typed columns and lists. Values and codecs
// are decoded by parquet_pages.cpp / parquet_delta.cpp, the schema by parquet_schema.cpp and the
// Thrift structures by parquet_thrift.cpp.
#include <cstring>
#include <limits>

#include "data/parquet.h"
#include "data/parquet_pages.h"
#include "data/parquet_schema.h"
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

// Decodes one column chunk, appending its rows (values of a flat column, lists and their
// elements of a list column) to the column.
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

    // `entries` is the number of level entries in the chunk: its rows for a flat column, its
    // elements plus empty and null lists for a list column (ColumnMetaData.num_values).
    void decode(int64_t data_end, int64_t rows, int64_t entries) {
        rows_ = rows;
        entries_total_ = entries;
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
        for (int page = 0; entries_ < entries_total_; ++page) {
            const std::string page_where =
                where_ + ": page " + std::to_string(page) + " at offset " + std::to_string(pos);
            if (pos >= chunk_end)
                fail(where_, "column chunk ends after " + std::to_string(entries_) + " of " +
                                 std::to_string(entries_total_) + " values");
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
                    read_data_page_v1(h, body, page_where);
                    break;
                case DATA_PAGE_V2:
                    read_data_page_v2(h, body, page_where);
                    break;
                default:
                    break;  // index pages and future page types carry no values
            }
        }
        if (leaf_.is_list && rows_started_ != rows_)
            fail(where_, "column chunk holds " + std::to_string(rows_started_) +
                             " lists, row group has " + std::to_string(rows_) + " rows");
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
        // Entries are distinct values of this chunk, so more of them than values is corrupt (and
        // would let a small page claim a huge table).
        if (d.num_values < 0 || d.num_values > entries_total_)
            fail(where, "dictionary of " + std::to_string(d.num_values) + " entries for " +
                            std::to_string(entries_total_) + " values");
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

    // Checks the page's level count against what the chunk has left; readies the level arrays
    // (a column without repetition or definition levels has all 0 / all max_def).
    size_t begin_page(int64_t num_values, const std::string& where) {
        if (num_values < 0) fail(where, "negative value count");
        if (num_values > entries_total_ - entries_)
            fail(where, "page holds " + std::to_string(num_values) + " values but only " +
                            std::to_string(entries_total_ - entries_) +
                            " remain in the column chunk");
        saw_data_page_ = true;
        const size_t n = static_cast<size_t>(num_values);
        rep_.assign(n, 0);
        def_.assign(n, static_cast<uint8_t>(leaf_.max_def));
        return n;
    }

    void read_data_page_v1(const PageHeader& h, std::span<const uint8_t> body,
                           const std::string& where) {
        if (!h.data_page) fail(where, "data page without data_page_header");
        const DataPageHeader& d = *h.data_page;
        const size_t n = begin_page(d.num_values, where);
        const PageBytes page =
            decompress(meta_.codec, body, static_cast<size_t>(h.uncompressed_page_size), where);
        auto data = page.bytes();
        if (leaf_.max_rep > 0) {
            if (d.repetition_level_encoding != RLE)
                fail(where, "unsupported repetition level encoding " +
                                encoding_name(d.repetition_level_encoding));
            data = data.subspan(
                decode_levels_v1(data, n, leaf_.max_rep, rep_.data(), where, "repetition levels"));
        }
        if (leaf_.max_def > 0) {
            if (d.definition_level_encoding != RLE)
                fail(where, "unsupported definition level encoding " +
                                encoding_name(d.definition_level_encoding));
            data = data.subspan(
                decode_levels_v1(data, n, leaf_.max_def, def_.data(), where, "definition levels"));
        }
        read_values(d.encoding, data, n, where);
    }

    void read_data_page_v2(const PageHeader& h, std::span<const uint8_t> body,
                           const std::string& where) {
        if (!h.data_page_v2) fail(where, "data page v2 without data_page_header_v2");
        const DataPageHeaderV2& d = *h.data_page_v2;
        if (!leaf_.is_list && d.num_rows != d.num_values)
            fail(where, "num_rows " + std::to_string(d.num_rows) + " differs from num_values " +
                            std::to_string(d.num_values) + " in a flat column");
        const size_t n = begin_page(d.num_values, where);
        const int64_t rep_len = d.repetition_levels_byte_length;
        const int64_t def_len = d.definition_levels_byte_length;
        if (rep_len < 0 || def_len < 0 || rep_len + def_len > static_cast<int64_t>(body.size()) ||
            rep_len + def_len > h.uncompressed_page_size)
            fail(where, "level lengths " + std::to_string(rep_len) + " + " +
                            std::to_string(def_len) + " run past the page");
        if (leaf_.max_rep == 0 && rep_len != 0) fail(where, "repetition levels in a flat column");
        if (leaf_.max_def == 0 && def_len != 0)
            fail(where, "definition levels in a REQUIRED column");
        const size_t levels_len = static_cast<size_t>(rep_len + def_len);
        if (leaf_.max_rep > 0)
            decode_levels_v2(body.first(static_cast<size_t>(rep_len)), n, leaf_.max_rep,
                             rep_.data(), where, "repetition levels");
        if (leaf_.max_def > 0)
            decode_levels_v2(
                body.subspan(static_cast<size_t>(rep_len), static_cast<size_t>(def_len)), n,
                leaf_.max_def, def_.data(), where, "definition levels");
        // Levels are never compressed in v2; the values are unless is_compressed says otherwise.
        const auto values = body.subspan(levels_len);
        const size_t values_size = static_cast<size_t>(h.uncompressed_page_size) - levels_len;
        const PageBytes page = decompress(d.is_compressed ? meta_.codec : int32_t{UNCOMPRESSED},
                                          values, values_size, where);
        const size_t present = read_values(d.encoding, page.bytes(), n, where);
        if (!leaf_.is_list && n - present != static_cast<size_t>(d.num_nulls))
            fail(where, "header says " + std::to_string(d.num_nulls) + " nulls, levels give " +
                            std::to_string(n - present));
    }

    // Decodes the present values of a page and spreads them over its n level entries; returns
    // how many were present.
    size_t read_values(int32_t encoding, std::span<const uint8_t> data, size_t n,
                       const std::string& where) {
        size_t present = 0;
        for (size_t i = 0; i < n; ++i) present += def_[i] == leaf_.max_def;
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
        if (leaf_.is_list)
            scatter_list(n, where);
        else
            scatter(n, where);
        entries_ += static_cast<int64_t>(n);
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

    // Stores dense value j at slot `at` of the column's typed vector (which already has it).
    void store(size_t at, size_t j, const std::string& where) {
        switch (leaf_.physical) {
            case FLOAT:
            case DOUBLE:
                col_->doubles[at] = dense_.doubles[j];
                break;
            case BYTE_ARRAY: {
                const std::string_view s = dense_.strings[j];
                *string_bytes_ += s.size();
                if (*string_bytes_ > max_string_bytes_)
                    fail(where, "strings exceed the limit of " + std::to_string(max_string_bytes_) +
                                    " bytes");
                col_->strings[at].assign(s);
                break;
            }
            default: {
                const int64_t v = dense_.ints[j];
                col_->ints[at] =
                    leaf_.unsigned32 ? static_cast<int64_t>(static_cast<uint32_t>(v)) : v;
            }
        }
    }

    void grow_values(size_t size) {
        switch (leaf_.physical) {
            case FLOAT:
            case DOUBLE:
                col_->doubles.resize(size, 0.0);
                break;
            case BYTE_ARRAY:
                col_->strings.resize(size);
                break;
            default:
                col_->ints.resize(size, 0);
        }
    }

    size_t values_size() const {
        switch (leaf_.physical) {
            case FLOAT:
            case DOUBLE:
                return col_->doubles.size();
            case BYTE_ARRAY:
                return col_->strings.size();
            default:
                return col_->ints.size();
        }
    }

    // Flat column: entry i is row (previous rows + i); absent values keep the default.
    void scatter(size_t n, const std::string& where) {
        const size_t row = col_->valid.size();
        col_->valid.resize(row + n);
        grow_values(row + n);
        size_t j = 0;
        for (size_t i = 0; i < n; ++i) {
            const bool present = def_[i] == leaf_.max_def;
            col_->valid[row + i] = present;
            if (present) store(row + i, j++, where);
        }
    }

    // List column: repetition level 0 starts a row; the definition level says whether the row's
    // list is null, empty, or has an element here (present, or null: unsupported).
    void scatter_list(size_t n, const std::string& where) {
        size_t at = values_size();
        size_t present = 0;
        for (size_t i = 0; i < n; ++i) present += def_[i] == leaf_.max_def;
        grow_values(at + present);
        size_t j = 0;
        for (size_t i = 0; i < n; ++i) {
            const int def = def_[i];
            if (rep_[i] == 0) {
                if (rows_started_ == rows_)
                    fail(where,
                         "more lists than the row group's " + std::to_string(rows_) + " rows");
                ++rows_started_;
                col_->offsets.push_back(static_cast<int64_t>(at));
                col_->valid.push_back(def >= leaf_.def_list_empty);
            } else if (rows_started_ == 0 || def <= leaf_.def_list_empty) {
                fail(where, "level entry " + std::to_string(i) +
                                " continues a list that has no elements to continue");
            }
            if (def == leaf_.max_def) {
                store(at++, j++, where);
            } else if (def > leaf_.def_list_empty) {
                fail(where, "unsupported: null element in list column '" + leaf_.name + "'");
            }
        }
    }

    std::span<const uint8_t> file_;
    const std::string& where_;
    const Leaf& leaf_;
    const ColumnMetaData& meta_;
    ParquetColumn* col_;
    uint64_t* string_bytes_;
    uint64_t max_string_bytes_;

    int64_t rows_ = 0;           // in this row group
    int64_t entries_total_ = 0;  // level entries in this chunk
    int64_t entries_ = 0;        // level entries read so far
    int64_t rows_started_ = 0;   // lists begun so far (list columns)
    bool have_dictionary_ = false;
    bool saw_data_page_ = false;
    PageBytes dictionary_page_;  // owns the bytes dictionary_.strings views
    DenseValues dictionary_;
    DenseValues dense_;
    std::vector<uint8_t> rep_, def_;
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

    const std::vector<Leaf> leaves = resolve_columns(meta.schema, file);
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
        c.is_list = leaf.is_list;
        table.columns.push_back(std::move(c));
    }

    uint64_t string_bytes = 0;
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
            if (cm.path_in_schema != leaf.path_in_schema)
                fail(where, "column chunk path does not match the schema");
            if (cm.type != leaf.physical)
                fail(where, "column chunk type " + physical_type_name(cm.type) +
                                " differs from the schema's " + physical_type_name(leaf.physical));
            // A flat chunk has one value (or null) per row; a list chunk at least one level
            // entry per row, and its elements are capped like rows.
            if (leaf.is_list ? cm.num_values < rg.num_rows || cm.num_values > limits.max_rows
                             : cm.num_values != rg.num_rows)
                fail(where, "column chunk has " + std::to_string(cm.num_values) + " values for " +
                                std::to_string(rg.num_rows) + " rows");
            ChunkDecoder dec(bytes, where, leaf, cm, &table.columns[c], &string_bytes,
                             limits.max_string_bytes);
            dec.decode(static_cast<int64_t>(footer_start), rg.num_rows, cm.num_values);
        }
    }

    // Columns without nulls carry no validity vector.
    for (ParquetColumn& c : table.columns) {
        bool all_valid = true;
        for (uint8_t v : c.valid) all_valid = all_valid && v;
        if (all_valid) c.valid.clear();
        if (c.is_list) {  // close the last list
            const size_t n =
                c.physical == ParquetType::ByteArray ? c.strings.size()
                : (c.physical == ParquetType::Float || c.physical == ParquetType::Double)
                    ? c.doubles.size()
                    : c.ints.size();
            c.offsets.push_back(static_cast<int64_t>(n));
        }
    }
    return table;
}

ParquetTable read_parquet(const std::filesystem::path& path) {
    const auto mapped = MappedFile::open(path);
    return parse_parquet(mapped->bytes(), path.string());
}

}  // namespace ft::data
