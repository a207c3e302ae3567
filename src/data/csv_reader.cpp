// CSV per RFC 4180 (header row; quoted fields with delimiters, newlines and doubled quotes) and
// per-column type inference like HF's csv loader, which hands the file to pandas.
#include <charconv>
#include <cmath>
#include <limits>

#include "data/text_input.h"
#include "finetune/data.h"
#include "finetune/io.h"

namespace ft {

namespace {

struct Record {
    std::vector<std::string> fields;
    int64_t line;  // where the record starts
};

// Splits the text into records, counting lines as it goes (a quoted field may span lines).
std::vector<Record> split_records(std::string_view text, const std::string& source, char delim) {
    std::vector<Record> records;
    size_t i = 0;
    int64_t line = 1;
    const size_t n = text.size();
    auto at_line_end = [&](size_t k) {
        return text[k] == '\n' || (text[k] == '\r' && k + 1 < n && text[k + 1] == '\n');
    };
    auto skip_line_end = [&] {
        i += text[i] == '\r' ? 2 : 1;
        ++line;
    };
    while (i < n) {
        if (at_line_end(i)) {  // pandas skips blank lines
            skip_line_end();
            continue;
        }
        Record rec{{}, line};
        for (;;) {  // one field per iteration
            std::string field;
            if (text[i] == '"') {
                const int64_t open_line = line;
                ++i;
                for (;;) {
                    if (i >= n)
                        throw Error(source + ":" + std::to_string(open_line) +
                                    ": unterminated quoted field (the quote opened here is "
                                    "never closed)");
                    if (text[i] == '"') {
                        if (i + 1 < n && text[i + 1] == '"') {
                            field += '"';
                            i += 2;
                            continue;
                        }
                        ++i;
                        break;
                    }
                    if (text[i] == '\n') ++line;
                    field += text[i++];
                }
                if (i < n && text[i] != delim && !at_line_end(i))
                    throw Error(source + ":" + std::to_string(line) + ": field " +
                                std::to_string(rec.fields.size() + 1) +
                                ": unexpected character after a closing quote");
            } else {
                const size_t begin = i;
                while (i < n && text[i] != delim && !at_line_end(i)) ++i;
                field.assign(text.substr(begin, i - begin));
            }
            rec.fields.push_back(std::move(field));
            if (i < n && text[i] == delim) {
                ++i;
                if (i < n) continue;
                rec.fields.emplace_back();  // "a,b," at the very end: a last empty field
                break;
            }
            if (i < n) skip_line_end();
            break;
        }
        records.push_back(std::move(rec));
    }
    return records;
}

bool parse_int(const std::string& s, int64_t* out) {
    std::string_view v = s;
    if (!v.empty() && v[0] == '+') v.remove_prefix(1);
    const auto r = std::from_chars(v.data(), v.data() + v.size(), *out);
    return !v.empty() && r.ec == std::errc() && r.ptr == v.data() + v.size();
}

bool parse_float(const std::string& s, double* out) {
    std::string_view v = s;
    if (!v.empty() && v[0] == '+') v.remove_prefix(1);
    const auto r = std::from_chars(v.data(), v.data() + v.size(), *out);
    return !v.empty() && r.ec == std::errc() && r.ptr == v.data() + v.size();
}

bool parse_bool(const std::string& s, bool* out) {
    if (s == "True" || s == "true" || s == "TRUE") return *out = true, true;
    if (s == "False" || s == "false" || s == "FALSE") return *out = false, true;
    return false;
}

Column infer_column(std::vector<std::string> values) {
    bool all_int = true, all_float = true, all_bool = true, any_empty = false, any_value = false;
    for (const auto& v : values) {
        if (v.empty()) {
            any_empty = true;
            continue;
        }
        any_value = true;
        int64_t i;
        double d;
        bool b;
        if (all_int && !parse_int(v, &i)) all_int = false;
        if (all_float && !parse_float(v, &d)) all_float = false;
        if (all_bool && !parse_bool(v, &b)) all_bool = false;
    }
    if (!any_value) return Column::strings(std::move(values));
    if (all_int && !any_empty) {
        std::vector<int64_t> out(values.size());
        for (size_t k = 0; k < values.size(); ++k) parse_int(values[k], &out[k]);
        return Column::int64s(std::move(out));
    }
    if (all_int || all_float) {  // pandas turns a gap in a number column into NaN
        std::vector<double> out(values.size(), std::numeric_limits<double>::quiet_NaN());
        for (size_t k = 0; k < values.size(); ++k)
            if (!values[k].empty()) parse_float(values[k], &out[k]);
        return Column::float64s(std::move(out));
    }
    if (all_bool && !any_empty) {
        std::vector<uint8_t> out(values.size());
        for (size_t k = 0; k < values.size(); ++k) {
            bool b = false;
            parse_bool(values[k], &b);
            out[k] = b;
        }
        return Column::bools(std::move(out));
    }
    return Column::strings(std::move(values));
}

}  // namespace

Dataset parse_csv(std::string_view text, const std::string& source, char delimiter) {
    data_internal::check_utf8(text, source);
    // The BOM is not part of the first column's name; line numbers stay those of the file.
    const size_t bom = text.size() - data_internal::strip_bom(text).size();
    std::vector<Record> records = split_records(text.substr(bom), source, delimiter);
    if (records.empty()) throw Error(source + ": empty CSV file (no header row)");
    const std::vector<std::string>& header = records[0].fields;
    for (size_t c = 0; c < header.size(); ++c)
        for (size_t d = 0; d < c; ++d)
            if (header[c] == header[d])
                throw Error(source + ":" + std::to_string(records[0].line) +
                            ": duplicate column name '" + header[c] + "'");
    std::vector<std::vector<std::string>> columns(header.size());
    for (size_t r = 1; r < records.size(); ++r) {
        if (records[r].fields.size() != header.size())
            throw Error(source + ":" + std::to_string(records[r].line) + ": " +
                        std::to_string(records[r].fields.size()) + " fields, but the header has " +
                        std::to_string(header.size()));
        for (size_t c = 0; c < header.size(); ++c)
            columns[c].push_back(std::move(records[r].fields[c]));
    }
    Dataset ds;
    for (size_t c = 0; c < header.size(); ++c)
        ds = ds.add_column(header[c], infer_column(std::move(columns[c])));
    return ds;
}

Dataset read_csv(const fs::path& path, char delimiter) {
    return parse_csv(read_text_file(path), path.string(), delimiter);
}

}  // namespace ft
