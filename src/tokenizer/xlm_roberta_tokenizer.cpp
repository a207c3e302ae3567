// XlmRobertaTokenizer: added tokens split out, Unicode whitespace to spaces (WhitespaceSplit),
// libsentencepiece's normalisation and tokenizers' Unigram Viterbi on the rest, fairseq's ids, the
// RoBERTa templates and the Metaspace decode; then its files: sentencepiece.bpe.model or
// tokenizer.json with the configs, and save_pretrained.
#include <sentencepiece_processor.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "finetune/core.h"
#include "finetune/io.h"
#include "finetune/tokenizer.h"
#include "tokenizer/byte_level_bpe.h"
#include "tokenizer/encoding.h"
#include "tokenizer/file_context.h"
#include "tokenizer/sentencepiece_model.h"
#include "tokenizer/unicode.h"

namespace ft {

// The processor runs on a ModelProto in fairseq's layout, so its ids are ours: piece i of `proto`
// is token i. `original` keeps a sentencepiece.bpe.model's bytes for save_pretrained.
struct XlmRobertaTokenizer::Model {
    spm::ModelFile proto;
    std::string original;
    bool whitespace_split = true;  // tokenizers' WhitespaceSplit before Metaspace
    sentencepiece::SentencePieceProcessor processor;
};

namespace {

constexpr std::string_view kMeta = "\xE2\x96\x81";  // U+2581, SentencePiece's space

using spm::Piece;

std::vector<std::string> pieces_of(const XlmRobertaTokenizer::Model& model) {
    std::vector<std::string> vocab;
    vocab.reserve(model.proto.pieces.size());
    for (const Piece& p : model.proto.pieces) vocab.push_back(p.piece);
    return vocab;
}

}  // namespace

RobertaOptions XlmRobertaTokenizer::default_options() {
    RobertaOptions o;
    o.add_prefix_space = true;
    return o;
}

XlmRobertaTokenizer::XlmRobertaTokenizer(std::shared_ptr<const Model> model, RobertaOptions options,
                                         const std::string& source)
    : RobertaStyleTokenizer(pieces_of(*model), std::move(options), source),
      model_(std::move(model)) {
    // tokenizers normalises first and then splits on what is still White_Space; SentencePiece
    // collapses only ' '. A White_Space character the normaliser keeps (nmt_nfkc keeps U+0085)
    // is turned into ' ' before SentencePiece; one it deletes (U+000B) is left to it. Asked of the
    // model once: "a<c>b" encodes as "ab" exactly when the normaliser deletes c.
    if (model_->whitespace_split) {
        std::vector<int> ab, with;
        (void)model_->processor.Encode("ab", &ab);
        for (int32_t cp = 0; cp <= 0x3000; ++cp) {
            if (cp == ' ' || !is_white_space(cp)) continue;
            std::string text = "a";
            unicode::append_utf8(cp, &text);
            text += "b";
            with.clear();
            if (model_->processor.Encode(text, &with).ok() && with != ab)
                split_chars_.push_back(cp);
        }
    }
    // tokenizers' Unigram scores in double precision (libsentencepiece's are floats, whose
    // rounding breaks ties between equal segmentations, "0 00" and "00 0", the other way).
    scores_.reserve(model_->proto.pieces.size());
    double lowest = 0;
    for (const Piece& p : model_->proto.pieces) {
        scores_.push_back(double(p.score));
        lowest = std::min(lowest, double(p.score));
        longest_piece_ = std::max(longest_piece_, p.piece.size());
    }
    unk_score_ = lowest - 10.0;  // tokenizers' K_UNK_PENALTY
}

// tokenizers' Unigram::encode_optimized: a forward Viterbi over the pieces starting at each
// character, ties kept by the first candidate; a character no piece starts with is unknown,
// and a run of unknown characters is one <unk> (fuse_unk).
void XlmRobertaTokenizer::append_unigram_ids(std::string_view text,
                                             std::vector<int32_t>* ids) const {
    struct Node {
        double score = 0;
        int64_t start = -1;
        int32_t id = 0;
    };
    thread_local std::vector<Node> best;
    best.assign(text.size() + 1, Node{});
    best[0].start = 0;
    auto char_length = [&](size_t at) {
        const unsigned char c = static_cast<unsigned char>(text[at]);
        const size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        return std::min(n, text.size() - at);
    };
    for (size_t start = 0; start < text.size(); start = start + char_length(start)) {
        const double here = best[start].score;
        const size_t first = char_length(start);
        bool single = false;
        for (size_t end = start + first; end <= text.size() && end - start <= longest_piece_;
             end += char_length(end)) {
            auto it = ids_.find(text.substr(start, end - start));
            if (it != ids_.end()) {
                const double candidate = here + scores_[size_t(it->second)];
                Node& target = best[end];
                if (target.start < 0 || candidate > target.score)
                    target = {candidate, int64_t(start), it->second};
                single = single || end - start == first;
            }
            if (end == text.size()) break;
        }
        if (!single) {
            Node& target = best[start + first];
            const double candidate = here + unk_score_;
            if (target.start < 0 || candidate > target.score)
                target = {candidate, int64_t(start), unk_id_};
        }
    }
    const size_t from = ids->size();
    for (size_t end = text.size(); end > 0; end = size_t(best[end].start)) {
        const int32_t id = best[end].id;
        if (!(id == unk_id_ && ids->size() > from && ids->back() == unk_id_)) ids->push_back(id);
    }
    std::reverse(ids->begin() + std::ptrdiff_t(from), ids->end());
}

// One stretch between added tokens. WhitespaceSplit splits on every Unicode White_Space
// character after the normaliser, while SentencePiece's extra-whitespace removal knows only
// ' ': the others (U+0085, which nmt_nfkc keeps) become ' ' first, which splits the same way.
void XlmRobertaTokenizer::append_segment_ids(std::string_view segment, bool /*split_word*/,
                                             std::vector<int32_t>* ids) const {
    if (segment.empty()) return;
    thread_local std::string spaced;
    if (!split_chars_.empty()) {
        spaced.clear();
        size_t pos = 0, copied = 0;
        while (pos < segment.size()) {
            const size_t start = pos;
            const unsigned char c = static_cast<unsigned char>(segment[pos]);
            if (c < 0x80 && c != '\t' && c != '\n' && c != '\v' && c != '\f' && c != '\r') {
                ++pos;
                continue;
            }
            const int32_t cp = unicode::next_code_point(segment, &pos);
            if (std::find(split_chars_.begin(), split_chars_.end(), cp) == split_chars_.end())
                continue;
            spaced.append(segment.substr(copied, start - copied));
            spaced.push_back(' ');
            copied = pos;
        }
        if (copied > 0) {
            spaced.append(segment.substr(copied));
            segment = spaced;
        }
    }
    // SentencePiece normalises (its pieces, unknown ones included, spell the normalised text);
    // then Metaspace's split before each "▁" and tokenizers' Unigram on each part.
    thread_local std::vector<std::string> pieces;
    thread_local std::string normalized;
    pieces.clear();
    const auto status = model_->processor.Encode(segment, &pieces);
    if (!status.ok()) throw Error("SentencePiece: " + status.ToString());
    normalized.clear();
    for (const std::string& p : pieces) normalized += p;
    const std::string_view text(normalized);
    size_t begin = 0;
    while (begin < text.size()) {
        size_t end = text.find(kMeta, begin + 1);
        if (end == std::string_view::npos) end = text.size();
        append_unigram_ids(text.substr(begin, end - begin), ids);
        begin = end;
    }
}

namespace {

void replace_all(std::string* s, std::string_view from, std::string_view to) {
    // Built anew: GCC 12 warns (-Wrestrict, wrongly) on std::string::replace in a loop.
    if (s->find(from) == std::string::npos) return;
    std::string out;
    out.reserve(s->size());
    size_t pos = 0;
    for (size_t hit; (hit = s->find(from, pos)) != std::string::npos; pos = hit + from.size()) {
        out.append(*s, pos, hit - pos);
        out.append(to);
    }
    out.append(*s, pos);
    *s = std::move(out);
}

}  // namespace

// tokenizers' Metaspace decoder: every "▁" a space, except in the first token, where it goes
// (prepend_scheme always / first); special tokens are tokens like the others unless skipped.
std::string XlmRobertaTokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens,
                                        bool clean_up_tokenization_spaces) const {
    std::string text;
    bool first = true;
    for (int32_t id : ids) {
        const std::string& token = id_to_token(id);
        if (skip_special_tokens && is_special(id)) continue;
        std::string piece = token;
        replace_all(&piece, kMeta, first && options_.add_prefix_space ? "" : " ");
        text += piece;
        first = false;
    }
    if (clean_up_tokenization_spaces) {
        // transformers' clean_up_tokenization, in its order.
        for (const auto& [from, to] : {std::pair<std::string_view, std::string_view>{" .", "."},
                                       {" ?", "?"},
                                       {" !", "!"},
                                       {" ,", ","},
                                       {" ' ", "'"},
                                       {" n't", "n't"},
                                       {" 'm", "'m"},
                                       {" 's", "'s"},
                                       {" 've", "'ve"},
                                       {" 're", "'re"}})
            replace_all(&text, from, to);
    }
    return text;
}

}  // namespace ft

