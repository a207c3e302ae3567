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
    return o.endpoint + api_prefix(repo.type) + repo.repo_id + "/" + what + "/" +
           url_encode_component(repo.revision);
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
    validate_revision(repo.revision);
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
    check_listing(info.files, url);
    return info;
}

namespace {

// A tree entry's byte count: a JSON integer in [0, MAX_FILE_BYTES].
int64_t entry_size(const json& e, const std::string& where) {
    if (!e.contains("size")) throw Error(where + ": no \"size\"");
    const json& size = e["size"];
    const bool in_range =
        (size.is_number_unsigned() && size.get<uint64_t>() <= uint64_t{MAX_FILE_BYTES}) ||
        (size.is_number_integer() && size.get<int64_t>() >= 0 &&
         size.get<int64_t>() <= MAX_FILE_BYTES);
    if (!in_range) throw Error(where + ": \"size\" is not a byte count (" + size.dump() + ")");
    return size.get<int64_t>();
}

// An optional string field: absent gives "", anything but a string is an error.
std::string entry_string(const json& obj, const char* key, const std::string& where,
                         const std::string& shown_key) {
    if (!obj.contains(key)) return "";
    if (!obj[key].is_string())
        throw Error(where + ": \"" + shown_key + "\" is not a string (" + obj[key].dump() + ")");
    return obj[key].get<std::string>();
}

TreeEntry parse_tree_entry(const json& e, const std::string& url) {
    if (!e.contains("path") || !e["path"].is_string())
        throw Error(url + ": a tree entry without a \"path\" string: " + e.dump().substr(0, 200));
    TreeEntry t;
    t.path = e["path"].get<std::string>();
    validate_repo_filename(t.path);
    const std::string where = url + ": tree entry \"" + t.path + "\"";
    t.size = entry_size(e, where);
    t.oid = entry_string(e, "oid", where, "oid");
    if (e.contains("lfs")) {
        if (!e["lfs"].is_object()) throw Error(where + ": \"lfs\" is not an object");
        t.lfs_sha256 = entry_string(e["lfs"], "oid", where, "lfs.oid");
    }
    return t;
}

}  // namespace

std::vector<TreeEntry> parse_tree_page(const std::string& body, const std::string& url) {
    const json j = parse_json(body, url);
    if (!j.is_array()) throw Error(url + ": expected a JSON list of tree entries");
    std::vector<TreeEntry> out;
    for (const auto& e : j) {
        if (!e.is_object() || !e.contains("type") || !e["type"].is_string())
            throw Error(url +
                        ": a tree entry without a \"type\" string: " + e.dump().substr(0, 200));
        if (e["type"] != "file") continue;  // directories
        out.push_back(parse_tree_entry(e, url));
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
    validate_revision(repo.revision);
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
    std::vector<std::string> names;
    for (const auto& t : out) names.push_back(t.path);
    check_listing(names, api_url(o, repo, "tree"));
    return out;
}

fs::path snapshot_download(const RepoRef& repo, const std::vector<std::string>& include,
                           const HubOptions& o) {
    validate_repo_id(repo.repo_id);
    validate_revision(repo.revision);
    if (o.is_offline(repo.type))
        return require_cached_snapshot(repo, o, "offline mode (HF_HUB_OFFLINE=1)");
    const auto maybe_info = repo_info_unless_cached(repo, o);
    if (!maybe_info) return require_cached_snapshot(repo, o, "cannot reach the Hub");
    const RepoInfo& info = *maybe_info;
    const fs::path storage = repo_cache_dir(repo, o);
    const fs::path snapshot = storage / "snapshots" / info.sha;
    std::vector<std::string> wanted;
    for (const auto& f : info.files) {
        if (include.empty() || std::any_of(include.begin(), include.end(),
                                           [&](const auto& p) { return glob_match(p, f); })) {
            // Before any download: a listing the cache cannot hold commits nothing.
            check_path_length(snapshot / f, f + " in " + repo.repo_id + "@" + repo.revision);
            wanted.push_back(f);
        }
    }
    for (const auto& f : wanted) hub_download(at_commit(repo, info.sha), f, o);
    // The ref moves only once every file is in: a cut run leaves the old ref, not a half snapshot.
    try {
        fs::create_directories(snapshot);
        write_ref(storage, repo.revision, info.sha);
    } catch (const fs::filesystem_error& e) {
        throw Error(type_name(repo.type) + " " + repo.repo_id + "@" + repo.revision +
                    ": cache error: " + e.what());
    }
    return snapshot;
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
    validate_revision(revision);
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
