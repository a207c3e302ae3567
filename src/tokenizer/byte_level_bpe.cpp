// Byte-level BPE: GPT-2's pre-tokenization as a hand-written scanner (ASCII through a table,
// the rest through utf8proc's general categories), merges applied lowest rank first, and a
// per-thread cache so that a word seen before costs one hash lookup.
#include "tokenizer/byte_level_bpe.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <atomic>

#include "finetune/core.h"
#include "tokenizer/unicode.h"

namespace ft {
namespace {

// Printable Latin-1 bytes stand for themselves in GPT-2's map.
constexpr bool is_self_mapped(int b) {
    return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

struct ByteMap {
    std::array<int32_t, 256> to_char{};
    std::array<int16_t, 324> to_byte{};  // characters U+0000..U+0143
};

constexpr ByteMap make_byte_map() {
    ByteMap m{};
    for (auto& b : m.to_byte) b = -1;
    int next = 256;
    for (int b = 0; b < 256; ++b) {
        m.to_char[b] = is_self_mapped(b) ? b : next++;
        m.to_byte[m.to_char[b]] = int16_t(b);
    }
    return m;
}
constexpr ByteMap kByteMap = make_byte_map();

// What the pattern's classes make of a character.
enum CharKind : uint8_t { kLetter, kNumber, kSpace, kOther };

constexpr std::array<uint8_t, 128> make_ascii_kinds() {
    std::array<uint8_t, 128> k{};
    for (int c = 0; c < 128; ++c) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
            k[c] = kLetter;
        else if (c >= '0' && c <= '9')
            k[c] = kNumber;
        else if ((c >= 0x09 && c <= 0x0D) || c == ' ')  // White_Space; 0x1C-0x1F are not
            k[c] = kSpace;
        else
            k[c] = kOther;
    }
    return k;
}
constexpr std::array<uint8_t, 128> kAsciiKinds = make_ascii_kinds();

CharKind kind_of(int32_t cp) {
    if (cp < 0x80) return CharKind(kAsciiKinds[size_t(cp)]);
    if (cp == 0x85) return kSpace;  // NEL: White_Space, though its category is Cc
    switch (utf8proc_category(cp)) {
        case UTF8PROC_CATEGORY_LU:
        case UTF8PROC_CATEGORY_LL:
        case UTF8PROC_CATEGORY_LT:
        case UTF8PROC_CATEGORY_LM:
        case UTF8PROC_CATEGORY_LO:
            return kLetter;
        case UTF8PROC_CATEGORY_ND:
        case UTF8PROC_CATEGORY_NL:
        case UTF8PROC_CATEGORY_NO:
            return kNumber;
        case UTF8PROC_CATEGORY_ZS:
        case UTF8PROC_CATEGORY_ZL:
        case UTF8PROC_CATEGORY_ZP:
            return kSpace;
        default:
            return kOther;
    }
}

// The kind of the character at `pos` and the offset past it (valid UTF-8 assumed).
struct Scanned {
    CharKind kind;
    size_t end;
};
Scanned scan(std::string_view text, size_t pos) {
    const auto b = static_cast<uint8_t>(text[pos]);
    if (b < 0x80) return {CharKind(kAsciiKinds[b]), pos + 1};
    const int32_t cp = unicode::next_code_point(text, &pos);
    return {kind_of(cp), pos};
}

// The length of a contraction ('s 't 're 've 'm 'll 'd, lower case only) at `pos`, or 0.
size_t contraction_at(std::string_view text, size_t pos) {
    if (text[pos] != '\'' || pos + 1 >= text.size()) return 0;
    const char c1 = text[pos + 1];
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
    if (pos + 2 >= text.size()) return 0;
    const char c2 = text[pos + 2];
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
    return 0;
}

}  // namespace

bool is_white_space(int32_t cp) {
    return kind_of(cp) == kSpace;
}

int32_t byte_to_char(uint8_t byte) {
    return kByteMap.to_char[byte];
}

int byte_of_char(int32_t cp) {
    return cp >= 0 && cp < int32_t(kByteMap.to_byte.size()) ? kByteMap.to_byte[size_t(cp)] : -1;
}

std::string bytes_to_byte_level(std::string_view bytes) {
    std::string out;
    for (unsigned char b : bytes) unicode::append_utf8(byte_to_char(b), &out);
    return out;
}

void split_gpt2_pieces(std::string_view text, std::vector<std::pair<uint32_t, uint32_t>>* pieces) {
    const size_t n = text.size();
    size_t pos = 0;
    while (pos < n) {
        const size_t start = pos;
        if (const size_t c = contraction_at(text, pos)) {
            pieces->emplace_back(uint32_t(start), uint32_t(pos + c));
            pos += c;
            continue;
        }
        Scanned first = scan(text, pos);
        // " ?X+": a plain space may lead a run of letters, numbers or other characters.
        if (text[pos] == ' ' && first.end < n) {
            const Scanned next = scan(text, first.end);
            if (next.kind != kSpace) first = next;
        }
        if (first.kind != kSpace) {
            pos = first.end;
            while (pos < n) {
                const Scanned s = scan(text, pos);
                if (s.kind != first.kind) break;
                pos = s.end;
            }
            pieces->emplace_back(uint32_t(start), uint32_t(pos));
            continue;
        }
        // A whitespace run: "\s+(?!\S)" leaves its last character to lead the next word;
        // a single one, or a run that ends the text, is taken whole.
        size_t last = pos;
        while (pos < n) {
            const Scanned s = scan(text, pos);
            if (s.kind != kSpace) break;
            last = pos;
            pos = s.end;
        }
        if (pos < n && last > start) pos = last;
        pieces->emplace_back(uint32_t(start), uint32_t(pos));
    }
}

void append_token_bytes(std::string_view token, std::string* bytes) {
    const size_t mark = bytes->size();
    size_t pos = 0;
    while (pos < token.size()) {
        const int32_t cp = unicode::next_code_point(token, &pos);
        const int b = byte_of_char(cp);
        if (b < 0) {  // not a byte-level token (an added token, say): its own text
            bytes->resize(mark);
            bytes->append(token);
            return;
        }
        bytes->push_back(char(b));
    }
}

std::string utf8_lossy(std::string_view s) {
    static constexpr char kReplacement[] = "\xEF\xBF\xBD";
    std::string out;
    out.reserve(s.size());
    size_t i = 0;
    while (i < s.size()) {
        const auto b0 = static_cast<uint8_t>(s[i]);
        if (b0 < 0x80) {
            out.push_back(char(b0));
            ++i;
            continue;
        }
        // Continuation bytes needed, and the range the first of them must be in.
        int need = 0;
        uint8_t lo = 0x80, hi = 0xBF;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            need = 1;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            need = 2;
            if (b0 == 0xE0) lo = 0xA0;
            if (b0 == 0xED) hi = 0x9F;  // no surrogates
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            need = 3;
            if (b0 == 0xF0) lo = 0x90;
            if (b0 == 0xF4) hi = 0x8F;  // nothing past U+10FFFF
        }
        size_t j = i + 1;
        int have = 0;
        while (have < need && j < s.size()) {
            const auto b = static_cast<uint8_t>(s[j]);
            if (b < lo || b > hi) break;
            lo = 0x80;
            hi = 0xBF;
            ++j;
            ++have;
        }
        if (need > 0 && have == need)
            out.append(s.substr(i, j - i));
        else
            out.append(kReplacement);
        i = j;
    }
    return out;
}

