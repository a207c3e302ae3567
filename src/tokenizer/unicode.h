// The character classes and transforms of HF's BertTokenizer, on Unicode code points: UTF-8
// decoding, Python's lower() per character, BERT's whitespace / control / punctuation / CJK
// tests, and accent stripping (NFD, then drop nonspacing marks). Properties come from utf8proc;
// ASCII goes through a table because it is nearly all of the text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ft::unicode {

// Decodes one code point at `*pos`, advancing it. Returns -1 on invalid UTF-8 (overlong forms,
// surrogates, values past U+10FFFF, truncated sequences), leaving *pos at the bad byte.
int32_t next_code_point(std::string_view s, size_t* pos);
// The byte offset of the first invalid sequence, or npos when `s` is valid UTF-8.
size_t find_invalid_utf8(std::string_view s);
void append_utf8(int32_t cp, std::string* out);

// What BertNormalizer's clean_text and the whitespace split make of a character.
enum class CharClass : uint8_t {
    Plain,      // kept as is
    Drop,       // NUL, U+FFFD and control characters (categories C*, except \t \n \r)
    Space,      // \t \n \r, space and category Zs: become ' '
    Separator,  // U+2028 / U+2029: kept by clean_text, yet Python's split() splits on them
};
CharClass classify(int32_t cp);
// ASCII punctuation (all of !-/ :-@ [-` {-~) and Unicode categories P*.
bool is_punctuation(int32_t cp);
// The CJK ideograph blocks BERT surrounds with spaces.
bool is_chinese_char(int32_t cp);

// Python's str.lower() of one character (full mapping: U+0130 becomes "i\u0307").
void append_lower(int32_t cp, std::string* out);
// NFD, then every nonspacing mark (category Mn) removed: BasicTokenizer._run_strip_accents.
void strip_accents(std::string_view word, std::string* out);

}  // namespace ft::unicode
