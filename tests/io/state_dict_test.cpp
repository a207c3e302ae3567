// StateDict keeps insertion order, finds by name, refuses duplicates and re-indexes after erase.
#include <gtest/gtest.h>

#include "finetune/io.h"

namespace ft {
namespace {

TEST(StateDict, KeepsInsertionOrderAndFindsByName) {
    StateDict sd;
    sd.insert("z", Tensor::empty(DType::F32, {2}));
    sd.insert("a", Tensor::empty(DType::I8, {3}));
    EXPECT_EQ(sd.names(), (std::vector<std::string>{"z", "a"}));
    EXPECT_EQ(sd.at("a").dtype, DType::I8);
    EXPECT_TRUE(sd.contains("z"));
    EXPECT_EQ(sd.find("missing"), nullptr);
    sd.find("z")->dtype = DType::I32;
    EXPECT_EQ(sd.at("z").dtype, DType::I32);
}

TEST(StateDict, DuplicatesAndMissingKeysAreErrorsNamingTheKey) {
    StateDict sd;
    sd.insert("w", Tensor::empty(DType::F32, {1}));
    try {
        sd.insert("w", Tensor::empty(DType::F32, {1}));
        ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("'w'"), std::string::npos) << e.what();
    }
    try {
        sd.at("classifier.bias");
        ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("classifier.bias"), std::string::npos) << e.what();
    }
}

TEST(StateDict, EraseKeepsTheIndexConsistent) {
    StateDict sd;
    for (const char* n : {"a", "b", "c", "d"}) sd.insert(n, Tensor::empty(DType::F32, {1}));
    sd.find("d")->dtype = DType::U8;
    EXPECT_TRUE(sd.erase("b"));
    EXPECT_FALSE(sd.erase("b"));
    EXPECT_EQ(sd.names(), (std::vector<std::string>{"a", "c", "d"}));
    EXPECT_EQ(sd.at("d").dtype, DType::U8);
    sd.insert("b", Tensor::empty(DType::I64, {1}));
    EXPECT_EQ(sd.names(), (std::vector<std::string>{"a", "c", "d", "b"}));
    EXPECT_EQ(sd.at("b").dtype, DType::I64);
    EXPECT_EQ(sd.size(), 4u);
}

}  // namespace
}  // namespace ft