ByteLevelBpe::ByteLevelBpe(const std::unordered_map<std::string, int32_t>& ids,
                           std::span<const std::pair<std::string, std::string>> merges) {
    static std::atomic<uint64_t> next_serial{1};
    serial_ = next_serial++;
    for (int b = 0; b < 256; ++b) {
        std::string c;
        unicode::append_utf8(byte_to_char(uint8_t(b)), &c);
        auto it = ids.find(c);
        if (it == ids.end())
            throw Error("the vocabulary has no token for byte " + std::to_string(b) + " ('" + c +
                        "')");
        byte_ids_[b] = it->second;
    }
    merges_.reserve(merges.size());
    for (size_t r = 0; r < merges.size(); ++r) {
        // Named references, not a structured binding: clang (the fuzz build) cannot capture one.
        const std::string& a = merges[r].first;
        const std::string& b = merges[r].second;
        auto id_of = [&](const std::string& token) {
            auto it = ids.find(token);
            if (it == ids.end())
                throw Error("merge " + std::to_string(r + 1) + " '" + a + " " + b + "': '" + token +
                            "' is not in the vocabulary");
            return it->second;
        };
        const int32_t left = id_of(a), right = id_of(b), merged = id_of(a + b);
        merges_.insert_or_assign(uint64_t(uint32_t(left)) << 32 | uint32_t(right),
                                 Merge{int32_t(r), merged});
    }
}

