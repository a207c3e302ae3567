// Private pieces of the Hub client shared by its files: the libcurl wrapper (http.cpp), the cache
// layout helpers (cache.cpp) and the Hub's error answers turned into clear messages (errors.cpp).
#pragma once

#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "finetune/hub.h"

namespace ft::hub {

// ---------------------------------------------------------------------------------------------
// HTTP (http.cpp)

struct HttpRequest {
    std::string method = "GET";  // "GET" or "HEAD"
    std::string url;
    std::vector<std::string> headers;  // "Name: value"
    // Sent as "Authorization: Bearer" to URLs of token_origin's scheme, host and port only, hop
    // by hop; never logged.
    std::string bearer_token;
    std::string token_origin;
    bool follow_redirects = false;  // all redirects (here, not by curl); else the 3xx comes back
    double timeout_s = 10;          // connect timeout, and the stall limit for bodies
    bool total_timeout = false;     // also cap the whole request at timeout_s (metadata calls)
    std::FILE* sink = nullptr;      // 2xx bodies go here when set, else into HttpResponse::body
    // The sink (opened for append) already holds this many bytes: "Range: bytes=N-" is sent; a
    // 206 from byte N is appended, any other 2xx replaces the old bytes (HttpResponse::restarted),
    // a 206 from another byte is abandoned (HttpResponse::range_mismatch).
    int64_t resume_from = 0;
    std::string progress_label;  // a progress bar on stderr when not empty
    int64_t progress_total = 0;
};

struct HttpResponse {
    long status = 0;
    std::map<std::string, std::string> headers;  // lower-case names, of the last response
    std::string body;
    std::string url;              // the effective URL
    bool restarted = false;       // the sink was emptied: this answer is the whole file
    bool range_mismatch = false;  // a 206 that does not start at resume_from; sink untouched
    std::string header(const std::string& lower_name) const;
};

// A failure below HTTP (connection refused, timeout, cut connection): worth a retry, and the
// cache may answer instead.
class TransportError : public Error {
  public:
    TransportError(const std::string& what, bool timed_out, bool host_unknown = false)
        : Error(what), timed_out(timed_out), host_unknown(host_unknown) {}
    bool timed_out;
    // DNS could not resolve the host: no network, or a wrong HF_ENDPOINT. Not worth a retry.
    bool host_unknown;
};

HttpResponse http_request(const HttpRequest& request);

// URLs (url.cpp, libcurl's URL API). Whether `url` has the scheme, host and port (default ports
// made explicit) of `origin_url`, and no user info: the only URLs the token goes to.
bool same_origin(const std::string& url, const std::string& origin_url);
// Whether `text` is a URL with a scheme (not a reference relative to another URL).
bool is_absolute_url(const std::string& text);
// A Location (absolute, "//host/..", "/path" or relative) resolved against the URL it came from;
// throws when it cannot be parsed.
std::string resolve_location(const std::string& base_url, const std::string& location);
// Percent-encodes a path, keeping '/'; the _component form encodes '/' too (a revision).
std::string url_encode_path(const std::string& path);
std::string url_encode_component(const std::string& text);

// Sleeps for retry `attempt` (0-based): base * 2^attempt, capped at 8 s.
void backoff_sleep(const HubOptions& options, int attempt);
bool is_retryable_status(long status);

// A request to the Hub itself (API or resolve): token attached, relative redirects followed (a
// renamed repo), absolute ones returned to the caller; 5xx/429/transport errors retried.
HttpResponse hub_request(const HubOptions& options, const std::string& method,
                         const std::string& url, bool total_timeout, int max_retries);

// ---------------------------------------------------------------------------------------------
// Repo info (repo.cpp): one quick try, then nothing when the Hub cannot be reached and the
// revision's snapshot is cached (the caller uses it), else the full retries.

std::optional<RepoInfo> repo_info_unless_cached(const RepoRef& repo, const HubOptions& options);

// The Hub's JSON answers and the Link header, parsed apart from the requests so that the fuzzer
// (fuzz/hub_json_fuzz.cpp) can feed them; `url` names the answer in errors.
RepoInfo parse_repo_info(const std::string& body, const std::string& url);  // /revision
std::vector<TreeEntry> parse_tree_page(const std::string& body, const std::string& url);  // /tree
// The next page's URL from a Link header (`<url>; rel="next"`), or "" on the last page.
std::string next_page_url(const std::string& link, const std::string& url);
// The shard files a model.safetensors.index.json's weight_map names.
std::set<std::string> parse_shard_index(const std::string& text, const std::string& source);

// ---------------------------------------------------------------------------------------------
// The Hub's error answers (errors.cpp): throws a clear ft::Error for any status >= 400.
// `what` names the repo (and file) at fault.

void raise_for_status(const HttpResponse& response, const RepoRef& repo,
                      const std::string& filename, bool has_token);

// ---------------------------------------------------------------------------------------------
// Cache layout (cache.cpp)

std::string api_prefix(RepoType type);      // "/api/models/" or "/api/datasets/"
std::string resolve_prefix(RepoType type);  // "/" or "/datasets/"
std::string type_name(RepoType type);       // "model" / "dataset"
bool is_commit_hash(const std::string& revision);

// The commit a revision names in the cache: itself when a commit hash, else refs/<revision>.
std::optional<std::string> cached_commit(const fs::path& storage, const std::string& revision);
// Writes refs/<revision> = commit (atomically) unless the revision is the commit itself.
void write_ref(const fs::path& storage, const std::string& revision, const std::string& commit);
// snapshots/<commit>/<filename> -> ../../blobs/<etag> (one more ../ per directory level).
void link_snapshot_file(const fs::path& storage, const std::string& commit,
                        const std::string& filename, const std::string& etag);
// Strips W/ and quotes from an ETag; throws unless the rest is a safe blob file name.
std::string normalize_etag(const std::string& etag, const std::string& where);

// An exclusive flock(2) on a lock file, released on destruction.
class FileLock {
  public:
    explicit FileLock(const fs::path& path);
    ~FileLock();
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;

  private:
    int fd_ = -1;
};

std::string sha256_file_hex(const fs::path& path);
// The git blob id (sha1 of "blob <size>\0" + content): the Hub's ETag of a file not in LFS.
std::string git_blob_id_file_hex(const fs::path& path);
// Throws, naming `where`, when `path` is too long for the system's file calls (PATH_MAX).
void check_path_length(const fs::path& path, const std::string& where);

// ---------------------------------------------------------------------------------------------
// Numbers and listings from the Hub (names.cpp), checked before use.

// The largest file size believed (1 PiB): sizes are compared and shown, never trusted blindly.
inline constexpr int64_t MAX_FILE_BYTES = int64_t{1} << 50;
// A decimal byte count in [0, MAX_FILE_BYTES] with nothing around it, else nothing.
std::optional<int64_t> parse_byte_count(const std::string& text);
// Throws unless every name can sit beside the others in one snapshot folder: no name is also
// the directory of another ("x.txt" and "x.txt/y.txt"). `source` names the listing.
void check_listing(const std::vector<std::string>& names, const std::string& source);

}  // namespace ft::hub
