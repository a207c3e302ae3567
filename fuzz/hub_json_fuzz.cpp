// libFuzzer target for what the Hub client parses from the server: the /revision answer (commit
// and file list), a /tree page, the Link header that pages it, and a model.safetensors.index.json.
// Each input goes to every parser; each either accepts it or throws ft::Error. File names that are
// accepted must be safe repo paths, since they become paths in the cache.
#include <cstddef>
#include <cstdint>
#include <string>

#include "finetune/core.h"
#include "hub/hub_internal.h"

namespace {

const std::string URL = "https://huggingface.co/api/models/org/name/tree/main?recursive=true";

template <class F>
void expect_ft_error_or_success(F&& parse) {
    try {
        parse();
    } catch (const ft::Error&) {
        // Rejecting a malformed answer is the expected outcome for most inputs.
    }
}

// An accepted name that validate_repo_filename rejects is a finding, not an expected ft::Error.
void require_safe(const std::string& name) {
    bool safe = true;
    try {
        ft::hub::validate_repo_filename(name);
    } catch (const ft::Error&) {
        safe = false;
    }
    FT_ASSERT(safe, "the parser accepted an unsafe file name: " + name);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string text(reinterpret_cast<const char*>(data), size);
    expect_ft_error_or_success([&] {
        const ft::hub::RepoInfo info = ft::hub::parse_repo_info(text, URL);
        FT_ASSERT(ft::hub::is_commit_hash(info.sha), "accepted a sha that is no commit hash");
        for (const auto& f : info.files) require_safe(f);
    });
    expect_ft_error_or_success([&] {
        uint64_t sum = 0;
        for (const auto& e : ft::hub::parse_tree_page(text, URL)) {
            require_safe(e.path);
            sum += uint64_t(e.size) + e.oid.size() + e.lfs_sha256.size();
        }
        volatile uint64_t sink = sum;
        (void)sink;
    });
    expect_ft_error_or_success([&] {
        volatile size_t sink = ft::hub::next_page_url(text, URL).size();
        (void)sink;
    });
    expect_ft_error_or_success([&] {
        volatile size_t sink = ft::hub::parse_shard_index(text, "fuzz index.json").size();
        (void)sink;
    });
    return 0;
}
