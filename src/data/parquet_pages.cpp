// Page-level decoding for the Parquet reader: codecs through the libraries (snappy, zlib, zstd),
// the RLE/bit-packed hybrid, PLAIN values and UTF-8 checks. All reads are bounds-checked; a page
// that ends before its values do is an ft::Error, never a read past the page.
#include "data/parquet_pages.h"

#include <snappy.h>
#include <utf8proc.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "data/parquet_thrift.h"
#include "finetune/core.h"

namespace ft::data::parquet {

static_assert(std::endian::native == std::endian::little, "Parquet decoding assumes little-endian");

namespace {

// Writers keep pages near 1 MiB; a page claiming more than this is corrupt or hostile.
constexpr size_t MAX_PAGE_BYTES = size_t{1} << 30;
// Deflate cannot expand more than about 1032:1, so a larger claim is a lie we need not allocate.
constexpr size_t DEFLATE_MAX_RATIO = 1032;

[[noreturn]] void fail(const std::string& where, const std::string& msg) {
    throw Error(where + ": " + msg);
}

uint32_t load_u32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, 4);
    return v;
}

void inflate_gzip(std::span<const uint8_t> in, uint8_t* out, size_t out_size,
                  const std::string& where) {
    z_stream zs{};
    // 15 + 32: a zlib or gzip header, detected automatically (writers differ).
    if (inflateInit2(&zs, 15 + 32) != Z_OK) fail(where, "GZIP: inflateInit failed");
    zs.next_in = const_cast<Bytef*>(in.data());
    zs.avail_in = static_cast<uInt>(in.size());
    zs.next_out = out;
    zs.avail_out = static_cast<uInt>(out_size);
    const int rc = inflate(&zs, Z_FINISH);
    const size_t produced = out_size - zs.avail_out;
    const std::string msg = zs.msg ? zs.msg : "";
    inflateEnd(&zs);
    if (rc != Z_STREAM_END) {
        if (rc == Z_BUF_ERROR && zs.avail_out == 0)
            fail(where, "GZIP data inflates past the page's size of " + std::to_string(out_size));
        fail(where, "GZIP decompression failed (zlib " + std::to_string(rc) +
                        (msg.empty() ? "" : ": " + msg) + ")");
    }
    if (produced != out_size)
        fail(where, "GZIP data inflates to " + std::to_string(produced) + " bytes, page says " +
                        std::to_string(out_size));
}

}  // namespace

PageBytes PageBytes::borrow(std::span<const uint8_t> view) {
    PageBytes p;
    p.view_ = view;
    return p;
}

PageBytes PageBytes::allocate(size_t size) {
    PageBytes p;
    p.owned_.reset(new uint8_t[size == 0 ? 1 : size]);
    p.view_ = {p.owned_.get(), size};
    return p;
}

