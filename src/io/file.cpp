// Whole-file I/O: read-only memory maps (the zero-copy path for safetensors), atomic writes that
// never leave a half-written checkpoint under the real name, and small text reads.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "finetune/io.h"

namespace ft {

namespace {

std::string errno_text(int err) {
    return std::strerror(err);
}

// Closes a descriptor on scope exit, so every error path below releases it.
struct FdCloser {
    int fd;
    ~FdCloser() {
        if (fd >= 0) ::close(fd);
    }
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// MappedFile

std::shared_ptr<MappedFile> MappedFile::open(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path.string() + ": cannot open: " + errno_text(errno));
    FdCloser closer{fd};
    struct stat st;
    if (::fstat(fd, &st) != 0) throw Error(path.string() + ": cannot stat: " + errno_text(errno));
    // Directories and devices have no meaningful size to map.
    if (!S_ISREG(st.st_mode)) throw Error(path.string() + ": not a regular file");

    // The constructor is private, so make_shared cannot reach it.
    std::shared_ptr<MappedFile> m(new MappedFile());
    m->path_ = path;
    m->size_ = static_cast<size_t>(st.st_size);
    if (m->size_ == 0) return m;  // mmap rejects length 0; an empty span is all there is
    // MAP_PRIVATE + PROT_READ: tensors are read-only views. If another process truncates the file
    // while it is mapped, touching the lost pages raises SIGBUS; that is mmap's contract.
    void* p = ::mmap(nullptr, m->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
        m->size_ = 0;
        throw Error(path.string() + ": cannot map " + std::to_string(st.st_size) +
                    " bytes: " + errno_text(errno));
    }
    m->data_ = static_cast<const uint8_t*>(p);
    return m;
}

MappedFile::~MappedFile() {
    if (data_) ::munmap(const_cast<uint8_t*>(data_), size_);
}

// ---------------------------------------------------------------------------------------------
// Atomic writes

void write_file_atomic(const fs::path& path, const std::function<void(std::FILE*)>& write) {
    // pid + counter keep concurrent writers (threads or processes) off each other's temp file;
    // the same directory keeps rename() on one filesystem, where it is atomic.
    static std::atomic<uint64_t> counter{0};
    fs::path tmp = path;
    tmp += ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);

    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f)
        throw Error(path.string() + ": cannot create temporary file " + tmp.string() + ": " +
                    errno_text(errno));
    try {
        write(f);
        if (std::ferror(f)) throw Error(path.string() + ": write failed: " + errno_text(errno));
        if (std::fflush(f) != 0)
            throw Error(path.string() + ": write failed: " + errno_text(errno));
        // Without fsync a crash after the rename can leave the new name pointing at empty blocks.
        if (::fsync(::fileno(f)) != 0)
            throw Error(path.string() + ": fsync failed: " + errno_text(errno));
        std::FILE* done = f;
        f = nullptr;
        if (std::fclose(done) != 0)
            throw Error(path.string() + ": close failed: " + errno_text(errno));
        if (std::rename(tmp.c_str(), path.c_str()) != 0)
            throw Error(path.string() + ": cannot rename " + tmp.string() +
                        " over it: " + errno_text(errno));
    } catch (...) {
        if (f) std::fclose(f);
        std::error_code ec;
        fs::remove(tmp, ec);
        throw;
    }

    // Persist the directory entry too. Best effort: some filesystems refuse fsync on directories,
    // and the file itself is already complete under its final name.
    fs::path dir = path.parent_path();
    if (dir.empty()) dir = ".";
    const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)::fsync(dfd);
        ::close(dfd);
    }
}

void write_text_atomic(const fs::path& path, std::string_view text) {
    write_file_atomic(path, [&](std::FILE* f) {
        if (!text.empty() && std::fwrite(text.data(), 1, text.size(), f) != text.size())
            throw Error(path.string() + ": write failed: " + errno_text(errno));
    });
}

std::string read_text_file(const fs::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(path.string() + ": cannot open: " + errno_text(errno));
    FdCloser closer{fd};
    struct stat st;
    if (::fstat(fd, &st) != 0) throw Error(path.string() + ": cannot stat: " + errno_text(errno));
    if (S_ISDIR(st.st_mode)) throw Error(path.string() + ": is a directory, not a file");
    std::string out;
    if (S_ISREG(st.st_mode)) out.reserve(static_cast<size_t>(st.st_size));
    char buf[1 << 16];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            if (errno == EINTR) continue;
            throw Error(path.string() + ": read failed: " + errno_text(errno));
        }
        if (n == 0) break;
        out.append(buf, static_cast<size_t>(n));
    }
    return out;
}

}  // namespace ft
