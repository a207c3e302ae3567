// The cache in huggingface_hub's layout, shared with Python:
//   <cache>/models--org--name/{blobs/<etag>, refs/<revision>, snapshots/<commit>/<path>}
// where each snapshot file is a relative symlink to its blob, plus .no_exist/<commit>/<path>
// markers and <cache>/.locks/<repo folder>/<etag>.lock files.
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>

#include "finetune/io.h"
#include "hub/hub_internal.h"

namespace ft::hub {

std::string type_name(RepoType type) {
    return type == RepoType::MODEL ? "model" : "dataset";
}
std::string api_prefix(RepoType type) {
    return type == RepoType::MODEL ? "/api/models/" : "/api/datasets/";
}
std::string resolve_prefix(RepoType type) {
    return type == RepoType::MODEL ? "/" : "/datasets/";
}

bool is_commit_hash(const std::string& revision) {
    if (revision.size() != 40) return false;
    for (char c : revision)
        if (!std::isxdigit(static_cast<unsigned char>(c)) ||
            std::isupper(static_cast<unsigned char>(c)))
            return false;
    return true;
}

std::string repo_folder_name(const std::string& repo_id, RepoType type) {
    std::string name = type_name(type) + "s";
    size_t start = 0;
    while (true) {
        const size_t slash = repo_id.find('/', start);
        name += "--" + repo_id.substr(start, slash == std::string::npos ? slash : slash - start);
        if (slash == std::string::npos) break;
        start = slash + 1;
    }
    return name;
}

fs::path repo_cache_dir(const RepoRef& repo, const HubOptions& options) {
    // An empty cache_dir would scatter repo folders into the working directory.
    if (options.cache_dir.empty())
        throw Error("HubOptions::cache_dir is empty (use HubOptions::from_env())");
    return options.cache_dir / repo_folder_name(repo.repo_id, repo.type);
}

std::optional<std::string> cached_commit(const fs::path& storage, const std::string& revision) {
    validate_revision(revision);  // it names a file under refs/
    if (is_commit_hash(revision)) return revision;
    const fs::path ref = storage / "refs" / revision;
    std::error_code ec;
    if (!fs::is_regular_file(ref, ec)) return std::nullopt;
    std::string commit = read_text_file(ref);
    // Python writes no newline; tolerate one written by hand.
    while (!commit.empty() && std::isspace(static_cast<unsigned char>(commit.back())))
        commit.pop_back();
    if (!is_commit_hash(commit))
        throw Error(ref.string() + ": not a commit hash (the cache is damaged; delete this file)");
    return commit;
}

void write_ref(const fs::path& storage, const std::string& revision, const std::string& commit) {
    if (revision == commit) return;
    validate_revision(revision);  // a branch like "refs/pr/1" is a nested path
    const fs::path ref = storage / "refs" / revision;
    std::error_code ec;
    if (fs::is_regular_file(ref, ec) && read_text_file(ref) == commit) return;
    fs::create_directories(ref.parent_path());
    write_text_atomic(ref, commit);
}

void link_snapshot_file(const fs::path& storage, const std::string& commit,
                        const std::string& filename, const std::string& etag) {
    const fs::path pointer = storage / "snapshots" / commit / filename;
    fs::create_directories(pointer.parent_path());
    // ../ for each directory of the file, plus snapshots/<commit>/: what os.path.relpath gives.
    std::string target = "../../";
    for (char c : filename)
        if (c == '/') target += "../";
    target += "blobs/" + etag;
    std::error_code ec;
    if (fs::is_symlink(fs::symlink_status(pointer, ec))) {
        if (fs::read_symlink(pointer, ec) == fs::path(target)) return;
    }
    // Link under a temporary name and rename over the pointer: readers never see it missing. The
    // name is short so that a file name of the filesystem's maximum length still fits.
    static std::atomic<uint64_t> counter{0};
    const fs::path tmp = pointer.parent_path() / (".tmp-link-" + std::to_string(::getpid()) + "-" +
                                                  std::to_string(counter++));
    fs::remove(tmp, ec);
    fs::create_symlink(target, tmp);
    try {
        fs::rename(tmp, pointer);
    } catch (const fs::filesystem_error&) {
        fs::remove(tmp, ec);
        throw;
    }
}

void check_path_length(const fs::path& path, const std::string& where) {
    // PATH_MAX counts the terminating NUL.
    if (path.native().size() >= PATH_MAX)
        throw Error(where + ": its cache path " + path.string().substr(0, 80) + "... would be " +
                    std::to_string(path.native().size()) + " bytes, over the system's limit of " +
                    std::to_string(PATH_MAX - 1));
}

std::string normalize_etag(const std::string& etag, const std::string& where) {
    std::string e = etag;
    if (e.rfind("W/", 0) == 0) e = e.substr(2);
    if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
    if (e.empty()) throw Error(where + ": the Hub sent no ETag");
    // It names blobs/<etag>.incomplete and <etag>.lock: keep well under a file name's 255 bytes.
    if (e.size() > 128)
        throw Error(where + ": unsafe ETag from the Hub (" + std::to_string(e.size()) +
                    " characters; it names a blob file)");
    for (unsigned char c : e)
        if (!std::isalnum(c) && c != '-' && c != '_')
            throw Error(where + ": unsafe ETag \"" + e + "\" from the Hub (it names a blob file)");
    return e;
}

FileLock::FileLock(const fs::path& path) {
    fs::create_directories(path.parent_path());
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Error(path.string() + ": cannot open lock file: " + std::strerror(errno));
    while (::flock(fd_, LOCK_EX) != 0) {
        if (errno == EINTR) continue;
        const int err = errno;
        ::close(fd_);
        throw Error(path.string() + ": cannot lock: " + std::strerror(err));
    }
}

FileLock::~FileLock() {
    if (fd_ >= 0) {
        ::flock(fd_, LOCK_UN);
        ::close(fd_);
    }
}

namespace {

// The hex digest of `prefix` followed by the file's bytes.
std::string digest_file_hex(const fs::path& path, const EVP_MD* md_type,
                            const std::string& prefix) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw Error(path.string() + ": cannot open for checksum");
    std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), md_type, nullptr) != 1)
        throw Error("cannot initialise OpenSSL's digest");
    EVP_DigestUpdate(ctx.get(), prefix.data(), prefix.size());
    std::vector<char> buf(1 << 20);
    while (f) {
        f.read(buf.data(), static_cast<std::streamsize>(buf.size()));
        if (f.gcount() > 0)
            EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(f.gcount()));
    }
    if (f.bad()) throw Error(path.string() + ": read failed during checksum");
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx.get(), md, &n);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < n; ++i) {
        out += hex[md[i] >> 4];
        out += hex[md[i] & 15];
    }
    return out;
}

}  // namespace

std::string sha256_file_hex(const fs::path& path) {
    return digest_file_hex(path, EVP_sha256(), "");
}

std::string git_blob_id_file_hex(const fs::path& path) {
    // git's object id of a blob: sha1 of "blob <size>\0" and the content.
    const uintmax_t size = fs::file_size(path);
    return digest_file_hex(path, EVP_sha1(), "blob " + std::to_string(size) + std::string(1, '\0'));
}

}  // namespace ft::hub
