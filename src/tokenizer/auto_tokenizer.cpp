// load_tokenizer: which Tokenizer implementation a directory holds, read from the files HF writes,
// and the one table of kinds. Adding a tokenizer is its own file plus one row in kKinds.
#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "finetune/core.h"
#include "finetune/io.h"
#include "finetune/tokenizer.h"

namespace ft {
namespace {

using json = nlohmann::json;

template <class T>
std::unique_ptr<Tokenizer> load_as(const fs::path& dir) {
    return std::make_unique<T>(T::from_pretrained(dir));
}

// One tokenizer kind and the names each file gives it.
struct TokenizerKind {
    // tokenizer_config.json "tokenizer_class" values, without HF's "Fast" suffix.
    std::vector<std::string_view> tokenizer_classes;
    std::string_view tokenizer_json_model;      // tokenizer.json model.type
    std::vector<std::string_view> model_types;  // config.json model_type
    std::string_view vocab_file;                // the slow tokenizer's file, the last resort
    std::unique_ptr<Tokenizer> (*load)(const fs::path& dir);
};

const std::vector<TokenizerKind>& kinds() {
    static const std::vector<TokenizerKind> kKinds = {
        {{"BertTokenizer", "DistilBertTokenizer"},
         "WordPiece",
         {"bert", "distilbert"},
         "vocab.txt",
         load_as<BertTokenizer>},
        {{"RobertaTokenizer"}, "BPE", {"roberta"}, "vocab.json", load_as<RobertaTokenizer>},
        {{"XLMRobertaTokenizer"},
         "Unigram",
         {"xlm-roberta"},
         "sentencepiece.bpe.model",
         load_as<XlmRobertaTokenizer>},
    };
    return kKinds;
}

json parse_json_object(const fs::path& path) {
    json j;
    try {
        j = json::parse(read_text_file(path));
    } catch (const json::exception& e) {
        throw Error(path.string() + ": invalid JSON: " + e.what());
    }
    if (!j.is_object()) throw Error(path.string() + ": expected a JSON object");
    return j;
}

// The string at `key` of `j`, unset when absent or null; `name` is the field's name in errors.
std::optional<std::string> string_field(const json& j, const char* key, const fs::path& file,
                                        const char* name) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) throw Error(file.string() + ": field '" + name + "' must be a string");
    return it->get<std::string>();
}

// The kind `match` accepts; else an error naming the file, the field, the value and what is known.
template <class Match, class Names>
const TokenizerKind& find_kind(const fs::path& file, const char* field, const std::string& value,
                               Match&& match, Names&& names) {
    for (const TokenizerKind& k : kinds())
        if (match(k)) return k;
    std::string known;
    for (const TokenizerKind& k : kinds())
        for (std::string_view n : names(k)) known += (known.empty() ? "" : ", ") + std::string(n);
    throw Error(file.string() + ": " + field + " '" + value +
                "' is not a known tokenizer (known: " + known + ")");
}

bool contains(const std::vector<std::string_view>& names, std::string_view name) {
    return std::find(names.begin(), names.end(), name) != names.end();
}

const TokenizerKind& choose_kind(const fs::path& dir) {
    if (const fs::path f = dir / "tokenizer_config.json"; fs::exists(f)) {
        auto c = string_field(parse_json_object(f), "tokenizer_class", f, "tokenizer_class");
        // HF's generic class for a bare tokenizer.json says nothing of the kind: look further.
        if (c && *c != "PreTrainedTokenizerFast") {
            std::string_view name = *c;
            if (name.ends_with("Fast")) name.remove_suffix(4);
            return find_kind(
                f, "tokenizer_class", *c,
                [&](const TokenizerKind& k) { return contains(k.tokenizer_classes, name); },
                [](const TokenizerKind& k) { return k.tokenizer_classes; });
        }
    }
    if (const fs::path f = dir / "tokenizer.json"; fs::exists(f)) {
        const json j = parse_json_object(f);
        // The original serialisation's model has no "type": it says nothing here.
        if (auto m = j.find("model"); m != j.end() && m->is_object())
            if (auto t = string_field(*m, "type", f, "model.type"))
                return find_kind(
                    f, "model.type", *t,
                    [&](const TokenizerKind& k) { return k.tokenizer_json_model == *t; },
                    [](const TokenizerKind& k) {
                        return std::vector<std::string_view>{k.tokenizer_json_model};
                    });
    }
    if (const fs::path f = dir / "config.json"; fs::exists(f)) {
        if (auto t = string_field(parse_json_object(f), "model_type", f, "model_type"))
            return find_kind(
                f, "model_type", *t,
                [&](const TokenizerKind& k) { return contains(k.model_types, *t); },
                [](const TokenizerKind& k) { return k.model_types; });
    }
    std::string expected = "tokenizer.json";
    for (const TokenizerKind& k : kinds()) {
        if (fs::exists(dir / k.vocab_file)) return k;
        expected += " or " + std::string(k.vocab_file);
    }
    throw Error(dir.string() + ": no tokenizer found (expected " + expected + ")");
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer(const fs::path& dir) {
    if (!fs::is_directory(dir)) throw Error(dir.string() + ": not a directory");
    return choose_kind(dir).load(dir);
}

}  // namespace ft
