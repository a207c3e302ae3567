// RobertaTokenizer against HuggingFace (tests/goldens/roberta_tokenizer, made by
// tools/gen_roberta_tokenizer_goldens.py with transformers' RobertaTokenizerFast, its ids checked
// against 4.x's pure-Python RobertaTokenizer): the tricky strings spelled out, every GLUE train
// and dev row by hash, loaded from vocab.json + merges.txt, from tokenizer.json and re-saved;
// decode, save_pretrained, load_tokenizer's choice of kind, padding, and the file errors.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "finetune/core.h"
#include "finetune/io.h"
#include "finetune/tokenizer.h"
#include "test_env.h"
#include "tokenizer/glue_id_goldens.h"

namespace ft {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using test::Ids;
using test::ids_text;
using test::truncated;

fs::path golden_dir() {
    return test::tools_dir() / ".." / "tests" / "goldens" / "roberta_tokenizer";
}

// The RoBERTa folder tools/make_roberta_vocab.py builds from ../shared's GPT-2 files (the
// goldens' folder), made once per run; `tokenizer_json` false leaves tokenizer.json out.
const fs::path& roberta_dir(bool tokenizer_json = true) {
    auto make = [](bool with_json) {
        const fs::path dir = test::make_temp_dir(with_json ? "roberta_full" : "roberta_plain");
        const std::string cmd =
            test::python() + " " + (test::tools_dir() / "make_roberta_vocab.py").string() +
            " --gpt2 " + (test::shared_dir() / "data/tokenizers/gpt2-bpe").string() + " --out " +
            dir.string() + (with_json ? "" : " --no-tokenizer-json");
        std::string out;
        if (test::run_command(cmd, &out) != 0) throw Error("make_roberta_vocab.py failed: " + out);
        return dir;
    };
    static const fs::path full = make(true), plain = make(false);
    return tokenizer_json ? full : plain;
}

// The three ways a user's directory gives the tokenizer, and the directory it saves.
const std::vector<std::pair<std::string, RobertaTokenizer>>& loaded() {
    static const std::vector<std::pair<std::string, RobertaTokenizer>> all = [] {
        std::vector<std::pair<std::string, RobertaTokenizer>> v;
        v.emplace_back("vocab.json + merges.txt",
                       RobertaTokenizer::from_pretrained(roberta_dir(false)));
        v.emplace_back("tokenizer.json", RobertaTokenizer::from_pretrained(roberta_dir(true)));
        const fs::path saved = test::make_temp_dir("roberta_saved");
        v.back().second.save_pretrained(saved);
        v.emplace_back("saved", RobertaTokenizer::from_pretrained(saved));
        return v;
    }();
    return all;
}

std::vector<json> tricky_records() {
    std::ifstream in(golden_dir() / "tricky.jsonl");
    EXPECT_TRUE(in) << golden_dir();
    std::vector<json> out;
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) out.push_back(json::parse(line));
    return out;
}

