// Python's repr of str and float, so rows print exactly as HF's dicts do: CPython picks single
// quotes unless the text holds ' and no ", escapes \\ \n \r \t and non-printable code points.
#include <utf8proc.h>

#include <charconv>
#include <cmath>
#include <cstdio>

#include "finetune/core.h"

namespace ft {

namespace {

// str.isprintable(): false for categories Cc, Cf, Cs, Co, Cn, Zl, Zp and Zs other than space.
bool is_printable(utf8proc_int32_t cp) {
    if (cp == ' ') return true;
    switch (utf8proc_category(cp)) {
        case UTF8PROC_CATEGORY_CC:
        case UTF8PROC_CATEGORY_CF:
        case UTF8PROC_CATEGORY_CS:
        case UTF8PROC_CATEGORY_CO:
        case UTF8PROC_CATEGORY_CN:
        case UTF8PROC_CATEGORY_ZL:
        case UTF8PROC_CATEGORY_ZP:
        case UTF8PROC_CATEGORY_ZS:
            return false;
        default:
            return true;
    }
}

void append_escape(std::string& out, utf8proc_int32_t cp) {
    char buf[16];
    if (cp < 0x100)
        std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
    else if (cp < 0x10000)
        std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
    else
        std::snprintf(buf, sizeof buf, "\\U%08x", static_cast<unsigned>(cp));
    out += buf;
}

}  // namespace

std::string python_repr(std::string_view s) {
    const bool has_single = s.find('\'') != std::string_view::npos;
    const bool has_double = s.find('"') != std::string_view::npos;
    const char quote = has_single && !has_double ? '"' : '\'';
    std::string out(1, quote);
    const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
    utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(s.size());
    while (left > 0) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
        if (n <= 0) {  // not UTF-8: Python would have failed to decode; show the byte
            append_escape(out, *p);
            ++p;
            --left;
            continue;
        }
        if (cp == quote || cp == '\\') {
            out += '\\';
            out += static_cast<char>(cp);
        } else if (cp == '\n') {
            out += "\\n";
        } else if (cp == '\r') {
            out += "\\r";
        } else if (cp == '\t') {
            out += "\\t";
        } else if (!is_printable(cp)) {
            append_escape(out, cp);
        } else {
            out.append(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
        }
        p += n;
        left -= n;
    }
    out += quote;
    return out;
}

std::string python_float_repr(double v) {
    if (std::isnan(v)) return "nan";
    if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
    // Shortest round-trip digits, then CPython's layout: fixed for exponents in [-4, 16),
    // scientific (1e-05, 1e+16) otherwise, and always a '.0' on integral fixed values.
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
    std::string sci(buf, r.ptr);
    const size_t e = sci.find('e');
    std::string mant = sci.substr(0, e);
    const int exp10 = std::stoi(sci.substr(e + 1));
    const bool neg = mant[0] == '-';
    if (neg) mant.erase(0, 1);
    std::string digits;
    for (char c : mant)
        if (c != '.') digits += c;
    // Built by appending only: GCC 12 warns (-Wrestrict, falsely) on "literal" + std::string.
    std::string out = neg ? "-" : "";
    if (exp10 < -4 || exp10 >= 16) {
        out.append(digits, 0, 1);
        if (digits.size() > 1) out.append(".").append(digits, 1);
        char eb[16];
        std::snprintf(eb, sizeof eb, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
        out.append(eb);
    } else if (exp10 < 0) {
        out.append("0.").append(static_cast<size_t>(-exp10 - 1), '0').append(digits);
    } else {
        const size_t int_len = static_cast<size_t>(exp10) + 1;
        if (digits.size() <= int_len) {
            out.append(digits).append(int_len - digits.size(), '0').append(".0");
        } else {
            out.append(digits, 0, int_len).append(".").append(digits, int_len);
        }
    }
    return out;
}

}  // namespace ft
