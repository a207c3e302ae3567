// The Hub's error answers turned into messages a user can act on: a missing or gated repo, a bad
// or missing token, a missing revision or file. X-Error-Code says which (as huggingface_hub reads
// it); the token itself never appears.
#include "hub/hub_internal.h"

namespace ft::hub {

void raise_for_status(const HttpResponse& r, const RepoRef& repo, const std::string& filename,
                      bool has_token) {
    if (r.status < 400) return;
    const std::string code = r.header("x-error-code");
    const std::string server = r.header("x-error-message");
    const std::string said = server.empty() ? "" : " (the Hub said: " + server + ")";
    const std::string what = type_name(repo.type) + " repository " + repo.repo_id;
    const std::string where = repo.repo_id + "@" + repo.revision;

    if (code == "RevisionNotFound")
        throw Error("revision " + repo.revision + " not found in " + what + said);
    if (code == "EntryNotFound") throw Error("file " + filename + " not found in " + where + said);
    if (code == "RepoNotFound" || (r.status == 404 && code.empty() && filename.empty()))
        throw Error("repository not found or gated: " + what +
                    " (check the name; for a private or gated repository set HF_TOKEN or run "
                    "`hf auth login`)" +
                    said);
    if (r.status == 401) {
        throw Error(std::string("invalid or missing token for ") + what + ": " +
                    (has_token ? "the token from HF_TOKEN or $HF_HOME/token was rejected"
                               : "no token is set (HF_TOKEN or $HF_HOME/token)") +
                    (code == "GatedRepo" ? "; the repository is gated" : "") + said);
    }
    if (r.status == 403)
        throw Error("access to " + what +
                    " denied: a gated repository needs access granted on "
                    "its Hub page to the account of the token" +
                    said);
    if (r.status == 404)
        throw Error("file " + filename + " not found in " + where + " (HTTP 404)" + said);
    throw Error("the Hub answered HTTP " + std::to_string(r.status) + " for " +
                (filename.empty() ? what : filename + " in " + where) + said);
}

}  // namespace ft::hub
