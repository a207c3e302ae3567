// The RoBERTa-style tokenizer goldens' shared check: every row of the GLUE train and dev TSVs in
// ../shared (92,613 rows) against glue.json, which tools/gen_roberta_tokenizer_goldens.py and
// tools/gen_xlmr_tokenizer_goldens.py write from transformers 5: per row, FNV-1a of the ids, and of
// the max_length-16 truncations and both decodes. Also the batch call against the single one.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "finetune/core.h"
#include "finetune/io.h"
#include "finetune/tokenizer.h"
#include "test_env.h"

namespace ft::test {

using Ids = std::vector<int32_t>;

// Truncated ids at max_length 16, or "error" where the strategy cannot cut enough.
inline nlohmann::json truncated(const Tokenizer& tok, const std::string& text,
                                std::optional<std::string> pair, Truncation t) {
    EncodeOptions o;
    o.truncation = t;
    o.max_length = 16;
    try {
        return tok.encode(text, pair, o).input_ids;
    } catch (const Error&) {
        return "error";
    }
}

// FNV-1a, 32 bits, as the generators hash.
inline uint32_t fnv1a32(std::string_view s) {
    uint32_t h = 0x811C9DC5u;
    for (unsigned char c : s) h = (h ^ c) * 0x01000193u;
    return h;
}

inline std::string ids_text(const Ids& ids) {
    std::string s;
    for (size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
    return s;
}

struct GlueFile {
    const char* name;  // task/split, the key in glue.json
    bool header;
    std::vector<int> columns;
};

// Rows split on '\t' only, the header dropped, as the generators read them.
inline std::vector<std::vector<std::string>> glue_rows(const GlueFile& f) {
    std::ifstream in(shared_dir() / "data/glue" / (std::string(f.name) + ".tsv"));
    EXPECT_TRUE(in) << f.name;
    std::vector<std::vector<std::string>> rows;
    std::string line;
    if (f.header) std::getline(in, line);
    while (std::getline(in, line)) {
        std::vector<std::string> fields;
        size_t pos = 0;
        while (true) {
            const size_t tab = line.find('\t', pos);
            fields.push_back(line.substr(pos, tab - pos));
            if (tab == std::string::npos) break;
            pos = tab + 1;
        }
        std::vector<std::string> texts;
        for (int c : f.columns) texts.push_back(fields.at(size_t(c)));
        rows.push_back(texts);
    }
    return rows;
}

// Decodes without clean-up: the goldens' decodes are transformers 5's defaults for these kinds.
inline void expect_every_glue_row_matches(const Tokenizer& tok,
                                          const std::filesystem::path& glue_json) {
    using json = nlohmann::json;
    const json golden = json::parse(read_text_file(glue_json));
    ASSERT_EQ(golden["hash"], "fnv1a32");
    const GlueFile files[] = {
        {"cola/train", false, {3}},  {"cola/dev", false, {3}},     {"sst2/train", true, {0}},
        {"sst2/dev", true, {0}},     {"mrpc/train", true, {3, 4}}, {"mrpc/dev", true, {3, 4}},
        {"rte/train", true, {1, 2}}, {"rte/dev", true, {1, 2}},    {"stsb/train", true, {7, 8}},
        {"stsb/dev", true, {7, 8}},  {"wnli/train", true, {1, 2}}, {"wnli/dev", true, {1, 2}},
    };
    int64_t rows_total = 0, id_mismatches = 0, extra_mismatches = 0, batch_mismatches = 0;
    for (const GlueFile& f : files) {
        const auto rows = glue_rows(f);
        const std::string hashes = golden["sets"][f.name];
        ASSERT_EQ(hashes.size(), rows.size() * 16) << f.name;
        std::vector<std::string> texts, pairs;
        for (const auto& r : rows) {
            texts.push_back(r[0]);
            if (r.size() > 1) pairs.push_back(r[1]);
        }
        const std::vector<Encoding> batch = tok.encode_batch(texts, pairs);
        for (size_t i = 0; i < rows.size(); ++i) {
            std::optional<std::string> pair;
            if (rows[i].size() > 1) pair = rows[i][1];
            const Ids ids = tok.encode(rows[i][0], pair).input_ids;
            std::string extra;
            if (!pair) {
                extra = ids_text(truncated(tok, rows[i][0], pair, Truncation::LongestFirst));
            } else {
                for (Truncation t :
                     {Truncation::LongestFirst, Truncation::OnlyFirst, Truncation::OnlySecond}) {
                    const json cut = truncated(tok, rows[i][0], pair, t);
                    extra += (extra.empty() ? "" : "\x1f") +
                             (cut.is_string() ? std::string("E") : ids_text(cut.get<Ids>()));
                }
            }
            extra += "\x1f" + tok.decode(ids, false, false) + "\x1f" + tok.decode(ids, true, false);
            char want[17];
            std::snprintf(want, sizeof want, "%08x%08x", fnv1a32(ids_text(ids)), fnv1a32(extra));
            const std::string_view have(hashes.data() + i * 16, 16);
            const bool ids_ok = have.substr(0, 8) == std::string_view(want, 8);
            if (!ids_ok && ++id_mismatches <= 5)
                ADD_FAILURE() << f.name << " row " << i << ": ids " << ids_text(ids) << " for "
                              << rows[i][0] << (pair ? " ||| " + *pair : "");
            if (ids_ok && have.substr(8) != std::string_view(want + 8, 8) &&
                ++extra_mismatches <= 5)
                ADD_FAILURE() << f.name << " row " << i << ": truncation or decode differs for "
                              << rows[i][0] << (pair ? " ||| " + *pair : "");
            if (batch[i].input_ids != ids) ++batch_mismatches;
        }
        rows_total += int64_t(rows.size());
    }
    EXPECT_EQ(rows_total, 92613);
    EXPECT_EQ(id_mismatches, 0) << "of " << rows_total;
    EXPECT_EQ(extra_mismatches, 0) << "of " << rows_total;
    EXPECT_EQ(batch_mismatches, 0) << "of " << rows_total;
}

}  // namespace ft::test
