// CoNLL-U (Universal Dependencies) into one row per sentence, with the columns and values of HF's
// universal_dependencies loader (which parses with the `conllu` package and stores str() of what
// it parses). data.h lists the columns and where we differ: multiword and empty-node lines are
// skipped, fields split on tabs only.
#include <algorithm>
#include <optional>

#include "data/text_input.h"
#include "finetune/data.h"
#include "finetune/io.h"

namespace ft {

const std::vector<std::string>& upos_names() {
    // HF's order (universal_dependencies.py's ClassLabel), not UD's alphabetical list.
    static const std::vector<std::string> names = {
        "NOUN",  "PUNCT", "ADP",  "NUM", "SYM", "SCONJ", "ADJ",  "PART", "DET",
        "CCONJ", "PROPN", "PRON", "X",   "_",   "ADV",   "INTJ", "VERB", "AUX"};
    return names;
}

namespace {

constexpr int kFields = 10;  // ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool all_digits(std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), is_digit);
}
// conllu's ID_SINGLE: 0 or a number without leading zeros.
bool is_word_id(std::string_view s) {
    return s == "0" || (all_digits(s) && s[0] != '0');
}
// conllu's ID_RANGE (a multiword token, 3-4) and ID_DOT_ID (an empty node, 5.1).
bool is_range_id(std::string_view s) {
    const size_t dash = s.find('-');
    if (dash == std::string_view::npos) return false;
    const auto a = s.substr(0, dash), b = s.substr(dash + 1);
    return all_digits(a) && a[0] != '0' && all_digits(b) && b[0] != '0';
}
bool is_dot_id(std::string_view s) {
    const size_t dot = s.find('.');
    if (dot == std::string_view::npos) return false;
    const auto a = s.substr(0, dot), b = s.substr(dot + 1);
    return all_digits(a) && all_digits(b) && b[0] != '0';
}

// Python's repr of the int conllu makes of a digit string (leading zeros dropped).
std::string int_str(std::string_view digits) {
    const size_t nz = digits.find_first_not_of('0');
    return nz == std::string_view::npos ? "0" : std::string(digits.substr(nz));
}
// a < b for two canonical int_str values of any length.
bool int_less(const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
}
// conllu raises for a range whose end comes before its start (4-3).
bool is_backward_range(std::string_view id) {
    const size_t dash = id.find('-');
    return int_less(int_str(id.substr(dash + 1)), int_str(id.substr(0, dash)));
}

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> parts;
    size_t start = 0;
    for (;;) {
        const size_t at = s.find(sep, start);
        parts.push_back(s.substr(start, at == std::string_view::npos ? at : at - start));
        if (at == std::string_view::npos) return parts;
        start = at + 1;
    }
}

std::string_view strip(std::string_view s) {
    constexpr std::string_view ws = " \t\r\n\f\v";
    const size_t b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

bool is_null(std::string_view s) {  // conllu's parse_nullable_value gives None
    return s.empty() || s == "_";
}

// str() of conllu's parse_dict_value (FEATS, MISC): None, or {'key': 'value', ...} where a part
// without '=' maps to '' and a value is the text between the first and second '='.
std::string dict_str(std::string_view field) {
    if (is_null(field)) return "None";
    std::vector<std::pair<std::string_view, std::optional<std::string_view>>> items;
    for (std::string_view part : split(field, '|')) {
        const auto pieces = split(part, '=');
        if (is_null(pieces[0])) continue;
        std::optional<std::string_view> value = std::string_view();
        if (pieces.size() > 1) value = is_null(pieces[1]) ? std::nullopt : std::optional(pieces[1]);
        auto it = std::find_if(items.begin(), items.end(),
                               [&](const auto& kv) { return kv.first == pieces[0]; });
        if (it != items.end())
            it->second = value;  // a dict keeps the first position and the last value
        else
            items.emplace_back(pieces[0], value);
    }
    std::string s = "{";
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) s += ", ";
        s += python_repr(items[i].first);
        s += ": ";
        s += items[i].second ? python_repr(*items[i].second) : std::string("None");
    }
    s += '}';
    return s;
}

