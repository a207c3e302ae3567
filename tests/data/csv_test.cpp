// CSV against hand-worked RFC 4180 cases and pandas' documented type inference (the engine of
// HF's csv loader); corrupt inputs must name the file and line.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "finetune/data.h"
#include "test_env.h"

namespace ft {

namespace {
std::string error_of(std::string_view text) {
    try {
        parse_csv(text, "bad.csv");
    } catch (const Error& e) {
        return e.what();
    }
    return "no error";
}
}  // namespace

TEST(CsvReader, QuotedFieldsWithCommasNewlinesAndDoubledQuotes) {
    const Dataset ds = parse_csv(
        "text,label\n"
        "\"a, b\",1\n"
        "\"line1\nline2\",0\n"
        "\"she said \"\"hi\"\"\",1\r\n"
        "plain,0\n"
        "\"\",1\n",
        "t.csv");
    ASSERT_EQ(ds.num_rows(), 5);
    const auto& t = ds.column("text").as_strings();
    EXPECT_EQ(t[0], "a, b");
    EXPECT_EQ(t[1], "line1\nline2");
    EXPECT_EQ(t[2], "she said \"hi\"");
    EXPECT_EQ(t[3], "plain");
    EXPECT_EQ(t[4], "");
    EXPECT_EQ(ds.column("label").as_int64(), (std::vector<int64_t>{1, 0, 1, 0, 1}));
    EXPECT_EQ(ds[2].repr(), "{'text': 'she said \"hi\"', 'label': 1}");
}

TEST(CsvReader, TypeInferenceLikePandas) {
    const Dataset ds = parse_csv(
        "i,f,mixed,b,gap,s\n"
        "1,1.5,1,True,1,x\n"
        "-2,2,2.5,false,,y\n"
        "+3,3e2,3,TRUE,3,1\n",
        "t.csv");
    EXPECT_EQ(ds.feature("i").repr(), "Value('int64')");
    EXPECT_EQ(ds.column("i").as_int64(), (std::vector<int64_t>{1, -2, 3}));
    EXPECT_EQ(ds.feature("f").repr(), "Value('float64')");
    EXPECT_EQ(ds.column("f").as_float64(), (std::vector<double>{1.5, 2.0, 300.0}));
    EXPECT_EQ(ds.feature("mixed").repr(), "Value('float64')");
    EXPECT_EQ(ds.feature("b").repr(), "Value('bool')");
    EXPECT_EQ(ds.column("b").as_bool(), (std::vector<uint8_t>{1, 0, 1}));
    // pandas: an integer column with a gap becomes float64 with NaN.
    EXPECT_EQ(ds.feature("gap").repr(), "Value('float64')");
    EXPECT_TRUE(std::isnan(ds.column("gap").as_float64()[1]));
    EXPECT_EQ(ds.feature("s").repr(), "Value('string')");
    EXPECT_EQ(ds.column("s").as_strings()[2], "1");
}

TEST(CsvReader, BlankLinesAndMissingFinalNewlineAndBom) {
    const Dataset ds = parse_csv("\xEF\xBB\xBFq,n\n\nx,1\n\ny,2", "t.csv");
    EXPECT_EQ(ds.column_names(), (std::vector<std::string>{"q", "n"}));
    EXPECT_EQ(ds.column("n").as_int64(), (std::vector<int64_t>{1, 2}));
    // A trailing delimiter at the very end still closes an (empty) last field.
    const Dataset tail = parse_csv("a,b\nx,", "t.csv");
    EXPECT_EQ(tail.column("b").as_strings(), (std::vector<std::string>{""}));
}

TEST(CsvReader, CorruptInputNamesFileAndLine) {
    EXPECT_NE(error_of("a,b\n1,2\n3,\"open\n4,5\n").find("bad.csv:3: unterminated quoted field"),
              std::string::npos)
        << error_of("a,b\n1,2\n3,\"open\n4,5\n");
    EXPECT_NE(error_of("a,b\n1,2\n3,4,5\n").find("bad.csv:3: 3 fields, but the header has 2"),
              std::string::npos);
    EXPECT_NE(error_of("a,b\n1,2\n3\n").find("bad.csv:3: 1 fields"), std::string::npos);
    // Line numbers count the newlines inside quoted fields.
    EXPECT_NE(error_of("a,b\n\"x\ny\",2\n3,4,5\n").find("bad.csv:4:"), std::string::npos)
        << error_of("a,b\n\"x\ny\",2\n3,4,5\n");
    EXPECT_NE(error_of("a,b\n\"x\"y,2\n").find("bad.csv:2: field 1: unexpected character"),
              std::string::npos);
    EXPECT_NE(error_of("a,b\n1,2\nok,\xC3\x28\n").find("bad.csv:3: invalid UTF-8 (byte 0xc3"),
              std::string::npos)
        << error_of("a,b\n1,2\nok,\xC3\x28\n");
    EXPECT_NE(error_of("").find("empty CSV"), std::string::npos);
    EXPECT_NE(error_of("a,a\n1,2\n").find("duplicate column name 'a'"), std::string::npos);
}

TEST(CsvReader, ReadsFilesAndNamesThem) {
    const fs::path dir = test::make_temp_dir("csv");
    std::ofstream(dir / "x.csv") << "a,b\n1,\"q\n";
    try {
        read_csv(dir / "x.csv");
        FAIL();
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find((dir / "x.csv").string() + ":2"), std::string::npos)
            << e.what();
    }
    EXPECT_THROW(read_csv(dir / "missing.csv"), Error);
    fs::remove_all(dir);
}

}  // namespace ft
