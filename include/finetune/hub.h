// finetune/hub.h — the HuggingFace Hub client and the cache it shares with Python's
// huggingface_hub: resolve {repo, revision, file} against HF_ENDPOINT, download robustly
// (resumable, verified, locked) into models--org--name/{blobs,refs,snapshots}, and find what is
// already cached, also offline. The token is never printed or logged.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "finetune/core.h"

namespace ft::hub {

namespace fs = std::filesystem;

enum class RepoType { MODEL, DATASET };

// Settings, each from the environment variable huggingface_hub reads (HubOptions::from_env), or
// set by hand (tests).
struct HubOptions {
    std::string endpoint = "https://huggingface.co";  // HF_ENDPOINT
    fs::path hf_home;      // HF_HOME, default $XDG_CACHE_HOME/huggingface or ~/.cache/huggingface
    fs::path cache_dir;    // HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub
    bool offline = false;  // HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE)
    bool datasets_offline = false;  // HF_DATASETS_OFFLINE (or offline): dataset repos only
    std::string token;  // HF_TOKEN, else $HF_TOKEN_PATH or $HF_HOME/token; never printed
    double download_timeout_s = 10;  // HF_HUB_DOWNLOAD_TIMEOUT: connect and stall timeout
    double etag_timeout_s = 10;      // HF_HUB_ETAG_TIMEOUT: metadata requests
    bool progress_bars = true;       // off with HF_HUB_DISABLE_PROGRESS_BARS (and when not a tty)
    int max_retries = 5;             // on 5xx, 429, timeouts and cut connections
    double retry_base_delay_s = 1;   // backoff: base * 2^attempt, capped at 8 s

    static HubOptions from_env();
    bool is_offline(RepoType type) const {
        return offline || (type == RepoType::DATASET && datasets_offline);
    }
};

struct RepoRef {
    std::string repo_id;  // "org/name" or a legacy "name" (the Hub redirects it)
    RepoType type = RepoType::MODEL;
    std::string revision = "main";  // a branch, tag or 40-hex commit
};

// "models--org--name" / "datasets--org--name": the repo's folder in the cache.
std::string repo_folder_name(const std::string& repo_id, RepoType type);
fs::path repo_cache_dir(const RepoRef& repo, const HubOptions& options);

// Throws ft::Error unless `filename` is a relative path inside the repo: no "..", ".", empty
// component, leading "/", backslash or NUL, no component over 255 bytes. Names from the server
// pass through this.
void validate_repo_filename(const std::string& filename);
// Throws ft::Error unless `repo_id` is "name" or "org/name" of [A-Za-z0-9._-].
void validate_repo_id(const std::string& repo_id);
// Throws ft::Error naming `revision` unless it is a 40-hex commit hash or a branch or tag name by
// git's check-ref-format rules ("main", "v1.0", "refs/pr/1"; no "..", leading '/' or '-', control
// characters, '\', ' ', '~', '^', ':', '?', '*', '[', "@{", components starting with '.' or
// ending with ".lock"). Every call that takes a revision checks it: it names a file in refs/.
void validate_revision(const std::string& revision);

// One file: from the cache when present for the revision's commit (or offline), else
// downloaded. Returns snapshots/<commit>/<filename>, a relative symlink to blobs/<etag>.
fs::path hub_download(const RepoRef& repo, const std::string& filename, const HubOptions& options);

struct RepoInfo {
    std::string sha;                 // the revision's commit
    std::vector<std::string> files;  // "siblings", validated
};
// /api/{models|datasets}/{repo}/revision/{rev}, following the Hub's renames.
RepoInfo repo_info(const RepoRef& repo, const HubOptions& options);

struct TreeEntry {
    std::string path;
    int64_t size = 0;
    std::string oid;         // git blob sha1
    std::string lfs_sha256;  // empty for files not in LFS
};
// /api/{models|datasets}/{repo}/tree/{rev}/{path}?recursive=true (files only).
std::vector<TreeEntry> list_repo_tree(const RepoRef& repo, const std::string& path,
                                      const HubOptions& options);

// Matches a path against a glob: '*' any run of characters, '?' one, '[...]' a class; as
// huggingface_hub's fnmatch-based allow_patterns, '*' also crosses '/'.
bool glob_match(const std::string& pattern, const std::string& path);

// Downloads every file of the revision that matches one of `include` (all when empty) and returns
// the snapshot folder. Offline: the cached snapshot of the revision.
fs::path snapshot_download(const RepoRef& repo, const std::vector<std::string>& include,
                           const HubOptions& options);

// The integration point of from_pretrained and `finetune train --model_name_or_path`: an
// existing directory is returned as it is; otherwise NAME is a model repo id whose config.json,
// weights (model.safetensors, else model.safetensors.index.json and its shards, else
// pytorch_model.bin) and tokenizer files are fetched into the cache; returns the snapshot folder.
fs::path resolve_pretrained(const std::string& name_or_path,
                            const HubOptions& options = HubOptions::from_env(),
                            const std::string& revision = "main");

// ---------------------------------------------------------------------------------------------
// Datasets: a repo + config -> its Parquet files per split, and the features of the README's
// dataset_info (YAML front matter).

struct DatasetFeature {
    std::string name;
    std::string dtype;                     // "string", "int32", ... or "class_label"
    std::vector<std::string> class_names;  // for class_label, in label order
};

struct DatasetFiles {
    std::string repo_id;
    std::string config;
    fs::path snapshot;
    std::map<std::string, std::vector<fs::path>> splits;  // split -> local Parquet files, sorted
    std::vector<DatasetFeature> features;  // empty when the README has no dataset_info for it
    std::string dataset_info_yaml;         // that config's dataset_info entry, as YAML text
};

// Resolves `config` of a dataset repo ("glue" follows the Hub's redirect to nyu-mll/glue) from the
// README's `configs:` data_files, else the <config>/<split>-*.parquet convention; downloads them.
DatasetFiles resolve_dataset(const std::string& repo_id, const std::string& config,
                             const HubOptions& options = HubOptions::from_env(),
                             const std::string& revision = "main");

// The parts of a dataset card's YAML front matter that resolve_dataset uses, for one config.
struct DatasetCard {
    std::map<std::string, std::vector<std::string>> data_files;  // split -> patterns
    std::vector<DatasetFeature> features;
    std::string dataset_info_yaml;
};
// `source` names the README in error messages. A README without front matter gives an empty card.
DatasetCard parse_dataset_card(const std::string& readme, const std::string& config,
                               const std::string& source);

}  // namespace ft::hub