// ---- Files: sentencepiece.bpe.model or tokenizer.json, the configs, save_pretrained ----

namespace ft {
namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::string base64_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    for (size_t i = 0; i < bytes.size(); i += 3) {
        uint32_t v = uint32_t(static_cast<unsigned char>(bytes[i])) << 16;
        if (i + 1 < bytes.size()) v |= uint32_t(static_cast<unsigned char>(bytes[i + 1])) << 8;
        if (i + 2 < bytes.size()) v |= uint32_t(static_cast<unsigned char>(bytes[i + 2]));
        out.push_back(kBase64[(v >> 18) & 63]);
        out.push_back(kBase64[(v >> 12) & 63]);
        out.push_back(i + 1 < bytes.size() ? kBase64[(v >> 6) & 63] : '=');
        out.push_back(i + 2 < bytes.size() ? kBase64[v & 63] : '=');
    }
    return out;
}

// Standard base64 with padding, as tokenizers writes precompiled_charsmap; nullopt if malformed.
std::optional<std::string> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0) return std::nullopt;
    std::string out;
    out.reserve(text.size() / 4 * 3);
    auto value = [](char c) -> int {
        const char* p = std::char_traits<char>::find(kBase64, 64, c);
        return p ? int(p - kBase64) : -1;
    };
    for (size_t i = 0; i < text.size(); i += 4) {
        int v[4];
        int pad = 0;
        for (int k = 0; k < 4; ++k) {
            const char c = text[i + size_t(k)];
            if (c == '=' && i + 4 == text.size() && k >= 2) {
                v[k] = 0;
                ++pad;
            } else if (pad > 0 || (v[k] = value(c)) < 0) {
                return std::nullopt;
            }
        }
        const uint32_t n =
            uint32_t(v[0]) << 18 | uint32_t(v[1]) << 12 | uint32_t(v[2]) << 6 | uint32_t(v[3]);
        out.push_back(char(n >> 16));
        if (pad < 2) out.push_back(char((n >> 8) & 0xFF));
        if (pad < 1) out.push_back(char(n & 0xFF));
    }
    return out;
}

