// Helpers the text readers share: UTF-8 validation that names the line of the first bad byte,
// byte offset -> line number, and BOM handling.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ft::data_internal {

// 1-based line number of byte `offset` in `text`.
int64_t line_of(std::string_view text, size_t offset);
// Throws ft::Error "<source>:<line>: invalid UTF-8 (byte 0x..)" at the first malformed sequence.
void check_utf8(std::string_view text, const std::string& source);
// The text without a leading UTF-8 byte order mark.
std::string_view strip_bom(std::string_view text);

}  // namespace ft::data_internal
