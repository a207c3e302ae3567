// JSON Lines and JSON arrays against hand-worked cases; bad JSON, type clashes and invalid UTF-8
// must name the file and line (or array element) and key.
#include <gtest/gtest.h>

#include "finetune/data.h"

namespace ft {

namespace {
std::string error_of(std::string_view text) {
    try {
        parse_json(text, "bad.jsonl");
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}
}  // namespace

TEST(JsonReader, JsonLinesTypes) {
    const Dataset ds = parse_json(
        "{\"text\": \"caf\\u00e9 \\\"x\\\"\", \"label\": 1, \"score\": 0.5, \"ok\": true, "
        "\"ids\": [101, 102]}\n"
        "\n"
        "{\"text\": \"b\", \"label\": 0, \"score\": 2, \"ok\": false, \"ids\": []}\n",
        "t.jsonl");
    ASSERT_EQ(ds.num_rows(), 2);
    EXPECT_EQ(ds.features_repr(),
              "{'text': Value('string'), 'label': Value('int64'), 'score': Value('float64'), "
              "'ok': Value('bool'), 'ids': List(Value('int32'))}");
    EXPECT_EQ(ds[0].repr(),
              "{'text': 'caf\xC3\xA9 \"x\"', 'label': 1, 'score': 0.5, 'ok': True, 'ids': [101, "
              "102]}");
    EXPECT_EQ(ds[1].repr(), "{'text': 'b', 'label': 0, 'score': 2.0, 'ok': False, 'ids': []}");
}

TEST(JsonReader, ArrayOfObjectsAndIntWidening) {
    const Dataset ds = parse_json("[{\"a\": 1}, {\"a\": 2.5}, {\"a\": 3}]", "t.json");
    EXPECT_EQ(ds.feature("a").repr(), "Value('float64')");
    EXPECT_EQ(ds.column("a").as_float64(), (std::vector<double>{1.0, 2.5, 3.0}));
}

// A number past double's range is valid JSON syntax, but nlohmann throws out_of_range for it,
// not parse_error; it escaped as a foreign exception (the class fuzz/config_fuzz.cpp found).
TEST(JsonReader, NumberPastDoubleRangeIsAClearError) {
    EXPECT_NE(error_of("{\"a\": 1}\n{\"a\": 1e999}\n").find("bad.jsonl:2: invalid JSON"),
              std::string::npos)
        << error_of("{\"a\": 1}\n{\"a\": 1e999}\n");
    EXPECT_NE(error_of("[{\"a\": -2e400}]").find("bad.jsonl: invalid JSON"), std::string::npos)
        << error_of("[{\"a\": -2e400}]");
}

TEST(JsonReader, CorruptInputNamesFileLineAndKey) {
    EXPECT_NE(error_of("{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3,}\n").find("bad.jsonl:3: invalid JSON"),
              std::string::npos);
    EXPECT_NE(error_of("{\"a\": 1}\n{\"a\": \"x\"}\n").find("bad.jsonl:2: key 'a': a string"),
              std::string::npos)
        << error_of("{\"a\": 1}\n{\"a\": \"x\"}\n");
    EXPECT_NE(
        error_of("{\"a\": 1, \"b\": 2}\n{\"a\": 1}\n").find("bad.jsonl:2: key 'b' is missing"),
        std::string::npos);
    EXPECT_NE(error_of("{\"a\": 1}\n{\"a\": 1, \"c\": 2}\n")
                  .find("bad.jsonl:2: key 'c' is not in the first row"),
              std::string::npos);
    EXPECT_NE(error_of("{\"a\": 1}\n[1]\n").find("bad.jsonl:2: expected a JSON object"),
              std::string::npos);
    EXPECT_NE(error_of("{\"a\": null}\n").find("bad.jsonl:1: key 'a': unsupported value"),
              std::string::npos);
    EXPECT_NE(error_of("{\"a\": \"x\"}\n{\"a\": \"\xFF\"}\n").find("bad.jsonl:2: invalid UTF-8"),
              std::string::npos);
    // An array's syntax error names the line of the failing byte.
    EXPECT_NE(error_of("[\n{\"a\": 1},\n{\"a\": 2\n]").find("bad.jsonl:4: invalid JSON"),
              std::string::npos)
        << error_of("[\n{\"a\": 1},\n{\"a\": 2\n]");
    EXPECT_NE(error_of("[{\"a\": 1}, {\"a\": [1.5]}]").find("element 1"), std::string::npos);
}

}  // namespace ft