// The processor on `model->proto`; its errors name `source`.
void load_processor(XlmRobertaTokenizer::Model* model, const std::string& source) {
    // The library's trie builder throws through a noexcept frame (std::terminate) on an empty
    // piece or one holding a NUL byte (found by fuzz/spm_model_fuzz.cpp): refuse them here.
    for (size_t i = 0; i < model->proto.pieces.size(); ++i) {
        const std::string& piece = model->proto.pieces[i].piece;
        if (piece.empty() || piece.find('\0') != std::string::npos)
            throw Error(source + ": SentencePiece piece " + std::to_string(i) +
                        (piece.empty() ? " is empty" : " holds a NUL byte"));
    }
    const auto status =
        model->processor.LoadFromSerializedProto(spm::serialize_model(model->proto));
    if (!status.ok())
        throw Error(source + ": SentencePiece refuses the model: " + status.ToString());
}

// TrainerSpec's special ids and pieces for the fairseq layout, so the processor agrees with it.
void set_special_ids(spm::ModelFile* proto, const RobertaOptions& o, int32_t unk_id) {
    std::string* t = &proto->trainer_spec;
    spm::append_varint_field(t, spm::kModelType, 1);  // Unigram
    spm::append_varint_field(t, spm::kVocabSize, int64_t(proto->pieces.size()));
    spm::append_varint_field(t, spm::kUnkId, unk_id);
    for (int field : {spm::kBosId, spm::kEosId, spm::kPadId})
        spm::append_varint_field(t, field, -1);
    spm::append_bytes_field(t, spm::kUnkPiece, o.unk);
    spm::append_bytes_field(t, spm::kBosPiece, o.bos);
    spm::append_bytes_field(t, spm::kEosPiece, o.eos);
    spm::append_bytes_field(t, spm::kPadPiece, o.pad);
}

