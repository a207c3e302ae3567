// Tokenizer::encode_words: pre-split words (HF's is_split_into_words=True) encoded word by word
// by the kind, with the word of every token kept (word_ids()), then the kind's template,
// truncation and padding. The same for every kind: a kind gives only its per-word ids and its
// single-sequence template.
#include <algorithm>

#include "finetune/core.h"
#include "finetune/tokenizer.h"
#include "tokenizer/encoding.h"
#include "tokenizer/unicode.h"

namespace ft {

namespace {

int64_t resolved_max_length(const Tokenizer& tok, const EncodeOptions& options) {
    return options.max_length ? *options.max_length : tok.model_max_length();
}

// Padding appends tokens of no word.
void pad_word_ids(Encoding* e) {
    e->word_ids.resize(e->input_ids.size(), -1);
}

}  // namespace

Encoding Tokenizer::encode_words_unpadded(std::span<const std::string> words, Truncation truncation,
                                          const EncodeOptions& options) const {
    std::vector<int32_t> ids, word_of;
    for (size_t w = 0; w < words.size(); ++w) {
        const size_t bad = unicode::find_invalid_utf8(words[w]);
        if (bad != std::string_view::npos)
            throw Error("word " + std::to_string(w) + ": invalid UTF-8 at byte " +
                        std::to_string(bad));
        append_split_word_ids(words[w], &ids);
        word_of.resize(ids.size(), int32_t(w));
    }
    Encoding e = build_single(std::move(ids), truncation, options);
    // Truncation keeps a prefix of the sequence; the template adds at most one token before it
    // and the rest after it.
    const size_t specials =
        options.add_special_tokens ? size_t(num_special_tokens_to_add(false)) : 0;
    const size_t before = specials > 0 ? 1 : 0;
    FT_ASSERT(e.input_ids.size() >= specials && e.input_ids.size() - specials <= word_of.size(),
              "encode_words: the template returned " + std::to_string(e.input_ids.size()) +
                  " tokens for " + std::to_string(word_of.size()));
    const size_t kept = e.input_ids.size() - specials;
    e.word_ids.assign(e.input_ids.size(), -1);
    std::copy(word_of.begin(), word_of.begin() + std::ptrdiff_t(kept),
              e.word_ids.begin() + std::ptrdiff_t(before));
    return e;
}

Encoding Tokenizer::encode_words(std::span<const std::string> words,
                                 const EncodeOptions& options) const {
    Encoding e = encode_words_unpadded(words, tokenization::effective_truncation(options), options);
    tokenization::pad_one(&e, options, resolved_max_length(*this, options), pad_token_id());
    pad_word_ids(&e);
    return e;
}

std::vector<Encoding> Tokenizer::encode_words_batch(
    std::span<const std::span<const std::string>> sentences, const EncodeOptions& options) const {
    std::vector<Encoding> out = tokenization::encode_batch_indexed(
        sentences.size(), "sentence", options, resolved_max_length(*this, options), pad_token_id(),
        [&](size_t i, Truncation truncation) {
            return encode_words_unpadded(sentences[i], truncation, options);
        });
    for (Encoding& e : out) pad_word_ids(&e);
    return out;
}

}  // namespace ft
