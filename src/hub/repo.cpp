// Repo-level calls: the API's revision info and tree listing, snapshot downloads with --include
// globs, and resolve_pretrained, which picks a model's files the way from_pretrained does
// (model.safetensors, else the sharded index and its shards, else pytorch_model.bin).
#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "finetune/io.h"
#include "hub/hub_internal.h"

namespace ft::hub {

using json = nlohmann::json;

namespace {

std::string api_url(const HubOptions& o, const RepoRef& repo, const std::string& what) {
    std::string rev;
    for (char c : repo.revision) rev += c == '/' ? std::string("%2F") : std::string(1, c);
    return o.endpoint + api_prefix(repo.type) + repo.repo_id + "/" + what + "/" +
           url_encode_path(rev);
}

json parse_json(const std::string& body, const std::string& source) {
    try {
        return json::parse(body);
    } catch (const json::exception& e) {
        throw Error(source + ": the Hub's answer is not JSON: " + e.what());
    }
}

// The cached snapshot of a revision, or nothing.
std::optional<fs::path> cached_snapshot(const RepoRef& repo, const HubOptions& o) {
    const fs::path storage = repo_cache_dir(repo, o);
    const auto commit = cached_commit(storage, repo.revision);
    if (!commit) return std::nullopt;
    const fs::path dir = storage / "snapshots" / *commit;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return std::nullopt;
    return dir;
}

fs::path require_cached_snapshot(const RepoRef& repo, const HubOptions& o, const std::string& why) {
    if (auto dir = cached_snapshot(repo, o)) return *dir;
    throw Error(why + ", and " + type_name(repo.type) + " " + repo.repo_id + "@" + repo.revision +
                " is not in the cache at " + repo_cache_dir(repo, o).string());
}

RepoRef at_commit(const RepoRef& repo, const std::string& sha) {
    return {repo.repo_id, repo.type, sha};
}

RepoInfo fetch_repo_info(const RepoRef& repo, const HubOptions& o, int retries) {
    validate_repo_id(repo.repo_id);
    const std::string url = api_url(o, repo, "revision");
    const HttpResponse r = hub_request(o, "GET", url, true, retries);
    if (retries == 0 && is_retryable_status(r.status))
        throw TransportError(url + ": HTTP " + std::to_string(r.status), false);
    raise_for_status(r, repo, "", !o.token.empty());
    return parse_repo_info(r.body, url);
}

}  // namespace

RepoInfo parse_repo_info(const std::string& body, const std::string& url) {
    const json j = parse_json(body, url);
    RepoInfo info;
    if (!j.is_object() || !j.contains("sha") || !j["sha"].is_string() ||
        !is_commit_hash(j["sha"].get<std::string>()))
        throw Error(url + ": the answer has no commit hash in \"sha\"");
    info.sha = j["sha"].get<std::string>();
    if (j.contains("siblings") && j["siblings"].is_array()) {
        for (const auto& s : j["siblings"]) {
            if (!s.is_object() || !s.contains("rfilename") || !s["rfilename"].is_string())
                throw Error(url + ": a sibling without \"rfilename\"");
            const std::string name = s["rfilename"].get<std::string>();
            validate_repo_filename(name);
            info.files.push_back(name);
        }
    }
    return info;
}

std::vector<TreeEntry> parse_tree_page(const std::string& body, const std::string& url) {
    const json j = parse_json(body, url);
    if (!j.is_array()) throw Error(url + ": expected a JSON list of tree entries");
    // Each field is type-checked before it is read: value() throws nlohmann's type_error on a
    // mismatch, and casts a float size to int64 unchecked (undefined past int64).
    auto text = [&](const json& obj, const char* key) -> std::string {
        auto it = obj.find(key);
        if (it == obj.end()) return "";
        if (!it->is_string())
            throw Error(url + ": a tree entry's \"" + key + "\" is not a string: " + it->dump());
        return it->get<std::string>();
    };
    std::vector<TreeEntry> out;
    for (const auto& e : j) {
        if (!e.is_object() || text(e, "type") != "file") continue;
        TreeEntry t;
        t.path = text(e, "path");
        validate_repo_filename(t.path);
        if (auto size = e.find("size"); size != e.end()) {
            if (!size->is_number_integer() || size->get<int64_t>() < 0)
                throw Error(url + ": tree entry " + t.path + " has size " + size->dump() +
                            ", not a byte count");
            t.size = size->get<int64_t>();
        }
        t.oid = text(e, "oid");
        if (e.contains("lfs") && e["lfs"].is_object()) t.lfs_sha256 = text(e["lfs"], "oid");
        out.push_back(std::move(t));
    }
    return out;
}

std::string next_page_url(const std::string& link, const std::string& url) {
    const size_t next = link.find("rel=\"next\"");
    if (next == std::string::npos) return "";
    const size_t open = link.rfind('<', next);
    const size_t close = link.find('>', open);
    if (open == std::string::npos || close == std::string::npos) return "";
    return resolve_location(url, link.substr(open + 1, close - open - 1));
}

std::set<std::string> parse_shard_index(const std::string& text, const std::string& source) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception& e) {
        throw Error(source + ": not JSON: " + e.what());
    }
    if (!j.contains("weight_map") || !j["weight_map"].is_object())
        throw Error(source + ": no \"weight_map\" object");
    std::set<std::string> shards;
    for (const auto& [name, file] : j["weight_map"].items()) {
        if (!file.is_string())
            throw Error(source + ": weight_map[" + name + "] is not a file name");
        shards.insert(file.get<std::string>());
    }
    return shards;
}

