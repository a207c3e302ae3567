// RobertaTokenizer: byte-level BPE between the added tokens (RobertaStyleTokenizer splits them out
// and adds the templates, truncation and padding), the byte-level decode; then its files:
// vocab.json + merges.txt with the configs, tokenizer.json, save_pretrained.
#include <omp.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "finetune/core.h"
#include "finetune/io.h"
#include "finetune/tokenizer.h"
#include "tokenizer/byte_level_bpe.h"
#include "tokenizer/encoding.h"
#include "tokenizer/file_context.h"
#include "tokenizer/unicode.h"

namespace ft {

RobertaTokenizer::RobertaTokenizer(std::vector<std::string> vocab,
                                   std::vector<std::pair<std::string, std::string>> merges,
                                   RobertaOptions options)
    : RobertaStyleTokenizer(std::move(vocab), std::move(options)), merges_(std::move(merges)) {
    std::unordered_map<std::string, int32_t> plain_ids;
    plain_ids.reserve(vocab_.size());
    for (size_t i = 0; i < vocab_.size(); ++i) plain_ids.insert_or_assign(vocab_[i], int32_t(i));
    bpe_ = std::make_shared<const ByteLevelBpe>(plain_ids, merges_);
}

// One stretch between added tokens: ByteLevel's optional leading space (always on a pre-split
// word's), the GPT-2 pieces, BPE.
void RobertaTokenizer::append_segment_ids(std::string_view segment, bool split_word,
                                          std::vector<int32_t>* ids) const {
    if (segment.empty()) return;
    thread_local std::string prefixed;
    if ((options_.add_prefix_space || split_word) && segment[0] != ' ') {
        prefixed.assign(1, ' ');
        prefixed.append(segment);
        segment = prefixed;
    }
    thread_local std::vector<std::pair<uint32_t, uint32_t>> pieces;
    pieces.clear();
    split_gpt2_pieces(segment, &pieces);
    for (const auto& [begin, end] : pieces)
        bpe_->append_ids(segment.substr(begin, end - begin), ids);
}

std::string RobertaTokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens,
                                     bool /*clean_up_tokenization_spaces*/) const {
    std::string bytes;
    for (int32_t id : ids) {
        const std::string& token = id_to_token(id);
        if (skip_special_tokens && is_special(id)) continue;
        append_token_bytes(token, &bytes);
    }
    return utf8_lossy(bytes);
}

}  // namespace ft

// ---- Files: vocab.json + merges.txt with the configs, tokenizer.json, save_pretrained ----

namespace ft {
namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;
using Merges = std::vector<std::pair<std::string, std::string>>;

json parse_json_text(const std::string& text, const std::string& source) {
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        throw Error(source + ": invalid JSON: " + e.what());
    }
}

// Tokens in id order from {token: id}; ids must run 0..n-1.
std::vector<std::string> vocab_from_object(const json& v, const std::string& source,
                                           const std::string& field) {
    if (!v.is_object()) throw Error(source + ": " + field + " must be an object {token: id}");
    if (v.empty()) throw Error(source + ": " + field + " is empty");
    std::vector<std::string> vocab(v.size());
    std::vector<bool> seen(v.size(), false);
    for (const auto& [token, id] : v.items()) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
            id.get<int64_t>() >= int64_t(vocab.size()) || seen[size_t(id.get<int64_t>())])
            throw Error(source + ": " + field + ": token '" + token + "' has id " + id.dump() +
                        ", but ids must run 0.." + std::to_string(vocab.size() - 1) +
                        " without repeats");
        seen[size_t(id.get<int64_t>())] = true;
        vocab[size_t(id.get<int64_t>())] = token;
    }
    return vocab;
}

// merges.txt: a "#version" line, then "left right" per line, in rank order.
Merges read_merges_txt(const fs::path& path) {
    const std::string text = read_text_file(path);
    Merges merges;
    size_t pos = 0, line_no = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        std::string_view line(text.data() + pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        if (line.starts_with("#version")) continue;
        const size_t space = line.find(' ');
        if (space == 0 || space == std::string_view::npos || space + 1 == line.size() ||
            line.find(' ', space + 1) != std::string_view::npos)
            throw Error(path.string() + ": line " + std::to_string(line_no) +
                        ": expected two tokens separated by one space, got '" + std::string(line) +
                        "'");
        if (unicode::find_invalid_utf8(line) != std::string_view::npos)
            throw Error(path.string() + ": line " + std::to_string(line_no) + ": invalid UTF-8");
        merges.emplace_back(std::string(line.substr(0, space)),
                            std::string(line.substr(space + 1)));
    }
    return merges;
}

