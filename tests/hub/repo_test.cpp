// The Hub's /tree answer as repo.cpp parses it: answers fuzz/hub_json_fuzz.cpp's harness showed
// mishandled (nlohmann exceptions escaping, a float size cast unchecked).
#include <gtest/gtest.h>

#include <string>

#include "hub/hub_internal.h"
#include "test_env.h"

namespace ft::hub {

namespace {

const std::string URL = "https://hub.test/api/models/org/name/tree/main?recursive=true";

std::string tree_error(const std::string& body) {
    return test::error_of([&] { parse_tree_page(body, URL); });
}

}  // namespace

TEST(HubTree, ParsesFilesAndSkipsFolders) {
    const auto entries = parse_tree_page(
        R"([{"type": "directory", "path": "onnx", "oid": "a", "size": 0},
            {"type": "file", "path": "model.safetensors", "oid": "b", "size": 268,
             "lfs": {"oid": "c", "size": 268, "pointerSize": 135}}])",
        URL);
    ASSERT_EQ(entries.size(), 1u);
    EXPECT_EQ(entries[0].path, "model.safetensors");
    EXPECT_EQ(entries[0].size, 268);
    EXPECT_EQ(entries[0].oid, "b");
    EXPECT_EQ(entries[0].lfs_sha256, "c");
}

// value() threw nlohmann's type_error (not an ft::Error) on a field of the wrong type, and cast a
// float size to int64 unchecked (UBSan: float-cast-overflow).
TEST(HubTree, FieldsOfTheWrongTypeAreClearErrors) {
    for (const char* body : {R"([{"type": "file", "path": 5}])", R"([{"type": 1, "path": "a"}])",
                             R"([{"type": "file", "path": "a", "size": 1, "oid": null}])",
                             R"([{"type": "file", "path": "a", "size": 1, "lfs": {"oid": 7}}])"}) {
        const std::string error = tree_error(body);
        EXPECT_NE(error.find(URL), std::string::npos) << body << ": " << error;
        EXPECT_NE(error.find("string"), std::string::npos) << body << ": " << error;
    }
    for (const char* size : {"\"12\"", "1e300", "2.5", "-1"}) {
        const std::string error =
            tree_error(std::string(R"([{"type": "file", "path": "a", "size": )") + size + "}]");
        EXPECT_NE(error.find("\"size\" is not a byte count"), std::string::npos)
            << size << ": " << error;
    }
}

}  // namespace ft::hub
