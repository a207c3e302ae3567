// Truncation choice, padding and the threaded batch call shared by the tokenizer kinds.
#include "tokenizer/encoding.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "finetune/core.h"
#include "finetune/io.h"
#include "tokenizer/byte_level_bpe.h"
#include "tokenizer/unicode.h"

namespace ft::tokenization {

namespace {

int64_t round_up(int64_t n, const std::optional<int64_t>& multiple) {
    if (!multiple || *multiple <= 0 || n % *multiple == 0) return n;
    return (n / *multiple + 1) * *multiple;
}

// Right padding to `target`; never shortens. Token types (where the kind has them) pad with 0.
void pad_to(Encoding* e, int64_t target, int32_t pad_id) {
    if (target <= int64_t(e->input_ids.size())) return;
    e->input_ids.resize(size_t(target), pad_id);
    if (!e->token_type_ids.empty()) e->token_type_ids.resize(size_t(target), 0);
    e->attention_mask.resize(size_t(target), 0);
}

// The length every encoding of a batch pads to (0: none).
int64_t padded_length(const EncodeOptions& options, int64_t max_length, int64_t longest) {
    if (options.padding == Padding::Longest) return round_up(longest, options.pad_to_multiple_of);
    if (options.padding == Padding::MaxLength && max_length != Tokenizer::kNoMaxLength)
        return round_up(max_length, options.pad_to_multiple_of);
    return 0;
}

}  // namespace

void check_utf8(std::string_view text, const char* what) {
    const size_t bad = unicode::find_invalid_utf8(text);
    if (bad != std::string_view::npos)
        throw Error(std::string("invalid UTF-8 in the ") + what + " at byte " +
                    std::to_string(bad));
}

Truncation effective_truncation(const EncodeOptions& options) {
    if (options.max_length && options.truncation == Truncation::None &&
        options.padding == Padding::None)
        return Truncation::LongestFirst;
    return options.truncation;
}

void pad_one(Encoding* e, const EncodeOptions& options, int64_t max_length, int32_t pad_id) {
    pad_to(e, padded_length(options, max_length, e->length), pad_id);
}

std::vector<Encoding> encode_batch(std::span<const std::string> texts,
                                   std::span<const std::string> pairs, const EncodeOptions& options,
                                   int64_t max_length, int32_t pad_id,
                                   const EncodeUnpadded& encode_one) {
    if (!pairs.empty() && pairs.size() != texts.size())
        throw Error("encode_batch: " + std::to_string(texts.size()) + " texts but " +
                    std::to_string(pairs.size()) + " pairs");
    return encode_batch_indexed(texts.size(), "text", options, max_length, pad_id,
                                [&](size_t i, Truncation truncation) {
                                    std::optional<std::string_view> pair;
                                    if (!pairs.empty()) pair = pairs[i];
                                    return encode_one(texts[i], pair, truncation);
                                });
}

std::vector<Encoding> encode_batch_indexed(
    size_t n, const char* what, const EncodeOptions& options, int64_t max_length, int32_t pad_id,
    const std::function<Encoding(size_t, Truncation)>& encode_one) {
    const Truncation truncation = effective_truncation(options);
    std::vector<Encoding> out(n);
    std::string first_error;
#pragma omp parallel for schedule(dynamic, 64)
    for (int64_t i = 0; i < int64_t(n); ++i) {
        try {
            out[size_t(i)] = encode_one(size_t(i), truncation);
        } catch (const Error& e) {
#pragma omp critical(ft_tokenizer_error)
            if (first_error.empty())
                first_error = std::string(what) + " " + std::to_string(i) + ": " + e.what();
        }
    }
    if (!first_error.empty()) throw Error(first_error);
    int64_t longest = 0;
    for (const Encoding& e : out) longest = std::max(longest, e.length);
    const int64_t target = padded_length(options, max_length, longest);
    for (Encoding& e : out) pad_to(&e, target, pad_id);
    return out;
}

// ---- RoBERTa-style kinds ----

// The start of the whitespace run that ends at `end` (not before `floor`), for lstrip.
size_t white_space_run_start(std::string_view text, size_t floor, size_t end) {
    size_t start = end;
    while (start > floor) {
        size_t p = start - 1;
        while (p > floor && (static_cast<unsigned char>(text[p]) & 0xC0) == 0x80) --p;
        size_t q = p;
        if (!is_white_space(unicode::next_code_point(text, &q))) break;
        start = p;
    }
    return start;
}

// The end of the whitespace run that starts at `begin`, for rstrip.
size_t white_space_run_end(std::string_view text, size_t begin) {
    size_t end = begin;
    while (end < text.size()) {
        size_t q = end;
        if (!is_white_space(unicode::next_code_point(text, &q))) break;
        end = q;
    }
    return end;
}

namespace {

// tokenizers' LongestFirst on a pair: the shorter keeps up to half of `target` (the longer one
// the odd token), else all of itself, and the longer one what is left.
void truncate_longest_first(std::vector<int32_t>* a, std::vector<int32_t>* b, size_t target) {
    size_t n1 = a->size(), n2 = b->size();
    const bool swap = n1 > n2;
    if (swap) std::swap(n1, n2);
    n2 = n1 > target ? n1 : std::max(n1, target - n1);
    if (n1 + n2 > target) {
        n1 = target / 2;
        n2 = n1 + target % 2;
    }
    if (swap) std::swap(n1, n2);
    a->resize(std::min(a->size(), n1));
    b->resize(std::min(b->size(), n2));
}

}  // namespace

Encoding roberta_template(std::vector<int32_t> a, std::optional<std::vector<int32_t>> b,
                          Truncation truncation, const EncodeOptions& options, int64_t max_length,
                          int32_t cls_id, int32_t sep_id) {
    const int64_t specials = options.add_special_tokens ? (b ? 4 : 2) : 0;
    const int64_t total = int64_t(a.size()) + (b ? int64_t(b->size()) : 0);
    if (truncation != Truncation::None && max_length != Tokenizer::kNoMaxLength &&
        max_length >= specials && total + specials > max_length) {
        const int64_t target = max_length - specials;
        const int64_t remove = total - target;
        if (target == 0) {
            a.clear();
            if (b) b->clear();
        } else if (truncation == Truncation::LongestFirst) {
            if (b)
                truncate_longest_first(&a, &*b, size_t(target));
            else
                a.resize(size_t(target));
        } else {
            const bool first = truncation == Truncation::OnlyFirst;
            const char* name = first ? "only_first" : "only_second";
            if (!first && !b) throw Error("truncation only_second needs a pair of texts");
            std::vector<int32_t>& cut = first ? a : *b;
            if (int64_t(cut.size()) <= remove)
                throw Error(std::string("truncation ") + name + ": the " +
                            (first ? "first" : "second") + " sequence has " +
                            std::to_string(cut.size()) + " tokens, " + std::to_string(remove) +
                            " must go to fit max_length " + std::to_string(max_length));
            cut.resize(cut.size() - size_t(remove));
        }
    }
    Encoding e;
    e.input_ids.reserve(size_t(total + specials));
    if (options.add_special_tokens) e.input_ids.push_back(cls_id);
    e.input_ids.insert(e.input_ids.end(), a.begin(), a.end());
    if (options.add_special_tokens) e.input_ids.push_back(sep_id);
    if (b) {
        if (options.add_special_tokens) e.input_ids.push_back(sep_id);
        e.input_ids.insert(e.input_ids.end(), b->begin(), b->end());
        if (options.add_special_tokens) e.input_ids.push_back(sep_id);
    }
    e.attention_mask.assign(e.input_ids.size(), 1);
    e.length = int64_t(e.input_ids.size());
    return e;
}

namespace {

using json = nlohmann::json;

json parse_json_text(const std::string& text, const std::string& source) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        throw Error(source + ": invalid JSON: " + e.what());
    }
}

