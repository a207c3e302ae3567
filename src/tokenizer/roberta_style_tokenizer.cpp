// RobertaStyleTokenizer: what RoBERTa's and XLM-R's tokenizers share around their models: the
// vocabulary and special tokens, added tokens split out first, RobertaProcessing's templates,
// truncation, padding and the batch call.
#include <algorithm>

#include "finetune/core.h"
#include "finetune/tokenizer.h"
#include "tokenizer/encoding.h"

namespace ft {

size_t RobertaStyleTokenizer::StringHash::operator()(std::string_view s) const noexcept {
    uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a: short keys
    for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
    return size_t(h ^ (h >> 29));
}

RobertaStyleTokenizer::RobertaStyleTokenizer(std::vector<std::string> vocab, RobertaOptions options,
                                             const std::string& source)
    : vocab_(std::move(vocab)), options_(std::move(options)) {
    const std::string prefix = source.empty() ? "" : source + ": ";
    if (vocab_.empty()) throw Error(prefix + "the vocabulary is empty");
    ids_.reserve(vocab_.size());
    for (size_t i = 0; i < vocab_.size(); ++i) ids_.insert_or_assign(vocab_[i], int32_t(i));
    auto require = [&](const std::string& token, const char* role) {
        auto it = ids_.find(token);
        if (it == ids_.end())
            throw Error(prefix + "the " + role + " token '" + token + "' is not in the vocabulary");
        return it->second;
    };
    bos_id_ = require(options_.bos, "bos");
    eos_id_ = require(options_.eos, "eos");
    sep_id_ = require(options_.sep, "sep");
    cls_id_ = require(options_.cls, "cls");
    unk_id_ = require(options_.unk, "unk");
    pad_id_ = require(options_.pad, "pad");
    mask_id_ = require(options_.mask.content, "mask");
    // The named tokens never split; an additional entry with the same text sets its flags.
    std::vector<AddedToken> all;
    for (const std::string* t :
         {&options_.bos, &options_.eos, &options_.sep, &options_.cls, &options_.unk, &options_.pad})
        all.push_back(AddedToken{*t});
    all.push_back(options_.mask);
    const size_t named = all.size();
    all.insert(all.end(), options_.additional.begin(), options_.additional.end());
    for (size_t i = 0; i < all.size(); ++i) {
        const AddedToken& t = all[i];
        if (t.content.empty()) continue;
        const int32_t id = require(t.content, "added");
        auto same = std::find_if(added_.begin(), added_.end(),
                                 [&](const Added& a) { return a.content == t.content; });
        if (same == added_.end()) {
            added_.push_back({t.content, id, t.lstrip, t.rstrip});
        } else if (i >= named) {  // an additional entry: its flags win
            same->lstrip = t.lstrip;
            same->rstrip = t.rstrip;
        }
        if (t.special) special_ids_.push_back(id);
    }
    std::stable_sort(added_.begin(), added_.end(), [](const Added& a, const Added& b) {
        return a.content.size() > b.content.size();
    });
    std::sort(special_ids_.begin(), special_ids_.end());
    special_ids_.erase(std::unique(special_ids_.begin(), special_ids_.end()), special_ids_.end());
}

bool RobertaStyleTokenizer::is_special(int32_t id) const {
    return std::binary_search(special_ids_.begin(), special_ids_.end(), id);
}

int32_t RobertaStyleTokenizer::token_to_id(std::string_view token) const {
    auto it = ids_.find(token);
    return it == ids_.end() ? unk_id_ : it->second;
}

const std::string& RobertaStyleTokenizer::id_to_token(int32_t id) const {
    if (id < 0 || size_t(id) >= vocab_.size())
        throw Error("token id " + std::to_string(id) + " is out of range for a vocabulary of " +
                    std::to_string(vocab_.size()));
    return vocab_[size_t(id)];
}

void RobertaStyleTokenizer::append_ids(std::string_view text, std::vector<int32_t>* ids) const {
    tokenization::split_on_added_tokens(
        text, std::span<const Added>(added_),
        [this](std::string_view s, std::vector<int32_t>* out) {
            append_segment_ids(s, false, out);
        },
        ids);
}

// A word is a text of its own: added tokens split out of it, the model on the rest.
void RobertaStyleTokenizer::append_split_word_ids(std::string_view word,
                                                  std::vector<int32_t>* ids) const {
    tokenization::split_on_added_tokens(
        word, std::span<const Added>(added_),
        [this](std::string_view s, std::vector<int32_t>* out) { append_segment_ids(s, true, out); },
        ids);
}

Encoding RobertaStyleTokenizer::build_single(std::vector<int32_t> ids, Truncation truncation,
                                             const EncodeOptions& options) const {
    return tokenization::roberta_template(std::move(ids), std::nullopt, truncation, options,
                                          resolved_max_length(options), cls_id_, sep_id_);
}

std::vector<int32_t> RobertaStyleTokenizer::encode_ids(std::string_view text) const {
    tokenization::check_utf8(text, "text");
    std::vector<int32_t> ids;
    append_ids(text, &ids);
    return ids;
}

std::vector<std::string> RobertaStyleTokenizer::tokenize(std::string_view text) const {
    std::vector<std::string> tokens;
    for (int32_t id : encode_ids(text)) tokens.push_back(vocab_[size_t(id)]);
    return tokens;
}

int64_t RobertaStyleTokenizer::resolved_max_length(const EncodeOptions& options) const {
    return options.max_length ? *options.max_length : options_.model_max_length;
}

Encoding RobertaStyleTokenizer::encode_unpadded(std::string_view text,
                                                std::optional<std::string_view> pair,
                                                Truncation truncation,
                                                const EncodeOptions& options) const {
    std::vector<int32_t> a = encode_ids(text);
    std::optional<std::vector<int32_t>> b;
    if (pair) {
        tokenization::check_utf8(*pair, "text pair");
        b.emplace();
        append_ids(*pair, &*b);
    }
    return tokenization::roberta_template(std::move(a), std::move(b), truncation, options,
                                          resolved_max_length(options), cls_id_, sep_id_);
}

Encoding RobertaStyleTokenizer::encode(std::string_view text, std::optional<std::string_view> pair,
                                       const EncodeOptions& options) const {
    if (pair && pair->empty()) pair.reset();  // transformers' `if text_pair` on one text
    Encoding e = encode_unpadded(text, pair, tokenization::effective_truncation(options), options);
    tokenization::pad_one(&e, options, resolved_max_length(options), pad_id_);
    return e;
}

std::vector<Encoding> RobertaStyleTokenizer::encode_batch(std::span<const std::string> texts,
                                                          std::span<const std::string> pairs,
                                                          const EncodeOptions& options) const {
    return tokenization::encode_batch(
        texts, pairs, options, resolved_max_length(options), pad_id_,
        [&](std::string_view t, std::optional<std::string_view> p, Truncation tr) {
            return encode_unpadded(t, p, tr, options);
        });
}

}  // namespace ft