// One quick try, then the cache, then the full retries: when the Hub is down and the revision is
// cached, the answer comes at once, as in Python.
std::optional<RepoInfo> repo_info_unless_cached(const RepoRef& repo, const HubOptions& o) {
    try {
        return fetch_repo_info(repo, o, 0);
    } catch (const TransportError&) {
        if (cached_snapshot(repo, o)) return std::nullopt;
    }
    return fetch_repo_info(repo, o, o.max_retries);
}

RepoInfo repo_info(const RepoRef& repo, const HubOptions& o) {
    return fetch_repo_info(repo, o, o.max_retries);
}

std::vector<TreeEntry> list_repo_tree(const RepoRef& repo, const std::string& path,
                                      const HubOptions& o) {
    validate_repo_id(repo.repo_id);
    if (!path.empty()) validate_repo_filename(path);
    std::string url = api_url(o, repo, "tree");
    if (!path.empty()) url.append("/").append(url_encode_path(path));
    url += "?recursive=true";
    std::vector<TreeEntry> out;
    for (int page = 0; !url.empty() && page < 1000; ++page) {
        const HttpResponse r = hub_request(o, "GET", url, true, o.max_retries);
        raise_for_status(r, repo, path, !o.token.empty());
        for (TreeEntry& t : parse_tree_page(r.body, url)) out.push_back(std::move(t));
        url = next_page_url(r.header("link"), r.url);
    }
    return out;
}

fs::path snapshot_download(const RepoRef& repo, const std::vector<std::string>& include,
                           const HubOptions& o) {
    validate_repo_id(repo.repo_id);
    if (o.is_offline(repo.type))
        return require_cached_snapshot(repo, o, "offline mode (HF_HUB_OFFLINE=1)");
    const auto maybe_info = repo_info_unless_cached(repo, o);
    if (!maybe_info) return require_cached_snapshot(repo, o, "cannot reach the Hub");
    const RepoInfo& info = *maybe_info;
    const fs::path storage = repo_cache_dir(repo, o);
    for (const auto& f : info.files) {
        const bool wanted =
            include.empty() || std::any_of(include.begin(), include.end(),
                                           [&](const std::string& p) { return glob_match(p, f); });
        if (wanted) hub_download(at_commit(repo, info.sha), f, o);
    }
    write_ref(storage, repo.revision, info.sha);
    fs::create_directories(storage / "snapshots" / info.sha);
    return storage / "snapshots" / info.sha;
}

fs::path resolve_pretrained(const std::string& name_or_path, const HubOptions& o,
                            const std::string& revision) {
    std::error_code ec;
    if (fs::is_directory(name_or_path, ec)) return name_or_path;
    // Something spelled like a path is a missing directory, not a repo id.
    const bool looks_like_path = name_or_path.empty() || name_or_path[0] == '/' ||
                                 name_or_path[0] == '.' || name_or_path[0] == '~' ||
                                 std::count(name_or_path.begin(), name_or_path.end(), '/') > 1;
    if (looks_like_path) throw Error(name_or_path + ": not a model directory");
    try {
        validate_repo_id(name_or_path);
    } catch (const Error& e) {
        throw Error(name_or_path + ": neither a model directory nor a repository id (" + e.what() +
                    ")");
    }
    const RepoRef repo{name_or_path, RepoType::MODEL, revision};
    const auto has_weights = [](const fs::path& dir) {
        std::error_code e;
        return fs::exists(dir / "model.safetensors", e) ||
               fs::exists(dir / "model.safetensors.index.json", e) ||
               fs::exists(dir / "pytorch_model.bin", e);
    };
    const auto cached_model = [&](const std::string& why) {
        const fs::path dir = require_cached_snapshot(repo, o, why);
        if (!fs::exists(dir / "config.json", ec) || !has_weights(dir))
            throw Error(why + ", and the cached snapshot " + dir.string() +
                        " lacks config.json or model weights");
        return dir;
    };
    if (o.offline) return cached_model("offline mode (HF_HUB_OFFLINE=1)");

    const auto maybe_info = repo_info_unless_cached(repo, o);
    if (!maybe_info) return cached_model("cannot reach the Hub");
    const RepoInfo& info = *maybe_info;
    const std::set<std::string> files(info.files.begin(), info.files.end());
    const RepoRef pinned = at_commit(repo, info.sha);
    const std::string where = name_or_path + "@" + revision;
    if (!files.count("config.json")) throw Error(where + ": the repository has no config.json");
    hub_download(pinned, "config.json", o);
    if (files.count("model.safetensors")) {
        hub_download(pinned, "model.safetensors", o);
    } else if (files.count("model.safetensors.index.json")) {
        const fs::path index = hub_download(pinned, "model.safetensors.index.json", o);
        for (const auto& s : parse_shard_index(read_text_file(index), index.string()))
            hub_download(pinned, s, o);
    } else if (files.count("pytorch_model.bin")) {
        hub_download(pinned, "pytorch_model.bin", o);
    } else {
        throw Error(where + ": no model.safetensors, model.safetensors.index.json or " +
                    "pytorch_model.bin in the repository");
    }
    for (const char* f : {"tokenizer.json", "tokenizer_config.json", "vocab.txt",
                          "special_tokens_map.json", "added_tokens.json"})
        if (files.count(f)) hub_download(pinned, f, o);
    write_ref(repo_cache_dir(repo, o), revision, info.sha);
    return repo_cache_dir(repo, o) / "snapshots" / info.sha;
}

}  // namespace ft::hub
