// The inside of a Parquet page: codecs, the RLE/bit-packed hybrid (levels, dictionary indices,
// booleans) and PLAIN values. Every function takes `where` (file, column, row group, page) and
// throws ft::Error prefixed with it when the bytes are malformed or run out.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ft::data::parquet {

// A decompressed page (or a view of an uncompressed one, without a copy).
class PageBytes {
  public:
    std::span<const uint8_t> bytes() const { return view_; }
    static PageBytes borrow(std::span<const uint8_t> view);
    static PageBytes allocate(size_t size);
    uint8_t* writable() { return owned_.get(); }

  private:
    std::unique_ptr<uint8_t[]> owned_;  // uninitialised: the codec overwrites every byte
    std::span<const uint8_t> view_;
};

// Decompresses `in` (codec numbered as in parquet.thrift) into exactly `uncompressed_size` bytes;
// a different size, a codec failure or an unsupported codec is an ft::Error naming it.
PageBytes decompress(int32_t codec, std::span<const uint8_t> in, size_t uncompressed_size,
                     const std::string& where);

// The RLE / bit-packed hybrid of the Parquet spec, for values of `bit_width` (0..32) bits.
class RleBitPackedDecoder {
  public:
    RleBitPackedDecoder(std::span<const uint8_t> data, int bit_width, const std::string& where,
                        const char* what);
    // Writes the next n values; throws when the runs end first.
    void decode(uint32_t* out, size_t n);

  private:
    void next_run();

    std::span<const uint8_t> data_;
    size_t pos_ = 0;
    int bit_width_;
    const std::string& where_;
    const char* what_;  // "definition levels", "dictionary indices", ...
    uint64_t run_left_ = 0;
    bool run_is_packed_ = false;
    uint32_t run_value_ = 0;           // RLE run
    std::span<const uint8_t> packed_;  // bit-packed run
    uint64_t packed_index_ = 0;
};

// Repetition or definition levels (0..max_level) of a DATA_PAGE (v1): RLE with a 4-byte length
// prefix; returns the bytes consumed from `data`. `what` names them in messages.
size_t decode_levels_v1(std::span<const uint8_t> data, size_t n, int max_level, uint8_t* out,
                        const std::string& where, const char* what);
// The same without the prefix (DATA_PAGE_V2 gives the length in the header).
void decode_levels_v2(std::span<const uint8_t> data, size_t n, int max_level, uint8_t* out,
                      const std::string& where, const char* what);

// Values of one page in value order (nulls not included), before they are spread into rows.
struct DenseValues {
    std::vector<int64_t> ints;
    std::vector<double> doubles;
    std::vector<std::string_view> strings;  // views into the page or the dictionary
    void clear() {
        ints.clear();
        doubles.clear();
        strings.clear();
    }
};

// Appends n PLAIN values of `physical_type` from `data` to `out`.
void decode_plain(int32_t physical_type, std::span<const uint8_t> data, size_t n, DenseValues* out,
                  const std::string& where);
// Booleans in the RLE encoding (4-byte length, then the hybrid with bit width 1).
void decode_rle_booleans(std::span<const uint8_t> data, size_t n, DenseValues* out,
                         const std::string& where);
// Dictionary indices (1-byte bit width, then the hybrid); each checked < dictionary_size.
void decode_dictionary_indices(std::span<const uint8_t> data, size_t n, size_t dictionary_size,
                               std::vector<uint32_t>* out, const std::string& where);

// The DELTA_* and BYTE_STREAM_SPLIT encodings (parquet_delta.cpp). Each appends exactly n values
// and requires the page to encode exactly n. DELTA_BYTE_ARRAY rebuilds its strings (prefix +
// suffix) into *owned, which out->strings then views; their total size may not exceed max_bytes.
void decode_delta_binary_packed(int32_t physical_type, std::span<const uint8_t> data, size_t n,
                                DenseValues* out, const std::string& where);
void decode_delta_length_byte_array(std::span<const uint8_t> data, size_t n, DenseValues* out,
                                    const std::string& where);
void decode_delta_byte_array(std::span<const uint8_t> data, size_t n, uint64_t max_bytes,
                             std::string* owned, DenseValues* out, const std::string& where);
void decode_byte_stream_split(int32_t physical_type, std::span<const uint8_t> data, size_t n,
                              DenseValues* out, const std::string& where);

// Strict UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool is_valid_utf8(std::string_view s);

}  // namespace ft::data::parquet
