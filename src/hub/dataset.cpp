// Datasets on the Hub: a repo + config -> its Parquet files per split, as `datasets` resolves them
// from the dataset card's YAML front matter (`configs:` data_files, `dataset_info:` features),
// else from the <config>/<split>-*.parquet convention. Reading the Parquet is the data layer's job.
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>

#include "finetune/io.h"
#include "hub/hub_internal.h"

namespace ft::hub {

namespace {

// The YAML between a leading "---" line and the next "---" line, or "" when there is none.
std::string front_matter(const std::string& readme, int* first_line) {
    size_t start = 0;
    if (readme.rfind("\xEF\xBB\xBF", 0) == 0) start = 3;  // UTF-8 BOM
    if (readme.compare(start, 3, "---") != 0) return "";
    const size_t body = readme.find('\n', start);
    if (body == std::string::npos) return "";
    size_t pos = body + 1;
    while (pos < readme.size()) {
        size_t end = readme.find('\n', pos);
        if (end == std::string::npos) end = readme.size();
        std::string line = readme.substr(pos, end - pos);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line == "---") {
            *first_line = 2;
            return readme.substr(body + 1, pos - body - 1);
        }
        pos = end + 1;
    }
    return "";
}

// Entries of a `configs:` or `dataset_info:` field: a list of maps with config_name, or one map.
YAML::Node find_config(const YAML::Node& field, const std::string& config) {
    if (field.IsSequence()) {
        for (const auto& e : field)
            if (e.IsMap() && e["config_name"] && e["config_name"].as<std::string>() == config)
                return e;
        return YAML::Node();
    }
    if (field.IsMap()) {
        const auto name = field["config_name"];
        if (!name || name.as<std::string>() == config || name.as<std::string>() == "default")
            return field;
    }
    return YAML::Node();
}

std::vector<std::string> as_strings(const YAML::Node& n) {
    std::vector<std::string> out;
    if (n.IsScalar()) out.push_back(n.as<std::string>());
    if (n.IsSequence())
        for (const auto& e : n) out.push_back(e.as<std::string>());
    return out;
}

DatasetFeature parse_feature(const YAML::Node& f, const std::string& source) {
    DatasetFeature out;
    if (!f.IsMap() || !f["name"]) throw Error(source + ": a dataset_info feature without a name");
    out.name = f["name"].as<std::string>();
    const YAML::Node dtype = f["dtype"];
    if (dtype && dtype.IsScalar()) {
        out.dtype = dtype.as<std::string>();
    } else if (dtype && dtype.IsMap() && dtype["class_label"]) {
        out.dtype = "class_label";
        const YAML::Node names = dtype["class_label"]["names"];
        // names: {'0': a, '1': b} (the card's form) or a plain list.
        if (names && names.IsMap()) {
            std::vector<std::pair<long, std::string>> ordered;
            for (const auto& kv : names) {
                const std::string key = kv.first.as<std::string>();
                try {
                    ordered.emplace_back(std::stol(key), kv.second.as<std::string>());
                } catch (const std::exception&) {
                    throw Error(source + ": feature " + out.name + ": class label key \"" + key +
                                "\" is not an integer");
                }
            }
            std::sort(ordered.begin(), ordered.end());
            for (size_t i = 0; i < ordered.size(); ++i) {
                if (ordered[i].first != static_cast<long>(i))
                    throw Error(source + ": feature " + out.name + ": class labels are not 0..N-1");
                out.class_names.push_back(ordered[i].second);
            }
        } else if (names) {
            out.class_names = as_strings(names);
        }
    } else if (f["sequence"]) {
        out.dtype = "sequence";
    } else {
        out.dtype = dtype ? "struct" : "unknown";
    }
    return out;
}

std::vector<std::string> config_names(const YAML::Node& root) {
    std::vector<std::string> names;
    for (const char* field : {"configs", "dataset_info"})
        if (root[field] && root[field].IsSequence())
            for (const auto& e : root[field])
                if (e.IsMap() && e["config_name"])
                    names.push_back(e["config_name"].as<std::string>());
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
}

// The split a conventional file name belongs to: <config>/<split>-00000-of-00001.parquet or
// <config>/<split>.parquet.
std::string conventional_split(const std::string& config, const std::string& path) {
    if (path.rfind(config + "/", 0) != 0 || path.size() < 8 ||
        path.compare(path.size() - 8, 8, ".parquet") != 0)
        return "";
    const std::string base = path.substr(config.size() + 1);
    if (base.find('/') != std::string::npos) return "";
    return base.substr(0, std::min(base.find('-'), base.size() - 8));
}

std::vector<std::string> snapshot_files(const fs::path& dir) {
    std::vector<std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(dir))
        if (!e.is_directory()) out.push_back(e.path().lexically_relative(dir).generic_string());
    return out;
}

}  // namespace

