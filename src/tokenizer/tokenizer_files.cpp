// The tokenizer's files: vocab.txt with tokenizer_config.json and special_tokens_map.json (the
// slow tokenizer's), tokenizer.json (the fast one's, both the original serialisation whose model
// has no "type" and the newer one), and save_pretrained writing all of them.
#include <limits>

#include <nlohmann/json.hpp>

#include "finetune/core.h"
#include "finetune/io.h"
#include "finetune/tokenizer.h"
#include "tokenizer/file_context.h"
#include "tokenizer/unicode.h"

namespace ft {
namespace {

using json = nlohmann::json;
using ordered_json = nlohmann::ordered_json;

json parse_json_file(const fs::path& path) {
    const std::string text = read_text_file(path);
    try {
        return json::parse(text);
    } catch (const json::exception& e) {
        throw Error(path.string() + ": invalid JSON: " + e.what());
    }
}

// A special token in a config: a string, or an AddedToken object with "content".
std::optional<std::string> token_field(const json& j, const char* key, const fs::path& file) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    if (it->is_string()) return it->get<std::string>();
    if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
        return (*it)["content"].get<std::string>();
    throw Error(file.string() + ": field '" + key + "' must be a string or {\"content\": ...}");
}

std::optional<bool> bool_field(const json& j, const char* key, const fs::path& file) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    if (!it->is_boolean()) throw Error(file.string() + ": field '" + key + "' must be a boolean");
    return it->get<bool>();
}

// HF writes "no limit" as 1e30 (VERY_LARGE_INTEGER); anything past int64 means no limit.
std::optional<int64_t> max_length_field(const json& j, const char* key, const fs::path& file) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    if (!it->is_number() || it->get<double>() < 1)
        throw Error(file.string() + ": field '" + key + "' must be a positive number");
    const double v = it->get<double>();
    if (v >= double(BertTokenizer::kNoMaxLength)) return BertTokenizer::kNoMaxLength;
    return it->is_number_integer() ? it->get<int64_t>() : int64_t(v);
}

// What tokenizer_config.json and special_tokens_map.json say, applied over `normalizer` and
// `special`. The slow tokenizer's defaults stand where they are silent.
struct DirectoryConfig {
    BertNormalizerOptions normalizer;
    SpecialTokens special;
    int64_t model_max_length = BertTokenizer::kNoMaxLength;
};

void apply_special_tokens(const json& j, const fs::path& file, SpecialTokens* special) {
    if (auto v = token_field(j, "unk_token", file)) special->unk = *v;
    if (auto v = token_field(j, "sep_token", file)) special->sep = *v;
    if (auto v = token_field(j, "pad_token", file)) special->pad = *v;
    if (auto v = token_field(j, "cls_token", file)) special->cls = *v;
    if (auto v = token_field(j, "mask_token", file)) special->mask = *v;
    if (auto it = j.find("additional_special_tokens"); it != j.end() && !it->is_null()) {
        if (!it->is_array())
            throw Error(file.string() + ": field 'additional_special_tokens' must be a list");
        for (const json& t : *it) {
            json holder = {{"t", t}};
            if (auto v = token_field(holder, "t", file)) special->additional.push_back(*v);
        }
    }
}

DirectoryConfig read_directory_config(const fs::path& dir) {
    DirectoryConfig c;
    const fs::path config_file = dir / "tokenizer_config.json";
    if (fs::exists(config_file)) {
        const json j = parse_json_file(config_file);
        if (!j.is_object()) throw Error(config_file.string() + ": expected a JSON object");
        c.normalizer.lowercase = bool_field(j, "do_lower_case", config_file).value_or(true);
        c.normalizer.strip_accents = bool_field(j, "strip_accents", config_file);
        c.normalizer.handle_chinese_chars =
            bool_field(j, "tokenize_chinese_chars", config_file).value_or(true);
        if (auto m = max_length_field(j, "model_max_length", config_file))
            c.model_max_length = *m;
        else if (auto m2 = max_length_field(j, "max_len", config_file))
            c.model_max_length = *m2;
        apply_special_tokens(j, config_file, &c.special);
    }
    const fs::path map_file = dir / "special_tokens_map.json";
    if (fs::exists(map_file)) {
        const json j = parse_json_file(map_file);
        if (!j.is_object()) throw Error(map_file.string() + ": expected a JSON object");
        SpecialTokens from_map;
        apply_special_tokens(j, map_file, &from_map);
        // The map repeats the config; its additional tokens replace rather than extend.
        if (!from_map.additional.empty()) c.special.additional.clear();
        apply_special_tokens(j, map_file, &c.special);
    }
    return c;
}

