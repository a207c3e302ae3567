// Character classes for the BERT tokenizer: a table for ASCII, utf8proc for the rest.
#include "tokenizer/unicode.h"

#include <utf8proc.h>

#include <array>
#include <vector>

namespace ft::unicode {

int32_t next_code_point(std::string_view s, size_t* pos) {
    const size_t i = *pos;
    const auto b0 = static_cast<uint8_t>(s[i]);
    if (b0 < 0x80) {
        *pos = i + 1;
        return b0;
    }
    int len;
    int32_t cp;
    if ((b0 & 0xE0) == 0xC0) {
        len = 2;
        cp = b0 & 0x1F;
    } else if ((b0 & 0xF0) == 0xE0) {
        len = 3;
        cp = b0 & 0x0F;
    } else if ((b0 & 0xF8) == 0xF0) {
        len = 4;
        cp = b0 & 0x07;
    } else {
        return -1;
    }
    if (i + len > s.size()) return -1;
    for (int k = 1; k < len; ++k) {
        const auto b = static_cast<uint8_t>(s[i + k]);
        if ((b & 0xC0) != 0x80) return -1;
        cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr int32_t kMinForLength[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMinForLength[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
    *pos = i + len;
    return cp;
}

size_t find_invalid_utf8(std::string_view s) {
    size_t pos = 0;
    while (pos < s.size()) {
        if (static_cast<uint8_t>(s[pos]) < 0x80) {
            ++pos;
            continue;
        }
        if (next_code_point(s, &pos) < 0) return pos;
    }
    return std::string_view::npos;
}

void append_utf8(int32_t cp, std::string* out) {
    if (cp < 0x80) {
        out->push_back(char(cp));
    } else if (cp < 0x800) {
        out->push_back(char(0xC0 | (cp >> 6)));
        out->push_back(char(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out->push_back(char(0xE0 | (cp >> 12)));
        out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out->push_back(char(0x80 | (cp & 0x3F)));
    } else {
        out->push_back(char(0xF0 | (cp >> 18)));
        out->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
        out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
        out->push_back(char(0x80 | (cp & 0x3F)));
    }
}

CharClass classify(int32_t cp) {
    if (cp == '\t' || cp == '\n' || cp == '\r' || cp == ' ') return CharClass::Space;
    if (cp == 0 || cp == 0xFFFD) return CharClass::Drop;
    if (cp < 0x80) return (cp < 0x20 || cp == 0x7F) ? CharClass::Drop : CharClass::Plain;
    if (cp == 0x2028 || cp == 0x2029) return CharClass::Separator;
    switch (utf8proc_category(cp)) {
        case UTF8PROC_CATEGORY_ZS:
            return CharClass::Space;
        case UTF8PROC_CATEGORY_CC:
        case UTF8PROC_CATEGORY_CF:
        case UTF8PROC_CATEGORY_CN:
        case UTF8PROC_CATEGORY_CO:
        case UTF8PROC_CATEGORY_CS:
            return CharClass::Drop;
        default:
            return CharClass::Plain;
    }
}

bool is_punctuation(int32_t cp) {
    if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
        (cp >= 123 && cp <= 126))
        return true;
    if (cp < 0x80) return false;
    switch (utf8proc_category(cp)) {
        case UTF8PROC_CATEGORY_PC:
        case UTF8PROC_CATEGORY_PD:
        case UTF8PROC_CATEGORY_PS:
        case UTF8PROC_CATEGORY_PE:
        case UTF8PROC_CATEGORY_PI:
        case UTF8PROC_CATEGORY_PF:
        case UTF8PROC_CATEGORY_PO:
            return true;
        default:
            return false;
    }
}

bool is_chinese_char(int32_t cp) {
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
           (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

void append_lower(int32_t cp, std::string* out) {
    if (cp < 0x80) {
        out->push_back(char(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
        return;
    }
    // The one unconditional one-to-many lowercase mapping in SpecialCasing.txt, which
    // Python's lower() applies.
    if (cp == 0x130) {
        out->push_back('i');
        append_utf8(0x307, out);
        return;
    }
    append_utf8(utf8proc_tolower(cp), out);
}

void strip_accents(std::string_view word, std::string* out) {
    thread_local std::vector<utf8proc_int32_t> buffer;
    if (buffer.size() < word.size() * 4 + 16) buffer.resize(word.size() * 4 + 16);
    const auto options = utf8proc_option_t(UTF8PROC_DECOMPOSE | UTF8PROC_STABLE);
    auto* bytes = reinterpret_cast<const utf8proc_uint8_t*>(word.data());
    utf8proc_ssize_t n = utf8proc_decompose(bytes, utf8proc_ssize_t(word.size()), buffer.data(),
                                            utf8proc_ssize_t(buffer.size()), options);
    if (n > utf8proc_ssize_t(buffer.size())) {
        buffer.resize(size_t(n));
        n = utf8proc_decompose(bytes, utf8proc_ssize_t(word.size()), buffer.data(), n, options);
    }
    if (n < 0) {  // cannot happen on validated UTF-8; keep the word rather than lose it
        out->append(word);
        return;
    }
    for (utf8proc_ssize_t i = 0; i < n; ++i)
        if (utf8proc_category(buffer[i]) != UTF8PROC_CATEGORY_MN) append_utf8(buffer[i], out);
}

}  // namespace ft::unicode
