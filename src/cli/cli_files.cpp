// The path checks the subcommands share: inputs must be readable files, output folders must be
// writable, both found out before any training or download starts (not at the first save).
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cli/commands.h"
#include "finetune/core.h"

namespace ft::cli {

namespace fs = std::filesystem;

std::ifstream open_input_file(const std::string& path, const std::string& flag) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) throw Error(flag + " " + path + " is a folder; give a file");
    std::ifstream f(path, std::ios::binary);
    if (!f) throw Error(flag + " " + path + ": cannot open: " + std::strerror(errno));
    return f;
}

void ensure_writable_dir(const fs::path& dir, const std::string& flag) {
    std::error_code ec;
    if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
        throw Error(flag + " " + dir.string() + " exists and is not a folder");
    fs::create_directories(dir, ec);
    if (ec) throw Error(flag + " " + dir.string() + ": cannot create the folder: " + ec.message());
    // access(W_OK) is not enough: a read-only mount or a full quota shows only on a real write.
    const fs::path probe = dir / (".finetune-write-test-" + std::to_string(::getpid()));
    std::FILE* f = std::fopen(probe.c_str(), "wb");
    if (!f) throw Error(flag + " " + dir.string() + " is not writable: " + std::strerror(errno));
    std::fclose(f);
    fs::remove(probe, ec);
}

}  // namespace ft::cli
