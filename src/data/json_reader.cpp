// JSON Lines and JSON arrays of objects into columns (through nlohmann_json). Each JSON Lines row
// is parsed on its own so an error names its line; an array's error names the line of the
// failing byte or the element index. Lists of integers and lists of strings (token and tag
// lists) become list columns.
#include <nlohmann/json.hpp>

#include "data/text_input.h"
#include "finetune/data.h"
#include "finetune/io.h"

namespace ft {

namespace {

using json = nlohmann::ordered_json;  // keeps keys in file order, as HF does

enum class Kind { STRING, INT, FLOAT, BOOL, INT_LIST, STRING_LIST };

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::STRING:
            return "string";
        case Kind::INT:
            return "integer";
        case Kind::FLOAT:
            return "number";
        case Kind::BOOL:
            return "boolean";
        case Kind::INT_LIST:
            return "list of integers";
        case Kind::STRING_LIST:
            return "list of strings";
    }
    return "?";
}

// One column being filled; int columns widen to float when a float shows up, as pandas/Arrow do.
struct Builder {
    std::string key;
    Kind kind;
    std::vector<std::string> strings;
    std::vector<int64_t> ints;
    std::vector<double> floats;
    std::vector<uint8_t> bools;
    std::vector<std::vector<int32_t>> lists;
    std::vector<std::vector<std::string>> string_lists;
    bool only_empty_lists = true;  // so far: the list kind is still open
};

Kind kind_of(const json& v, const std::string& where) {
    if (v.is_string()) return Kind::STRING;
    if (v.is_boolean()) return Kind::BOOL;
    if (v.is_number_integer()) return Kind::INT;
    if (v.is_number_float()) return Kind::FLOAT;
    if (v.is_array()) {
        // An empty list says nothing: INT_LIST until a row shows strings.
        if (!v.empty() && v[0].is_string()) {
            for (const auto& e : v)
                if (!e.is_string())
                    throw Error(where + ": a list mixing strings and " + e.type_name() +
                                " values (lists of strings or of 32-bit integers are supported)");
            return Kind::STRING_LIST;
        }
        for (const auto& e : v)
            if (!e.is_number_integer() || e.get<int64_t>() < INT32_MIN ||
                e.get<int64_t>() > INT32_MAX)
                throw Error(where + ": a list holding " + std::string(e.type_name()) +
                            (e.is_number_integer() ? " past 32 bits" : "") +
                            " (lists of strings or of 32-bit integers are supported)");
        return Kind::INT_LIST;
    }
    throw Error(where + ": unsupported value of type " + v.type_name() +
                " (strings, numbers, booleans and integer lists are)");
}

void append(Builder& b, const json& v, const std::string& where) {
    const Kind k = kind_of(v, where + ": key '" + b.key + "'");
    const bool is_list = k == Kind::INT_LIST || k == Kind::STRING_LIST;
    const bool b_list = b.kind == Kind::INT_LIST || b.kind == Kind::STRING_LIST;
    if (is_list && b_list && v.empty()) {
        // An empty list fits either list kind.
    } else if (k == Kind::STRING_LIST && b.kind == Kind::INT_LIST && b.only_empty_lists) {
        b.kind = Kind::STRING_LIST;  // the rows so far were all []
        b.string_lists.resize(b.lists.size());
        b.lists.clear();
    } else if (k == Kind::INT_LIST && b.kind == Kind::STRING_LIST && b.only_empty_lists) {
        b.kind = Kind::INT_LIST;
        b.lists.resize(b.string_lists.size());
        b.string_lists.clear();
    } else if (k != b.kind) {
        if (b.kind == Kind::INT && k == Kind::FLOAT) {
            b.kind = Kind::FLOAT;
            for (int64_t i : b.ints) b.floats.push_back(static_cast<double>(i));
            b.ints.clear();
        } else if (!(b.kind == Kind::FLOAT && k == Kind::INT)) {
            throw Error(where + ": key '" + b.key + "': a " + kind_name(k) +
                        ", but earlier rows hold a " + kind_name(b.kind));
        }
    }
    switch (b.kind) {
        case Kind::STRING:
            b.strings.push_back(v.get<std::string>());
            break;
        case Kind::INT:
            b.ints.push_back(v.get<int64_t>());
            break;
        case Kind::FLOAT:
            b.floats.push_back(v.get<double>());
            break;
        case Kind::BOOL:
            b.bools.push_back(v.get<bool>());
            break;
        case Kind::INT_LIST:
            b.lists.push_back(v.get<std::vector<int32_t>>());
            break;
        case Kind::STRING_LIST:
            b.string_lists.push_back(v.get<std::vector<std::string>>());
            break;
    }
    if (is_list && !v.empty()) b.only_empty_lists = false;
}