TEST(RobertaTokenizerReference, TrickyStringsMatchHuggingFace) {
    const std::vector<json> records = tricky_records();
    ASSERT_GT(records.size(), 180u);
    for (const auto& [source, tok] : loaded()) {
        RobertaOptions prefix_options = tok.options();
        prefix_options.add_prefix_space = true;
        const RobertaTokenizer prefixed = RobertaTokenizer::from_vocab_files(
            roberta_dir(false) / "vocab.json", roberta_dir(false) / "merges.txt", prefix_options);
        int compared = 0, mismatches = 0;
        for (const json& r : records) {
            std::vector<std::pair<std::string, bool>> checks;  // (what, equal)
            if (r.contains("decode_ids")) {
                const Ids ids = r["decode_ids"].get<Ids>();
                checks.emplace_back("decode",
                                    tok.decode(ids, false) == r["decode"].get<std::string>());
                checks.emplace_back("decode_skip",
                                    tok.decode(ids, true) == r["decode_skip"].get<std::string>());
            } else {
                const std::string text = r["text"];
                std::optional<std::string> pair;
                if (r.contains("pair")) pair = r["pair"].get<std::string>();
                const Encoding e = tok.encode(text, pair);
                checks.emplace_back("ids", e.input_ids == r["ids"].get<Ids>());
                EncodeOptions plain;
                plain.add_special_tokens = false;
                checks.emplace_back(
                    "plain", tok.encode(text, pair, plain).input_ids == r["plain"].get<Ids>());
                std::vector<std::string> tokens;
                for (int32_t id : e.input_ids) tokens.push_back(tok.id_to_token(id));
                checks.emplace_back("tokens",
                                    tokens == r["tokens"].get<std::vector<std::string>>());
                checks.emplace_back(
                    "decode", tok.decode(e.input_ids, false) == r["decode"].get<std::string>());
                checks.emplace_back("decode_skip", tok.decode(e.input_ids, true) ==
                                                       r["decode_skip"].get<std::string>());
                checks.emplace_back("prefix_ids", prefixed.encode(text, pair).input_ids ==
                                                      r["prefix_ids"].get<Ids>());
                if (!pair) {
                    checks.emplace_back(
                        "t16", truncated(tok, text, pair, Truncation::LongestFirst) == r["t16"]);
                } else {
                    checks.emplace_back(
                        "lf16", truncated(tok, text, pair, Truncation::LongestFirst) == r["lf16"]);
                    checks.emplace_back(
                        "of16", truncated(tok, text, pair, Truncation::OnlyFirst) == r["of16"]);
                    checks.emplace_back(
                        "os16", truncated(tok, text, pair, Truncation::OnlySecond) == r["os16"]);
                }
                checks.emplace_back("no token types", e.token_type_ids.empty());
            }
            for (const auto& [what, equal] : checks) {
                ++compared;
                if (!equal && ++mismatches <= 8)
                    ADD_FAILURE() << source << ": " << what << " of " << r.dump();
            }
        }
        EXPECT_EQ(mismatches, 0) << source << ": " << mismatches << " of " << compared;
        EXPECT_GT(compared, 1400) << source;  // 1422 with the current goldens
    }
}

TEST(RobertaTokenizerReference, EveryGlueRowMatchesHuggingFace) {
    test::expect_every_glue_row_matches(
        loaded()[1].second,  // tokenizer.json, as AutoTokenizer loads
        golden_dir() / "glue.json");
}

TEST(RobertaTokenizer, SpecialIdsAndInterface) {
    const RobertaTokenizer& tok = loaded()[0].second;
    EXPECT_EQ(tok.tokenizer_class(), "RobertaTokenizer");
    EXPECT_EQ(tok.vocab_size(), 50262);
    EXPECT_EQ(tok.model_max_length(), 512);
    EXPECT_EQ(tok.cls_token_id(), 0);
    EXPECT_EQ(tok.bos_token_id(), 0);
    EXPECT_EQ(tok.pad_token_id(), 1);
    EXPECT_EQ(tok.sep_token_id(), 2);
    EXPECT_EQ(tok.eos_token_id(), 2);
    EXPECT_EQ(tok.unk_token_id(), 3);
    EXPECT_EQ(tok.mask_token_id(), 50261);
    EXPECT_EQ(tok.num_special_tokens_to_add(false), 2);
    EXPECT_EQ(tok.num_special_tokens_to_add(true), 4);
    EXPECT_FALSE(tok.returns_token_type_ids());
    EXPECT_EQ(tok.token_to_id("Ġworld"), 999);
    EXPECT_EQ(tok.token_to_id("no such token"), 3);
    EXPECT_EQ(tok.id_to_token(999), "Ġworld");
    EXPECT_NE(test::error_of([&] { tok.id_to_token(50262); }).find("out of range"),
              std::string::npos);
    EXPECT_EQ(tok.tokenize("Hello world"), (std::vector<std::string>{"Hello", "Ġworld"}));
    EXPECT_EQ(tok.encode("Hello world").input_ids, (Ids{0, 15500, 999, 2}));
    EXPECT_EQ(tok.encode("Hello world", "Hello world").input_ids,
              (Ids{0, 15500, 999, 2, 2, 15500, 999, 2}));
    // The space before <mask> belongs to it (lstrip), here from special_tokens_map.json.
    EXPECT_EQ(tok.encode("a <mask>").input_ids, (Ids{0, 68, 50261, 2}));
    EXPECT_NE(test::error_of([&] { tok.encode("bad \xC3("); }).find("invalid UTF-8"),
              std::string::npos);
}

