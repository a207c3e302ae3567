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
    std::string bearer_token;          // sent as Authorization; never logged
    bool follow_redirects = false;     // all redirects (curl); else the 3xx itself comes back
    double timeout_s = 10;             // connect timeout, and the stall limit for bodies
    bool total_timeout = false;        // also cap the whole request at timeout_s (metadata calls)
    std::FILE* sink = nullptr;         // body goes here when set, else into HttpResponse::body
    std::string progress_label;        // a progress bar on stderr when not empty
    int64_t progress_offset = 0;       // bytes already there (a resumed download)
    int64_t progress_total = 0;
};

struct HttpResponse {
    long status = 0;
    std::map<std::string, std::string> headers;  // lower-case names, of the last response
    std::string body;
    std::string url;  // the effective URL
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

// A relative or absolute Location resolved against the URL it came from.
std::string resolve_location(const std::string& base_url, const std::string& location);
// Percent-encodes a path, keeping '/'.
std::string url_encode_path(const std::string& path);

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

}  // namespace ft::hub
