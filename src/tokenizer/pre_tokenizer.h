// BertNormalizer + BertPreTokenizer in one pass: the text (no special tokens inside) becomes
// the words WordPiece sees, as HF's BasicTokenizer makes them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "finetune/tokenizer.h"

namespace ft {

// Words stored back to back in one string; no allocation once warm.
struct WordList {
    std::string chars;
    std::vector<uint32_t> ends;

    void clear() {
        chars.clear();
        ends.clear();
    }
    size_t size() const { return ends.size(); }
    std::string_view word(size_t i) const {
        const uint32_t begin = i == 0 ? 0 : ends[i - 1];
        return std::string_view(chars).substr(begin, ends[i] - begin);
    }
};

// Appends the words of `text`, which must be valid UTF-8. In HF's order: lower-case (per
// character, as the slow tokenizer's pre-pass does), clean_text, isolate CJK ideographs, split on
// whitespace, strip accents per word, then split off every punctuation character.
void split_words(std::string_view text, const BertNormalizerOptions& options, WordList* words);

}  // namespace ft
