// Shared text-reader helpers: UTF-8 validation through utf8proc, line numbers, BOM stripping.
#include "data/text_input.h"

#include <utf8proc.h>

#include <algorithm>
#include <cstdio>

#include "finetune/core.h"

namespace ft::data_internal {

int64_t line_of(std::string_view text, size_t offset) {
    offset = std::min(offset, text.size());
    return 1 + std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(offset), '\n');
}

void check_utf8(std::string_view text, const std::string& source) {
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
    size_t i = 0;
    while (i < text.size()) {
        if (p[i] < 0x80) {  // ASCII fast path
            ++i;
            continue;
        }
        utf8proc_int32_t cp;
        const utf8proc_ssize_t n =
            utf8proc_iterate(p + i, static_cast<utf8proc_ssize_t>(text.size() - i), &cp);
        if (n <= 0) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "0x%02x", p[i]);
            throw Error(source + ":" + std::to_string(line_of(text, i)) + ": invalid UTF-8 (byte " +
                        hex + " at offset " + std::to_string(i) + ")");
        }
        i += static_cast<size_t>(n);
    }
}

std::string_view strip_bom(std::string_view text) {
    if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
    return text;
}

}  // namespace ft::data_internal