PageBytes decompress(int32_t codec, std::span<const uint8_t> in, size_t uncompressed_size,
                     const std::string& where) {
    if (uncompressed_size > MAX_PAGE_BYTES)
        fail(where, "uncompressed page size " + std::to_string(uncompressed_size) +
                        " exceeds the limit of " + std::to_string(MAX_PAGE_BYTES));
    switch (codec) {
        case UNCOMPRESSED:
            if (in.size() != uncompressed_size)
                fail(where, "uncompressed page has " + std::to_string(in.size()) +
                                " bytes but its header says " + std::to_string(uncompressed_size));
            return PageBytes::borrow(in);
        case SNAPPY: {
            const char* src = reinterpret_cast<const char*>(in.data());
            size_t n = 0;
            if (!snappy::GetUncompressedLength(src, in.size(), &n))
                fail(where, "SNAPPY: corrupt length header");
            if (n != uncompressed_size)
                fail(where, "SNAPPY data decompresses to " + std::to_string(n) +
                                " bytes, page says " + std::to_string(uncompressed_size));
            PageBytes out = PageBytes::allocate(n);
            if (!snappy::RawUncompress(src, in.size(), reinterpret_cast<char*>(out.writable())))
                fail(where, "SNAPPY decompression failed");
            return out;
        }
        case GZIP: {
            if (uncompressed_size > in.size() * DEFLATE_MAX_RATIO + 1024)
                fail(where, "GZIP page claims " + std::to_string(uncompressed_size) +
                                " bytes from " + std::to_string(in.size()) +
                                ", more than deflate can expand");
            PageBytes out = PageBytes::allocate(uncompressed_size);
            inflate_gzip(in, out.writable(), uncompressed_size, where);
            return out;
        }
        case ZSTD: {
            const unsigned long long content = ZSTD_getFrameContentSize(in.data(), in.size());
            if (content == ZSTD_CONTENTSIZE_ERROR) fail(where, "ZSTD: not a zstd frame");
            if (content != ZSTD_CONTENTSIZE_UNKNOWN && content != uncompressed_size)
                fail(where, "ZSTD data decompresses to " + std::to_string(content) +
                                " bytes, page says " + std::to_string(uncompressed_size));
            PageBytes out = PageBytes::allocate(uncompressed_size);
            const size_t rc =
                ZSTD_decompress(out.writable(), uncompressed_size, in.data(), in.size());
            if (ZSTD_isError(rc))
                fail(where, std::string("ZSTD decompression failed: ") + ZSTD_getErrorName(rc));
            if (rc != uncompressed_size)
                fail(where, "ZSTD data decompresses to " + std::to_string(rc) +
                                " bytes, page says " + std::to_string(uncompressed_size));
            return out;
        }
        default:
            fail(where, "unsupported codec " + codec_name(codec));
    }
}

// ---------------------------------------------------------------------------------------------

RleBitPackedDecoder::RleBitPackedDecoder(std::span<const uint8_t> data, int bit_width,
                                         const std::string& where, const char* what)
    : data_(data), bit_width_(bit_width), where_(where), what_(what) {
    if (bit_width < 0 || bit_width > 32)
        fail(where_, std::string(what_) + ": bit width " + std::to_string(bit_width) +
                         " out of range 0..32");
}