void apply_configs(const fs::path& dir, RobertaOptions* o) {
    for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"})
        if (fs::exists(dir / name)) tokenization::apply_roberta_config(dir / name, o);
}

json parse_json_text(const std::string& text, const std::string& source) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        throw Error(source + ": invalid JSON: " + e.what());
    }
}

}  // namespace

// A SentencePiece model in its own layout (<unk>, <s>, </s>, the rest) becomes fairseq's:
// <s> <pad> </s> <unk>, the rest at their id + 1, <mask> last, as XLMRobertaConverter does.
XlmRobertaTokenizer XlmRobertaTokenizer::from_spm_model(const std::string& bytes,
                                                        RobertaOptions options,
                                                        const std::string& source) {
    auto model = std::make_shared<Model>();
    const spm::ModelFile original = spm::parse_model(bytes, source);
    if (original.pieces.size() < 4)
        throw Error(source + ": not a SentencePiece model (" +
                    std::to_string(original.pieces.size()) +
                    " pieces; expected <unk>, <s>, </s> and the vocabulary)");
    const auto type = spm::varint_field(original.trainer_spec, spm::kModelType).value_or(1);
    if (type != 1)
        throw Error(source + ": SentencePiece model type " + std::to_string(type) +
                    " is not supported (XLM-R's is Unigram, 1)");
    if (spm::varint_field(original.trainer_spec, spm::kByteFallback).value_or(0))
        throw Error(source + ": byte_fallback is not supported");
    if (original.pieces[0].type != spm::UNKNOWN)
        throw Error(source + ": piece 0 '" + original.pieces[0].piece +
                    "' is not the unknown piece (XLM-R's layout is <unk>, <s>, </s>, ...)");
    spm::ModelFile& proto = model->proto;
    proto.trainer_spec = original.trainer_spec;
    proto.normalizer_spec = original.normalizer_spec;
    spm::append_varint_field(&proto.normalizer_spec, spm::kAddDummyPrefix,
                             options.add_prefix_space);
    spm::append_varint_field(&proto.normalizer_spec, spm::kRemoveExtraWhitespaces, 1);
    auto add = [&](const std::string& piece, spm::PieceType t) {
        proto.pieces.push_back(Piece{piece, 0, t});
    };
    add(options.bos, spm::CONTROL);
    add(options.pad, spm::CONTROL);
    add(options.eos, spm::CONTROL);
    add(options.unk, spm::UNKNOWN);
    proto.pieces.insert(proto.pieces.end(), original.pieces.begin() + 3, original.pieces.end());
    add(options.mask.content, spm::CONTROL);
    set_special_ids(&proto, options, 3);
    model->original = bytes;
    load_processor(model.get(), source);
    return tokenization::with_file_context(
        source, [&] { return XlmRobertaTokenizer(std::move(model), std::move(options), source); });
}

