// hub_download: one file of one revision into the shared cache, as huggingface_hub does it — HEAD
// the resolve URL for commit, ETag and size; reuse the cache when it has them (or when the Hub
// cannot be reached, or offline); else download under the blob's lock into blobs/<etag>.incomplete
// (resumed with Range after a cut, restarted when the server ignores the Range), check the size and
// the hash the ETag names (sha256 for LFS files, the git blob id for the rest), rename, and link
// the snapshot file. Nothing that fails a check is committed.
#include <algorithm>
#include <charconv>
#include <cstdio>

#include "hub/hub_internal.h"

namespace ft::hub {

namespace {

struct FileMetadata {
    std::string commit;
    std::string etag;
    std::string location;  // where the bytes are: a CDN URL (LFS) or the resolve URL itself
    int64_t size = 0;
};

std::string resolve_url(const HubOptions& o, const RepoRef& repo, const std::string& filename) {
    return o.endpoint + resolve_prefix(repo.type) + repo.repo_id + "/resolve/" +
           url_encode_component(repo.revision) + "/" + url_encode_path(filename);
}

bool is_lower_hex(const std::string& s, size_t n) {
    return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}

std::optional<fs::path> find_cached(const fs::path& storage, const std::string& revision,
                                    const std::string& filename) {
    const auto commit = cached_commit(storage, revision);
    if (!commit) return std::nullopt;
    const fs::path pointer = storage / "snapshots" / *commit / filename;
    std::error_code ec;
    if (fs::exists(pointer, ec)) return pointer;
    return std::nullopt;
}

bool cached_as_missing(const fs::path& storage, const std::string& revision,
                       const std::string& filename) {
    const auto commit = cached_commit(storage, revision);
    std::error_code ec;
    return commit && fs::exists(storage / ".no_exist" / *commit / filename, ec);
}

std::string where(const RepoRef& repo, const std::string& filename) {
    return filename + " in " + repo.repo_id + "@" + repo.revision;
}

FileMetadata parse_metadata(const HttpResponse& r, const RepoRef& repo,
                            const std::string& filename) {
    FileMetadata m;
    m.commit = r.header("x-repo-commit");
    if (m.commit.empty())
        throw Error(where(repo, filename) + ": the answer has no X-Repo-Commit header; is " +
                    "HF_ENDPOINT a HuggingFace Hub?");
    if (!is_commit_hash(m.commit))
        throw Error(where(repo, filename) + ": X-Repo-Commit \"" + m.commit +
                    "\" is not a commit hash");
    const std::string linked = r.header("x-linked-etag");
    m.etag = normalize_etag(linked.empty() ? r.header("etag") : linked, where(repo, filename));
    const std::string loc = r.header("location");
    m.location = loc.empty() ? r.url : resolve_location(r.url, loc);
    std::string size = r.header("x-linked-size");
    if (size.empty() && !(r.status >= 300 && r.status < 400)) size = r.header("content-length");
    // Every committed file's size is checked, so the Hub must state it.
    if (size.empty())
        throw Error(where(repo, filename) +
                    ": the Hub's answer gives no size (X-Linked-Size or Content-Length)");
    const auto n = parse_byte_count(size);
    if (!n) throw Error(where(repo, filename) + ": bad size header \"" + size + "\"");
    m.size = *n;
    return m;
}

int64_t file_size_or_zero(const fs::path& p) {
    std::error_code ec;
    const auto n = fs::file_size(p, ec);
    return ec ? 0 : static_cast<int64_t>(n);
}

void remove_partial(const fs::path& incomplete) {
    std::error_code ec;
    fs::remove(incomplete, ec);
}

// Downloads `url` into `incomplete` (`expected` bytes), resuming what is there; retries cut
// connections, timeouts and 5xx with backoff. An answer to a Range request that is not the asked-
// for part replaces the partial (http_request truncates it) or drops it: bytes are only ever
// appended after bytes of the same answer or of a 206 from exactly that offset.
void download_resumable(const HubOptions& o, const RepoRef& repo, const std::string& filename,
                        const std::string& url, const fs::path& incomplete, int64_t expected) {
    for (int attempt = 0;; ++attempt) {
        int64_t offset = file_size_or_zero(incomplete);
        if (offset > expected) {  // not a prefix of this file
            remove_partial(incomplete);
            offset = 0;
        }
        if (offset == expected && offset > 0) return;  // complete already; the caller checks it
        std::FILE* f = std::fopen(incomplete.c_str(), offset > 0 ? "ab" : "wb");
        if (!f) throw Error(incomplete.string() + ": cannot open for writing");
        HttpRequest req;
        req.url = url;
        req.follow_redirects = true;
        req.timeout_s = o.download_timeout_s;
        req.sink = f;
        req.resume_from = offset;
        req.bearer_token = o.token;
        req.token_origin = o.endpoint;
        if (o.progress_bars) req.progress_label = filename;
        req.progress_total = expected;
        HttpResponse r;
        std::string failure;
        try {
            r = http_request(req);
        } catch (const TransportError& e) {
            failure = e.what();
        } catch (...) {
            std::fclose(f);
            throw;
        }
        const bool write_failed = std::ferror(f) != 0;
        std::fclose(f);
        if (write_failed) throw Error(incomplete.string() + ": write failed (disk full?)");
        if (failure.empty()) {
            if (r.range_mismatch) {
                remove_partial(incomplete);
                failure = "the answer to a Range request from byte " + std::to_string(offset) +
                          " started elsewhere (" + r.header("content-range") + ")";
            } else if (r.status == 416) {
                remove_partial(incomplete);  // the server says the partial is no prefix of it
                failure = "HTTP 416 for a download resumed at byte " + std::to_string(offset);
            } else if (r.status >= 200 && r.status < 300) {
                const int64_t got = file_size_or_zero(incomplete);
                if (got == expected) return;
                if (got > expected) remove_partial(incomplete);
                failure =
                    "got " + std::to_string(got) + " of " + std::to_string(expected) + " bytes";
            } else if (!is_retryable_status(r.status)) {
                raise_for_status(r, repo, filename, !o.token.empty());
                throw Error(where(repo, filename) + ": unexpected HTTP " +
                            std::to_string(r.status));
            } else {
                failure = "HTTP " + std::to_string(r.status);
            }
        }
        if (attempt >= o.max_retries)
            throw Error("download of " + where(repo, filename) + " failed after " +
                        std::to_string(attempt + 1) + " tries: " + failure + " (" +
                        std::to_string(file_size_or_zero(incomplete)) + " bytes kept in " +
                        incomplete.string() + " for the next try)");
        log_warning("download of " + filename + " interrupted (" + failure + "); retrying");
        backoff_sleep(o, attempt);
    }
}

// Checks the size and the hash the ETag names — sha256 (LFS files), or the git blob id of the
// rest — and renames into the blob. Any other ETag form names no hash: the size is the check.
void verify_and_commit(const RepoRef& repo, const std::string& filename, const FileMetadata& m,
                       const fs::path& incomplete, const fs::path& blob) {
    const auto reject = [&](const std::string& what) {
        remove_partial(incomplete);
        throw Error(where(repo, filename) + ": " + what +
                    ": the download was corrupted; nothing was cached");
    };
    const int64_t got = file_size_or_zero(incomplete);
    if (got != m.size)
        reject("downloaded " + std::to_string(got) + " bytes, expected " + std::to_string(m.size));
    if (is_lower_hex(m.etag, 64)) {
        const std::string sha = sha256_file_hex(incomplete);
        if (sha != m.etag) reject("sha256 mismatch (expected " + m.etag + ", got " + sha + ")");
    } else if (is_lower_hex(m.etag, 40)) {
        const std::string id = git_blob_id_file_hex(incomplete);
        if (id != m.etag) reject("git blob id mismatch (expected " + m.etag + ", got " + id + ")");
    }
    fs::rename(incomplete, blob);
}

fs::path download_file(const RepoRef& repo, const std::string& filename, const HubOptions& o) {
    const fs::path storage = repo_cache_dir(repo, o);
    std::error_code ec;

    // A commit hash names immutable content: a cached copy is the answer.
    if (is_commit_hash(repo.revision) &&
        fs::exists(storage / "snapshots" / repo.revision / filename, ec))
        return storage / "snapshots" / repo.revision / filename;

    const auto from_cache_or_throw = [&](const std::string& why) {
        if (auto p = find_cached(storage, repo.revision, filename)) return *p;
        if (cached_as_missing(storage, repo.revision, filename))
            throw Error("file " + filename + " not found in " + repo.repo_id + "@" + repo.revision +
                        " (cached answer)");
        throw Error(why + ", and " + where(repo, filename) + " is not in the cache at " +
                    storage.string());
    };
    if (o.is_offline(repo.type)) return from_cache_or_throw("offline mode (HF_HUB_OFFLINE=1)");

    // HEAD once without retries: when the Hub cannot answer, the cache can, as in Python.
    const std::string url = resolve_url(o, repo, filename);
    HttpResponse head;
    for (int pass = 0; pass < 2; ++pass) {
        const int retries = pass == 0 ? 0 : o.max_retries;
        try {
            head = hub_request(o, "HEAD", url, true, retries);
        } catch (const TransportError& e) {
            if (pass == 0) {
                if (auto p = find_cached(storage, repo.revision, filename)) return *p;
                continue;
            }
            throw Error(std::string("cannot reach the Hub (") + e.what() + "), and " +
                        where(repo, filename) + " is not in the cache at " + storage.string());
        }
        if (pass == 0 && is_retryable_status(head.status)) {
            if (auto p = find_cached(storage, repo.revision, filename)) return *p;
            continue;
        }
        break;
    }
    if (head.status == 404 && head.header("x-error-code") == "EntryNotFound") {
        const std::string commit = head.header("x-repo-commit");
        if (is_commit_hash(commit)) {
            const fs::path marker = storage / ".no_exist" / commit / filename;
            fs::create_directories(marker.parent_path(), ec);
            if (!ec) std::fclose(std::fopen(marker.c_str(), "ab"));
            write_ref(storage, repo.revision, commit);
        }
    }
    raise_for_status(head, repo, filename, !o.token.empty());
    const FileMetadata m = parse_metadata(head, repo, filename);

    const fs::path pointer = storage / "snapshots" / m.commit / filename;
    check_path_length(pointer, where(repo, filename));
    if (fs::exists(pointer, ec)) {
        // Cached: updating the ref is best effort, the cache may be read-only (as in Python).
        try {
            write_ref(storage, repo.revision, m.commit);
        } catch (const std::exception&) {
        }
        return pointer;
    }
    write_ref(storage, repo.revision, m.commit);

    const fs::path blob = storage / "blobs" / m.etag;
    fs::create_directories(blob.parent_path());
    {
        // One writer per blob across threads and processes (flock on a per-open description).
        FileLock lock(o.cache_dir / ".locks" / repo_folder_name(repo.repo_id, repo.type) /
                      (m.etag + ".lock"));
        if (!fs::exists(blob, ec)) {
            const fs::path incomplete = blob.string() + ".incomplete";
            download_resumable(o, repo, filename, m.location, incomplete, m.size);
            verify_and_commit(repo, filename, m, incomplete, blob);
        }
        try {
            link_snapshot_file(storage, m.commit, filename, m.etag);
        } catch (const fs::filesystem_error& e) {
            throw Error(where(repo, filename) + ": cannot link " + pointer.string() +
                        " to its blob: " + e.code().message());
        }
    }
    return pointer;
}

}  // namespace

fs::path hub_download(const RepoRef& repo, const std::string& filename, const HubOptions& o) {
    validate_repo_id(repo.repo_id);
    validate_revision(repo.revision);
    validate_repo_filename(filename);
    try {
        return download_file(repo, filename, o);
    } catch (const fs::filesystem_error& e) {
        // The cache could not be written (permissions, disk, a name the filesystem refuses).
        throw Error(where(repo, filename) + ": cache error: " + e.what());
    }
}

}  // namespace ft::hub
