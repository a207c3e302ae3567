// `finetune tokenize --tokenizer DIR --input FILE.jsonl`: JSON lines {"text", "text_pair"?} in,
// one {"input_ids", "token_type_ids", "attention_mask"} line out per input, in order.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "finetune/core.h"
#include "finetune/io.h"
#include "finetune/tokenizer.h"
#include "tokenizer/unicode.h"

namespace ft::cli {
namespace {

struct TokenizeArgs {
    std::string tokenizer;
    std::string input;
    std::string output;
    std::optional<int64_t> max_length;
    std::string truncation;
};

// One batch of input lines: texts, optional pairs, and where each came from for errors.
struct Batch {
    std::vector<std::string> texts, pairs;
    std::vector<int64_t> lines;
    bool has_pairs = false;
    void clear() {
        texts.clear();
        pairs.clear();
        lines.clear();
        has_pairs = false;
    }
};

void append_ints(const std::vector<int32_t>& v, std::string* out) {
    out->push_back('[');
    for (size_t i = 0; i < v.size(); ++i) {
        if (i) out->append(", ");
        out->append(std::to_string(v[i]));
    }
    out->push_back(']');
}

void write_batch(const Tokenizer& tok, const Batch& batch, const EncodeOptions& options,
                 const std::string& input, std::FILE* out) {
    auto encode_one = [&](size_t i) {
        try {
            if (batch.lines[i] < 0) return tok.encode(batch.texts[i], std::nullopt, options);
            return tok.encode(batch.texts[i], batch.pairs[i], options);
        } catch (const Error& e) {
            throw Error(input + ":" + std::to_string(std::abs(batch.lines[i])) + ": " + e.what());
        }
    };
    std::vector<Encoding> encodings;
    const bool all_pairs =
        std::all_of(batch.lines.begin(), batch.lines.end(), [](int64_t l) { return l > 0; });
    if (!batch.has_pairs || all_pairs) {
        try {  // on all threads
            encodings =
                tok.encode_batch(batch.texts, all_pairs ? batch.pairs : Batch().pairs, options);
        } catch (const Error&) {
            for (size_t i = 0; i < batch.texts.size(); ++i) encode_one(i);  // names the line
            throw;
        }
    } else {  // texts with and without a pair mixed
        for (size_t i = 0; i < batch.texts.size(); ++i) encodings.push_back(encode_one(i));
    }
    std::string line;
    for (const Encoding& e : encodings) {
        line = "{\"input_ids\": ";
        append_ints(e.input_ids, &line);
        if (tok.returns_token_type_ids()) {  // RoBERTa-like tokenizers have none
            line += ", \"token_type_ids\": ";
            append_ints(e.token_type_ids, &line);
        }
        line += ", \"attention_mask\": ";
        append_ints(e.attention_mask, &line);
        line += "}\n";
        if (std::fwrite(line.data(), 1, line.size(), out) != line.size())
            throw Error("write failed");
    }
}

void tokenize_stream(const Tokenizer& tok, const TokenizeArgs& args, const EncodeOptions& options,
                     std::FILE* out) {
    std::ifstream in = open_input_file(args.input, "--input");
    constexpr size_t kBatch = 4096;
    Batch batch;
    std::string line;
    int64_t line_no = 0;
    while (std::getline(in, line)) {
        ++line_no;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.find_first_not_of(" \t") == std::string::npos) continue;
        const std::string where = args.input + ":" + std::to_string(line_no);
        if (size_t bad = unicode::find_invalid_utf8(line); bad != std::string::npos)
            throw Error(where + ": invalid UTF-8 at byte " + std::to_string(bad + 1));
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(line);
        } catch (const nlohmann::json::exception& e) {
            throw Error(where + ": invalid JSON: " + e.what());
        }
        if (!j.is_object() || !j.contains("text") || !j["text"].is_string())
            throw Error(where + ": expected an object with a string field \"text\"");
        batch.texts.push_back(j["text"].get<std::string>());
        // A line without text_pair is marked by a negative line number.
        if (auto p = j.find("text_pair"); p != j.end() && !p->is_null()) {
            if (!p->is_string()) throw Error(where + ": field \"text_pair\" must be a string");
            batch.pairs.push_back(p->get<std::string>());
            batch.lines.push_back(line_no);
            batch.has_pairs = true;
        } else {
            batch.pairs.emplace_back();
            batch.lines.push_back(-line_no);
        }
        if (batch.texts.size() == kBatch) {
            write_batch(tok, batch, options, args.input, out);
            batch.clear();
        }
    }
    if (!batch.texts.empty()) write_batch(tok, batch, options, args.input, out);
}

int run_tokenize(const TokenizeArgs& args) {
    const std::unique_ptr<Tokenizer> loaded = load_tokenizer(args.tokenizer);
    const Tokenizer& tok = *loaded;
    EncodeOptions options;
    options.max_length = args.max_length;
    if (!args.truncation.empty()) options.truncation = parse_truncation(args.truncation);
    if (args.output.empty()) {
        tokenize_stream(tok, args, options, stdout);
        std::fflush(stdout);
    } else {
        write_file_atomic(args.output,
                          [&](std::FILE* f) { tokenize_stream(tok, args, options, f); });
    }
    return 0;
}

}  // namespace

Command register_tokenize(CLI::App& app) {
    auto args = std::make_shared<TokenizeArgs>();
    CLI::App* sub = app.add_subcommand(
        "tokenize", "Tokenize JSON lines {\"text\", \"text_pair\"} into input ids, as HF does");
    sub->add_option(
           "--tokenizer", args->tokenizer,
           "Tokenizer directory: tokenizer.json, or vocab.txt (BERT), vocab.json + merges.txt "
           "(RoBERTa), sentencepiece.bpe.model (XLM-R); + tokenizer_config.json")
        ->required();
    sub->add_option("--input", args->input, "JSON lines file, one {\"text\": ...} per line")
        ->required();
    sub->add_option("--output", args->output, "Where to write the JSON lines (default: stdout)");
    // Room for [CLS], one token and [SEP]: below that nothing of the text survives truncation.
    sub->add_option("--max_length,--max-length", args->max_length,
                    "Truncate to this many ids (default: no truncation; at least 3)")
        ->check(CLI::Range(int64_t{3}, int64_t{1} << 30));
    sub->add_option("--truncation", args->truncation,
                    "true|longest_first|only_first|only_second|do_not_truncate "
                    "(default: longest_first when --max_length is given)")
        ->check(CLI::IsMember({"true", "True", "longest_first", "only_first", "only_second",
                               "false", "False", "do_not_truncate"}));
    return {sub, [args] { return run_tokenize(*args); }};
}

}  // namespace ft::cli