void RleBitPackedDecoder::next_run() {
    uint64_t header = 0;
    for (int shift = 0;; shift += 7) {
        if (pos_ >= data_.size())
            fail(where_, std::string(what_) + " run out before all values were read");
        if (shift >= 64) fail(where_, std::string(what_) + ": run header varint too long");
        const uint8_t b = data_[pos_++];
        header |= static_cast<uint64_t>(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
    }
    const uint64_t count = header >> 1;
    if (header & 1) {
        // count groups of 8 values, bit_width bytes per group. Writers may end the last group
        // early, so only the values whose bits are present can be read.
        if (count > (uint64_t{1} << 32))
            fail(where_, std::string(what_) + ": bit-packed run of " + std::to_string(count) +
                             " groups is implausible");
        const uint64_t bytes = count * static_cast<uint64_t>(bit_width_);
        const size_t avail = static_cast<size_t>(std::min<uint64_t>(bytes, data_.size() - pos_));
        packed_ = data_.subspan(pos_, avail);
        pos_ += avail;
        packed_index_ = 0;
        run_is_packed_ = true;
        run_left_ =
            bit_width_ == 0 ? count * 8 : std::min<uint64_t>(count * 8, avail * 8 / bit_width_);
    } else {
        const size_t value_bytes = static_cast<size_t>((bit_width_ + 7) / 8);
        if (data_.size() - pos_ < value_bytes)
            fail(where_, std::string(what_) + ": RLE run value past the end of the data");
        uint32_t v = 0;
        for (size_t i = 0; i < value_bytes; ++i)
            v |= static_cast<uint32_t>(data_[pos_ + i]) << (8 * i);
        pos_ += value_bytes;
        run_value_ = v;
        run_is_packed_ = false;
        run_left_ = count;
    }
}

void RleBitPackedDecoder::decode(uint32_t* out, size_t n) {
    const uint64_t mask = bit_width_ == 32 ? 0xffffffffu : (uint64_t{1} << bit_width_) - 1;
    while (n > 0) {
        if (run_left_ == 0) {
            next_run();
            continue;
        }
        const size_t take = static_cast<size_t>(std::min<uint64_t>(n, run_left_));
        if (!run_is_packed_) {
            std::fill(out, out + take, run_value_);
        } else if (bit_width_ == 0) {
            std::fill(out, out + take, 0u);
        } else {
            const uint8_t* p = packed_.data();
            const size_t size = packed_.size();
            for (size_t i = 0; i < take; ++i) {
                const uint64_t bit = (packed_index_ + i) * static_cast<uint64_t>(bit_width_);
                const size_t byte = static_cast<size_t>(bit >> 3);
                uint64_t word = 0;
                if (byte + 8 <= size) {
                    std::memcpy(&word, p + byte, 8);
                } else {
                    for (size_t k = 0; byte + k < size; ++k)
                        word |= static_cast<uint64_t>(p[byte + k]) << (8 * k);
                }
                out[i] = static_cast<uint32_t>((word >> (bit & 7)) & mask);
            }
            packed_index_ += take;
        }
        run_left_ -= take;
        out += take;
        n -= take;
    }
}

// ---------------------------------------------------------------------------------------------

namespace {

void levels_to_bytes(RleBitPackedDecoder& dec, size_t n, int max_level, uint8_t* out,
                     const std::string& where, const char* what) {
    constexpr size_t CHUNK = 1024;
    uint32_t tmp[CHUNK];
    for (size_t done = 0; done < n;) {
        const size_t take = std::min(CHUNK, n - done);
        dec.decode(tmp, take);
        for (size_t i = 0; i < take; ++i) {
            if (tmp[i] > static_cast<uint32_t>(max_level))
                fail(where, std::string(what) + ": level " + std::to_string(tmp[i]) +
                                " exceeds the maximum of " + std::to_string(max_level));
            out[done + i] = static_cast<uint8_t>(tmp[i]);
        }
        done += take;
    }
}

int level_bit_width(int max_level) {
    return static_cast<int>(std::bit_width(static_cast<unsigned>(max_level)));
}

}  // namespace

size_t decode_levels_v1(std::span<const uint8_t> data, size_t n, int max_level, uint8_t* out,
                        const std::string& where, const char* what) {
    if (data.size() < 4)
        fail(where, std::string(what) + ": length prefix past the end of the page");
    const uint32_t len = load_u32(data.data());
    if (len > data.size() - 4)
        fail(where, std::string(what) + ": length " + std::to_string(len) + " runs past the page");
    RleBitPackedDecoder dec(data.subspan(4, len), level_bit_width(max_level), where, what);
    levels_to_bytes(dec, n, max_level, out, where, what);
    return 4 + static_cast<size_t>(len);
}

void decode_levels_v2(std::span<const uint8_t> data, size_t n, int max_level, uint8_t* out,
                      const std::string& where, const char* what) {
    RleBitPackedDecoder dec(data, level_bit_width(max_level), where, what);
    levels_to_bytes(dec, n, max_level, out, where, what);
}

void decode_plain(int32_t physical_type, std::span<const uint8_t> data, size_t n, DenseValues* out,
                  const std::string& where) {
    auto need = [&](size_t width) {
        if (n > data.size() / width)
            fail(where, "page holds " + std::to_string(data.size() / width) + " PLAIN " +
                            physical_type_name(physical_type) + " values, expected " +
                            std::to_string(n));
    };
    const uint8_t* p = data.data();
    switch (physical_type) {
        case BOOLEAN:
            if (n > data.size() * 8)
                fail(where, "page holds " + std::to_string(data.size() * 8) +
                                " PLAIN BOOLEAN values, expected " + std::to_string(n));
            for (size_t i = 0; i < n; ++i) out->ints.push_back((p[i >> 3] >> (i & 7)) & 1);
            return;
        case INT32:
            need(4);
            for (size_t i = 0; i < n; ++i) {
                int32_t v;
                std::memcpy(&v, p + 4 * i, 4);
                out->ints.push_back(v);
            }
            return;
        case INT64:
            need(8);
            for (size_t i = 0; i < n; ++i) {
                int64_t v;
                std::memcpy(&v, p + 8 * i, 8);
                out->ints.push_back(v);
            }
            return;
        case FLOAT:
            need(4);
            for (size_t i = 0; i < n; ++i) {
                float v;
                std::memcpy(&v, p + 4 * i, 4);
                out->doubles.push_back(v);
            }
            return;
        case DOUBLE:
            need(8);
            for (size_t i = 0; i < n; ++i) {
                double v;
                std::memcpy(&v, p + 8 * i, 8);
                out->doubles.push_back(v);
            }
            return;
        case BYTE_ARRAY: {
            size_t pos = 0;
            for (size_t i = 0; i < n; ++i) {
                if (data.size() - pos < 4)
                    fail(where, "PLAIN BYTE_ARRAY value " + std::to_string(i) + " of " +
                                    std::to_string(n) + ": length past the end of the page");
                const uint32_t len = load_u32(p + pos);
                pos += 4;
                if (len > data.size() - pos)
                    fail(where, "PLAIN BYTE_ARRAY value " + std::to_string(i) + ": length " +
                                    std::to_string(len) + " runs past the end of the page");
                out->strings.emplace_back(reinterpret_cast<const char*>(p + pos), len);
                pos += len;
            }
            return;
        }
        default:
            fail(where, "unsupported physical type " + physical_type_name(physical_type));
    }
}

void decode_rle_booleans(std::span<const uint8_t> data, size_t n, DenseValues* out,
                         const std::string& where) {
    if (data.size() < 4) fail(where, "RLE booleans: length prefix past the end of the page");
    const uint32_t len = load_u32(data.data());
    if (len > data.size() - 4)
        fail(where, "RLE booleans: length " + std::to_string(len) + " runs past the page");
    RleBitPackedDecoder dec(data.subspan(4, len), 1, where, "RLE booleans");
    for (size_t i = 0; i < n; ++i) {
        uint32_t v;
        dec.decode(&v, 1);
        out->ints.push_back(v);
    }
}

void decode_dictionary_indices(std::span<const uint8_t> data, size_t n, size_t dictionary_size,
                               std::vector<uint32_t>* out, const std::string& where) {
    out->resize(n);
    if (n == 0) return;
    if (data.empty()) fail(where, "dictionary indices: missing bit width");
    RleBitPackedDecoder dec(data.subspan(1), data[0], where, "dictionary indices");
    dec.decode(out->data(), n);
    for (size_t i = 0; i < n; ++i)
        if ((*out)[i] >= dictionary_size)
            fail(where, "dictionary index " + std::to_string((*out)[i]) +
                            " out of range (dictionary has " + std::to_string(dictionary_size) +
                            " entries)");
}

bool is_valid_utf8(std::string_view s) {
    const auto* p = reinterpret_cast<const uint8_t*>(s.data());
    size_t i = 0;
    const size_t n = s.size();
    while (i < n) {
        // Eight ASCII bytes at a time: dataset text is mostly ASCII.
        if (i + 8 <= n) {
            uint64_t word;
            std::memcpy(&word, p + i, 8);
            if ((word & 0x8080808080808080ull) == 0) {
                i += 8;
                continue;
            }
        }
        if (p[i] < 0x80) {
            ++i;
            continue;
        }
        utf8proc_int32_t cp;
        const utf8proc_ssize_t len =
            utf8proc_iterate(p + i, static_cast<utf8proc_ssize_t>(n - i), &cp);
        if (len <= 0 || !utf8proc_codepoint_valid(cp)) return false;
        i += static_cast<size_t>(len);
    }
    return true;
}

}  // namespace ft::data::parquet