std::vector<std::string> read_vocab_lines(const fs::path& path) {
    const std::string text = read_text_file(path);
    std::vector<std::string> vocab;
    // Python's universal newlines: \n, \r\n and \r all end a line.
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find_first_of("\r\n", pos);
        if (end == std::string::npos) end = text.size();
        std::string_view line(text.data() + pos, end - pos);
        if (unicode::find_invalid_utf8(line) != std::string_view::npos)
            throw Error(path.string() + ": line " + std::to_string(vocab.size() + 1) +
                        ": invalid UTF-8");
        vocab.emplace_back(line);
        if (end < text.size() && text[end] == '\r' && end + 1 < text.size() &&
            text[end + 1] == '\n')
            ++end;
        pos = end + 1;
    }
    if (vocab.empty()) throw Error(path.string() + ": the vocabulary is empty");
    return vocab;
}

}  // namespace

BertTokenizer BertTokenizer::from_vocab_file(const fs::path& vocab_txt,
                                             BertNormalizerOptions normalizer,
                                             SpecialTokens special, int64_t model_max_length) {
    std::vector<std::string> vocab = read_vocab_lines(vocab_txt);
    return tokenization::with_file_context(vocab_txt.string(), [&] {
        return BertTokenizer(std::move(vocab), normalizer, std::move(special), model_max_length);
    });
}

BertTokenizer BertTokenizer::from_tokenizer_json(const fs::path& path) {
    return from_tokenizer_json_text(read_text_file(path), path.string());
}

BertTokenizer BertTokenizer::from_tokenizer_json_text(const std::string& text,
                                                      const std::string& source) {
    try {
        return tokenizer_json_body(text, source);
    } catch (const json::exception& e) {  // a field of the wrong type or shape
        throw Error(source + ": malformed tokenizer.json: " + e.what());
    }
}

