// `finetune download REPO_ID [--repo-type model|dataset] [--revision R] [--include GLOB]...`:
// fetches a repo's files into the shared HF cache (or finds them there) and prints the local
// snapshot folder, like `huggingface-cli download`.
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "finetune/hub.h"

namespace ft::cli {

namespace {

struct DownloadArgs {
    std::string repo_id;
    std::string repo_type = "model";
    std::string revision = "main";
    std::vector<std::string> include;
};

int run_download(const DownloadArgs& a) {
    hub::RepoRef repo;
    repo.repo_id = a.repo_id;
    repo.type = a.repo_type == "dataset" ? hub::RepoType::DATASET : hub::RepoType::MODEL;
    repo.revision = a.revision;
    const auto dir = hub::snapshot_download(repo, a.include, hub::HubOptions::from_env());
    std::printf("%s\n", dir.string().c_str());
    return 0;
}

}  // namespace

Command register_download(CLI::App& app) {
    auto* sub = app.add_subcommand(
        "download", "Download a Hub repository into the HF cache and print its snapshot folder");
    auto a = std::make_shared<DownloadArgs>();
    sub->add_option("repo_id", a->repo_id, "Repository id, e.g. distilbert/distilbert-base-uncased")
        ->required();
    sub->add_option("--repo-type", a->repo_type, "model or dataset")
        ->check(CLI::IsMember({"model", "dataset"}));
    sub->add_option("--revision", a->revision, "Branch, tag or commit hash");
    sub->add_option("--include", a->include, "Only files matching these globs (repeatable)");
    return {sub, [a] { return run_download(*a); }};
}

}  // namespace ft::cli
