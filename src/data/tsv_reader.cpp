// GLUE's TSV layout: tab-separated, one row per line, no quoting (quotes are literal text, as
// Python's csv module reads it with QUOTE_NONE); blank lines are skipped like csv.DictReader.
#include "data/text_input.h"
#include "finetune/data.h"

namespace ft {

TsvTable read_tsv_rows(std::string_view text, const std::string& source) {
    data_internal::check_utf8(text, source);
    const size_t bom = text.size() - data_internal::strip_bom(text).size();
    TsvTable t;
    size_t pos = bom;
    int64_t line = 1;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        std::string_view l = text.substr(pos, end - pos);
        if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
        if (!l.empty()) {
            std::vector<std::string> fields;
            size_t start = 0;
            for (;;) {
                const size_t tab = l.find('\t', start);
                fields.emplace_back(l.substr(
                    start, tab == std::string_view::npos ? std::string_view::npos : tab - start));
                if (tab == std::string_view::npos) break;
                start = tab + 1;
            }
            t.rows.push_back(std::move(fields));
            t.lines.push_back(line);
        }
        pos = end + 1;
        ++line;
    }
    return t;
}

}  // namespace ft