BertTokenizer BertTokenizer::tokenizer_json_body(const std::string& text,
                                                 const std::string& source) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        throw Error(source + ": invalid JSON: " + e.what());
    }
    auto fail = [&](const std::string& what) -> Error { return Error(source + ": " + what); };
    if (!j.is_object()) throw fail("expected a JSON object");

    // model: WordPiece. The original serialisation has no "type"; the newer one says WordPiece.
    auto model_it = j.find("model");
    if (model_it == j.end() || !model_it->is_object()) throw fail("no 'model' object");
    const json& model = *model_it;
    if (auto t = model.find("type"); t != model.end() && *t != "WordPiece")
        throw fail("model.type " + t->dump() + " is not supported (only WordPiece)");
    auto vocab_it = model.find("vocab");
    if (vocab_it == model.end() || !vocab_it->is_object())
        throw fail("model.vocab must be an object {token: id}");
    std::vector<std::string> vocab(vocab_it->size());
    std::vector<bool> seen(vocab.size(), false);
    for (const auto& [token, id] : vocab_it->items()) {
        if (!id.is_number_integer() || id.get<int64_t>() < 0 ||
            id.get<int64_t>() >= int64_t(vocab.size()) || seen[size_t(id.get<int64_t>())])
            throw fail("model.vocab: token '" + token + "' has id " + id.dump() +
                       ", but ids must run 0.." + std::to_string(vocab.size() - 1) +
                       " without repeats");
        seen[size_t(id.get<int64_t>())] = true;
        vocab[size_t(id.get<int64_t>())] = token;
    }
    SpecialTokens special;
    if (auto u = model.find("unk_token"); u != model.end() && u->is_string())
        special.unk = u->get<std::string>();
    std::string prefix = "##";
    if (auto p = model.find("continuing_subword_prefix"); p != model.end() && p->is_string())
        prefix = p->get<std::string>();
    int max_chars = 100;
    if (auto m = model.find("max_input_chars_per_word"); m != model.end()) {
        // Checked against int's range before narrowing: 2^40 must not wrap to 0.
        if (!m->is_number_integer() || m->get<int64_t>() < 0 ||
            m->get<int64_t>() > std::numeric_limits<int>::max())
            throw fail("model.max_input_chars_per_word must be an integer in 0.." +
                       std::to_string(std::numeric_limits<int>::max()) + ", got " + m->dump());
        max_chars = m->get<int>();
    }

    // normalizer: BertNormalizer, or none at all.
    BertNormalizerOptions normalizer{false, false, std::nullopt, false};
    if (auto n = j.find("normalizer"); n != j.end() && !n->is_null()) {
        if (!n->is_object() || n->value("type", "") != "BertNormalizer")
            throw fail("normalizer " + (n->is_object() ? n->value("type", "?") : n->dump()) +
                       " is not supported (only BertNormalizer)");
        normalizer.clean_text = n->value("clean_text", true);
        normalizer.handle_chinese_chars = n->value("handle_chinese_chars", true);
        normalizer.lowercase = n->value("lowercase", true);
        if (auto s = n->find("strip_accents"); s != n->end() && !s->is_null())
            normalizer.strip_accents = s->get<bool>();
    }
    if (auto p = j.find("pre_tokenizer");
        p == j.end() || !p->is_object() || p->value("type", "") != "BertPreTokenizer")
        throw fail("pre_tokenizer must be BertPreTokenizer");

    // post_processor: TemplateProcessing or BertProcessing give [CLS] and [SEP].
    auto post = j.find("post_processor");
    if (post == j.end() || !post->is_object()) throw fail("no post_processor");
    const std::string post_type = post->value("type", "");
    if (post_type == "BertProcessing") {
        special.cls = post->at("cls").at(0).get<std::string>();
        special.sep = post->at("sep").at(0).get<std::string>();
    } else if (post_type == "TemplateProcessing") {
        std::vector<std::string> single_specials;
        for (const json& piece : post->at("single"))
            if (piece.contains("SpecialToken"))
                single_specials.push_back(piece["SpecialToken"].at("id").get<std::string>());
        if (single_specials.size() != 2)
            throw fail("post_processor: the single template must be [CLS] $A [SEP]");
        special.cls = single_specials[0];
        special.sep = single_specials[1];
    } else {
        throw fail("post_processor '" + post_type +
                   "' is not supported (TemplateProcessing or BertProcessing)");
    }

    // added_tokens: the special ones are never split; ids past the vocabulary extend it.
    if (auto added = j.find("added_tokens"); added != j.end() && added->is_array()) {
        for (const json& t : *added) {
            const std::string content = t.at("content").get<std::string>();
            // As for model.vocab: get<int64_t>() would cast a float id unchecked (undefined past
            // int64).
            if (!t.at("id").is_number_integer())
                throw fail("added token '" + content + "' has id " + t.at("id").dump() +
                           ", which is not an integer");
            const int64_t id = t.at("id").get<int64_t>();
            if (id == int64_t(vocab.size())) {
                vocab.push_back(content);
            } else if (id < 0 || id > int64_t(vocab.size()) || vocab[size_t(id)] != content) {
                throw fail("added token '" + content + "' has id " + std::to_string(id) +
                           ", which the vocabulary gives to another token");
            }
            const bool is_named = content == special.unk || content == special.cls ||
                                  content == special.sep || content == special.pad ||
                                  content == special.mask;
            if (t.value("special", false) && !is_named) special.additional.push_back(content);
        }
    }
    return tokenization::with_file_context(source, [&] {
        return BertTokenizer(std::move(vocab), normalizer, std::move(special), kNoMaxLength,
                             max_chars, prefix);
    });
}

BertTokenizer BertTokenizer::from_pretrained(const fs::path& dir) {
    if (!fs::is_directory(dir)) throw Error(dir.string() + ": not a directory");
    const DirectoryConfig c = read_directory_config(dir);
    if (fs::exists(dir / "tokenizer.json")) {
        const BertTokenizer fast = from_tokenizer_json(dir / "tokenizer.json");
        // As BertTokenizerFast does: the config's (or the class defaults') normaliser switches
        // and special tokens override what tokenizer.json says.
        SpecialTokens special = c.special;
        if (special.additional.empty()) special.additional = fast.special_.additional;
        return tokenization::with_file_context((dir / "tokenizer.json").string(), [&] {
            return BertTokenizer(fast.vocab_, c.normalizer, std::move(special), c.model_max_length,
                                 fast.max_input_chars_per_word_, fast.continuing_prefix_);
        });
    }
    if (fs::exists(dir / "vocab.txt"))
        return from_vocab_file(dir / "vocab.txt", c.normalizer, c.special, c.model_max_length);
    throw Error(dir.string() + ": no tokenizer found (expected vocab.txt or tokenizer.json)");
}

