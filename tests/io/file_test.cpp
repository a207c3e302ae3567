// Atomic writes (the old file survives a failed write, no temporary is left behind), memory maps
// (empty files included) and text reads whose errors name the file.
#include <gtest/gtest.h>

#include <fstream>

#include "finetune/io.h"
#include "test_env.h"

namespace ft {
namespace {

std::vector<std::string> listing(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
    std::sort(out.begin(), out.end());
    return out;
}

TEST(AtomicWrite, ReplacesTheFileAndLeavesNoTemporary) {
    const fs::path dir = test::make_temp_dir("atomic");
    const fs::path p = dir / "config.json";
    write_text_atomic(p, "old");
    write_text_atomic(p, "new contents");
    EXPECT_EQ(read_text_file(p), "new contents");
    write_text_atomic(p, "");
    EXPECT_EQ(read_text_file(p), "");
    EXPECT_EQ(listing(dir), std::vector<std::string>{"config.json"});
}

TEST(AtomicWrite, ThrowingWriterKeepsTheOldFileAndRemovesTheTemporary) {
    const fs::path dir = test::make_temp_dir("atomic_throw");
    const fs::path p = dir / "model.safetensors";
    write_text_atomic(p, "precious");
    EXPECT_THROW(write_file_atomic(p,
                                   [](std::FILE* f) {
                                       std::fputs("half a checkpoint", f);
                                       throw Error("disk on fire");
                                   }),
                 Error);
    EXPECT_EQ(read_text_file(p), "precious");
    EXPECT_EQ(listing(dir), std::vector<std::string>{"model.safetensors"});

    // Also when there was no file before: nothing appears.
    const fs::path q = dir / "fresh.bin";
    EXPECT_THROW(write_file_atomic(q, [](std::FILE*) { throw std::runtime_error("no"); }),
                 std::runtime_error);
    EXPECT_FALSE(fs::exists(q));
    EXPECT_EQ(listing(dir), std::vector<std::string>{"model.safetensors"});
}

TEST(AtomicWrite, MissingDirectoryIsAnErrorNamingTheFile) {
    const fs::path p = test::make_temp_dir("atomic_nodir") / "no" / "such" / "out.txt";
    try {
        write_text_atomic(p, "x");
        ADD_FAILURE() << "expected an error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("out.txt"), std::string::npos) << e.what();
    }
}

TEST(FileRead, MissingFileErrorsNameTheFile) {
    const fs::path p = test::make_temp_dir("read_missing") / "vocab.txt";
    for (auto read : {+[](const fs::path& x) { read_text_file(x); },
                      +[](const fs::path& x) { MappedFile::open(x); }}) {
        try {
            read(p);
            ADD_FAILURE() << "expected an error";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("vocab.txt"), std::string::npos) << e.what();
        }
    }
    EXPECT_THROW(read_text_file(p.parent_path()), Error);
}

TEST(FileRead, MapsEmptyAndNonEmptyFiles) {
    const fs::path dir = test::make_temp_dir("mapped");
    write_text_atomic(dir / "empty", "");
    write_text_atomic(dir / "abc", "abc");
    const auto e = MappedFile::open(dir / "empty");
    EXPECT_EQ(e->bytes().size(), 0u);
    const auto m = MappedFile::open(dir / "abc");
    ASSERT_EQ(m->bytes().size(), 3u);
    EXPECT_EQ(m->bytes()[2], 'c');
    EXPECT_EQ(m->path(), dir / "abc");
}

}  // namespace
}  // namespace ft
