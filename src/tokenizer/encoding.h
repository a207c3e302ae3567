// What every tokenizer kind does the same way around its own template: the UTF-8 check, HF's
// choice of truncation,
// right padding (one text, or a batch to its longest / to max_length, rounded up to
// pad_to_multiple_of), and the batch call run on all threads. Then what the RoBERTa-style kinds
// (byte-level BPE, XLM-R's SentencePiece) share: added tokens split out with lstrip / rstrip,
// RobertaProcessing's template after tokenizers' truncation, and the config files' token fields.
// Private to src/tokenizer.
#pragma once

#include <algorithm>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "finetune/tokenizer.h"

namespace ft::tokenization {

// Throws "invalid UTF-8 in the <what> at byte N" where text is not valid UTF-8.
void check_utf8(std::string_view text, const char* what);

// HF: a max_length with neither truncation nor padding asked for means longest_first.
Truncation effective_truncation(const EncodeOptions& options);

// One encoding padded as `options` ask; max_length is the options' resolved one.
void pad_one(Encoding* e, const EncodeOptions& options, int64_t max_length, int32_t pad_id);

// A tokenizer's encode of one text (or pair) with a truncation, before padding.
using EncodeUnpadded =
    std::function<Encoding(std::string_view, std::optional<std::string_view>, Truncation)>;

// HF's batch call: every text (and pair) through encode_one on all threads (the first error
// thrown names its text), then padded together.
std::vector<Encoding> encode_batch(std::span<const std::string> texts,
                                   std::span<const std::string> pairs, const EncodeOptions& options,
                                   int64_t max_length, int32_t pad_id,
                                   const EncodeUnpadded& encode_one);

// The batch call's core: encode_one(i, truncation) for each i < n on all threads (the first error
// thrown is named "<what> i"), then padded together.
std::vector<Encoding> encode_batch_indexed(
    size_t n, const char* what, const EncodeOptions& options, int64_t max_length, int32_t pad_id,
    const std::function<Encoding(size_t, Truncation)>& encode_one);

// ---- RoBERTa-style kinds ----

// The start of the whitespace run that ends at `end` (not before `floor`), for lstrip.
size_t white_space_run_start(std::string_view text, size_t floor, size_t end);
// The end of the whitespace run that starts at `begin`, for rstrip.
size_t white_space_run_end(std::string_view text, size_t begin);

// Added tokens are matched first, leftmost and then longest, as tokenizers' AddedVocabulary does;
// lstrip / rstrip widen a match over the whitespace beside it (never into an earlier match).
// `added` (members content, id, lstrip, rstrip) is sorted longest first; `segment(text, ids)`
// appends the ids of each stretch between matches.
template <class Added, class Segment>
void split_on_added_tokens(std::string_view text, std::span<const Added> added, Segment&& segment,
                           std::vector<int32_t>* ids) {
    thread_local std::vector<size_t> next_at;
    next_at.resize(added.size());
    for (size_t k = 0; k < added.size(); ++k) next_at[k] = text.find(added[k].content);
    size_t segment_start = 0;
    while (true) {
        size_t best = std::string_view::npos, which = 0;
        for (size_t k = 0; k < added.size(); ++k)
            if (next_at[k] < best) {
                best = next_at[k];
                which = k;
            }
        if (best == std::string_view::npos) break;
        const Added& t = added[which];
        size_t start = best, stop = best + t.content.size();
        if (t.lstrip) start = white_space_run_start(text, segment_start, start);
        if (t.rstrip) stop = white_space_run_end(text, stop);
        segment(text.substr(segment_start, start - segment_start), ids);
        ids->push_back(t.id);
        segment_start = stop;
        for (size_t k = 0; k < added.size(); ++k)
            if (next_at[k] < stop) next_at[k] = text.find(added[k].content, stop);
    }
    segment(text.substr(segment_start), ids);
}

// RobertaProcessing's templates, <s> A </s> and <s> A </s></s> B </s> (`cls` = <s>, `sep` =
// </s>), no token types, after truncation as tokenizers does it: nothing when max_length cannot
// even hold the special tokens, everything but them when it holds exactly them; else the
// strategy, which fails (as HF raises) when the sequence it may cut is too short.
Encoding roberta_template(std::vector<int32_t> a, std::optional<std::vector<int32_t>> b,
                          Truncation truncation, const EncodeOptions& options, int64_t max_length,
                          int32_t cls_id, int32_t sep_id);

// What tokenizer_config.json or special_tokens_map.json says, over `o`. Only an AddedToken
// object sets <mask>'s lstrip: a plain string leaves it, as transformers 5 reads the files.
void apply_roberta_config(const std::filesystem::path& path, RobertaOptions* o);

// special_tokens_map.json as transformers 5 writes it for a RoBERTa-style kind: the named tokens
// as strings, <mask> as an AddedToken object, the other special added tokens as
// additional_special_tokens (left out when there are none).
nlohmann::ordered_json roberta_special_tokens_map(const RobertaOptions& o);

// One entry of tokenizer.json's added_tokens, checked (a string "content", an integer "id"),
// recorded in `o` (<mask>'s flags, the additional tokens); returns its id for the kind to check
// against its vocabulary. Errors name `source`.
int64_t read_added_token(const nlohmann::json& entry, const std::string& source, RobertaOptions* o);

// tokenizer.json's added_tokens: every added token in id order, with its flags.
template <class Added, class IsSpecial>
nlohmann::ordered_json added_tokens_json(std::span<const Added> added, IsSpecial&& is_special) {
    std::vector<const Added*> by_id;
    for (const Added& a : added) by_id.push_back(&a);
    std::sort(by_id.begin(), by_id.end(),
              [](const Added* x, const Added* y) { return x->id < y->id; });
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const Added* a : by_id) {
        nlohmann::ordered_json t;
        t["id"] = a->id;
        t["content"] = a->content;
        t["single_word"] = false;
        t["lstrip"] = a->lstrip;
        t["rstrip"] = a->rstrip;
        t["normalized"] = false;
        t["special"] = is_special(a->id);
        out.push_back(t);
    }
    return out;
}

}  // namespace ft::tokenization
