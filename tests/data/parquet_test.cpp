// Parquet reader: every fixture DuckDB wrote (tests/data/parquet, tools/make_parquet_fixtures.mjs)
// decodes to exactly what DuckDB reads back from it (the .jsonl beside it); the CoLA-shaped file
// also matches the GLUE TSV it was made from; hand-built files check the encodings value by value
// and that unknown Thrift fields are skipped; corrupt and unsupported inputs are ft::Errors that
// name the file and what is wrong.
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>

#include "data/parquet.h"
#include "data/parquet_thrift.h"
#include "finetune/core.h"
#include "finetune/io.h"
#include "test_env.h"

namespace ft::data {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

fs::path fixture_dir() {
    return test::tools_dir().parent_path() / "tests" / "data" / "parquet";
}

std::string read_bytes(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

std::span<const uint8_t> as_bytes(const std::string& s) {
    return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::vector<json> read_jsonl(const fs::path& p) {
    std::ifstream f(p);
    std::vector<json> rows;
    std::string line;
    while (std::getline(f, line))
        if (!line.empty()) rows.push_back(json::parse(line));
    return rows;
}

std::string hex(std::string_view s) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

// Parses and expects an ft::Error whose message names `name` and contains each of `words`.
void expect_error(const std::string& bytes, const std::string& name,
                  std::initializer_list<std::string_view> words) {
    try {
        parse_parquet(as_bytes(bytes), name);
        ADD_FAILURE() << name << ": parse succeeded, expected an error";
    } catch (const Error& e) {
        const std::string msg = e.what();
        EXPECT_NE(msg.find(name), std::string::npos) << msg;
        for (std::string_view w : words)
            EXPECT_NE(msg.find(w), std::string::npos) << "'" << w << "' not in: " << msg;
    }
}

// ---------------------------------------------------------------------------------------------
// Fixtures against DuckDB's reading of them.

std::vector<std::string> fixture_names() {
    std::vector<std::string> names;
    for (const auto& entry : fs::directory_iterator(fixture_dir())) {
        const fs::path p = entry.path();
        if (p.extension() == ".jsonl" && fs::exists(fs::path(p).replace_extension(".parquet")))
            names.push_back(p.stem().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

// Compares value `r` of `col`'s typed vector with DuckDB's JSON value for it.
void expect_value(const ParquetColumn& col, size_t r, const json& want, const std::string& where) {
    switch (col.physical) {
        case ParquetType::Boolean:
            ASSERT_TRUE(want.is_boolean()) << where;
            EXPECT_EQ(col.ints[r], want.get<bool>() ? 1 : 0) << where;
            break;
        case ParquetType::Int32:
        case ParquetType::Int64:
            // DuckDB's node client gives BIGINT as a decimal string (exact past 2^53).
            if (want.is_string())
                EXPECT_EQ(col.ints[r], std::stoll(want.get<std::string>())) << where;
            else
                EXPECT_EQ(col.ints[r], want.get<int64_t>()) << where;
            break;
        case ParquetType::Float:
        case ParquetType::Double:
            EXPECT_EQ(col.doubles[r], want.get<double>()) << where;
            break;
        case ParquetType::ByteArray:
            EXPECT_EQ(col.is_string ? col.strings[r] : hex(col.strings[r]), want.get<std::string>())
                << where;
            break;
    }
}

// Compares row `r` of `col` (a value or a list of them, or null) with DuckDB's JSON for it.
void expect_cell(const ParquetColumn& col, size_t r, const json& want, const std::string& where) {
    const bool present = col.valid.empty() || col.valid[r];
    if (want.is_null()) {
        EXPECT_FALSE(present) << where << ": expected null";
        return;
    }
    ASSERT_TRUE(present) << where << ": null, expected " << want.dump();
    if (!col.is_list) {
        expect_value(col, r, want, where);
        return;
    }
    ASSERT_TRUE(want.is_array()) << where;
    const auto begin = static_cast<size_t>(col.offsets[r]),
               end = static_cast<size_t>(col.offsets[r + 1]);
    ASSERT_EQ(end - begin, want.size()) << where;
    for (size_t k = 0; k < want.size(); ++k)
        expect_value(col, begin + k, want[k], where + "[" + std::to_string(k) + "]");
}

class ParquetFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(ParquetFixture, EqualsDuckDbReading) {
    const fs::path path = fixture_dir() / (GetParam() + ".parquet");
    const std::vector<json> rows = read_jsonl(fs::path(path).replace_extension(".jsonl"));
    const ParquetTable t = read_parquet(path);
    ASSERT_EQ(t.num_rows, static_cast<int64_t>(rows.size()));
    ASSERT_FALSE(t.columns.empty());
    for (const ParquetColumn& c : t.columns) {
        size_t n = rows.size();
        if (c.is_list) {  // offsets frame the elements, which the vectors hold back to back
            ASSERT_EQ(c.offsets.size(), n + 1) << c.name;
            EXPECT_EQ(c.offsets.front(), 0) << c.name;
            for (size_t r = 0; r < rows.size(); ++r)
                ASSERT_LE(c.offsets[r], c.offsets[r + 1]) << c.name;
            n = static_cast<size_t>(c.offsets.back());
        } else {
            EXPECT_TRUE(c.offsets.empty()) << c.name;
        }
        switch (c.physical) {
            case ParquetType::Float:
            case ParquetType::Double:
                ASSERT_EQ(c.doubles.size(), n) << c.name;
                break;
            case ParquetType::ByteArray:
                ASSERT_EQ(c.strings.size(), n) << c.name;
                break;
            default:
                ASSERT_EQ(c.ints.size(), n) << c.name;
        }
        if (!c.valid.empty()) {
            ASSERT_EQ(c.valid.size(), rows.size()) << c.name;
        }
    }
    for (size_t r = 0; r < rows.size(); ++r) {
        // Same columns, in the same order, as DuckDB's.
        ASSERT_EQ(rows[r].size(), t.columns.size()) << "row " << r;
        size_t c = 0;
        for (const auto& [key, value] : rows[r].items()) {
            const ParquetColumn& col = t.columns[c++];
            ASSERT_EQ(col.name, key);
            expect_cell(col, r, value, GetParam() + " row " + std::to_string(r) + " column " + key);
            if (HasFailure()) return;  // one mismatch is enough to read
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Parquet, ParquetFixture, ::testing::ValuesIn(fixture_names()),
                         [](const auto& info) { return info.param; });

TEST(ParquetFixtures, AllPresent) {
    // The list the generator writes; a missing one would silently shrink the coverage above.
    const std::set<std::string> names = [] {
        auto v = fixture_names();
        return std::set<std::string>(v.begin(), v.end());
    }();
    for (const char* want :
         {"all_types_uncompressed_v1", "all_types_snappy_v1", "all_types_zstd_v1",
          "all_types_gzip_v1", "all_types_zstd_v2", "all_types_snappy_v2", "row_groups_pages",
          "empty", "all_null", "cola_like", "arrow_v1_pages", "arrow_v2_pages", "lists"})
        EXPECT_TRUE(names.count(want)) << want;
}

// The SQL types the generator declared map to these physical types and annotations.
TEST(ParquetFixtures, PhysicalTypesFollowTheSqlTypes) {
    const ParquetTable t = read_parquet(fixture_dir() / "all_types_snappy_v1.parquet");
    const std::map<std::string, std::pair<ParquetType, bool>> want = {
        {"i32", {ParquetType::Int32, false}},     {"i64", {ParquetType::Int64, false}},
        {"f32", {ParquetType::Float, false}},     {"f64", {ParquetType::Double, false}},
        {"flag", {ParquetType::Boolean, false}},  {"s", {ParquetType::ByteArray, true}},
        {"bin", {ParquetType::ByteArray, false}}, {"cat", {ParquetType::ByteArray, true}},
        {"small", {ParquetType::Int32, false}}};
    ASSERT_EQ(t.columns.size(), want.size());
    for (const ParquetColumn& c : t.columns) {
        ASSERT_TRUE(want.count(c.name)) << c.name;
        EXPECT_EQ(c.physical, want.at(c.name).first) << c.name;
        EXPECT_EQ(c.is_string, want.at(c.name).second) << c.name;
    }
}

// Walks the footers and page headers of all fixtures and checks that together they exercise what
// the reader claims to support, so a change of DuckDB defaults cannot quietly drop a feature.
TEST(ParquetFixtures, CoverCodecsPagesAndEncodings) {
    using namespace parquet;
    std::set<int32_t> codecs, page_types, encodings;
    bool several_row_groups = false, several_pages = false;
    for (const std::string& name : fixture_names()) {
        const std::string bytes = read_bytes(fixture_dir() / (name + ".parquet"));
        const auto b = as_bytes(bytes);
        uint32_t footer_len;
        std::memcpy(&footer_len, b.data() + b.size() - 8, 4);
        const size_t footer = b.size() - 8 - footer_len;
        const FileMetaData meta = decode_file_metadata(b.subspan(footer, footer_len), name, footer);
        several_row_groups |= meta.row_groups.size() > 1;
        for (const RowGroup& rg : meta.row_groups) {
            for (const ColumnChunk& chunk : rg.columns) {
                const ColumnMetaData& m = *chunk.meta_data;
                codecs.insert(m.codec);
                size_t pos =
                    static_cast<size_t>(m.dictionary_page_offset.value_or(m.data_page_offset));
                const size_t end = pos + static_cast<size_t>(m.total_compressed_size);
                int data_pages = 0;
                while (pos < end) {
                    size_t header = 0;
                    const PageHeader h =
                        decode_page_header(b.subspan(pos, end - pos), name, pos, &header);
                    page_types.insert(h.type);
                    if (h.data_page) encodings.insert(h.data_page->encoding), ++data_pages;
                    if (h.data_page_v2) encodings.insert(h.data_page_v2->encoding), ++data_pages;
                    pos += header + static_cast<size_t>(h.compressed_page_size);
                }
                several_pages |= data_pages > 1;
            }
        }
    }
    for (int32_t c : {UNCOMPRESSED, SNAPPY, GZIP, ZSTD})
        EXPECT_TRUE(codecs.count(c)) << codec_name(c);
    for (int32_t p : {DATA_PAGE, DATA_PAGE_V2, DICTIONARY_PAGE})
        EXPECT_TRUE(page_types.count(p)) << p;
    for (int32_t e : {PLAIN, PLAIN_DICTIONARY, RLE_DICTIONARY, RLE, DELTA_BINARY_PACKED,
                      DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT})
        EXPECT_TRUE(encodings.count(e)) << encoding_name(e);
    EXPECT_TRUE(several_row_groups);
    EXPECT_TRUE(several_pages) << "no column chunk with more than one data page";
}

// ---------------------------------------------------------------------------------------------
// The CoLA-shaped file: HF's metadata comes back intact, and the rows equal the GLUE TSV.

TEST(ParquetMetadata, HuggingFaceKeyIsReturnedIntact) {
    const ParquetTable t = read_parquet(fixture_dir() / "cola_like.parquet");
    const auto it = std::find_if(t.metadata.begin(), t.metadata.end(),
                                 [](const auto& kv) { return kv.first == "huggingface"; });
    ASSERT_NE(it, t.metadata.end());
    const json want = {
        {"info",
         {{"features",
           {{"sentence", {{"dtype", "string"}, {"_type", "Value"}}},
            {"label", {{"names", {"unacceptable", "acceptable"}}, {"_type", "ClassLabel"}}},
            {"idx", {{"dtype", "int32"}, {"_type", "Value"}}}}}}}};
    EXPECT_EQ(json::parse(it->second), want);
    EXPECT_EQ(it->second, want.dump());  // byte for byte what the generator wrote
}

TEST(ParquetMetadata, ColaLikeRowsEqualTheGlueTsv) {
    const ParquetTable t = read_parquet(fixture_dir() / "cola_like.parquet");
    ASSERT_EQ(t.columns.size(), 3u);
    const ParquetColumn& sentence = t.columns[0];
    const ParquetColumn& label = t.columns[1];
    const ParquetColumn& idx = t.columns[2];
    EXPECT_EQ(sentence.name, "sentence");
    EXPECT_TRUE(sentence.is_string);
    EXPECT_EQ(label.physical, ParquetType::Int64);
    EXPECT_EQ(idx.physical, ParquetType::Int32);
    std::ifstream tsv(test::shared_dir() / "data" / "glue" / "cola" / "dev.tsv");
    ASSERT_TRUE(tsv) << "missing shared/data/glue/cola/dev.tsv";
    std::string line;
    for (int64_t r = 0; r < t.num_rows; ++r) {
        ASSERT_TRUE(std::getline(tsv, line));
        // source \t label \t original label \t sentence
        std::vector<std::string> f;
        std::stringstream ss(line);
        for (std::string x; std::getline(ss, x, '\t');) f.push_back(x);
        ASSERT_EQ(f.size(), 4u) << line;
        EXPECT_EQ(sentence.strings[r], f[3]);
        EXPECT_EQ(label.ints[r], std::stoll(f[1]));
        EXPECT_EQ(idx.ints[r], r);
    }
}

// ---------------------------------------------------------------------------------------------
// Hand-built files: a minimal Thrift compact writer, enough for one flat column.

class ThriftWriter {
  public:
    std::string out;

    void varint(uint64_t v) {
        while (v >= 0x80) {
            out += static_cast<char>((v & 0x7f) | 0x80);
            v >>= 7;
        }
        out += static_cast<char>(v);
    }
    void zigzag(int64_t v) {
        varint((static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63));
    }
    void field(int16_t id, uint8_t type) {
        const int delta = id - last_.back();
        if (delta > 0 && delta <= 15) {
            out += static_cast<char>(delta << 4 | type);
        } else {
            out += static_cast<char>(type);
            zigzag(id);
        }
        last_.back() = id;
    }
    void i32(int16_t id, int64_t v) { field(id, 5), zigzag(v); }
    void i64(int16_t id, int64_t v) { field(id, 6), zigzag(v); }
    void str(int16_t id, std::string_view s) { field(id, 8), varint(s.size()), out += s; }
    void boolean(int16_t id, bool v) { field(id, v ? 1 : 2); }
    void begin_struct(int16_t id) { field(id, 12), last_.push_back(0); }
    void begin_element() { last_.push_back(0); }  // a struct inside a list
    void end_struct() { out += '\0', last_.pop_back(); }
    void list(int16_t id, uint8_t elem, size_t n) {
        field(id, 9);
        if (n < 15) {
            out += static_cast<char>(n << 4 | elem);
        } else {
            out += static_cast<char>(0xf0 | elem);
            varint(n);
        }
    }
    // A field of every wire type, with ids the reader does not know: all must be skipped.
    void unknown_fields() {
        boolean(90, true);
        boolean(91, false);
        field(92, 3), out += '\x7f';
        field(93, 4), zigzag(-300);
        i32(94, 123456);
        i64(95, -1234567890123);
        field(96, 7), out += std::string(8, '\x11');
        str(97, "skip me");
        list(98, 5, 3), zigzag(1), zigzag(2), zigzag(3);
        list(99, 1, 2), out += "\x01\x02";  // booleans in a list take a byte each
        field(100, 10), out += static_cast<char>(2 << 4 | 8), varint(1), out += "a", varint(1),
            out += "b";
        field(101, 11), varint(1), out += static_cast<char>(8 << 4 | 5), varint(2), out += "kk",
            zigzag(7);
        field(102, 11), varint(0);  // an empty map has no type byte
        begin_struct(103);
        list(1, 12, 1);
        begin_element();
        str(1, "nested");
        end_struct();
        end_struct();
    }

  private:
    std::vector<int16_t> last_{0};
};

struct Page {
    int32_t type = parquet::DATA_PAGE;
    int32_t num_values = 0;
    int32_t encoding = parquet::PLAIN;
    std::string body;        // for v2: levels then values
    int32_t num_nulls = 0;   // v2 only
    int32_t levels_len = 0;  // v2 only
};

struct Column {
    int32_t type = parquet::INT32;
    int32_t repetition = parquet::REQUIRED;
    std::optional<int32_t> converted{};
    std::string name = "v";
};

// A one-column, one-row-group, uncompressed file holding `pages` in order.
// `entries` is the chunk's level entry count when it differs from the rows (lists).
std::string build_file(const Column& col, const std::vector<Page>& pages, int64_t num_rows,
                       bool unknown_fields = false, std::optional<int64_t> entries = std::nullopt) {
    std::string data = "PAR1";
    std::optional<int64_t> dict_offset;
    int64_t data_offset = -1;
    for (const Page& p : pages) {
        if (p.type == parquet::DICTIONARY_PAGE) dict_offset = static_cast<int64_t>(data.size());
        if (p.type != parquet::DICTIONARY_PAGE && data_offset < 0)
            data_offset = static_cast<int64_t>(data.size());
        ThriftWriter h;
        h.i32(1, p.type);
        h.i32(2, static_cast<int64_t>(p.body.size()));
        h.i32(3, static_cast<int64_t>(p.body.size()));
        if (unknown_fields) h.i32(4, 0x1234);  // crc: known to parquet.thrift, unused by us
        if (p.type == parquet::DATA_PAGE) {
            h.begin_struct(5);
            h.i32(1, p.num_values), h.i32(2, p.encoding), h.i32(3, parquet::RLE),
                h.i32(4, parquet::RLE);
            if (unknown_fields) h.unknown_fields();
            h.end_struct();
        } else if (p.type == parquet::DICTIONARY_PAGE) {
            h.begin_struct(7);
            h.i32(1, p.num_values), h.i32(2, p.encoding);
            h.end_struct();
        } else {
            h.begin_struct(8);
            h.i32(1, p.num_values), h.i32(2, p.num_nulls), h.i32(3, p.num_values),
                h.i32(4, p.encoding);
            h.i32(5, p.levels_len), h.i32(6, 0), h.boolean(7, false);
            h.end_struct();
        }
        if (unknown_fields) h.unknown_fields();
        h.out += '\0';
        data += h.out + p.body;
    }
    const int64_t chunk_start = dict_offset.value_or(data_offset);
    ThriftWriter f;
    f.i32(1, 1);
    f.list(2, 12, 2);
    f.begin_element();
    f.str(4, "schema"), f.i32(5, 1);
    f.end_struct();
    f.begin_element();
    f.i32(1, col.type), f.i32(3, col.repetition), f.str(4, col.name);
    if (col.converted) f.i32(6, *col.converted);
    if (unknown_fields) f.unknown_fields();
    f.end_struct();
    f.i64(3, num_rows);
    f.list(4, 12, 1);
    f.begin_element();
    f.list(1, 12, 1);
    f.begin_element();
    f.i64(2, chunk_start);
    f.begin_struct(3);
    f.i32(1, col.type);
    f.list(2, 5, 1), f.zigzag(parquet::PLAIN);
    f.list(3, 8, 1), f.varint(col.name.size()), f.out += col.name;
    f.i32(4, parquet::UNCOMPRESSED), f.i64(5, entries.value_or(num_rows));
    f.i64(6, static_cast<int64_t>(data.size()) - chunk_start);
    f.i64(7, static_cast<int64_t>(data.size()) - chunk_start);
    f.i64(9, data_offset);
    if (dict_offset) f.i64(11, *dict_offset);
    f.end_struct();
    f.end_struct();  // ColumnChunk
    f.i64(2, 0), f.i64(3, num_rows);
    f.end_struct();  // RowGroup
    if (unknown_fields) {
        f.list(5, 12, 1);
        f.begin_element();
        f.str(1, "k"), f.str(2, "v");
        f.end_struct();
        f.unknown_fields();
    }
    f.out += '\0';
    const uint32_t n = static_cast<uint32_t>(f.out.size());
    return data + f.out + std::string(reinterpret_cast<const char*>(&n), 4) + "PAR1";
}

std::string le32(uint32_t v) {
    return std::string(reinterpret_cast<const char*>(&v), 4);
}
std::string le64(uint64_t v) {
    return std::string(reinterpret_cast<const char*>(&v), 8);
}
std::string byte_array(std::string_view s) {
    return le32(static_cast<uint32_t>(s.size())) + std::string(s);
}

TEST(ParquetHandBuilt, PlainInt32AndUnknownFieldsSkipped) {
    const Page page{.num_values = 3, .body = le32(1) + le32(static_cast<uint32_t>(-2)) + le32(3)};
    for (bool unknown : {false, true}) {
        const ParquetTable t =
            parse_parquet(as_bytes(build_file({}, {page}, 3, unknown)), "hand.parquet");
        ASSERT_EQ(t.num_rows, 3);
        ASSERT_EQ(t.columns.size(), 1u);
        EXPECT_EQ(t.columns[0].name, "v");
        EXPECT_EQ(t.columns[0].ints, (std::vector<int64_t>{1, -2, 3}));
        EXPECT_TRUE(t.columns[0].valid.empty());
        if (unknown) {
            ASSERT_EQ(t.metadata.size(), 1u);
            EXPECT_EQ(t.metadata[0], std::make_pair(std::string("k"), std::string("v")));
        }
    }
}

// Definition levels 1,0,1,1,0 as one bit-packed group: header (1 << 1) | 1, bits LSB first.
TEST(ParquetHandBuilt, OptionalInt64WithBitPackedLevels) {
    const std::string levels = std::string("\x03") + static_cast<char>(0b01101);
    const Page page{.num_values = 5,
                    .body = le32(static_cast<uint32_t>(levels.size())) + levels + le64(10) +
                            le64(20) + le64(30)};
    const Column col{.type = parquet::INT64, .repetition = parquet::OPTIONAL};
    const ParquetTable t = parse_parquet(as_bytes(build_file(col, {page}, 5)), "levels.parquet");
    EXPECT_EQ(t.columns[0].ints, (std::vector<int64_t>{10, 0, 20, 30, 0}));
    EXPECT_EQ(t.columns[0].valid, (std::vector<uint8_t>{1, 0, 1, 1, 0}));
}

// Levels as one RLE run (header 5 << 1, value 1): all present, so no validity vector.
TEST(ParquetHandBuilt, RleLevelsAllPresentAndPlainDoubles) {
    const std::string levels = "\x0a\x01";
    std::string values;
    for (double d : {0.5, -2.25, 1e300, 3.0, -0.0})
        values += std::string(reinterpret_cast<const char*>(&d), 8);
    const Page page{.num_values = 5, .body = le32(2) + levels + values};
    const Column col{.type = parquet::DOUBLE, .repetition = parquet::OPTIONAL};
    const ParquetTable t = parse_parquet(as_bytes(build_file(col, {page}, 5)), "rle.parquet");
    EXPECT_EQ(t.columns[0].doubles, (std::vector<double>{0.5, -2.25, 1e300, 3.0, -0.0}));
    EXPECT_TRUE(t.columns[0].valid.empty());
}

// Dictionary ["a", "bé"], indices 1,0,1,1 bit-packed at width 1 (bits 1011 -> 0x0d).
TEST(ParquetHandBuilt, DictionaryStringsAndPageV2) {
    const Page dict{.type = parquet::DICTIONARY_PAGE,
                    .num_values = 2,
                    .body = byte_array("a") + byte_array("bé")};
    const Page data{.num_values = 4, .encoding = parquet::RLE_DICTIONARY, .body = "\x01\x03\x0d"};
    const Column col{.type = parquet::BYTE_ARRAY, .converted = parquet::UTF8};
    const ParquetTable t =
        parse_parquet(as_bytes(build_file(col, {dict, data}, 4)), "dict.parquet");
    EXPECT_TRUE(t.columns[0].is_string);
    EXPECT_EQ(t.columns[0].strings, (std::vector<std::string>{"bé", "a", "bé", "bé"}));

    // The same values in a v2 page of an OPTIONAL column with a null in row 1: levels (RLE run of
    // 1 one, then of 1 zero, then of 2 ones) are outside the (here uncompressed) values.
    const std::string levels("\x02\x01\x02\x00\x04\x01", 6);
    const Page v2{.type = parquet::DATA_PAGE_V2,
                  .num_values = 4,
                  .encoding = parquet::RLE_DICTIONARY,
                  .body = levels + "\x01\x03\x05",
                  .num_nulls = 1,
                  .levels_len = 6};
    const Column opt{
        .type = parquet::BYTE_ARRAY, .repetition = parquet::OPTIONAL, .converted = parquet::UTF8};
    const ParquetTable t2 = parse_parquet(as_bytes(build_file(opt, {dict, v2}, 4)), "v2.parquet");
    EXPECT_EQ(t2.columns[0].strings, (std::vector<std::string>{"bé", "", "a", "bé"}));
    EXPECT_EQ(t2.columns[0].valid, (std::vector<uint8_t>{1, 0, 1, 1}));
}

TEST(ParquetHandBuilt, BooleansPlainBitPacked) {
    const Page page{.num_values = 10, .body = std::string("\x35\x02", 2)};  // 1010 1100 01
    const ParquetTable t =
        parse_parquet(as_bytes(build_file({.type = parquet::BOOLEAN}, {page}, 10)), "bool.parquet");
    EXPECT_EQ(t.columns[0].ints, (std::vector<int64_t>{1, 0, 1, 0, 1, 1, 0, 0, 0, 1}));
}

TEST(ParquetHandBuilt, UnsignedConvertedTypesZeroExtend) {
    const Page page{.num_values = 2, .body = le32(0xffffffffu) + le32(7)};
    const Column col{.type = parquet::INT32, .converted = parquet::UINT_32};
    const ParquetTable t = parse_parquet(as_bytes(build_file(col, {page}, 2)), "u32.parquet");
    EXPECT_EQ(t.columns[0].ints, (std::vector<int64_t>{4294967295LL, 7}));
}

TEST(ParquetHandBuilt, BadPagesAreErrors) {
    const Column utf8{.type = parquet::BYTE_ARRAY, .converted = parquet::UTF8};
    const Page dict{.type = parquet::DICTIONARY_PAGE,
                    .num_values = 2,
                    .body = byte_array("a") + byte_array("b")};
    // Values run out: 4 INT32s claimed, 12 bytes given.
    expect_error(build_file({}, {{.num_values = 4, .body = le32(1) + le32(2) + le32(3)}}, 4),
                 "short.parquet",
                 {"column 'v'", "row group 0", "page 0", "3 PLAIN INT32 values, expected 4"});
    // An RLE run of index 3 (width 2) into a 2-entry dictionary.
    expect_error(
        build_file(
            utf8,
            {dict, {.num_values = 2, .encoding = parquet::RLE_DICTIONARY, .body = "\x02\x04\x03"}},
            2),
        "index.parquet", {"page 1", "dictionary index 3 out of range"});
    // Dictionary-encoded without a dictionary page.
    expect_error(
        build_file(utf8,
                   {{.num_values = 2, .encoding = parquet::RLE_DICTIONARY, .body = "\x01\x04\x01"}},
                   2),
        "nodict.parquet", {"without a dictionary page"});
    // Indices run out: 5 values, one bit-packed group of 8 would need a byte that is not there.
    expect_error(
        build_file(
            utf8,
            {dict, {.num_values = 5, .encoding = parquet::RLE_DICTIONARY, .body = "\x01\x04\x01"}},
            5),
        "runout.parquet", {"dictionary indices run out"});
    // Invalid UTF-8 (a lone continuation byte; an overlong '/') in a UTF8 column.
    expect_error(build_file(utf8, {{.num_values = 1, .body = byte_array("ok\x80")}}, 1),
                 "utf8.parquet", {"not valid UTF-8"});
    expect_error(build_file(utf8, {{.num_values = 1, .body = byte_array("\xc0\xaf")}}, 1),
                 "overlong.parquet", {"not valid UTF-8"});
    expect_error(build_file(utf8, {{.num_values = 1, .body = byte_array("\xed\xa0\x80")}}, 1),
                 "surrogate.parquet", {"not valid UTF-8"});
    expect_error(
        build_file(utf8, {{.num_values = 1, .body = byte_array("abcdefgh\xf4\x90\x80\x80")}}, 1),
        "beyond.parquet", {"not valid UTF-8"});
    // ...which a plain BYTE_ARRAY column (binary) accepts as bytes.
    EXPECT_EQ(
        parse_parquet(as_bytes(build_file({.type = parquet::BYTE_ARRAY},
                                          {{.num_values = 1, .body = byte_array("ok\x80")}}, 1)),
                      "bin.parquet")
            .columns[0]
            .strings[0],
        "ok\x80");
    // A string length past the page.
    expect_error(build_file(utf8, {{.num_values = 1, .body = le32(100) + "abc"}}, 1), "len.parquet",
                 {"length 100 runs past the end of the page"});
    // Fewer values in the pages than rows in the row group.
    expect_error(build_file({}, {{.num_values = 1, .body = le32(1)}}, 2), "rows.parquet",
                 {"column chunk ends after 1 of 2 values"});
    // More values in a page than rows.
    expect_error(build_file({}, {{.num_values = 3, .body = le32(1) + le32(2) + le32(3)}}, 2),
                 "many.parquet", {"page holds 3 values but only 2 remain in the column chunk"});
    // Levels: a level of 2 in a flat column, and levels that run out.
    const Column opt{.type = parquet::INT32, .repetition = parquet::OPTIONAL};
    expect_error(
        build_file(opt, {{.num_values = 2, .body = le32(2) + std::string("\x04\x02", 2) + le32(1)}},
                   2),
        "level.parquet", {"definition levels: level 2 exceeds the maximum of 1"});
    expect_error(
        build_file(opt, {{.num_values = 4, .body = le32(2) + std::string("\x04\x01", 2) + le32(1)}},
                   4),
        "levels.parquet", {"definition levels run out"});
    // v2 header's null count disagrees with the levels.
    expect_error(build_file(opt,
                            {{.type = parquet::DATA_PAGE_V2,
                              .num_values = 2,
                              .body = std::string("\x04\x01", 2) + le32(5) + le32(6),
                              .num_nulls = 1,
                              .levels_len = 2}},
                            2),
                 "nulls.parquet", {"header says 1 nulls, levels give 0"});
    // Encodings we do not decode are named.
    expect_error(
        build_file({}, {{.num_values = 1, .encoding = parquet::BIT_PACKED, .body = le32(1)}}, 1),
        "bitpacked.parquet", {"unsupported encoding BIT_PACKED"});
    expect_error(build_file({}, {{.num_values = 1, .encoding = 42, .body = le32(1)}}, 1),
                 "enc42.parquet", {"unsupported encoding 42"});
    expect_error(build_file({.type = parquet::INT96}, {{.num_values = 1, .body = le32(1)}}, 1),
                 "int96.parquet", {"column 'v'", "unsupported physical type INT96"});
}

// A bare repeated INT32 (a list that is never null) holding [[1, 2], [], [3]]: level entries
// (rep, def) = (0,1) (1,1) (0,0) (0,1), each level stream one bit-packed group.
TEST(ParquetHandBuilt, RepeatedFieldIsAList) {
    const std::string rep = le32(2) + std::string("\x03\x02", 2);
    const std::string def = le32(2) + std::string("\x03\x0b", 2);
    const Column col{.type = parquet::INT32, .repetition = parquet::REPEATED};
    const Page page{.num_values = 4, .body = rep + def + le32(1) + le32(2) + le32(3)};
    const ParquetTable t =
        parse_parquet(as_bytes(build_file(col, {page}, 3, false, 4)), "repeated.parquet");
    ASSERT_TRUE(t.columns[0].is_list);
    EXPECT_EQ(t.columns[0].ints, (std::vector<int64_t>{1, 2, 3}));
    EXPECT_EQ(t.columns[0].offsets, (std::vector<int64_t>{0, 2, 2, 3}));
    EXPECT_TRUE(t.columns[0].valid.empty());

    // The first entry may not continue a list (rep 1,0,0,0 = 0x01).
    const Page bad{
        .num_values = 4,
        .body = le32(2) + std::string("\x03\x01", 2) + def + le32(1) + le32(2) + le32(3)};
    expect_error(build_file(col, {bad}, 3, false, 4), "continue.parquet",
                 {"level entry 0 continues a list"});
    // Three rows claimed, two lists present.
    expect_error(build_file(col, {page}, 4, false, 4), "fewlists.parquet",
                 {"column chunk holds 3 lists, row group has 4 rows"});
}

// Thrift nested past any real footer is refused before it can exhaust the stack.
TEST(ParquetHandBuilt, DeepThriftNestingIsAnError) {
    ThriftWriter f;
    for (int i = 0; i < 100000; ++i) f.begin_struct(99);
    const std::string footer = f.out;
    const std::string file = "PAR1" + footer + le32(static_cast<uint32_t>(footer.size())) + "PAR1";
    expect_error(file, "deep.parquet", {"footer", "nested deeper than"});
}

// ---------------------------------------------------------------------------------------------
// Unsupported features DuckDB writes.

TEST(ParquetUnsupported, NamedInTheError) {
    const std::pair<const char*, const char*> cases[] = {
        {"unsupported_struct", "unsupported: repeated/nested column 'pair'"},
        {"unsupported_nested_list", "unsupported: repeated/nested column 'grid'"},
        {"unsupported_null_element",
         "column 'pair': row group 0: page 0 at offset 4: unsupported: null element in list column "
         "'pair'"},
        {"unsupported_decimal", "column 'price': unsupported logical type DECIMAL"},
        {"unsupported_brotli",
         "column 'id': row group 0: page 0 at offset 4: unsupported codec BROTLI"},
    };
    for (const auto& [name, words] : cases) {
        const fs::path p = fixture_dir() / (std::string(name) + ".parquet");
        try {
            read_parquet(p);
            ADD_FAILURE() << name << ": read succeeded";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find(p.string() + ": "), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Corrupt variants of a real file.

class ParquetCorrupt : public ::testing::Test {
  protected:
    void SetUp() override { good_ = read_bytes(fixture_dir() / "all_types_snappy_v1.parquet"); }
    uint32_t footer_len() const {
        uint32_t n;
        std::memcpy(&n, good_.data() + good_.size() - 8, 4);
        return n;
    }
    std::string good_;
};

TEST_F(ParquetCorrupt, TruncatedAnywhereIsAnError) {
    const size_t n = good_.size();
    for (size_t len : {size_t{0}, size_t{3}, size_t{4}, size_t{11}, size_t{12}, n / 3, n / 2, n - 9,
                       n - 8, n - 4, n - 1})
        expect_error(good_.substr(0, len), "cut_" + std::to_string(len) + ".parquet", {});
    expect_error(good_.substr(0, 5), "tiny.parquet", {"too small to be a Parquet file (5 bytes)"});
    expect_error(good_.substr(0, n - 1), "cut.parquet", {"bad magic at offset"});
}

TEST_F(ParquetCorrupt, BadMagicAndFooterLength) {
    std::string bad = good_;
    bad[0] = 'X';
    expect_error(bad, "magic.parquet", {"bad magic at offset 0"});
    bad = good_;
    const uint32_t too_long = static_cast<uint32_t>(good_.size());
    std::memcpy(bad.data() + bad.size() - 8, &too_long, 4);
    expect_error(bad, "footer.parquet",
                 {"footer length " + std::to_string(too_long), "runs past the start"});
    // A footer length off by a few bytes makes the Thrift parse start in the wrong place.
    for (int delta : {-3, -1, 1, 7}) {
        bad = good_;
        const uint32_t len = footer_len() + static_cast<uint32_t>(delta);
        std::memcpy(bad.data() + bad.size() - 8, &len, 4);
        expect_error(bad, "footer_" + std::to_string(delta) + ".parquet", {});
    }
}

// Flipping any single footer byte either still decodes (a statistic, a name) or is an ft::Error
// naming the file; never a crash. Most flips must be caught.
TEST_F(ParquetCorrupt, FlippedFooterBytes) {
    const size_t start = good_.size() - 8 - footer_len();
    int errors = 0, total = 0;
    for (size_t i = start; i < good_.size() - 8; ++i) {
        for (uint8_t mask : {uint8_t{0xff}, uint8_t{0x01}, uint8_t{0x80}}) {
            std::string bad = good_;
            bad[i] = static_cast<char>(bad[i] ^ mask);
            ++total;
            try {
                parse_parquet(as_bytes(bad), "flip.parquet");
            } catch (const Error& e) {
                ++errors;
                ASSERT_NE(std::string(e.what()).find("flip.parquet: "), std::string::npos)
                    << e.what();
            }
        }
    }
    EXPECT_GT(errors, total / 4) << errors << " of " << total;
}

// Flipped bytes in the column data (pages, compressed or not) likewise.
TEST_F(ParquetCorrupt, FlippedPageBytes) {
    for (const char* name :
         {"all_types_uncompressed_v1", "all_types_zstd_v2", "all_types_gzip_v1"}) {
        const std::string file = read_bytes(fixture_dir() / (std::string(name) + ".parquet"));
        uint32_t flen;
        std::memcpy(&flen, file.data() + file.size() - 8, 4);
        const size_t data_end = file.size() - 8 - flen;
        int errors = 0;
        for (size_t i = 4; i < data_end; i += 7) {
            std::string bad = file;
            bad[i] = static_cast<char>(bad[i] ^ 0x5a);
            try {
                parse_parquet(as_bytes(bad), name);
            } catch (const Error& e) {
                ++errors;
                ASSERT_NE(std::string(e.what()).find(name), std::string::npos) << e.what();
            }
        }
        EXPECT_GT(errors, 0) << name;
    }
}

}  // namespace
}  // namespace ft::data
