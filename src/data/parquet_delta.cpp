// The Parquet encodings newer writers choose for high-cardinality columns (DuckDB and Arrow with
// format v2): DELTA_BINARY_PACKED integers, DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY strings,
// BYTE_STREAM_SPLIT floats. Header counts are checked against the page before anything is sized.
#include <cstring>
#include <limits>

#include "data/parquet_pages.h"
#include "data/parquet_thrift.h"
#include "finetune/core.h"

namespace ft::data::parquet {
namespace {

[[noreturn]] void fail(const std::string& where, const std::string& msg) {
    throw Error(where + ": " + msg);
}

class ByteCursor {
  public:
    ByteCursor(std::span<const uint8_t> data, const std::string& where, const char* what)
        : data_(data), where_(where), what_(what) {}

    size_t pos() const { return pos_; }
    size_t remaining() const { return data_.size() - pos_; }
    const uint8_t* here() const { return data_.data() + pos_; }

    uint64_t varint() {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos_ >= data_.size())
                fail(where_, std::string(what_) + ": header past the end of the page");
            const uint8_t b = data_[pos_++];
            v |= static_cast<uint64_t>(b & 0x7f) << shift;
            if (!(b & 0x80)) return v;
        }
        fail(where_, std::string(what_) + ": varint longer than 10 bytes");
    }
    int64_t zigzag() {
        const uint64_t v = varint();
        return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
    }
    // Advances by up to n bytes (the last miniblock of a page may be cut short by some writers).
    void skip_up_to(uint64_t n) { pos_ += static_cast<size_t>(std::min<uint64_t>(n, remaining())); }

  private:
    std::span<const uint8_t> data_;
    size_t pos_ = 0;
    const std::string& where_;
    const char* what_;
};

// `width` (0..64) bits starting at bit `bit` of p[0..size), LSB first; bits past size read as 0
// (the caller has checked that the value's bits are present where it matters).
uint64_t read_bits(const uint8_t* p, size_t size, uint64_t bit, int width) {
    if (width == 0) return 0;
    const size_t byte = static_cast<size_t>(bit >> 3);
    const int shift = static_cast<int>(bit & 7);
    uint64_t lo = 0;
    if (byte + 8 <= size) {
        std::memcpy(&lo, p + byte, 8);
    } else {
        for (size_t k = 0; byte + k < size && k < 8; ++k)
            lo |= static_cast<uint64_t>(p[byte + k]) << (8 * k);
    }
    uint64_t v = lo >> shift;
    if (shift + width > 64) {  // the value spills into a ninth byte
        const uint64_t hi = byte + 8 < size ? p[byte + 8] : 0;
        v |= hi << (64 - shift);
    }
    return width == 64 ? v : v & ((uint64_t{1} << width) - 1);
}

// Decodes a whole DELTA_BINARY_PACKED stream (which must hold exactly `expected` values) from the
// cursor; values wrap in 64 bits as the spec's two's complement arithmetic does.
void delta_values(ByteCursor& c, size_t expected, std::vector<int64_t>* out,
                  const std::string& where) {
    const uint64_t block_size = c.varint();
    const uint64_t miniblocks = c.varint();
    const uint64_t total = c.varint();
    uint64_t value = static_cast<uint64_t>(c.zigzag());
    if (block_size == 0 || block_size % 128 != 0 || miniblocks == 0 ||
        block_size % miniblocks != 0 || (block_size / miniblocks) % 32 != 0 ||
        block_size > (1u << 20))
        fail(where, "DELTA_BINARY_PACKED: bad block size " + std::to_string(block_size) + " / " +
                        std::to_string(miniblocks) + " miniblocks");
    if (total != expected)
        fail(where, "DELTA_BINARY_PACKED holds " + std::to_string(total) + " values, expected " +
                        std::to_string(expected));
    const uint64_t per_miniblock = block_size / miniblocks;
    if (total == 0) return;
    out->push_back(static_cast<int64_t>(value));
    uint64_t left = total - 1;
    while (left > 0) {
        const uint64_t min_delta = static_cast<uint64_t>(c.zigzag());
        if (c.remaining() < miniblocks)
            fail(where, "DELTA_BINARY_PACKED: miniblock bit widths past the end of the page");
        const uint8_t* widths = c.here();
        c.skip_up_to(miniblocks);
        for (uint64_t m = 0; m < miniblocks && left > 0; ++m) {
            const int width = widths[m];
            if (width > 64) fail(where, "DELTA_BINARY_PACKED: bit width " + std::to_string(width));
            const uint64_t take = std::min(left, per_miniblock);
            const uint64_t bytes = per_miniblock * static_cast<uint64_t>(width) / 8;
            if ((take * static_cast<uint64_t>(width) + 7) / 8 > c.remaining())
                fail(where, "DELTA_BINARY_PACKED: values run out before the page does");
            const uint8_t* p = c.here();
            const size_t size = static_cast<size_t>(std::min<uint64_t>(bytes, c.remaining()));
            for (uint64_t i = 0; i < take; ++i) {
                value += min_delta + read_bits(p, size, i * static_cast<uint64_t>(width), width);
                out->push_back(static_cast<int64_t>(value));
            }
            c.skip_up_to(bytes);
            left -= take;
        }
    }
}

