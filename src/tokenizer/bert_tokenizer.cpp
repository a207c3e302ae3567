// BertTokenizer: special tokens split out, WordPiece on the pre-tokenised words, the
// [CLS] A [SEP] (B [SEP]) templates, truncation and padding as HF's __call__ does them, decode.
#include <omp.h>

#include <algorithm>
#include <cstring>

#include "finetune/core.h"
#include "finetune/tokenizer.h"
#include "tokenizer/encoding.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/unicode.h"

namespace ft {

size_t BertTokenizer::StringHash::operator()(std::string_view s) const noexcept {
    // FNV-1a: short keys, and cheaper than the library's hash on them.
    uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    return size_t(h ^ (h >> 29));
}

Truncation parse_truncation(std::string_view s) {
    if (s == "true" || s == "True" || s == "longest_first") return Truncation::LongestFirst;
    if (s == "only_first") return Truncation::OnlyFirst;
    if (s == "only_second") return Truncation::OnlySecond;
    if (s == "false" || s == "False" || s == "do_not_truncate") return Truncation::None;
    throw Error("unknown truncation strategy '" + std::string(s) +
                "' (expected true, longest_first, only_first, only_second or do_not_truncate)");
}

Padding parse_padding(std::string_view s) {
    if (s == "true" || s == "True" || s == "longest") return Padding::Longest;
    if (s == "max_length") return Padding::MaxLength;
    if (s == "false" || s == "False" || s == "do_not_pad") return Padding::None;
    throw Error("unknown padding strategy '" + std::string(s) +
                "' (expected true, longest, max_length or do_not_pad)");
}

BertTokenizer::BertTokenizer(std::vector<std::string> vocab, BertNormalizerOptions normalizer,
                             SpecialTokens special, int64_t model_max_length,
                             int max_input_chars_per_word, std::string continuing_prefix)
    : vocab_(std::move(vocab)),
      normalizer_(normalizer),
      special_(std::move(special)),
      model_max_length_(model_max_length),
      max_input_chars_per_word_(max_input_chars_per_word),
      continuing_prefix_(std::move(continuing_prefix)) {
    if (vocab_.empty()) throw Error("the vocabulary is empty");
    ids_.reserve(vocab_.size());
    for (size_t i = 0; i < vocab_.size(); ++i) {
        // A repeated token keeps its last id, as HF's load_vocab does.
        ids_.insert_or_assign(vocab_[i], int32_t(i));
        const std::string& t = vocab_[i];
        if (!continuing_prefix_.empty() && t.size() > continuing_prefix_.size() &&
            t.compare(0, continuing_prefix_.size(), continuing_prefix_) == 0)
            continuation_ids_.insert_or_assign(t.substr(continuing_prefix_.size()), int32_t(i));
    }
    auto require = [&](const std::string& token, const char* role) {
        auto it = ids_.find(token);
        if (it == ids_.end())
            throw Error(std::string("the ") + role + " token '" + token +
                        "' is not in the vocabulary");
        return it->second;
    };
    unk_id_ = require(special_.unk, "unk");
    sep_id_ = require(special_.sep, "sep");
    pad_id_ = require(special_.pad, "pad");
    cls_id_ = require(special_.cls, "cls");
    mask_id_ = require(special_.mask, "mask");
    no_split_ = {special_.unk, special_.sep, special_.pad, special_.cls, special_.mask};
    special_ids_ = {unk_id_, sep_id_, pad_id_, cls_id_, mask_id_};
    for (const std::string& t : special_.additional) {
        no_split_.push_back(t);
        special_ids_.push_back(require(t, "additional special"));
    }
    std::sort(no_split_.begin(), no_split_.end(),
              [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
    no_split_.erase(std::unique(no_split_.begin(), no_split_.end()), no_split_.end());
    std::erase_if(no_split_, [](const std::string& t) { return t.empty(); });
    std::sort(special_ids_.begin(), special_ids_.end());
    special_ids_.erase(std::unique(special_ids_.begin(), special_ids_.end()), special_ids_.end());
}

int32_t BertTokenizer::token_to_id(std::string_view token) const {
    auto it = ids_.find(token);
    return it == ids_.end() ? unk_id_ : it->second;
}

const std::string& BertTokenizer::id_to_token(int32_t id) const {
    if (id < 0 || size_t(id) >= vocab_.size())
        throw Error("token id " + std::to_string(id) + " is out of range for a vocabulary of " +
                    std::to_string(vocab_.size()));
    return vocab_[size_t(id)];
}

// Greedy longest-match-first over code points; one unmatched piece, or a word longer than
// max_input_chars_per_word code points, makes the whole word [UNK].
void BertTokenizer::append_word_ids(std::string_view word, std::vector<int32_t>* ids) const {
    int64_t chars = 0;
    for (unsigned char c : word) chars += (c & 0xC0) != 0x80;
    if (chars > max_input_chars_per_word_) {
        ids->push_back(unk_id_);
        return;
    }
    if (auto whole = ids_.find(word); whole != ids_.end()) {  // the common case
        ids->push_back(whole->second);
        return;
    }
    const size_t first = ids->size();
    size_t start = 0;
    while (start < word.size()) {
        const auto& table = start == 0 ? ids_ : continuation_ids_;
        size_t end = word.size();
        int32_t found = -1;
        while (end > start) {
            auto it = table.find(word.substr(start, end - start));
            if (it != table.end()) {
                found = it->second;
                break;
            }
            do --end;  // back to the previous code point boundary
            while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
        }
        if (found < 0) {
            ids->resize(first);
            ids->push_back(unk_id_);
            return;
        }
        ids->push_back(found);
        start = end;
    }
}

void BertTokenizer::append_ids(std::string_view text, std::vector<int32_t>* ids) const {
    thread_local WordList words;
    auto add_segment = [&](std::string_view segment) {
        words.clear();
        split_words(segment, normalizer_, &words);
        for (size_t i = 0; i < words.size(); ++i) append_word_ids(words.word(i), ids);
    };
    // Special tokens are matched literally, leftmost first and longest at a position.
    size_t pos = 0;
    while (pos < text.size()) {
        size_t best = std::string_view::npos;
        const std::string* best_token = nullptr;
        for (const std::string& t : no_split_) {
            const size_t at = text.find(t, pos);
            if (at < best) {
                best = at;
                best_token = &t;
            }
        }
        if (best_token == nullptr) break;
        add_segment(text.substr(pos, best - pos));
        ids->push_back(ids_.find(*best_token)->second);
        pos = best + best_token->size();
    }
    add_segment(text.substr(pos));
}

std::vector<int32_t> BertTokenizer::encode_ids(std::string_view text) const {
    tokenization::check_utf8(text, "text");
    std::vector<int32_t> ids;
    append_ids(text, &ids);
    return ids;
}

std::vector<std::string> BertTokenizer::tokenize(std::string_view text) const {
    std::vector<std::string> tokens;
    for (int32_t id : encode_ids(text)) tokens.push_back(vocab_[size_t(id)]);
    return tokens;
}

int64_t BertTokenizer::resolved_max_length(const EncodeOptions& options) const {
    return options.max_length ? *options.max_length : model_max_length_;
}

Encoding BertTokenizer::encode_unpadded(std::string_view text, std::optional<std::string_view> pair,
                                        Truncation truncation, const EncodeOptions& options) const {
    std::vector<int32_t> a = encode_ids(text);
    std::optional<std::vector<int32_t>> b;
    if (pair) {
        tokenization::check_utf8(*pair, "text pair");
        b.emplace();
        append_ids(*pair, &*b);
    }
    return build(std::move(a), std::move(b), truncation, options);
}

Encoding BertTokenizer::build(std::vector<int32_t> a, std::optional<std::vector<int32_t>> b,
                              Truncation truncation, const EncodeOptions& options) const {
    const int64_t max_length = resolved_max_length(options);
    const int64_t specials = options.add_special_tokens ? num_special_tokens_to_add(bool(b)) : 0;
    const int64_t total = int64_t(a.size()) + (b ? int64_t(b->size()) : 0) + specials;
    // tokenizers leaves the sequences whole when max_length cannot even hold the special tokens.
    if (truncation != Truncation::None && max_length != kNoMaxLength && max_length >= specials &&
        total > max_length) {
        const int64_t remove = total - max_length;
        switch (truncation) {
            case Truncation::LongestFirst:
                for (int64_t k = 0; k < remove; ++k) {
                    if (!b || a.size() > b->size()) {
                        if (a.empty()) break;
                        a.pop_back();
                    } else {
                        if (b->empty()) break;
                        b->pop_back();
                    }
                }
                break;
            case Truncation::OnlyFirst:
                if (int64_t(a.size()) <= remove)
                    throw Error("truncation only_first: the first sequence has " +
                                std::to_string(a.size()) + " tokens, " + std::to_string(remove) +
                                " must go to fit max_length " + std::to_string(max_length));
                a.resize(a.size() - size_t(remove));
                break;
            case Truncation::OnlySecond:
                if (!b) throw Error("truncation only_second needs a pair of texts");
                if (int64_t(b->size()) <= remove)
                    throw Error("truncation only_second: the second sequence has " +
                                std::to_string(b->size()) + " tokens, " + std::to_string(remove) +
                                " must go to fit max_length " + std::to_string(max_length));
                b->resize(b->size() - size_t(remove));
                break;
            case Truncation::None:
                break;
        }
    }
    Encoding e;
    e.input_ids.reserve(size_t(total));
    if (options.add_special_tokens) e.input_ids.push_back(cls_id_);
    e.input_ids.insert(e.input_ids.end(), a.begin(), a.end());
    if (options.add_special_tokens) e.input_ids.push_back(sep_id_);
    e.token_type_ids.assign(e.input_ids.size(), 0);
    if (b) {
        e.input_ids.insert(e.input_ids.end(), b->begin(), b->end());
        if (options.add_special_tokens) e.input_ids.push_back(sep_id_);
        e.token_type_ids.resize(e.input_ids.size(), 1);
    }
    e.attention_mask.assign(e.input_ids.size(), 1);
    e.length = int64_t(e.input_ids.size());
    return e;
}

void BertTokenizer::append_split_word_ids(std::string_view word, std::vector<int32_t>* ids) const {
    append_ids(word, ids);
}

Encoding BertTokenizer::build_single(std::vector<int32_t> ids, Truncation truncation,
                                     const EncodeOptions& options) const {
    return build(std::move(ids), std::nullopt, truncation, options);
}

Encoding BertTokenizer::encode(std::string_view text, std::optional<std::string_view> pair,
                               const EncodeOptions& options) const {
    Encoding e = encode_unpadded(text, pair, tokenization::effective_truncation(options), options);
    tokenization::pad_one(&e, options, resolved_max_length(options), pad_id_);
    return e;
}

std::vector<Encoding> BertTokenizer::encode_batch(std::span<const std::string> texts,
                                                  std::span<const std::string> pairs,
                                                  const EncodeOptions& options) const {
    return tokenization::encode_batch(
        texts, pairs, options, resolved_max_length(options), pad_id_,
        [&](std::string_view t, std::optional<std::string_view> p, Truncation tr) {
            return encode_unpadded(t, p, tr, options);
        });
}

static void replace_all(std::string* s, std::string_view from, std::string_view to) {
    size_t pos = 0;
    while ((pos = s->find(from, pos)) != std::string::npos) {
        s->replace(pos, from.size(), to);
        pos += to.size();
    }
}

std::string BertTokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens,
                                  bool clean_up_tokenization_spaces) const {
    // " ".join(tokens).replace(" ##", "").strip(), as HF's BERT tokenizers join pieces.
    std::string out;
    bool first = true;
    for (int32_t id : ids) {
        const std::string& token = id_to_token(id);
        if (skip_special_tokens && std::binary_search(special_ids_.begin(), special_ids_.end(), id))
            continue;
        if (!first) out.push_back(' ');
        out += token;
        first = false;
    }
    replace_all(&out, " " + continuing_prefix_, "");
    const size_t begin = out.find_first_not_of(" \t\n\r\v\f");
    const size_t end = out.find_last_not_of(" \t\n\r\v\f");
    out = begin == std::string::npos ? std::string() : out.substr(begin, end - begin + 1);
    if (clean_up_tokenization_spaces) {
        static constexpr std::pair<const char*, const char*> kCleanups[] = {
            {" .", "."},     {" ?", "?"},   {" !", "!"},   {" ,", ","},     {" ' ", "'"},
            {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
        for (const auto& [from, to] : kCleanups) replace_all(&out, from, to);
    }
    return out;
}

}  // namespace ft