// conllu's DEPS_RE for one part: ID (':' segment)+, where a segment starts with a character
// other than a digit, ':', '_', '-' or '|' and holds no ':' or '|'. Returns the repr of the
// (relation, id) pair, or nothing when the part does not match.
std::optional<std::string> dep_pair_repr(std::string_view part, const std::string& where) {
    const size_t colon = part.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const std::string_view id = part.substr(0, colon), rel = part.substr(colon + 1);
    for (std::string_view seg : split(rel, ':'))
        if (seg.empty() || is_digit(seg[0]) || seg[0] == '_' || seg[0] == '-') return std::nullopt;
    // conllu's id: an int, or a tuple (3, '-', 4) / (5, '.', 1).
    auto tuple = [](std::string_view a, std::string_view sep, std::string_view b) {
        std::string t = "(";
        t += int_str(a);
        t += sep;
        t += int_str(b);
        t += ')';
        return t;
    };
    std::string s = "(";
    s += python_repr(rel);
    s += ", ";
    if (is_word_id(id)) {
        s += id;
    } else if (is_range_id(id)) {
        if (is_backward_range(id))
            throw Error(where + ": DEPS head range '" + std::string(id) + "' runs backwards");
        const size_t dash = id.find('-');
        s += tuple(id.substr(0, dash), ", '-', ", id.substr(dash + 1));
    } else if (is_dot_id(id)) {
        const size_t dot = id.find('.');
        s += tuple(id.substr(0, dot), ", '.', ", id.substr(dot + 1));
    } else {
        return std::nullopt;
    }
    s += ')';
    return s;
}

// str() of conllu's parse_paired_list_value (DEPS): a list of (relation, head) pairs when every
// '|'-separated part matches, else the field itself (None for '_').
std::string deps_str(std::string_view field, const std::string& where) {
    std::string s = "[";
    bool first = true;
    for (std::string_view part : split(field, '|')) {
        auto pair = dep_pair_repr(part, where);
        if (!pair) return is_null(field) ? std::string("None") : std::string(field);
        if (!first) s += ", ";
        s += *pair;
        first = false;
    }
    s += ']';
    return s;
}

// One list column being filled: flat values and row offsets.
template <class T>
struct ListBuilder {
    std::vector<T> values;
    std::vector<int64_t> offsets{0};
    void end_row() { offsets.push_back(static_cast<int64_t>(values.size())); }
};

class SentenceTable {
  public:
    explicit SentenceTable(const std::string& source) : source_(source) {}

    void comment(std::string_view line) {
        // conllu: "# key = value"; a key without a value is dropped.
        const std::string_view body = line.substr(1);
        const size_t eq = body.find('=');
        if (eq == std::string_view::npos) return;
        const std::string_view key = strip(body.substr(0, eq)), value = strip(body.substr(eq + 1));
        if (key.empty() || value.empty()) return;
        if (key == "sent_id") sent_id_ = std::string(value);
        if (key == "text") text_ = std::string(value);
    }

    void token(std::string_view line, int64_t line_no) {
        const std::string where = source_ + ":" + std::to_string(line_no);
        const auto f = split(line, '\t');
        if (static_cast<int>(f.size()) != kFields)
            throw Error(where + ": expected 10 tab-separated fields, found " +
                        std::to_string(f.size()));
        if (is_range_id(f[0]) && is_backward_range(f[0]))
            throw Error(where + ": multiword range '" + std::string(f[0]) + "' runs backwards");
        if (is_range_id(f[0]) || is_dot_id(f[0])) return;  // multiword token, empty node
        if (!is_word_id(f[0]))
            throw Error(
                where + ": ID '" + std::string(f[0]) +
                "' is not a word index (1), a multiword range (1-2) or an empty node (1.1)");
        const auto& names = upos_names();
        const auto upos = std::find(names.begin(), names.end(), f[3]);
        if (upos == names.end())
            throw Error(where + ": unknown UPOS tag '" + std::string(f[3]) +
                        "' (HF's universal_dependencies tags: NOUN, PUNCT, ADP, NUM, SYM, SCONJ, "
                        "ADJ, PART, DET, CCONJ, PROPN, PRON, X, _, ADV, INTJ, VERB, AUX)");
        // conllu's parse_int_value for HEAD: '_' is None, else 0 or a signed integer.
        const std::string_view head = f[6];
        const bool head_ok = head == "_" || head == "0" ||
                             (all_digits(head.substr(head.starts_with('-') ? 1 : 0)) &&
                              head[head.starts_with('-') ? 1 : 0] != '0');
        if (!head_ok) throw Error(where + ": HEAD '" + std::string(head) + "' is not an integer");
        tokens_.values.emplace_back(f[1]);
        lemmas_.values.emplace_back(f[2]);
        upos_.values.push_back(static_cast<int32_t>(upos - names.begin()));
        xpos_.values.emplace_back(f[4]);
        feats_.values.push_back(dict_str(f[5]));
        head_.values.push_back(head == "_" ? "None" : std::string(head));
        deprel_.values.emplace_back(f[7]);
        deps_.values.push_back(deps_str(f[8], where));
        misc_.values.push_back(dict_str(f[9]));
    }

