// The libcurl wrapper: one request with headers collected per response, a body sink (resumed with
// Range, restarted when the answer is not the asked-for part), timeouts, a progress bar on stderr,
// redirects followed here hop by hop, and the Hub-request loop (relative redirects, retries with
// backoff). The token goes only into the Authorization header of requests to its origin, and
// never into a message; curl itself follows no redirect, so it cannot forward the header.
#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
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
    int64_t progress_offset = 0;  // 0 once the sink restarted from zero
    bool sink_checked = false;    // the answer was matched against resume_from
    std::string sink_error{};     // the old bytes could not be dropped
    bool bar = false;
    std::chrono::steady_clock::time_point last_draw{};
};

// The first byte of a "Content-Range: bytes FIRST-LAST/TOTAL" header, or -1.
int64_t content_range_start(const std::string& value) {
    const std::string unit = "bytes ";
    if (value.rfind(unit, 0) != 0) return -1;
    const char* begin = value.data() + unit.size();
    const char* end = value.data() + value.size();
    int64_t first = -1;
    const auto [ptr, ec] = std::from_chars(begin, end, first);
    if (ec != std::errc() || ptr == end || *ptr != '-') return -1;
    return first;
}

// A resumed sink holds resume_from bytes: a 206 from exactly there is appended, any other 2xx
// is the whole file and replaces them, and a 206 from elsewhere cannot be used at all.
bool check_resumed_sink(Transfer* t) {
    t->sink_checked = true;
    const int64_t offset = t->request->resume_from;
    if (offset <= 0) return true;
    if (t->response->status == 206) {
        if (content_range_start(t->response->header("content-range")) == offset) return true;
        t->response->range_mismatch = true;
        return false;
    }
    // The sink is opened for append (O_APPEND): after this the next byte lands at offset 0.
    std::FILE* sink = t->request->sink;
    if (std::fflush(sink) != 0 || ::ftruncate(::fileno(sink), 0) != 0) {
        t->sink_error =
            std::string("cannot truncate the partial download: ") + std::strerror(errno);
        return false;
    }
    t->response->restarted = true;
    t->progress_offset = 0;
    return true;
}

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
    if (t->request->sink && t->response->status >= 200 && t->response->status < 300) {
        if (!t->sink_checked && !check_resumed_sink(t)) return 0;  // aborts the transfer
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
                              : t->progress_offset + static_cast<int64_t>(dltotal);
    const int64_t done = t->progress_offset + static_cast<int64_t>(dlnow);
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

namespace {

// One request, one response: curl follows nothing.
HttpResponse perform_once(const HttpRequest& request, const std::string& url, bool with_token) {
    global_init();
    CURL* curl = curl_easy_init();
    if (!curl) throw Error("cannot initialise libcurl");
    HttpResponse response;
    Transfer t{&request, &response};
    t.progress_offset = request.resume_from;
    t.bar = !request.progress_label.empty() && ::isatty(STDERR_FILENO);

    curl_slist* headers = nullptr;
    for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
    if (request.resume_from > 0)
        headers = curl_slist_append(
            headers, ("Range: bytes=" + std::to_string(request.resume_from) + "-").c_str());
    if (with_token)
        headers =
            curl_slist_append(headers, ("Authorization: Bearer " + request.bearer_token).c_str());
    char error_buffer[CURL_ERROR_SIZE] = {0};

    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
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
    // Redirects are followed by http_request, which decides the token for each hop.
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(curl, CURLOPT_UNRESTRICTED_AUTH, 0L);
    const long timeout_ms = std::max(1L, std::lround(request.timeout_s * 1000));
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    if (request.total_timeout) curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, timeout_ms);
    // A body that stalls (under 1 byte/s) for the timeout counts as timed out, like a read timeout.
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, std::max(1L, std::lround(request.timeout_s)));

    const CURLcode rc = curl_easy_perform(curl);
    response.url = url;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (t.bar && rc != CURLE_OK) std::fputc('\n', stderr);
    // A full answer with an empty body never reached on_body: the old bytes still go.
    if (rc == CURLE_OK && request.sink && !t.sink_checked && response.status >= 200 &&
        response.status < 300)
        check_resumed_sink(&t);
    if (!t.sink_error.empty()) throw Error(request.method + " " + url + ": " + t.sink_error);
    if (rc != CURLE_OK && !response.range_mismatch) {
        const std::string detail = error_buffer[0] ? error_buffer : curl_easy_strerror(rc);
        throw TransportError(request.method + " " + url + ": " + detail,
                             rc == CURLE_OPERATION_TIMEDOUT,
                             rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_RESOLVE_PROXY);
    }
    return response;
}

bool is_redirect(long status) {
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

}  // namespace

HttpResponse http_request(const HttpRequest& request) {
    std::string url = request.url;
    for (int hop = 0;; ++hop) {
        const bool with_token =
            !request.bearer_token.empty() && same_origin(url, request.token_origin);
        HttpResponse r = perform_once(request, url, with_token);
        const std::string location = r.header("location");
        if (!request.follow_redirects || !is_redirect(r.status) || location.empty()) return r;
        if (hop >= 10) throw Error(request.url + ": more than 10 redirects");
        url = resolve_location(url, location);
    }
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
        // The token goes to the endpoint's origin only, never to a CDN another host serves.
        req.bearer_token = options.token;
        req.token_origin = options.endpoint;
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
            // Relative: the Hub renamed the repo, follow. Absolute (or "//host/..."): a CDN,
            // the caller decides.
            if (!loc.empty() && !is_absolute_url(loc)) {
                const std::string next = resolve_location(current, loc);
                if (same_origin(next, current)) {
                    if (++redirects > 10) throw Error(url + ": too many redirects");
                    current = next;
                    --attempt;  // a redirect is not a failed try
                    continue;
                }
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
