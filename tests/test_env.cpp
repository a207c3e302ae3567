// Test environment paths (compiled in by CMake, overridable by environment variables).
#include "test_env.h"

#include "finetune/core.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace ft::test {

namespace {
std::string env_or(const char* var, const char* fallback) {
    const char* v = std::getenv(var);
    return v && *v ? v : fallback;
}
}  // namespace

std::filesystem::path shared_dir() {
    return env_or("FT_SHARED_DIR", FT_SHARED_DIR);
}

std::filesystem::path bert_uncased_tokenizer_dir() {
    return shared_dir() / "data/tokenizers/bert-base-uncased";
}
std::filesystem::path testdata_dir() {
    return env_or("FT_TESTDATA_DIR", FT_TESTDATA_DIR);
}
std::filesystem::path tools_dir() {
    return FT_TOOLS_DIR;
}
std::string python() {
    return env_or("FT_PYTHON", FT_PYTHON);
}
std::string cli() {
    // FT_TEST_CLI runs the CLI tests against another build, e.g. the code before a fix.
    if (const char* other = std::getenv("FT_TEST_CLI"); other && *other) return other;
    return FT_CLI;
}

namespace {
// The folders make_temp_dir made, removed when the test process exits (a suite run used to leave
// gigabytes of checkpoints in /tmp). FT_KEEP_TEST_DIRS=1 keeps them for a post-mortem.
struct TempDirs {
    std::mutex mu;
    std::vector<std::filesystem::path> dirs;
    ~TempDirs() {
        if (std::getenv("FT_KEEP_TEST_DIRS")) return;
        std::error_code ec;
        for (const auto& d : dirs) std::filesystem::remove_all(d, ec);
    }
};
TempDirs& temp_dirs() {
    static TempDirs t;
    return t;
}
}  // namespace

std::filesystem::path make_temp_dir(const std::string& tag) {
    static std::atomic<int> counter{0};
    auto dir =
        std::filesystem::temp_directory_path() /
        ("ft_test_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    {
        TempDirs& t = temp_dirs();
        std::lock_guard<std::mutex> lock(t.mu);
        t.dirs.push_back(dir);
    }
    return dir;
}

std::filesystem::path tiny_distilbert_model_dir() {
    const std::filesystem::path dir = make_temp_dir("tiny_model");
    for (const char* f : {"config.json", "pytorch_model.bin"})
        std::filesystem::copy_file(shared_dir() / "reference/tiny_distilbert/init" / f, dir / f);
    for (const char* f : {"vocab.txt", "tokenizer_config.json"})
        std::filesystem::copy_file(bert_uncased_tokenizer_dir() / f, dir / f);
    return dir;
}

int run_command(const std::string& cmd, std::string* output) {
    FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
    if (!p) return -1;
    std::array<char, 4096> buf;
    std::string out;
    size_t n;
    while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
    const int status = ::pclose(p);
    if (output) *output = out;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string run_cli(const std::string& args, int* rc) {
    std::string out;
    *rc = run_command(cli() + " " + args, &out);
    return out;
}

std::string error_of(const std::function<void()>& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "(no error)";
}

}  // namespace ft::test