class TableBuilder {
  public:
    explicit TableBuilder(const std::string& source) : source_(source) {}

    // `line`: the row's 1-based line (JSON Lines), or 0 (an array's element).
    void add(const json& row, const std::string& where, int64_t line = 0) {
        if (line > 0) lines_.push_back(line);
        if (!row.is_object())
            throw Error(where + ": expected a JSON object, got " + row.type_name());
        if (rows_ == 0) {
            for (const auto& [k, v] : row.items())
                cols_.push_back(
                    {k, kind_of(v, where + ": key '" + k + "'"), {}, {}, {}, {}, {}, {}, true});
        } else if (row.size() != cols_.size()) {
            for (const auto& [k, v] : row.items()) {
                bool known = false;
                for (const auto& c : cols_) known |= c.key == k;
                if (!known) throw Error(where + ": key '" + k + "' is not in the first row");
            }
        }
        for (auto& c : cols_) {
            const auto it = row.find(c.key);
            if (it == row.end()) throw Error(where + ": key '" + c.key + "' is missing");
            append(c, *it, where);
        }
        ++rows_;
    }

    Dataset finish() {
        Dataset ds;
        for (auto& c : cols_) {
            switch (c.kind) {
                case Kind::STRING:
                    ds = ds.add_column(c.key, Column::strings(std::move(c.strings)));
                    break;
                case Kind::INT:
                    ds = ds.add_column(c.key, Column::int64s(std::move(c.ints)));
                    break;
                case Kind::FLOAT:
                    ds = ds.add_column(c.key, Column::float64s(std::move(c.floats)));
                    break;
                case Kind::BOOL:
                    ds = ds.add_column(c.key, Column::bools(std::move(c.bools)));
                    break;
                case Kind::INT_LIST:
                    ds = ds.add_column(c.key, Column::int32_lists(c.lists));
                    break;
                case Kind::STRING_LIST:
                    ds = ds.add_column(c.key, Column::string_lists(c.string_lists));
                    break;
            }
        }
        if (!lines_.empty() && static_cast<int64_t>(lines_.size()) == rows_)
            ds = ds.with_row_origins(source_, std::move(lines_));
        return ds;
    }

  private:
    std::string source_;
    std::vector<Builder> cols_;
    std::vector<int64_t> lines_;
    int64_t rows_ = 0;
};

}  // namespace

Dataset parse_json(std::string_view text, const std::string& source) {
    data_internal::check_utf8(text, source);
    const size_t first = text.find_first_not_of(" \t\r\n");
    TableBuilder table(source);
    if (first != std::string_view::npos && text[first] == '[') {
        json doc;
        try {
            doc = json::parse(text);
        } catch (const json::parse_error& e) {
            const size_t at = e.byte > 0 ? e.byte - 1 : 0;
            throw Error(source + ":" + std::to_string(data_internal::line_of(text, at)) +
                        ": invalid JSON: " + e.what());
        } catch (const json::exception& e) {  // out_of_range: a number past double (1e999)
            throw Error(source + ": invalid JSON: " + e.what());
        }
        for (size_t k = 0; k < doc.size(); ++k)
            table.add(doc[k], source + ": element " + std::to_string(k));
        return table.finish();
    }
    // JSON Lines: one object per non-blank line.
    size_t pos = 0;
    int64_t line = 1;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view l = text.substr(pos, end - pos);
        const std::string where = source + ":" + std::to_string(line);
        if (l.find_first_not_of(" \t\r") != std::string_view::npos) {
            json row;
            try {
                row = json::parse(l);
            } catch (const json::exception& e) {  // parse_error, or out_of_range for 1e999
                throw Error(where + ": invalid JSON: " + e.what());
            }
            table.add(row, where, line);
        }
        pos = end + 1;
        ++line;
    }
    return table.finish();
}

Dataset read_json(const fs::path& path) {
    return parse_json(read_text_file(path), path.string());
}

}  // namespace ft