namespace {

struct TokenizerJson {
    std::shared_ptr<XlmRobertaTokenizer::Model> model;
    RobertaOptions options;
};

// The precompiled charsmap of a Precompiled normalizer, alone or in a Sequence beside the
// Replace(" {2,}", " ") older converters added (SentencePiece removes extra spaces anyway).
std::string read_normalizer(const json& n, const std::string& source) {
    auto fail = [&](const std::string& what) {
        return Error(source + ": normalizer " + n.dump().substr(0, 80) + ": " + what);
    };
    if (n.is_null()) return {};
    if (!n.is_object()) throw fail("must be an object");
    const std::string type = n.value("type", "");
    if (type == "Precompiled") {
        auto it = n.find("precompiled_charsmap");
        if (it == n.end() || it->is_null()) return {};
        if (!it->is_string()) throw fail("precompiled_charsmap must be a base64 string");
        auto bytes = base64_decode(it->get<std::string>());
        if (!bytes) throw fail("precompiled_charsmap is not valid base64");
        return *bytes;
    }
    if (type == "Sequence" && n.contains("normalizers") && n["normalizers"].is_array()) {
        std::string charsmap;
        for (const json& m : n["normalizers"]) {
            if (m.is_object() && m.value("type", "") == "Replace" && m.contains("pattern") &&
                m["pattern"].is_object() && m["pattern"].value("Regex", "") == " {2,}" &&
                m.value("content", "") == " ")
                continue;
            charsmap = read_normalizer(m, source);
        }
        return charsmap;
    }
    throw fail("is not supported (XLM-R's is Precompiled)");
}

// Metaspace, alone or after WhitespaceSplit; sets the prepend and the whitespace split.
void read_pre_tokenizer(const json& j, const std::string& source, RobertaOptions* o,
                        bool* whitespace_split) {
    auto fail = [&]() {
        return Error(source +
                     ": pre_tokenizer must be Metaspace (\"▁\"), alone or after "
                     "WhitespaceSplit");
    };
    if (!j.is_object()) throw fail();
    const json* meta = &j;
    *whitespace_split = false;
    if (j.value("type", "") == "Sequence") {
        auto it = j.find("pretokenizers");
        if (it == j.end() || !it->is_array() || it->empty()) throw fail();
        const json& list = *it;
        if (list.size() == 2 && list[0].is_object() &&
            list[0].value("type", "") == "WhitespaceSplit")
            *whitespace_split = true;
        else if (list.size() != 1)
            throw fail();
        meta = &list.back();
    }
    if (!meta->is_object() || meta->value("type", "") != "Metaspace" ||
        meta->value("replacement", std::string(kMeta)) != kMeta)
        throw fail();
    if (meta->contains("prepend_scheme"))
        o->add_prefix_space = meta->value("prepend_scheme", "always") != "never";
    else
        o->add_prefix_space = meta->value("add_prefix_space", true);
}

// RobertaProcessing, or TemplateProcessing with <s> $A </s> (and <s> $A </s> </s> $B </s>).
void read_post_processor(const json& p, const std::string& source, RobertaOptions* o) {
    auto fail = [&](const std::string& what) { return Error(source + ": post_processor " + what); };
    if (!p.is_object()) throw fail("must be RobertaProcessing or TemplateProcessing");
    const std::string type = p.value("type", "");
    if (type == "RobertaProcessing") {
        for (const auto& [key, target] : {std::pair{"sep", &o->sep}, std::pair{"cls", &o->cls}}) {
            auto it = p.find(key);
            if (it == p.end() || !it->is_array() || it->empty() || !(*it)[0].is_string())
                throw fail(std::string(key) + " must be [token, id]");
            *target = (*it)[0].get<std::string>();
        }
        return;
    }
    if (type != "TemplateProcessing") throw fail("must be RobertaProcessing or TemplateProcessing");
    auto special = [](const json& piece) -> std::optional<std::string> {
        if (piece.is_object() && piece.contains("SpecialToken") &&
            piece["SpecialToken"].is_object() && piece["SpecialToken"].contains("id") &&
            piece["SpecialToken"]["id"].is_string())
            return piece["SpecialToken"]["id"].get<std::string>();
        return std::nullopt;
    };
    auto sequence = [](const json& piece, const char* id) {
        return piece.is_object() && piece.contains("Sequence") && piece["Sequence"].is_object() &&
               piece["Sequence"].value("id", "") == id;
    };
    const json single = p.value("single", json::array());
    const json pair = p.value("pair", json::array());
    if (single.size() != 3 || !special(single[0]) || !sequence(single[1], "A") ||
        !special(single[2]))
        throw fail("single must be [<s>, $A, </s>]");
    o->cls = *special(single[0]);
    o->sep = *special(single[2]);
    if (pair.size() != 6 || special(pair[0]) != o->cls || !sequence(pair[1], "A") ||
        special(pair[2]) != o->sep || special(pair[3]) != o->sep || !sequence(pair[4], "B") ||
        special(pair[5]) != o->sep)
        throw fail("pair must be [<s>, $A, </s>, </s>, $B, </s>]");
}

// tokenizer.json with a Unigram model: the vocabulary as a ModelProto in the same id order.
TokenizerJson parse_tokenizer_json(const std::string& text, const std::string& source,
                                   RobertaOptions o) {
    const json j = parse_json_text(text, source);
    auto fail = [&](const std::string& what) { return Error(source + ": " + what); };
    if (!j.is_object()) throw fail("expected a JSON object");
    auto model_it = j.find("model");
    if (model_it == j.end() || !model_it->is_object()) throw fail("no 'model' object");
    const json& model = *model_it;
    if (model.value("type", "") != "Unigram")
        throw fail("model.type " + model.value("type", json("")).dump() +
                   " is not supported here (only Unigram)");
    if (model.value("byte_fallback", false))
        throw fail("model.byte_fallback true is not supported");
    auto vocab_it = model.find("vocab");
    if (vocab_it == model.end() || !vocab_it->is_array() || vocab_it->empty())
        throw fail("model.vocab must be a non-empty list of [piece, score]");
    const json& vocab = *vocab_it;
    auto unk_it = model.find("unk_id");
    if (unk_it == model.end() || !unk_it->is_number_integer() || unk_it->get<int64_t>() < 0 ||
        unk_it->get<int64_t>() >= int64_t(vocab.size()))
        throw fail("model.unk_id must be an id of model.vocab");
    const int32_t unk_id = unk_it->get<int32_t>();

    TokenizerJson out;
    out.model = std::make_shared<XlmRobertaTokenizer::Model>();
    spm::ModelFile& proto = out.model->proto;
    std::vector<bool> control(vocab.size(), false);
    if (auto added = j.find("added_tokens"); added != j.end() && !added->is_null()) {
        if (!added->is_array()) throw fail("added_tokens must be a list");
        for (const json& t : *added) {
            const int64_t id = tokenization::read_added_token(t, source, &o);
            const std::string& content = o.additional.back().content;
            if (id < 0 || id >= int64_t(vocab.size()) || !vocab[size_t(id)].is_array() ||
                vocab[size_t(id)].empty() || vocab[size_t(id)][0] != content)
                throw fail("added token '" + content + "' has id " + std::to_string(id) +
                           ", which model.vocab gives to another token");
            control[size_t(id)] = true;
        }
    }
    std::unordered_map<std::string, size_t> seen;
    for (size_t i = 0; i < vocab.size(); ++i) {
        const json& v = vocab[i];
        if (!v.is_array() || v.size() != 2 || !v[0].is_string() || !v[1].is_number())
            throw fail("model.vocab[" + std::to_string(i) + "] must be [piece, score]");
        Piece p{v[0].get<std::string>(), v[1].get<float>(),
                int32_t(i) == unk_id ? spm::UNKNOWN
                : control[i]         ? spm::CONTROL
                                     : spm::NORMAL};
        if (p.piece.empty()) throw fail("model.vocab[" + std::to_string(i) + "] is empty");
        if (auto [it, fresh] = seen.emplace(p.piece, i); !fresh)
            throw fail("model.vocab[" + std::to_string(i) + "] '" + p.piece +
                       "' repeats model.vocab[" + std::to_string(it->second) + "]");
        proto.pieces.push_back(std::move(p));
    }
    o.unk = proto.pieces[size_t(unk_id)].piece;

    const std::string charsmap = read_normalizer(j.value("normalizer", json()), source);
    auto pre = j.find("pre_tokenizer");
    if (pre == j.end()) throw fail("no pre_tokenizer (XLM-R's is Metaspace)");
    read_pre_tokenizer(*pre, source, &o, &out.model->whitespace_split);
    if (auto d = j.find("decoder");
        d != j.end() && !d->is_null() && (!d->is_object() || d->value("type", "") != "Metaspace"))
        throw fail("decoder must be Metaspace");
    auto post = j.find("post_processor");
    if (post == j.end()) throw fail("no post_processor (XLM-R's adds <s> and </s>)");
    read_post_processor(*post, source, &o);

    std::string* n = &proto.normalizer_spec;
    spm::append_bytes_field(n, spm::kName, charsmap.empty() ? "identity" : "precompiled");
    if (!charsmap.empty()) spm::append_bytes_field(n, spm::kPrecompiledCharsmap, charsmap);
    spm::append_varint_field(n, spm::kAddDummyPrefix, o.add_prefix_space);
    spm::append_varint_field(n, spm::kRemoveExtraWhitespaces, 1);
    spm::append_varint_field(n, spm::kEscapeWhitespaces, 1);
    set_special_ids(&proto, o, unk_id);
    load_processor(out.model.get(), source);
    out.options = std::move(o);
    return out;
}

// transformers 5 gives <mask> lstrip only where a file's AddedToken says so.
RobertaOptions file_defaults() {
    RobertaOptions o = XlmRobertaTokenizer::default_options();
    o.mask.lstrip = false;
    return o;
}

}  // namespace