// A token in a config: a string, or an AddedToken object {"content", "lstrip", "rstrip"}.
std::optional<AddedToken> token_field(const json& j, const char* key, const std::string& file) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    if (it->is_string()) return AddedToken{it->get<std::string>()};
    if (it->is_object() && it->contains("content") && (*it)["content"].is_string()) {
        AddedToken t{(*it)["content"].get<std::string>()};
        t.lstrip = it->value("lstrip", false);
        t.rstrip = it->value("rstrip", false);
        return t;
    }
    throw Error(file + ": field '" + key + "' must be a string or {\"content\": ...}");
}

std::optional<bool> bool_field(const json& j, const char* key, const std::string& file) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    if (!it->is_boolean()) throw Error(file + ": field '" + key + "' must be a boolean");
    return it->get<bool>();
}

}  // namespace

void apply_roberta_config(const std::filesystem::path& path, RobertaOptions* o) {
    const std::string file = path.string();
    const json j = parse_json_text(read_text_file(path), file);
    if (!j.is_object()) throw Error(file + ": expected a JSON object");
    const std::pair<const char*, std::string*> names[] = {
        {"bos_token", &o->bos}, {"eos_token", &o->eos}, {"sep_token", &o->sep},
        {"cls_token", &o->cls}, {"unk_token", &o->unk}, {"pad_token", &o->pad}};
    for (const auto& [key, target] : names)
        if (auto t = token_field(j, key, file)) *target = t->content;
    if (auto it = j.find("mask_token"); it != j.end() && !it->is_null()) {
        const AddedToken t = *token_field(j, "mask_token", file);
        if (it->is_object())
            o->mask = t;
        else
            o->mask.content = t.content;
    }
    if (auto it = j.find("additional_special_tokens"); it != j.end() && !it->is_null()) {
        if (!it->is_array())
            throw Error(file + ": field 'additional_special_tokens' must be a list");
        for (const json& t : *it) {
            const json holder = {{"t", t}};
            const AddedToken a = *token_field(holder, "t", file);
            if (std::none_of(o->additional.begin(), o->additional.end(),
                             [&](const AddedToken& b) { return b.content == a.content; }))
                o->additional.push_back(a);
        }
    }
    if (auto v = bool_field(j, "add_prefix_space", file)) o->add_prefix_space = *v;
    if (auto v = bool_field(j, "trim_offsets", file)) o->trim_offsets = *v;
    for (const char* key : {"model_max_length", "max_len"}) {
        auto it = j.find(key);
        if (it == j.end() || it->is_null()) continue;
        if (!it->is_number() || it->get<double>() < 1)
            throw Error(file + ": field '" + key + "' must be a positive number");
        // HF writes "no limit" as 1e30 (VERY_LARGE_INTEGER).
        const double v = it->get<double>();
        o->model_max_length = v >= double(Tokenizer::kNoMaxLength) ? Tokenizer::kNoMaxLength
                              : it->is_number_integer()            ? it->get<int64_t>()
                                                                   : int64_t(v);
        break;
    }
}