// Lengths (DELTA_BINARY_PACKED) then the concatenated bytes; returns views into `data`.
size_t delta_length_strings(std::span<const uint8_t> data, size_t n,
                            std::vector<std::string_view>* out, const std::string& where) {
    ByteCursor c(data, where, "DELTA_LENGTH_BYTE_ARRAY");
    std::vector<int64_t> lengths;
    delta_values(c, n, &lengths, where);
    size_t pos = c.pos();
    for (size_t i = 0; i < n; ++i) {
        const int64_t len = lengths[i];
        if (len < 0 || static_cast<uint64_t>(len) > data.size() - pos)
            fail(where, "DELTA_LENGTH_BYTE_ARRAY value " + std::to_string(i) + ": length " +
                            std::to_string(len) + " runs past the end of the page");
        out->emplace_back(reinterpret_cast<const char*>(data.data() + pos),
                          static_cast<size_t>(len));
        pos += static_cast<size_t>(len);
    }
    return pos;
}

}  // namespace

void decode_delta_binary_packed(int32_t physical_type, std::span<const uint8_t> data, size_t n,
                                DenseValues* out, const std::string& where) {
    if (physical_type != INT32 && physical_type != INT64)
        fail(where,
             "unsupported encoding DELTA_BINARY_PACKED for " + physical_type_name(physical_type));
    ByteCursor c(data, where, "DELTA_BINARY_PACKED");
    const size_t first = out->ints.size();
    delta_values(c, n, &out->ints, where);
    if (physical_type == INT32)  // the 64-bit sums wrap like the writer's 32-bit ones
        for (size_t i = first; i < out->ints.size(); ++i)
            out->ints[i] = static_cast<int32_t>(static_cast<uint32_t>(out->ints[i]));
}

void decode_delta_length_byte_array(std::span<const uint8_t> data, size_t n, DenseValues* out,
                                    const std::string& where) {
    delta_length_strings(data, n, &out->strings, where);
}

void decode_delta_byte_array(std::span<const uint8_t> data, size_t n, uint64_t max_bytes,
                             std::string* owned, DenseValues* out, const std::string& where) {
    ByteCursor c(data, where, "DELTA_BYTE_ARRAY");
    std::vector<int64_t> prefixes;
    delta_values(c, n, &prefixes, where);
    std::vector<std::string_view> suffixes;
    delta_length_strings(data.subspan(c.pos()), n, &suffixes, where);
    // Sizes first (each prefix at most the previous value's length), so one allocation holds all.
    uint64_t total = 0, prev = 0;
    for (size_t i = 0; i < n; ++i) {
        if (prefixes[i] < 0 || static_cast<uint64_t>(prefixes[i]) > prev)
            fail(where, "DELTA_BYTE_ARRAY value " + std::to_string(i) + ": prefix length " +
                            std::to_string(prefixes[i]) + " exceeds the previous value's " +
                            std::to_string(prev));
        prev = static_cast<uint64_t>(prefixes[i]) + suffixes[i].size();
        total += prev;
        if (total > max_bytes)
            fail(where, "DELTA_BYTE_ARRAY strings exceed the limit of " +
                            std::to_string(max_bytes) + " bytes");
    }
    owned->resize(static_cast<size_t>(total));
    char* dst = owned->data();
    const char* prev_value = dst;
    for (size_t i = 0; i < n; ++i) {
        const size_t prefix = static_cast<size_t>(prefixes[i]);
        std::memmove(dst, prev_value, prefix);
        std::memcpy(dst + prefix, suffixes[i].data(), suffixes[i].size());
        out->strings.emplace_back(dst, prefix + suffixes[i].size());
        prev_value = dst;
        dst += prefix + suffixes[i].size();
    }
}

void decode_byte_stream_split(int32_t physical_type, std::span<const uint8_t> data, size_t n,
                              DenseValues* out, const std::string& where) {
    size_t width = 0;
    switch (physical_type) {
        case INT32:
        case FLOAT:
            width = 4;
            break;
        case INT64:
        case DOUBLE:
            width = 8;
            break;
        default:
            fail(where,
                 "unsupported encoding BYTE_STREAM_SPLIT for " + physical_type_name(physical_type));
    }
    if (data.size() % width != 0 || data.size() / width != n)
        fail(where, "BYTE_STREAM_SPLIT page of " + std::to_string(data.size()) +
                        " bytes does not hold " + std::to_string(n) + " values of " +
                        std::to_string(width) + " bytes");
    // Byte k of value i sits in stream k: data[k * n + i].
    uint8_t bytes[8];
    for (size_t i = 0; i < n; ++i) {
        for (size_t k = 0; k < width; ++k) bytes[k] = data[k * n + i];
        switch (physical_type) {
            case INT32: {
                int32_t v;
                std::memcpy(&v, bytes, 4);
                out->ints.push_back(v);
                break;
            }
            case INT64: {
                int64_t v;
                std::memcpy(&v, bytes, 8);
                out->ints.push_back(v);
                break;
            }
            case FLOAT: {
                float v;
                std::memcpy(&v, bytes, 4);
                out->doubles.push_back(v);
                break;
            }
            default: {
                double v;
                std::memcpy(&v, bytes, 8);
                out->doubles.push_back(v);
            }
        }
    }
}

}  // namespace ft::data::parquet