XlmRobertaTokenizer XlmRobertaTokenizer::from_tokenizer_json(const fs::path& path) {
    TokenizerJson t = parse_tokenizer_json(read_text_file(path), path.string(), file_defaults());
    return XlmRobertaTokenizer(std::move(t.model), std::move(t.options), path.string());
}

XlmRobertaTokenizer XlmRobertaTokenizer::from_pretrained(const fs::path& dir) {
    if (!fs::is_directory(dir)) throw Error(dir.string() + ": not a directory");
    if (const fs::path tj = dir / "tokenizer.json"; fs::exists(tj)) {
        TokenizerJson t = parse_tokenizer_json(read_text_file(tj), tj.string(), file_defaults());
        apply_configs(dir, &t.options);
        // The fast tokenizer's added tokens keep tokenizer.json's flags.
        for (const AddedToken& a : t.options.additional)
            if (a.content == t.options.mask.content) t.options.mask = a;
        return XlmRobertaTokenizer(std::move(t.model), std::move(t.options), tj.string());
    }
    if (const fs::path m = dir / "sentencepiece.bpe.model"; fs::exists(m)) {
        RobertaOptions o = file_defaults();
        apply_configs(dir, &o);
        return from_spm_model(read_text_file(m), std::move(o), m.string());
    }
    throw Error(dir.string() +
                ": no XLM-RoBERTa tokenizer found (expected tokenizer.json or "
                "sentencepiece.bpe.model)");
}

