// URLs, parsed by libcurl's URL API (never by hand): the origin test that decides where the token
// may go, Location headers resolved as RFC 3986 references, and percent-encoding of paths.
#include <curl/curl.h>

#include <cctype>
#include <memory>
#include <optional>

#include "hub/hub_internal.h"

namespace ft::hub {

namespace {

struct UrlDeleter {
    void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using Url = std::unique_ptr<CURLU, UrlDeleter>;

Url parse(const std::string& text) {
    Url u(curl_url());
    if (!u) throw Error("cannot initialise libcurl's URL parser");
    if (text.empty() || curl_url_set(u.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK)
        return nullptr;
    return u;
}

// One part of a parsed URL; nothing when it is absent.
std::optional<std::string> part(const Url& u, CURLUPart which, unsigned flags = 0) {
    char* out = nullptr;
    if (curl_url_get(u.get(), which, &out, flags) != CURLUE_OK || !out) return std::nullopt;
    std::string s(out);
    curl_free(out);
    return s;
}

std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

struct Origin {
    std::string scheme, host, port;
    bool has_userinfo = false;
};

std::optional<Origin> origin_of(const std::string& url) {
    const Url u = parse(url);
    if (!u) return std::nullopt;
    const auto scheme = part(u, CURLUPART_SCHEME);
    const auto host = part(u, CURLUPART_HOST);
    // CURLU_DEFAULT_PORT: "https://h" and "https://h:443" are the same origin.
    const auto port = part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
    if (!scheme || !host || !port) return std::nullopt;
    Origin o{lower(*scheme), lower(*host), *port};
    o.has_userinfo = part(u, CURLUPART_USER).has_value() ||
                     part(u, CURLUPART_PASSWORD).has_value() ||
                     part(u, CURLUPART_OPTIONS).has_value();
    return o;
}

}  // namespace

bool same_origin(const std::string& url, const std::string& origin_url) {
    const auto a = origin_of(url);
    const auto b = origin_of(origin_url);
    // Credentials in the URL make it someone else's request: the token never goes with them.
    if (!a || !b || a->has_userinfo) return false;
    return a->scheme == b->scheme && a->host == b->host && a->port == b->port;
}

bool is_absolute_url(const std::string& text) {
    return parse(text) != nullptr;  // without a base, only a URL with a scheme parses
}

std::string resolve_location(const std::string& base_url, const std::string& location) {
    Url u = parse(base_url);
    if (!u) throw Error("cannot parse URL \"" + base_url + "\"");
    // Set on a handle that holds the base, a relative reference resolves against it.
    if (location.empty() || curl_url_set(u.get(), CURLUPART_URL, location.c_str(), 0) != CURLUE_OK)
        throw Error(base_url + ": cannot follow the redirect to \"" + location + "\"");
    auto out = part(u, CURLUPART_URL);
    if (!out) throw Error(base_url + ": cannot follow the redirect to \"" + location + "\"");
    return *out;
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

std::string url_encode_component(const std::string& text) {
    std::string out;
    for (char c : url_encode_path(text)) out += c == '/' ? std::string("%2F") : std::string(1, c);
    return out;
}

}  // namespace ft::hub