// Each merge's parts and result must be tokens; the error names the file and the merge.
void check_merges(const Merges& merges, const std::vector<std::string>& vocab,
                  const std::string& source, const std::string& merge_name) {
    std::unordered_map<std::string_view, int> known;
    known.reserve(vocab.size());
    for (const std::string& t : vocab) known.emplace(t, 0);
    for (size_t i = 0; i < merges.size(); ++i) {
        const auto& [a, b] = merges[i];
        for (const std::string& t : {a, b, a + b})
            if (!known.contains(t))
                throw Error(source + ": " + merge_name + " " + std::to_string(i + 1) + " '" + a +
                            " " + b + "': '" + t + "' is not in the vocabulary");
    }
}

struct TokenizerJson {
    std::vector<std::string> vocab;
    Merges merges;
    RobertaOptions options;
};

// tokenizer.json with a BPE model, the ByteLevel pre-tokenizer (and decoder) and
// RobertaProcessing; `o` gives the defaults its fields override.
TokenizerJson parse_tokenizer_json(const std::string& text, const std::string& source,
                                   RobertaOptions o) {
    const json j = parse_json_text(text, source);
    auto fail = [&](const std::string& what) { return Error(source + ": " + what); };
    if (!j.is_object()) throw fail("expected a JSON object");
    auto model_it = j.find("model");
    if (model_it == j.end() || !model_it->is_object()) throw fail("no 'model' object");
    const json& model = *model_it;
    if (auto t = model.find("type"); t != model.end() && *t != "BPE")
        throw fail("model.type " + t->dump() + " is not supported here (only BPE)");
    auto vocab_it = model.find("vocab");
    if (vocab_it == model.end()) throw fail("model.vocab is missing");
    TokenizerJson out;
    out.vocab = vocab_from_object(*vocab_it, source, "model.vocab");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
        if (auto p = model.find(key); p != model.end() && !p->is_null() && *p != "")
            throw fail(std::string("model.") + key + " " + p->dump() +
                       " is not supported (byte-level BPE has none)");
    for (const char* key : {"byte_fallback", "ignore_merges"})
        if (auto p = model.find(key); p != model.end() && *p == true)
            throw fail(std::string("model.") + key + " true is not supported");
    if (auto d = model.find("dropout"); d != model.end() && !d->is_null() && *d != 0)
        throw fail("model.dropout " + d->dump() +
                   " is not supported (BPE dropout is training only)");
    if (auto u = model.find("unk_token"); u != model.end() && u->is_string())
        o.unk = u->get<std::string>();
    auto merges_it = model.find("merges");
    if (merges_it == model.end() || !merges_it->is_array())
        throw fail("model.merges must be a list");
    for (size_t i = 0; i < merges_it->size(); ++i) {
        const json& m = (*merges_it)[i];
        // "left right" in the older files, ["left", "right"] in the newer.
        if (m.is_string()) {
            const std::string s = m.get<std::string>();
            const size_t space = s.find(' ');
            if (space == 0 || space == std::string::npos || space + 1 == s.size() ||
                s.find(' ', space + 1) != std::string::npos)
                throw fail("model.merges[" + std::to_string(i) + "] '" + s +
                           "' is not two tokens separated by one space");
            out.merges.emplace_back(s.substr(0, space), s.substr(space + 1));
        } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
            out.merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
        } else {
            throw fail("model.merges[" + std::to_string(i) + "] must be \"a b\" or [\"a\", \"b\"]");
        }
    }
    check_merges(out.merges, out.vocab, source, "model.merges entry");

    if (auto n = j.find("normalizer"); n != j.end() && !n->is_null())
        throw fail("normalizer " + n->dump().substr(0, 80) +
                   " is not supported (RoBERTa has none)");
    auto pre = j.find("pre_tokenizer");
    if (pre == j.end() || !pre->is_object() || pre->value("type", "") != "ByteLevel" ||
        !pre->value("use_regex", true))
        throw fail("pre_tokenizer must be ByteLevel (with use_regex)");
    o.add_prefix_space = pre->value("add_prefix_space", false);
    if (auto d = j.find("decoder");
        d != j.end() && !d->is_null() && (!d->is_object() || d->value("type", "") != "ByteLevel"))
        throw fail("decoder must be ByteLevel");
    auto post = j.find("post_processor");
    if (post == j.end() || !post->is_object() || post->value("type", "") != "RobertaProcessing")
        throw fail("post_processor must be RobertaProcessing");
    for (const auto& [key, target] : {std::pair{"sep", &o.sep}, std::pair{"cls", &o.cls}}) {
        auto it = post->find(key);
        if (it == post->end() || !it->is_array() || it->empty() || !(*it)[0].is_string())
            throw fail(std::string("post_processor.") + key + " must be [token, id]");
        *target = (*it)[0].get<std::string>();
    }
    o.trim_offsets = post->value("trim_offsets", true);

    // added_tokens: flags for the named tokens, and ids past the vocabulary extend it.
    if (auto added = j.find("added_tokens"); added != j.end() && !added->is_null()) {
        if (!added->is_array()) throw fail("added_tokens must be a list");
        for (const json& t : *added) {
            const int64_t id = tokenization::read_added_token(t, source, &o);
            const std::string& content = o.additional.back().content;
            if (id == int64_t(out.vocab.size())) {
                out.vocab.push_back(content);
            } else if (id < 0 || id > int64_t(out.vocab.size()) ||
                       out.vocab[size_t(id)] != content) {
                throw fail("added token '" + content + "' has id " + std::to_string(id) +
                           ", which the vocabulary gives to another token");
            }
        }
    }
    out.options = std::move(o);
    return out;
}

