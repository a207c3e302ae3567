// GPT-2's byte-level BPE, the model under RoBERTa's tokenizer: the byte <-> character map, the
// GPT-2 pre-tokenization regex (written out by hand over utf8proc's categories), BPE merges by
// rank with a per-thread cache of words already merged, and the byte-level decode.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ft {

// GPT-2's reversible map from bytes to printable characters: the printable Latin-1 bytes stand
// for themselves, the other 68 bytes for U+0100.. in byte order.
int32_t byte_to_char(uint8_t byte);
// The byte a character stands for, or -1 for a character outside the map.
int byte_of_char(int32_t cp);
// `bytes` spelled in the map's characters (UTF-8), as vocab.json and merges.txt spell tokens.
std::string bytes_to_byte_level(std::string_view bytes);

// Unicode's White_Space property (Python's str.isspace() less U+001C..U+001F), what the pattern's
// \s and an added token's lstrip / rstrip take.
bool is_white_space(int32_t cp);

// Splits valid UTF-8 into pieces as the GPT-2 pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// does, \s being Unicode's White_Space. Appends each piece's [begin, end) byte offsets.
void split_gpt2_pieces(std::string_view text, std::vector<std::pair<uint32_t, uint32_t>>* pieces);

// Appends the text that byte-level tokens stand for: each token's characters become their bytes
// (a token holding a character outside the map keeps its own UTF-8), as tokenizers' ByteLevel
// decoder does. Call utf8_lossy on the result once all tokens are in.
void append_token_bytes(std::string_view token, std::string* bytes);
// `bytes` as valid UTF-8: each maximal invalid subpart becomes U+FFFD (Python's
// errors="replace", Rust's from_utf8_lossy).
std::string utf8_lossy(std::string_view bytes);

// The merges over a vocabulary. Thread-safe: the cache is per thread.
class ByteLevelBpe {
  public:
    // `ids` maps each vocabulary token (byte-level spelling) to its id; `merges` are in rank
    // order (a repeated merge keeps its last rank). Throws ft::Error naming the merge (1-based)
    // whose part or result is not in the vocabulary, or a byte with no token.
    ByteLevelBpe(const std::unordered_map<std::string, int32_t>& ids,
                 std::span<const std::pair<std::string, std::string>> merges);

    // Appends the ids of one pre-tokenized piece, given as raw bytes.
    void append_ids(std::string_view piece, std::vector<int32_t>* ids) const;

  private:
    void merge(std::string_view piece, std::vector<int32_t>* ids) const;

    struct Merge {
        int32_t rank;
        int32_t id;
    };
    int32_t byte_ids_[256];
    std::unordered_map<uint64_t, Merge> merges_;  // (left id << 32 | right id) -> merge
    uint64_t serial_;                             // tells this instance's cache entries apart
};

}  // namespace ft