TEST(RobertaTokenizer, PadsRightWithThePadId) {
    const RobertaTokenizer& tok = loaded()[0].second;
    const std::vector<std::string> texts = {"Hello world", "a"};
    EncodeOptions o;
    o.padding = Padding::Longest;
    auto batch = tok.encode_batch(texts, {}, o);
    EXPECT_EQ(batch[1].input_ids, (Ids{0, 68, 2, 1}));
    EXPECT_EQ(batch[1].attention_mask, (Ids{1, 1, 1, 0}));
    EXPECT_EQ(batch[1].length, 3);
    EXPECT_TRUE(batch[1].token_type_ids.empty());
    o.padding = Padding::MaxLength;
    o.max_length = 6;
    o.pad_to_multiple_of = 4;
    batch = tok.encode_batch(texts, {}, o);
    EXPECT_EQ(batch[0].input_ids, (Ids{0, 15500, 999, 2, 1, 1, 1, 1}));
    EXPECT_EQ(tok.encode("a", std::nullopt, o).attention_mask, (Ids{1, 1, 1, 0, 0, 0, 0, 0}));
}

TEST(RobertaTokenizerFiles, SavedDirectoryIsWhatTransformersWrites) {
    const RobertaTokenizer& tok = loaded()[1].second;
    const fs::path dir = test::make_temp_dir("roberta_save");
    tok.save_pretrained(dir);
    // tokenizer.json equals the one transformers' save_pretrained wrote for this folder (the
    // generator checks make_roberta_vocab.py's copy of it byte for byte).
    EXPECT_EQ(json::parse(read_text_file(dir / "tokenizer.json")),
              json::parse(read_text_file(roberta_dir() / "tokenizer.json")));
    EXPECT_EQ(json::parse(read_text_file(dir / "vocab.json")),
              json::parse(read_text_file(roberta_dir() / "vocab.json")));
    EXPECT_EQ(read_text_file(dir / "merges.txt"), read_text_file(roberta_dir() / "merges.txt"));
    const json config = json::parse(read_text_file(dir / "tokenizer_config.json"));
    EXPECT_EQ(config["tokenizer_class"], "RobertaTokenizer");
    EXPECT_EQ(config["model_max_length"], 512);
    const json map = json::parse(read_text_file(dir / "special_tokens_map.json"));
    EXPECT_EQ(map["mask_token"]["lstrip"], true);
    // Each file set reloads to the same tokenizer: tokenizer.json, and vocab.json + merges.txt.
    const auto again = load_tokenizer(dir);
    EXPECT_EQ(again->tokenizer_class(), "RobertaTokenizer");
    fs::remove(dir / "tokenizer.json");
    const auto slow_files = load_tokenizer(dir);
    for (const char* text : {"Hello <mask> world!", " two  spaces\tand tab", "日本語 😀"}) {
        EXPECT_EQ(again->encode(text, "pair").input_ids, tok.encode(text, "pair").input_ids);
        EXPECT_EQ(slow_files->encode(text, "pair").input_ids, tok.encode(text, "pair").input_ids);
    }
}