void XlmRobertaTokenizer::save_pretrained(const fs::path& dir) const {
    fs::create_directories(dir);
    if (!model_->original.empty())
        write_text_atomic(dir / "sentencepiece.bpe.model", model_->original);

    const ordered_json special_map = tokenization::roberta_special_tokens_map(options_);
    const ordered_json additional = special_map.value("additional_special_tokens", ordered_json());
    ordered_json config;
    config["add_prefix_space"] = options_.add_prefix_space;
    for (const char* key : {"bos_token", "cls_token", "eos_token"}) config[key] = special_map[key];
    config["clean_up_tokenization_spaces"] = false;  // transformers 5's default for XLM-R
    config["mask_token"] = special_map["mask_token"];
    if (options_.model_max_length != kNoMaxLength)
        config["model_max_length"] = options_.model_max_length;
    for (const char* key : {"pad_token", "sep_token"}) config[key] = special_map[key];
    if (!additional.is_null()) config["additional_special_tokens"] = additional;
    config["tokenizer_class"] = std::string(tokenizer_class());
    config["unk_token"] = options_.unk;
    write_text_atomic(dir / "tokenizer_config.json", config.dump(2) + "\n");
    write_text_atomic(dir / "special_tokens_map.json", special_map.dump(2) + "\n");

    // tokenizer.json as transformers 5 writes it for XLMRobertaTokenizer.
    const spm::ModelFile& proto = model_->proto;
    ordered_json tj;
    tj["version"] = "1.0";
    tj["truncation"] = nullptr;
    tj["padding"] = nullptr;
    tj["added_tokens"] = tokenization::added_tokens_json(
        std::span<const Added>(added_), [this](int32_t id) { return is_special(id); });
    const std::string charsmap(
        spm::bytes_field(proto.normalizer_spec, spm::kPrecompiledCharsmap).value_or(""));
    if (charsmap.empty()) {
        tj["normalizer"] = nullptr;
    } else {
        ordered_json n;
        n["type"] = "Precompiled";
        n["precompiled_charsmap"] = base64_encode(charsmap);
        tj["normalizer"] = n;
    }
    const char* prepend = options_.add_prefix_space ? "always" : "never";
    ordered_json meta;
    meta["type"] = "Metaspace";
    meta["replacement"] = std::string(kMeta);
    meta["prepend_scheme"] = prepend;
    meta["split"] = true;
    ordered_json pre;
    if (model_->whitespace_split) {
        pre["type"] = "Sequence";
        pre["pretokenizers"] =
            ordered_json::array({ordered_json{{"type", "WhitespaceSplit"}}, meta});
    } else {
        pre = meta;
    }
    tj["pre_tokenizer"] = pre;
    auto special_piece = [](const std::string& id) {
        return ordered_json{{"SpecialToken", ordered_json{{"id", id}, {"type_id", 0}}}};
    };
    auto sequence_piece = [](const char* id) {
        return ordered_json{{"Sequence", ordered_json{{"id", id}, {"type_id", 0}}}};
    };
    ordered_json post;
    post["type"] = "TemplateProcessing";
    post["single"] = ordered_json::array(
        {special_piece(options_.cls), sequence_piece("A"), special_piece(options_.sep)});
    post["pair"] = ordered_json::array({special_piece(options_.cls), sequence_piece("A"),
                                        special_piece(options_.sep), special_piece(options_.sep),
                                        sequence_piece("B"), special_piece(options_.sep)});
    ordered_json specials;
    for (const auto& [token, id] : {std::pair{&options_.sep, sep_id_}, {&options_.cls, cls_id_}})
        specials[*token] = ordered_json{{"id", *token},
                                        {"ids", ordered_json::array({id})},
                                        {"tokens", ordered_json::array({*token})}};
    post["special_tokens"] = specials;
    tj["post_processor"] = post;
    tj["decoder"] = meta;
    ordered_json model;
    model["type"] = "Unigram";
    model["unk_id"] = unk_id_;
    ordered_json vocab = ordered_json::array();
    for (const Piece& p : proto.pieces) vocab.push_back(ordered_json::array({p.piece, p.score}));
    model["vocab"] = std::move(vocab);
    model["byte_fallback"] = false;
    tj["model"] = model;
    write_text_atomic(dir / "tokenizer.json", tj.dump());
}

}  // namespace ft