    // Closes the sentence that began on `first_line`.
    void end_sentence(int64_t first_line) {
        const int64_t begin = tokens_.offsets.back();
        if (!sent_id_) sent_id_ = std::to_string(idx_.size());
        if (!text_) {
            std::string joined;
            for (size_t i = static_cast<size_t>(begin); i < tokens_.values.size(); ++i) {
                if (i != static_cast<size_t>(begin)) joined += ' ';
                joined += tokens_.values[i];
            }
            text_ = std::move(joined);
        }
        idx_.push_back(std::move(*sent_id_));
        text_col_.push_back(std::move(*text_));
        sent_id_.reset();
        text_.reset();
        for (auto* b : {&tokens_, &lemmas_, &xpos_, &feats_, &head_, &deprel_, &deps_, &misc_})
            b->end_row();
        upos_.end_row();
        lines_.push_back(first_line);
    }

    Dataset finish() && {
        auto strs = [](ListBuilder<std::string>& b) {
            return Column::string_lists(std::move(b.values), std::move(b.offsets));
        };
        Dataset ds;
        ds = ds.add_column("idx", Column::strings(std::move(idx_)));
        ds = ds.add_column("text", Column::strings(std::move(text_col_)));
        ds = ds.add_column("tokens", strs(tokens_));
        ds = ds.add_column("lemmas", strs(lemmas_));
        ds = ds.add_column("upos",
                           Column::int32_lists(std::move(upos_.values), std::move(upos_.offsets),
                                               Feature::class_label_list(upos_names())));
        ds = ds.add_column("xpos", strs(xpos_));
        ds = ds.add_column("feats", strs(feats_));
        ds = ds.add_column("head", strs(head_));
        ds = ds.add_column("deprel", strs(deprel_));
        ds = ds.add_column("deps", strs(deps_));
        ds = ds.add_column("misc", strs(misc_));
        return ds.with_row_origins(source_, std::move(lines_));
    }

  private:
    const std::string& source_;
    std::optional<std::string> sent_id_, text_;
    std::vector<std::string> idx_, text_col_;
    ListBuilder<std::string> tokens_, lemmas_, xpos_, feats_, head_, deprel_, deps_, misc_;
    ListBuilder<int32_t> upos_;
    std::vector<int64_t> lines_;
};

}  // namespace

Dataset parse_conllu(std::string_view text, const std::string& source) {
    data_internal::check_utf8(text, source);
    const size_t bom = text.size() - data_internal::strip_bom(text).size();
    SentenceTable table(source);
    int64_t first_line = 0;  // of the open sentence; 0: none open
    size_t pos = bom;
    for (int64_t line_no = 1; pos < text.size(); ++line_no) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        // conllu strips each line; a line of only whitespace ends a sentence.
        const std::string_view line = strip(text.substr(pos, end - pos));
        pos = end + 1;
        if (line.empty()) {
            if (first_line) table.end_sentence(first_line);
            first_line = 0;
            continue;
        }
        if (!first_line) first_line = line_no;
        if (line[0] == '#')
            table.comment(line);
        else
            table.token(line, line_no);
    }
    if (first_line) table.end_sentence(first_line);  // no blank line after the last sentence
    return std::move(table).finish();
}

Dataset read_conllu(const fs::path& path) {
    return parse_conllu(read_text_file(path), path.string());
}

}  // namespace ft
