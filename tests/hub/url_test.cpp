// URLs by libcurl's URL API: the origin test that decides where the token may go (scheme, host
// and port, default ports made explicit, no user info) and Location headers resolved as RFC 3986
// references ("//host/x" names another host, not a path on this one).
#include <gtest/gtest.h>

#include "hub/hub_internal.h"
#include "test_env.h"

namespace ft {
namespace {

TEST(HubUrl, SameOriginComparesSchemeHostAndPort) {
    const std::string ep = "http://127.0.0.1:1808";
    EXPECT_TRUE(hub::same_origin(ep + "/api/models/x", ep));
    EXPECT_TRUE(hub::same_origin("http://127.0.0.1:1808", ep + "/"));
    EXPECT_FALSE(hub::same_origin("http://127.0.0.1:18080/x", ep));
    EXPECT_FALSE(hub::same_origin("http://127.0.0.1:1808@127.0.0.1:18080/x", ep));
    EXPECT_FALSE(hub::same_origin("http://user@127.0.0.1:1808/x", ep));  // credentials: not ours
    EXPECT_FALSE(hub::same_origin("https://127.0.0.1:1808/x", ep));
    EXPECT_FALSE(hub::same_origin("http://localhost:1808/x", ep));
    const std::string hf = "https://huggingface.co";
    EXPECT_TRUE(hub::same_origin("https://huggingface.co:443/api", hf));  // default port
    EXPECT_TRUE(hub::same_origin("https://HuggingFace.CO/api", hf));      // host case
    EXPECT_TRUE(hub::same_origin("HTTPS://huggingface.co/api", hf));      // scheme case
    EXPECT_TRUE(hub::same_origin("http://example.org:80/x", "http://example.org"));
    EXPECT_FALSE(hub::same_origin("http://huggingface.co/api", hf));
    EXPECT_FALSE(hub::same_origin("https://huggingface.co:8443/api", hf));
    EXPECT_FALSE(hub::same_origin("https://huggingface.co.evil.example/api", hf));
    EXPECT_FALSE(hub::same_origin("https://cdn-lfs.huggingface.co/x", hf));
    EXPECT_FALSE(hub::same_origin("not a url", hf));
    EXPECT_FALSE(hub::same_origin("", hf));
    EXPECT_FALSE(hub::same_origin(hf + "/x", ""));
}

TEST(HubUrl, LocationsResolveAsUrls) {
    const std::string base = "http://127.0.0.1:1808/a/b/c?x=1";
    EXPECT_EQ(hub::resolve_location(base, "/new/path"), "http://127.0.0.1:1808/new/path");
    EXPECT_EQ(hub::resolve_location(base, "d"), "http://127.0.0.1:1808/a/b/d");
    EXPECT_EQ(hub::resolve_location(base, "../d?y=2"), "http://127.0.0.1:1808/a/d?y=2");
    // A network-path reference names another host, not a path on this one.
    EXPECT_EQ(hub::resolve_location(base, "//127.0.0.1:18080/x"), "http://127.0.0.1:18080/x");
    EXPECT_EQ(hub::resolve_location(base, "https://cdn.example/f"), "https://cdn.example/f");
    EXPECT_NE(test::error_of([&] { hub::resolve_location(base, "http://[::1"); }), "(no error)");
}

TEST(HubUrl, AbsoluteUrlsHaveASchemeAndComponentsEncodeSlashes) {
    EXPECT_TRUE(hub::is_absolute_url("https://cdn.example/f"));
    EXPECT_FALSE(hub::is_absolute_url("/api/models/x"));
    EXPECT_FALSE(hub::is_absolute_url("//other.example/x"));
    EXPECT_FALSE(hub::is_absolute_url("relative/path"));
    EXPECT_EQ(hub::url_encode_component("refs/pr/1"), "refs%2Fpr%2F1");
    EXPECT_EQ(hub::url_encode_path("a b/c%"), "a%20b/c%25");
}

}  // namespace
}  // namespace ft