// transformers 5 gives <mask> lstrip only where a file's AddedToken says so.
RobertaOptions file_defaults() {
    RobertaOptions o;
    o.mask.lstrip = false;
    return o;
}

}  // namespace

RobertaTokenizer RobertaTokenizer::from_vocab_files(const fs::path& vocab_json,
                                                    const fs::path& merges_txt,
                                                    RobertaOptions options) {
    const std::string source = vocab_json.string();
    std::vector<std::string> vocab =
        vocab_from_object(parse_json_text(read_text_file(vocab_json), source), source, "vocab");
    Merges merges = read_merges_txt(merges_txt);
    check_merges(merges, vocab, merges_txt.string(), "merge");
    return tokenization::with_file_context(source, [&] {
        return RobertaTokenizer(std::move(vocab), std::move(merges), std::move(options));
    });
}

RobertaTokenizer RobertaTokenizer::from_tokenizer_json(const fs::path& path) {
    TokenizerJson t = parse_tokenizer_json(read_text_file(path), path.string(), file_defaults());
    return tokenization::with_file_context(path.string(), [&] {
        return RobertaTokenizer(std::move(t.vocab), std::move(t.merges), std::move(t.options));
    });
}

RobertaTokenizer RobertaTokenizer::from_pretrained(const fs::path& dir) {
    if (!fs::is_directory(dir)) throw Error(dir.string() + ": not a directory");
    auto apply_configs = [&](RobertaOptions* o) {
        for (const char* name : {"tokenizer_config.json", "special_tokens_map.json"})
            if (fs::exists(dir / name)) tokenization::apply_roberta_config(dir / name, o);
    };
    if (const fs::path tj = dir / "tokenizer.json"; fs::exists(tj)) {
        TokenizerJson t = parse_tokenizer_json(read_text_file(tj), tj.string(), file_defaults());
        apply_configs(&t.options);
        // The fast tokenizer's added tokens keep tokenizer.json's flags.
        for (const AddedToken& a : t.options.additional)
            if (a.content == t.options.mask.content) t.options.mask = a;
        return tokenization::with_file_context(tj.string(), [&] {
            return RobertaTokenizer(std::move(t.vocab), std::move(t.merges), std::move(t.options));
        });
    }
    if (fs::exists(dir / "vocab.json") && fs::exists(dir / "merges.txt")) {
        RobertaOptions o = file_defaults();
        apply_configs(&o);
        return from_vocab_files(dir / "vocab.json", dir / "merges.txt", std::move(o));
    }
    throw Error(dir.string() +
                ": no RoBERTa tokenizer found (expected tokenizer.json, or vocab.json and "
                "merges.txt)");
}

