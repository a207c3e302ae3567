// The hub tests' mock Hub: tools/mock_hub.py started on 127.0.0.1 on a free port (it prints the
// port), serving the repos tools/make_mock_hub_repos.py builds once per test process, plus
// options that point a fresh HF_HOME at it.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>

#include "finetune/hub.h"

namespace ft::test {

// The served repository tree (built on first use) and its manifest.json (hashes by hashlib).
std::filesystem::path mock_repos();
const nlohmann::json& mock_manifest();

// Fixed commits of the mock repos (see tools/make_mock_hub_repos.py).
inline const std::string C_V1(40, '1'), C_MAIN(40, '2'), C_SHARDED(40, '3'), C_GATED(40, '4'),
    C_EVIL(40, '5'), C_GLUE(40, '6');
inline const std::string GATED_TOKEN = "hf_mocksecret_0123456789";

class MockHub {
  public:
    // prefix_port: also listen on a second port whose digits start with the first's
    // (second_endpoint()), the trap for a string-prefix origin check.
    explicit MockHub(bool prefix_port = false);
    ~MockHub();
    MockHub(const MockHub&) = delete;
    MockHub& operator=(const MockHub&) = delete;

    std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
    int port() const { return port_; }
    int second_port() const { return second_port_; }
    void stop();
    nlohmann::json log() const;  // [{method, path, range, auth, authorization, port}]
    void clear_log() const;
    void set_faults(const std::string& query) const;  // e.g. "match=_lfs&cut_after=1000"
    // Adds a branch (a name like "refs/pr/1" too) to a repo (key "models/org/name").
    void set_branch(const std::string& repo_key, const std::string& name,
                    const std::string& commit) const;
    // Hostile listings: `siblings` (name -> content) are listed and served as they are by the
    // repo (key "models/org/name"); `tree` entries are appended raw to its tree listing.
    void set_listing(const std::string& repo_key, const nlohmann::json& siblings,
                     const nlohmann::json& tree = nlohmann::json::array()) const;
    // Requests in the log whose method is `method` and whose path contains `part`.
    std::vector<nlohmann::json> requests(const std::string& method, const std::string& part) const;

  private:
    std::string get(const std::string& path) const;
    pid_t pid_ = -1;
    int port_ = 0;
    int second_port_ = 0;
};

// A fresh temp dir, removed when the test process exits (the caches in it weigh megabytes).
std::filesystem::path hub_temp_dir(const std::string& tag);

// Options for a fresh HF_HOME under a temp dir, pointed at `hub`: no token, no progress bar,
// short backoff so retries stay fast.
hub::HubOptions mock_options(const MockHub& hub, const std::string& tag);

std::string read_file_bytes(const std::filesystem::path& p);

}  // namespace ft::test