nlohmann::ordered_json roberta_special_tokens_map(const RobertaOptions& o) {
    using ordered_json = nlohmann::ordered_json;
    auto added_json = [](const AddedToken& t) {
        ordered_json j;
        j["content"] = t.content;
        j["lstrip"] = t.lstrip;
        j["normalized"] = false;
        j["rstrip"] = t.rstrip;
        j["single_word"] = false;
        return j;
    };
    const std::string* named[] = {&o.bos, &o.eos, &o.sep, &o.cls, &o.unk, &o.pad};
    auto is_named = [&](const std::string& c) {
        return c == o.mask.content || std::any_of(std::begin(named), std::end(named),
                                                  [&](const std::string* n) { return *n == c; });
    };
    ordered_json special_map;
    special_map["bos_token"] = o.bos;
    special_map["cls_token"] = o.cls;
    special_map["eos_token"] = o.eos;
    special_map["mask_token"] = added_json(o.mask);
    special_map["pad_token"] = o.pad;
    special_map["sep_token"] = o.sep;
    special_map["unk_token"] = o.unk;
    ordered_json additional = ordered_json::array();
    for (const AddedToken& t : o.additional)
        if (t.special && !is_named(t.content)) additional.push_back(added_json(t));
    if (!additional.empty()) special_map["additional_special_tokens"] = additional;
    return special_map;
}

int64_t read_added_token(const nlohmann::json& t, const std::string& source, RobertaOptions* o) {
    if (!t.is_object() || !t.contains("content") || !t["content"].is_string() ||
        !t.contains("id") || !t["id"].is_number_integer())
        throw Error(source +
                    ": added_tokens: each entry needs a string 'content' and an integer 'id'");
    const AddedToken a{t["content"].get<std::string>(), t.value("lstrip", false),
                       t.value("rstrip", false), t.value("special", false)};
    if (a.content == o->mask.content) o->mask = a;
    o->additional.push_back(a);
    return t["id"].get<int64_t>();
}

}  // namespace ft::tokenization
