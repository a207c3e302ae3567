// The libcurl wrapper: one request with headers collected per response, a body sink, timeouts, a
// progress bar on stderr, and the Hub-request loop (relative redirects, retries with backoff).
// The token goes only into the Authorization header and never into a message.
#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "hub/hub_internal.h"

namespace ft::hub {

namespace {

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Transfer {
    const HttpRequest* request;
    HttpResponse* response;
    bool bar = false;
    std::chrono::steady_clock::time_point last_draw{};
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    std::string line(data, size * n);
    // Each response of a redirect chain starts with its status line: keep only the last one's.
    if (line.rfind("HTTP/", 0) == 0) {
        t->response->headers.clear();
        // The status must be known before on_body decides where the bytes go.
        const size_t sp = line.find(' ');
        if (sp != std::string::npos) t->response->status = std::atol(line.c_str() + sp + 1);
        return size * n;
    }
    const size_t colon = line.find(':');
    if (colon == std::string::npos) return size * n;
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    size_t b = colon + 1;
    size_t e = line.size();
    while (b < e && std::isspace(static_cast<unsigned char>(line[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(line[e - 1]))) --e;
    t->response->headers[name] = line.substr(b, e - b);
    return size * n;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    // Error pages of a download go to the response body, never into the file being resumed.
    if (t->request->sink && t->response->status < 300) {
        return std::fwrite(data, size, n, t->request->sink) * size;
    }
    t->response->body.append(data, size * n);
    return size * n;
}

std::string human_bytes(double b) {
    char buf[32];
    if (b >= 1e9) {
        std::snprintf(buf, sizeof buf, "%.2f GB", b / 1e9);
    } else if (b >= 1e6) {
        std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
    } else {
        std::snprintf(buf, sizeof buf, "%.0f kB", b / 1e3);
    }
    return buf;
}

int on_progress(void* user, curl_off_t dltotal, curl_off_t dlnow, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(user);
    if (!t->bar) return 0;
    const auto now = std::chrono::steady_clock::now();
    const int64_t total = t->request->progress_total > 0
                              ? t->request->progress_total
                              : t->request->progress_offset + static_cast<int64_t>(dltotal);
    const int64_t done = t->request->progress_offset + static_cast<int64_t>(dlnow);
    const bool finished = total > 0 && done >= total;
    if (!finished && now - t->last_draw < std::chrono::milliseconds(100)) return 0;
    t->last_draw = now;
    const double frac = total > 0 ? std::min(1.0, static_cast<double>(done) / total) : 0.0;
    const int width = 30;
    const int filled = static_cast<int>(frac * width);
    std::fprintf(stderr, "\r%s: %3d%% |%s%s| %s/%s", t->request->progress_label.c_str(),
                 static_cast<int>(frac * 100), std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), human_bytes(done).c_str(),
                 human_bytes(total).c_str());
    if (finished) std::fputc('\n', stderr);
    std::fflush(stderr);
    return 0;
}

}  // namespace

std::string HttpResponse::header(const std::string& lower_name) const {
    const auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
}

HttpResponse http_request(const HttpRequest& request) {
    global_init();
    CURL* curl = curl_easy_init();
    if (!curl) throw Error("cannot initialise libcurl");
    HttpResponse response;
    Transfer t{&request, &response};
    t.bar = !request.progress_label.empty() && ::isatty(STDERR_FILENO);

    curl_slist* headers = nullptr;
    for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
    if (!request.bearer_token.empty())
        headers =
            curl_slist_append(headers, ("Authorization: Bearer " + request.bearer_token).c_str());
    char error_buffer[CURL_ERROR_SIZE] = {0};

    curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "finetune.cpp/" FT_VERSION);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    if (request.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    const long timeout_ms = std::max(1L, std::lround(request.timeout_s * 1000));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    if (request.total_timeout) curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    // A body that stalls (under 1 byte/s) for the timeout counts as timed out, like a read timeout.
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, std::max(1L, std::lround(request.timeout_s)));

    const CURLcode rc = curl_easy_perform(curl);
    char* effective = nullptr;
    curl_easy_getinfo(curl, CURLINFO_EFFECTIVE_URL, &effective);
    if (effective) response.url = effective;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (t.bar && rc != CURLE_OK) std::fputc('\n', stderr);
    if (rc != CURLE_OK) {
        const std::string detail = error_buffer[0] ? error_buffer : curl_easy_strerror(rc);
        throw TransportError(request.method + " " + request.url + ": " + detail,
                             rc == CURLE_OPERATION_TIMEDOUT,
                             rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY);
    }
    return response;
}

std::string resolve_location(const std::string& base_url, const std::string& location) {
    if (location.find("://") != std::string::npos) return location;
    const size_t scheme = base_url.find("://");
    const size_t path_start = base_url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
    const std::string origin =
        path_start == std::string::npos ? base_url : base_url.substr(0, path_start);
    if (!location.empty() && location[0] == '/') return origin + location;
    // Relative to the base's directory.
    const size_t last = base_url.rfind('/');
    return base_url.substr(0, last + 1) + location;
}

std::string url_encode_path(const std::string& path) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : path) {
        if (std::isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

void backoff_sleep(const HubOptions& options, int attempt) {
    const double s = std::min(8.0, options.retry_base_delay_s * std::pow(2.0, attempt));
    std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

bool is_retryable_status(long status) {
    return status == 429 || status >= 500;
}

HttpResponse hub_request(const HubOptions& options, const std::string& method,
                         const std::string& url, bool total_timeout, int max_retries) {
    std::string current = url;
    int redirects = 0;
    for (int attempt = 0;; ++attempt) {
        HttpRequest req;
        req.method = method;
        req.url = current;
        req.headers = {"Accept-Encoding: identity"};
        req.timeout_s = options.etag_timeout_s;
        req.total_timeout = total_timeout;
        // The token goes to the Hub only, never to a CDN another host serves.
        if (current.rfind(options.endpoint, 0) == 0) req.bearer_token = options.token;
        HttpResponse r;
        try {
            r = http_request(req);
        } catch (const TransportError& e) {
            if (attempt >= max_retries || e.host_unknown) throw;
            backoff_sleep(options, attempt);
            continue;
        }
        if (r.status >= 300 && r.status < 400) {
            const std::string loc = r.header("location");
            // Relative: the Hub renamed the repo, follow. Absolute: a CDN, the caller decides.
            if (!loc.empty() && loc.find("://") == std::string::npos) {
                if (++redirects > 10) throw Error(url + ": too many redirects");
                current = resolve_location(current, loc);
                --attempt;  // a redirect is not a failed try
                continue;
            }
            return r;
        }
        if (is_retryable_status(r.status) && attempt < max_retries) {
            backoff_sleep(options, attempt);
            continue;
        }
        return r;
    }
}

}  // namespace ft::hub
