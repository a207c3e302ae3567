// The token goes to HF_ENDPOINT's origin (scheme, host, port) only: the mock Hub listens on P and
// on 10*P+d, so a string-prefix check would leak it; redirects (the LFS one the client follows
// itself, and ones inside a download) to the other port, to a userinfo-trick URL or to another
// host name get no Authorization, while the Hub's own requests get it. The mock logs the header.
#include <gtest/gtest.h>

#include "hub/mock_hub.h"
#include "test_env.h"

namespace ft {
namespace {

using test::C_MAIN;
namespace fs = std::filesystem;

const std::string TOKEN = "hf_origin_check_token_77";
const std::string MODEL_KEY = "models/test-org/tiny-distilbert";

const hub::RepoRef model{"test-org/tiny-distilbert", hub::RepoType::MODEL, "main"};

std::string served(const std::string& file) {
    return test::read_file_bytes(test::mock_repos() / MODEL_KEY / C_MAIN / file);
}

// Every logged request: the endpoint's own got the token, every other origin got none of it.
// Returns how many requests reached the other origin.
int check_tokens(const test::MockHub& mock, const std::string& other_path_part, int other_port) {
    int other = 0;
    for (const auto& r : mock.log()) {
        const std::string path = r["path"];
        if (r["method"] == "DONE" || path.rfind("/_mock/", 0) == 0) continue;
        const std::string auth = r["authorization"].is_null() ? "" : r["authorization"];
        const bool at_other = r["port"] == other_port && path.find(other_path_part) == 0;
        if (at_other) {
            ++other;
            EXPECT_EQ(auth.find(TOKEN), std::string::npos) << r.dump();
        } else if (r["port"] == mock.port() && path.find("/_lfs/") == std::string::npos) {
            EXPECT_EQ(auth, "Bearer " + TOKEN) << r.dump();
        }
    }
    return other;
}

TEST(HubTokenOrigin, LfsRedirectToAnotherOriginGetsNoToken) {
    test::MockHub mock(/*prefix_port=*/true);
    const std::string p = std::to_string(mock.port());
    const std::string q = std::to_string(mock.second_port());
    ASSERT_EQ(q.rfind(p, 0), 0u) << p << " " << q;  // the trap: P is a string prefix of Q
    auto o = test::mock_options(mock, "token_lfs");
    o.token = TOKEN;
    struct Case {
        std::string lfs_host;
        int port;
    };
    const Case cases[] = {
        {"http://127.0.0.1:" + q, mock.second_port()},                      // prefix port
        {"http://127.0.0.1:" + p + "@127.0.0.1:" + q, mock.second_port()},  // userinfo trick
        {"http://localhost:" + p, mock.port()},                             // another host name
    };
    int i = 0;
    for (const auto& c : cases) {
        SCOPED_TRACE(c.lfs_host);
        o.cache_dir = o.hf_home / ("cache" + std::to_string(i++));
        mock.set_faults("lfs_host=" + c.lfs_host);
        mock.clear_log();
        const fs::path f = hub::hub_download(model, "model.safetensors", o);
        EXPECT_EQ(test::read_file_bytes(f), served("model.safetensors"));
        EXPECT_EQ(check_tokens(mock, "/_lfs/", c.port), 1);
        EXPECT_EQ(mock.requests("HEAD", "/resolve/main/model.safetensors").size(), 1u);
    }
}

TEST(HubTokenOrigin, RedirectInsideADownloadDropsTheToken) {
    test::MockHub mock(/*prefix_port=*/true);
    const std::string p = std::to_string(mock.port());
    const std::string q = std::to_string(mock.second_port());
    auto o = test::mock_options(mock, "token_redirect");
    o.token = TOKEN;
    const std::string origins[] = {"http://127.0.0.1:" + q,
                                   "http://127.0.0.1:" + p + "@127.0.0.1:" + q,
                                   "http://localhost:" + p};
    int i = 0;
    for (const auto& origin : origins) {
        SCOPED_TRACE(origin);
        o.cache_dir = o.hf_home / ("cache" + std::to_string(i++));
        mock.set_faults("redirect=" + origin);
        mock.clear_log();
        const fs::path f = hub::hub_download(model, "config.json", o);
        EXPECT_EQ(test::read_file_bytes(f), served("config.json"));
        // Two GETs: the endpoint's (with the token, answered 302) and the other origin's.
        const auto gets = mock.requests("GET", "/resolve/main/config.json");
        ASSERT_EQ(gets.size(), 2u);
        EXPECT_EQ(gets[0]["authorization"], "Bearer " + TOKEN);
        EXPECT_TRUE(gets[1]["authorization"].is_null() ||
                    gets[1]["authorization"].get<std::string>().find(TOKEN) == std::string::npos)
            << gets[1].dump();
    }
}

}  // namespace
}  // namespace ft