void write_file(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

// A folder with the given files of the RoBERTa folder and extra JSON files.
fs::path dir_with(const std::string& tag, const std::vector<std::string>& copied,
                  const std::vector<std::pair<std::string, json>>& extra = {}) {
    const fs::path dir = test::make_temp_dir(tag);
    for (const std::string& f : copied) fs::copy_file(roberta_dir() / f, dir / f);
    for (const auto& [name, j] : extra) write_file(dir / name, j.dump());
    return dir;
}

TEST(RobertaTokenizerFiles, LoadTokenizerPicksTheKind) {
    const Ids hello = {0, 15500, 999, 2};
    for (const char* cls : {"RobertaTokenizer", "RobertaTokenizerFast"}) {
        const fs::path dir = dir_with("roberta_auto_class", {"vocab.json", "merges.txt"},
                                      {{"tokenizer_config.json", {{"tokenizer_class", cls}}},
                                       {"config.json", {{"model_type", "bert"}}}});
        const auto tok = load_tokenizer(dir);
        EXPECT_EQ(tok->tokenizer_class(), "RobertaTokenizer") << cls;
        EXPECT_EQ(tok->encode("Hello world").input_ids, hello) << cls;
        // No file says <mask> has lstrip: transformers 5 then keeps the space apart.
        EXPECT_EQ(tok->encode("a <mask>").input_ids, (Ids{0, 68, 224, 50261, 2})) << cls;
    }
    // tokenizer.json alone: its model.type BPE.
    const auto from_json = load_tokenizer(dir_with("roberta_auto_json", {"tokenizer.json"}));
    EXPECT_EQ(from_json->tokenizer_class(), "RobertaTokenizer");
    EXPECT_EQ(from_json->encode("Hello world").input_ids, hello);
    EXPECT_EQ(from_json->encode("a <mask>").input_ids, (Ids{0, 68, 50261, 2}));
    // config.json's model_type, then vocab.json alone.
    const auto from_config =
        load_tokenizer(dir_with("roberta_auto_config", {"vocab.json", "merges.txt"},
                                {{"config.json", {{"model_type", "roberta"}}}}));
    EXPECT_EQ(from_config->encode("Hello world").input_ids, hello);
    const auto from_vocab =
        load_tokenizer(dir_with("roberta_auto_vocab", {"vocab.json", "merges.txt"}));
    EXPECT_EQ(from_vocab->tokenizer_class(), "RobertaTokenizer");
    EXPECT_EQ(from_vocab->encode("Hello world").input_ids, hello);
    const fs::path lonely = dir_with("roberta_auto_lonely", {"vocab.json"});
    const std::string err = test::error_of([&] { load_tokenizer(lonely); });
    EXPECT_NE(err.find("merges.txt"), std::string::npos) << err;
}

// The error of loading a folder whose `file` holds `text`, the rest being the RoBERTa folder's.
std::string error_with(const std::string& file, const std::string& text) {
    const fs::path dir = dir_with("roberta_bad", {"vocab.json", "merges.txt"});
    write_file(dir / file, text);
    return test::error_of([&] { RobertaTokenizer::from_pretrained(dir); });
}

TEST(RobertaTokenizerFiles, MalformedFilesNameTheFileAndField) {
    struct Case {
        std::string file, text, expected;
    };
    const std::vector<Case> cases = {
        {"vocab.json", "{\"a\": 0,", "invalid JSON"},
        {"vocab.json", "[\"a\"]", "must be an object {token: id}"},
        {"vocab.json", "{\"a\": 0, \"b\": \"1\"}", "token 'b' has id \"1\""},
        {"vocab.json", "{\"a\": 0, \"b\": 0}", "without repeats"},
        {"vocab.json", "{\"a\": 0, \"b\": 5}", "token 'b' has id 5"},
        {"merges.txt", "#version: 0.2\nĠ t\nĠ a b\n", "line 3: expected two tokens"},
        {"merges.txt", "#version: 0.2\nĠt\n", "line 2: expected two tokens"},
        {"merges.txt", "Ġ t\n\nh e\n", "line 2: expected two tokens"},
        {"merges.txt", "#version: 0.2\nĠ t\nzzz qqq\n", "merge 2 'zzz qqq': 'zzz' is not in"},
    };
    for (const Case& c : cases) {
        const std::string err = error_with(c.file, c.text);
        EXPECT_NE(err.find(c.file + ": "), std::string::npos) << c.file << ": " << err;
        EXPECT_NE(err.find(c.expected), std::string::npos) << c.text << ": " << err;
    }
    // A special token the vocabulary lacks, and a tokenizer.json of another model.
    const std::string no_mask = error_with("tokenizer_config.json", "{\"mask_token\": \"<nope>\"}");
    EXPECT_NE(no_mask.find("vocab.json: the mask token '<nope>' is not in the vocabulary"),
              std::string::npos)
        << no_mask;
    json tj = json::parse(read_text_file(roberta_dir() / "tokenizer.json"));
    tj["model"]["type"] = "WordPiece";
    const std::string wrong = error_with("tokenizer.json", tj.dump());
    EXPECT_NE(wrong.find("tokenizer.json: model.type \"WordPiece\""), std::string::npos) << wrong;
    tj["model"]["type"] = "BPE";
    tj["model"]["merges"][0] = "Ġ";
    const std::string merge = error_with("tokenizer.json", tj.dump());
    EXPECT_NE(merge.find("model.merges[0]"), std::string::npos) << merge;
}

}  // namespace
}  // namespace ft
