// CoNLL-2003-style column files (token, then tags, per line; blank lines between sentences) into
// one row per sentence with HF conll2003's column names. Tags stay strings: the label list comes
// later from the train split (class_label_tag_columns), as run_ner does for its own files.
#include "data/text_input.h"
#include "finetune/data.h"
#include "finetune/io.h"

namespace ft {

namespace {

std::vector<std::string_view> fields_of(std::string_view line) {
    constexpr std::string_view ws = " \t\r\f\v";
    std::vector<std::string_view> out;
    size_t pos = 0;
    while ((pos = line.find_first_not_of(ws, pos)) != std::string_view::npos) {
        const size_t end = line.find_first_of(ws, pos);
        out.push_back(line.substr(pos, end == std::string_view::npos ? end : end - pos));
        pos = end;
    }
    return out;
}

// The tag columns' names for a file of `n` columns (the token is column 1).
std::vector<std::string> tag_names(size_t n) {
    if (n == 2) return {"ner_tags"};
    if (n == 4) return {"pos_tags", "chunk_tags", "ner_tags"};  // HF's conll2003
    std::vector<std::string> names;
    for (size_t i = 1; i < n; ++i) names.push_back("tags_" + std::to_string(i));
    return names;
}

}  // namespace

Dataset parse_conll(std::string_view text, const std::string& source) {
    data_internal::check_utf8(text, source);
    const size_t bom = text.size() - data_internal::strip_bom(text).size();
    size_t ncols = 0;                              // set by the first token line
    int64_t ncols_line = 0;                        // ... which is this one
    int64_t open_line = 0;                         // first line of the open sentence; 0: none open
    std::vector<std::vector<std::string>> values;  // per column, flat
    std::vector<int64_t> offsets{0};
    std::vector<int64_t> lines;
    auto close_sentence = [&] {
        if (!open_line) return;
        offsets.push_back(static_cast<int64_t>(values[0].size()));
        lines.push_back(open_line);
        open_line = 0;
    };
    size_t pos = bom;
    for (int64_t line_no = 1; pos < text.size(); ++line_no) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = text.substr(pos, end - pos);
        pos = end + 1;
        const auto f = fields_of(line);
        // HF's conll2003: a -DOCSTART- line or a blank line ends the sentence.
        if (f.empty() || line.starts_with("-DOCSTART-")) {
            close_sentence();
            continue;
        }
        const std::string where = source + ":" + std::to_string(line_no);
        if (f.size() < 2)
            throw Error(where +
                        ": a token line needs a token and at least one tag, found 1 column");
        if (ncols == 0) {
            ncols = f.size();
            ncols_line = line_no;
            values.resize(ncols);
        } else if (f.size() != ncols) {
            throw Error(where + ": " + std::to_string(f.size()) + " columns, but line " +
                        std::to_string(ncols_line) + " has " + std::to_string(ncols) +
                        " (every token line of a file has the same columns)");
        }
        if (!open_line) open_line = line_no;
        for (size_t c = 0; c < ncols; ++c) values[c].emplace_back(f[c]);
    }
    close_sentence();

    const std::vector<std::string> tags = tag_names(ncols == 0 ? 2 : ncols);
    values.resize(tags.size() + 1);  // an empty file: tokens and ner_tags, no rows
    std::vector<std::string> ids;
    for (size_t i = 0; i + 1 < offsets.size(); ++i) ids.push_back(std::to_string(i));
    Dataset ds;
    ds = ds.add_column("id", Column::strings(std::move(ids)));
    ds = ds.add_column("tokens", Column::string_lists(std::move(values[0]), offsets));
    for (size_t t = 0; t < tags.size(); ++t)
        ds = ds.add_column(tags[t], Column::string_lists(std::move(values[t + 1]), offsets));
    return ds.with_row_origins(source, std::move(lines));
}

Dataset read_conll(const fs::path& path) {
    return parse_conll(read_text_file(path), path.string());
}

}  // namespace ft
