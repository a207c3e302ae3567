// The Hub client's settings from the environment, with huggingface_hub's names, defaults and
// precedence (HF_HUB_CACHE over HUGGINGFACE_HUB_CACHE over $HF_HOME/hub; HF_TOKEN over the token
// file), so Python and this tool share one cache and one login.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "hub/hub_internal.h"

namespace ft::hub {

namespace {

std::string env(const char* name) {
    const char* v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

// huggingface_hub's truthy values: "1", "ON", "YES", "TRUE", any case.
bool env_true(const char* name) {
    std::string v = env(name);
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return std::toupper(c); });
    return v == "1" || v == "ON" || v == "YES" || v == "TRUE";
}

double env_seconds(const char* name, double fallback) {
    const std::string v = env(name);
    if (v.empty()) return fallback;
    try {
        size_t used = 0;
        const double s = std::stod(v, &used);
        if (used == v.size() && s > 0) return s;
    } catch (const std::exception&) {
    }
    throw Error(std::string(name) + "=" + v + ": not a positive number of seconds");
}

std::string trim(std::string s) {
    const auto ws = [](unsigned char c) { return std::isspace(c); };
    s.erase(s.begin(), std::find_if_not(s.begin(), s.end(), ws));
    s.erase(std::find_if_not(s.rbegin(), s.rend(), ws).base(), s.end());
    return s;
}

}  // namespace

HubOptions HubOptions::from_env() {
    HubOptions o;
    std::string endpoint = env("HF_ENDPOINT");
    if (!endpoint.empty()) {
        while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
        o.endpoint = endpoint;
    }
    if (!env("HF_HOME").empty()) {
        o.hf_home = env("HF_HOME");
    } else {
        const std::string xdg = env("XDG_CACHE_HOME");
        o.hf_home =
            (xdg.empty() ? fs::path(env("HOME")) / ".cache" : fs::path(xdg)) / "huggingface";
    }
    if (!env("HF_HUB_CACHE").empty()) {
        o.cache_dir = env("HF_HUB_CACHE");
    } else if (!env("HUGGINGFACE_HUB_CACHE").empty()) {
        o.cache_dir = env("HUGGINGFACE_HUB_CACHE");
    } else {
        o.cache_dir = o.hf_home / "hub";
    }
    o.offline = env_true("HF_HUB_OFFLINE") || env_true("TRANSFORMERS_OFFLINE");
    o.datasets_offline = env_true("HF_DATASETS_OFFLINE");

    o.token = trim(env("HF_TOKEN"));
    if (o.token.empty()) o.token = trim(env("HUGGING_FACE_HUB_TOKEN"));
    if (o.token.empty()) {
        const fs::path token_file =
            env("HF_TOKEN_PATH").empty() ? o.hf_home / "token" : fs::path(env("HF_TOKEN_PATH"));
        std::ifstream f(token_file);
        if (f) {
            std::stringstream ss;
            ss << f.rdbuf();
            o.token = trim(ss.str());
        }
    }
    o.download_timeout_s = env_seconds("HF_HUB_DOWNLOAD_TIMEOUT", 10);
    o.etag_timeout_s = env_seconds("HF_HUB_ETAG_TIMEOUT", 10);
    o.progress_bars = !env_true("HF_HUB_DISABLE_PROGRESS_BARS");
    return o;
}

}  // namespace ft::hub