namespace {

// Words merged before, per thread: raw bytes -> a span of `ids`. Bounded: cleared when full.
struct BpeCache {
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const noexcept {
            uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a: the keys are short
            for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
            return size_t(h ^ (h >> 29));
        }
    };
    uint64_t owner = 0;
    std::unordered_map<std::string, std::pair<uint32_t, uint32_t>, Hash, std::equal_to<>> words;
    std::vector<int32_t> ids;
};
constexpr size_t kMaxCachedWords = size_t(1) << 18;
constexpr size_t kMaxCachedWordBytes = 256;

}  // namespace

void ByteLevelBpe::append_ids(std::string_view piece, std::vector<int32_t>* ids) const {
    if (piece.size() == 1) {
        ids->push_back(byte_ids_[static_cast<uint8_t>(piece[0])]);
        return;
    }
    if (piece.size() > kMaxCachedWordBytes) {
        merge(piece, ids);
        return;
    }
    thread_local BpeCache cache;
    if (cache.owner != serial_ || cache.words.size() >= kMaxCachedWords) {
        cache.words.clear();
        cache.ids.clear();
        cache.owner = serial_;
    }
    if (auto it = cache.words.find(piece); it != cache.words.end()) {
        const auto [begin, count] = it->second;
        ids->insert(ids->end(), cache.ids.begin() + begin, cache.ids.begin() + begin + count);
        return;
    }
    const size_t first = ids->size();
    merge(piece, ids);
    const auto begin = uint32_t(cache.ids.size());
    cache.ids.insert(cache.ids.end(), ids->begin() + std::ptrdiff_t(first), ids->end());
    cache.words.emplace(std::string(piece), std::pair{begin, uint32_t(ids->size() - first)});
}

// The lowest-ranked adjacent pair merges first, the leftmost among equals, until none is left:
// symbols form a linked list over the piece's bytes, candidate pairs a min-heap checked when
// popped (a pair whose symbols changed since it was pushed is stale).
void ByteLevelBpe::merge(std::string_view piece, std::vector<int32_t>* ids) const {
    struct Candidate {
        int32_t rank;
        uint32_t left;
        int32_t left_id, right_id, merged_id;
        bool operator>(const Candidate& o) const {
            return rank != o.rank ? rank > o.rank : left > o.left;
        }
    };
    thread_local std::vector<int32_t> symbol;  // id, or -1 once merged into its left neighbour
    thread_local std::vector<uint32_t> next;
    thread_local std::vector<uint32_t> prev;
    thread_local std::vector<Candidate> heap;
    const auto n = uint32_t(piece.size());
    symbol.resize(n);
    next.resize(n);
    prev.resize(n);
    for (uint32_t i = 0; i < n; ++i) {
        symbol[i] = byte_ids_[static_cast<uint8_t>(piece[i])];
        next[i] = i + 1;
        prev[i] = i - 1;  // wraps for the first; never read there
    }
    heap.clear();
    auto push_pair = [&](uint32_t left) {
        const uint32_t right = next[left];
        if (right >= n) return;
        auto it = merges_.find(uint64_t(uint32_t(symbol[left])) << 32 | uint32_t(symbol[right]));
        if (it == merges_.end()) return;
        heap.push_back({it->second.rank, left, symbol[left], symbol[right], it->second.id});
        std::push_heap(heap.begin(), heap.end(), std::greater<>{});
    };
    for (uint32_t i = 0; i + 1 < n; ++i) push_pair(i);
    while (!heap.empty()) {
        std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
        const Candidate c = heap.back();
        heap.pop_back();
        const uint32_t right = next[c.left];
        if (symbol[c.left] != c.left_id || right >= n || symbol[right] != c.right_id) continue;
        symbol[c.left] = c.merged_id;
        symbol[right] = -1;
        next[c.left] = next[right];
        if (next[right] < n) prev[next[right]] = c.left;
        if (c.left > 0) push_pair(prev[c.left]);
        push_pair(c.left);
    }
    for (uint32_t i = 0; i < n; i = next[i]) ids->push_back(symbol[i]);
}

}  // namespace ft