void BertTokenizer::save_pretrained(const fs::path& dir) const {
    fs::create_directories(dir);
    std::string vocab_text;
    for (const std::string& t : vocab_) vocab_text += t + "\n";
    write_text_atomic(dir / "vocab.txt", vocab_text);

    ordered_json special_map;
    special_map["unk_token"] = special_.unk;
    special_map["sep_token"] = special_.sep;
    special_map["pad_token"] = special_.pad;
    special_map["cls_token"] = special_.cls;
    special_map["mask_token"] = special_.mask;
    if (!special_.additional.empty())
        special_map["additional_special_tokens"] = special_.additional;

    ordered_json config;
    config["do_lower_case"] = normalizer_.lowercase;
    config["strip_accents"] =
        normalizer_.strip_accents ? ordered_json(*normalizer_.strip_accents) : ordered_json();
    config["tokenize_chinese_chars"] = normalizer_.handle_chinese_chars;
    if (model_max_length_ != kNoMaxLength) config["model_max_length"] = model_max_length_;
    for (const auto& [k, v] : special_map.items()) config[k] = v;
    config["tokenizer_class"] = std::string(tokenizer_class());
    write_text_atomic(dir / "tokenizer_config.json", config.dump(2) + "\n");
    write_text_atomic(dir / "special_tokens_map.json", special_map.dump(2) + "\n");

    // tokenizer.json in the newer serialisation (model.type present).
    ordered_json tj;
    tj["version"] = "1.0";
    tj["truncation"] = nullptr;
    tj["padding"] = nullptr;
    ordered_json added = ordered_json::array();
    for (int32_t id : special_ids_) {
        ordered_json t;
        t["id"] = id;
        t["content"] = vocab_[size_t(id)];
        t["single_word"] = false;
        t["lstrip"] = false;
        t["rstrip"] = false;
        t["normalized"] = false;
        t["special"] = true;
        added.push_back(t);
    }
    tj["added_tokens"] = added;
    ordered_json normalizer;
    normalizer["type"] = "BertNormalizer";
    normalizer["clean_text"] = normalizer_.clean_text;
    normalizer["handle_chinese_chars"] = normalizer_.handle_chinese_chars;
    normalizer["strip_accents"] = config["strip_accents"];
    normalizer["lowercase"] = normalizer_.lowercase;
    tj["normalizer"] = normalizer;
    tj["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
    auto special_piece = [](const std::string& id, int type_id) {
        return ordered_json{{"SpecialToken", {{"id", id}, {"type_id", type_id}}}};
    };
    auto sequence_piece = [](const char* id, int type_id) {
        return ordered_json{{"Sequence", {{"id", id}, {"type_id", type_id}}}};
    };
    ordered_json post;
    post["type"] = "TemplateProcessing";
    post["single"] = {special_piece(special_.cls, 0), sequence_piece("A", 0),
                      special_piece(special_.sep, 0)};
    post["pair"] = {special_piece(special_.cls, 0), sequence_piece("A", 0),
                    special_piece(special_.sep, 0), sequence_piece("B", 1),
                    special_piece(special_.sep, 1)};
    ordered_json specials;
    for (const auto& [token, id] :
         {std::pair{special_.cls, cls_id_}, std::pair{special_.sep, sep_id_}})
        specials[token] = {{"id", token}, {"ids", {id}}, {"tokens", {token}}};
    post["special_tokens"] = specials;
    tj["post_processor"] = post;
    tj["decoder"] = {{"type", "WordPiece"}, {"prefix", continuing_prefix_}, {"cleanup", true}};
    ordered_json model;
    model["type"] = "WordPiece";
    model["unk_token"] = special_.unk;
    model["continuing_subword_prefix"] = continuing_prefix_;
    model["max_input_chars_per_word"] = max_input_chars_per_word_;
    ordered_json vocab = ordered_json::object();
    // A token listed twice in vocab.txt keeps its last id, the one the tokenizer uses. Each
    // token is kept once, so entries are appended without ordered_json's linear key lookup
    // (which made this loop quadratic: seconds here, a minute under ASan).
    auto& entries = vocab.get_ref<ordered_json::object_t&>();
    entries.reserve(vocab_.size());
    for (size_t i = 0; i < vocab_.size(); ++i)
        if (ids_.find(vocab_[i])->second == int32_t(i)) entries.emplace_back(vocab_[i], i);
    model["vocab"] = vocab;
    tj["model"] = model;
    write_text_atomic(dir / "tokenizer.json", tj.dump() + "\n");
}

}  // namespace ft