void RobertaTokenizer::save_pretrained(const fs::path& dir) const {
    fs::create_directories(dir);
    // vocab.json in id order; a token listed twice keeps the id the tokenizer uses. Entries are
    // appended without ordered_json's linear key lookup.
    ordered_json vocab = ordered_json::object();
    auto& entries = vocab.get_ref<ordered_json::object_t&>();
    entries.reserve(vocab_.size());
    for (size_t i = 0; i < vocab_.size(); ++i)
        if (ids_.find(vocab_[i])->second == int32_t(i)) entries.emplace_back(vocab_[i], i);
    write_text_atomic(dir / "vocab.json", vocab.dump() + "\n");
    std::string merges_text = "#version: 0.2\n";
    for (const auto& [a, b] : merges_) merges_text += a + " " + b + "\n";
    write_text_atomic(dir / "merges.txt", merges_text);

    const ordered_json special_map = tokenization::roberta_special_tokens_map(options_);
    const ordered_json additional = special_map.value("additional_special_tokens", ordered_json());
    ordered_json config;
    config["add_prefix_space"] = options_.add_prefix_space;
    for (const char* key : {"bos_token", "cls_token", "eos_token"}) config[key] = special_map[key];
    // decode never cleans up (transformers 5 skips it for BPE), and says so.
    config["clean_up_tokenization_spaces"] = false;
    config["errors"] = "replace";
    config["mask_token"] = options_.mask.content;
    if (options_.model_max_length != kNoMaxLength)
        config["model_max_length"] = options_.model_max_length;
    for (const char* key : {"pad_token", "sep_token"}) config[key] = special_map[key];
    if (!additional.is_null()) config["additional_special_tokens"] = additional;
    config["tokenizer_class"] = std::string(tokenizer_class());
    config["trim_offsets"] = options_.trim_offsets;
    config["unk_token"] = options_.unk;
    write_text_atomic(dir / "tokenizer_config.json", config.dump(2) + "\n");
    write_text_atomic(dir / "special_tokens_map.json", special_map.dump(2) + "\n");

    // tokenizer.json as tokenizers writes it for RobertaTokenizerFast.
    ordered_json tj;
    tj["version"] = "1.0";
    tj["truncation"] = nullptr;
    tj["padding"] = nullptr;
    tj["added_tokens"] = tokenization::added_tokens_json(
        std::span<const Added>(added_), [this](int32_t id) { return is_special(id); });
    tj["normalizer"] = nullptr;
    ordered_json byte_level;
    byte_level["type"] = "ByteLevel";
    byte_level["add_prefix_space"] = options_.add_prefix_space;
    byte_level["trim_offsets"] = options_.trim_offsets;
    byte_level["use_regex"] = true;
    tj["pre_tokenizer"] = byte_level;
    ordered_json post;
    post["type"] = "RobertaProcessing";
    post["sep"] = {options_.sep, sep_id_};
    post["cls"] = {options_.cls, cls_id_};
    post["trim_offsets"] = options_.trim_offsets;
    post["add_prefix_space"] = options_.add_prefix_space;
    tj["post_processor"] = post;
    ordered_json decoder = byte_level;
    decoder["add_prefix_space"] = true;
    tj["decoder"] = decoder;
    ordered_json model;
    model["type"] = "BPE";
    model["dropout"] = nullptr;
    model["unk_token"] = nullptr;
    model["continuing_subword_prefix"] = "";
    model["end_of_word_suffix"] = "";
    model["fuse_unk"] = false;
    model["byte_fallback"] = false;
    model["ignore_merges"] = false;
    model["vocab"] = vocab;
    ordered_json merges = ordered_json::array();
    for (const auto& [a, b] : merges_) merges.push_back({a, b});
    model["merges"] = merges;
    tj["model"] = model;
    write_text_atomic(dir / "tokenizer.json", tj.dump());
}

}  // namespace ft