DatasetCard parse_dataset_card(const std::string& readme, const std::string& config,
                               const std::string& source) {
    DatasetCard card;
    int first_line = 1;
    const std::string yaml = front_matter(readme, &first_line);
    if (yaml.empty()) return card;
    YAML::Node root;
    try {
        root = YAML::Load(yaml);
    } catch (const YAML::Exception& e) {
        throw Error(source + ": YAML front matter, line " +
                    std::to_string(e.mark.line + first_line) + ": " + e.msg);
    }
    if (!root.IsMap()) return card;
    try {
        if (root["configs"]) {
            const YAML::Node c = find_config(root["configs"], config);
            if (c && c["data_files"]) {
                const YAML::Node df = c["data_files"];
                if (df.IsScalar() || (df.IsSequence() && df.size() > 0 && df[0].IsScalar())) {
                    card.data_files["train"] = as_strings(df);
                } else if (df.IsSequence()) {
                    for (const auto& e : df) {
                        if (!e.IsMap() || !e["split"] || !e["path"])
                            throw Error(source + ": configs[" + config +
                                        "].data_files: an entry without split and path");
                        for (const auto& p : as_strings(e["path"]))
                            card.data_files[e["split"].as<std::string>()].push_back(p);
                    }
                } else if (df.IsMap()) {  // {split: pattern(s)}
                    for (const auto& kv : df)
                        card.data_files[kv.first.as<std::string>()] = as_strings(kv.second);
                }
            }
        }
        if (root["dataset_info"]) {
            const YAML::Node info = find_config(root["dataset_info"], config);
            if (info) {
                YAML::Emitter emit;
                emit << info;
                card.dataset_info_yaml = emit.c_str();
                if (info["features"] && info["features"].IsSequence())
                    for (const auto& f : info["features"])
                        card.features.push_back(parse_feature(f, source));
            }
        }
    } catch (const YAML::Exception& e) {
        throw Error(source + ": YAML front matter, line " +
                    std::to_string(e.mark.line + first_line) + ": " + e.msg);
    }
    return card;
}

DatasetFiles resolve_dataset(const std::string& repo_id, const std::string& config,
                             const HubOptions& o, const std::string& revision) {
    validate_repo_id(repo_id);
    validate_revision(revision);
    const RepoRef repo{repo_id, RepoType::DATASET, revision};
    DatasetFiles out;
    out.repo_id = repo_id;
    out.config = config;

    // The file list and a way to get each file: the Hub, or the cached snapshot offline.
    std::vector<std::string> files;
    RepoRef pinned = repo;
    const auto info =
        o.is_offline(RepoType::DATASET) ? std::nullopt : repo_info_unless_cached(repo, o);
    if (!info) {
        out.snapshot = snapshot_download(repo, {}, o);  // offline or unreachable: the cache's
        files = snapshot_files(out.snapshot);
        pinned.revision = out.snapshot.filename().string();
    } else {
        files = info->files;
        pinned.revision = info->sha;
        out.snapshot = repo_cache_dir(repo, o) / "snapshots" / info->sha;
        write_ref(repo_cache_dir(repo, o), revision, info->sha);
    }
    const bool has_readme = std::find(files.begin(), files.end(), "README.md") != files.end();
    DatasetCard card;
    std::vector<std::string> known_configs;
    if (has_readme) {
        const fs::path readme = hub_download(pinned, "README.md", o);
        const std::string text = read_text_file(readme);
        card = parse_dataset_card(text, config, readme.string());
        int first_line = 1;
        const std::string yaml = front_matter(text, &first_line);
        if (!yaml.empty()) {
            try {
                known_configs = config_names(YAML::Load(yaml));
            } catch (const YAML::Exception&) {
            }
        }
    }
    out.features = card.features;
    out.dataset_info_yaml = card.dataset_info_yaml;

    std::map<std::string, std::set<std::string>> chosen;
    if (!card.data_files.empty()) {
        for (const auto& [split, patterns] : card.data_files)
            for (const auto& f : files)
                for (const auto& p : patterns)
                    if (glob_match(p, f)) chosen[split].insert(f);
    } else {
        for (const auto& f : files) {
            const std::string split = conventional_split(config, f);
            if (!split.empty()) chosen[split].insert(f);
        }
    }
    if (chosen.empty()) {
        std::string available;
        for (const auto& c : known_configs) available += (available.empty() ? "" : ", ") + c;
        throw Error("config " + config + " not found in dataset " + repo_id + "@" + revision +
                    (available.empty() ? "" : " (available: " + available + ")"));
    }
    for (const auto& [split, set] : chosen)
        for (const auto& f : set) out.splits[split].push_back(hub_download(pinned, f, o));
    return out;
}

}  // namespace ft::hub
