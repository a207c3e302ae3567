// Hostile Hub listings are clear errors naming the entry, with nothing committed: a name the
// filesystem cannot hold (a 300-byte component), a file that is also a directory (x.txt and
// x.txt/y.txt), absolute, "..", backslash, empty-component and NUL names, and tree entries whose
// size is not a byte count. The mock Hub lists and serves whatever the test gives it.
#include <gtest/gtest.h>

#include "hub/mock_hub.h"
#include "test_env.h"

namespace ft {
namespace {

using test::C_EVIL;
namespace fs = std::filesystem;
using nlohmann::json;

const std::string EVIL_KEY = "models/test-org/evil";
const hub::RepoRef evil{"test-org/evil", hub::RepoType::MODEL, "main"};

fs::path storage(const hub::HubOptions& o) {
    return o.cache_dir / "models--test-org--evil";
}

// No snapshot, no ref, no file request: the listing was refused before anything was written.
void expect_nothing_committed(const test::MockHub& mock, const hub::HubOptions& o) {
    EXPECT_FALSE(fs::exists(storage(o) / "snapshots"));
    EXPECT_FALSE(fs::exists(storage(o) / "refs"));
    EXPECT_TRUE(mock.requests("HEAD", "/resolve/").empty());
    EXPECT_TRUE(mock.requests("GET", "/resolve/").empty());
}

TEST(HubListing, OverlongNameIsAClearErrorAndNothingIsCommitted) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "listing_long");
    const std::string name = "dir/" + std::string(300, 'a') + ".txt";
    mock.set_listing(EVIL_KEY, {{name, "x\n"}});
    const std::string msg = test::error_of([&] { hub::snapshot_download(evil, {}, o); });
    EXPECT_NE(msg.find("unsafe file name from the Hub: \"" + name +
                       "\" (a path component longer than 255 bytes)"),
              std::string::npos)
        << msg;
    expect_nothing_committed(mock, o);
    // The longest name a filesystem holds (255 bytes) is fine.
    const std::string longest(255, 'b');
    mock.set_listing(EVIL_KEY, {{longest, "y\n"}});
    const fs::path snap = hub::snapshot_download(evil, {}, o);
    EXPECT_EQ(test::read_file_bytes(snap / longest), "y\n");
    EXPECT_EQ(test::read_file_bytes(snap / "config.json"),
              test::read_file_bytes(test::mock_repos() / EVIL_KEY / C_EVIL / "config.json"));
}

TEST(HubListing, FileThatIsAlsoADirectoryIsAClearError) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "listing_dir");
    mock.set_listing(EVIL_KEY, {{"x.txt", "1\n"}, {"x.txt/y.txt", "2\n"}});
    std::string msg = test::error_of([&] { hub::snapshot_download(evil, {}, o); });
    EXPECT_NE(msg.find("the Hub lists both \"x.txt\" and \"x.txt/y.txt\""), std::string::npos)
        << msg;
    expect_nothing_committed(mock, o);
    msg = test::error_of([&] { hub::list_repo_tree(evil, "", o); });
    EXPECT_NE(msg.find("the Hub lists both \"x.txt\" and \"x.txt/y.txt\""), std::string::npos)
        << msg;

    // Asked for one by one, the second cannot be linked: an error naming it, the first intact.
    const fs::path x = hub::hub_download(evil, "x.txt", o);
    msg = test::error_of([&] { hub::hub_download(evil, "x.txt/y.txt", o); });
    EXPECT_NE(msg.find("x.txt/y.txt in test-org/evil@main: cannot link"), std::string::npos) << msg;
    EXPECT_EQ(test::read_file_bytes(x), "1\n");
    for (const auto& e : fs::directory_iterator(storage(o) / "snapshots" / C_EVIL))
        EXPECT_EQ(e.path().filename(), "x.txt");  // no temporary link left behind
}

TEST(HubListing, UnsafeNamesAreRefusedBeforeAnyDownload) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "listing_unsafe");
    const std::string names[] = {"/abs.txt", "a/../../b",           "a\\b", "a//b", "./a",
                                 "",         std::string("a\0b", 3)};
    for (const auto& bad : names) {
        SCOPED_TRACE(json(bad).dump());
        mock.set_listing(EVIL_KEY, {{bad, "x\n"}});
        EXPECT_NE(test::error_of([&] {
                      hub::snapshot_download(evil, {}, o);
                  }).find("unsafe file name from the Hub"),
                  std::string::npos);
        EXPECT_NE(test::error_of([&] {
                      hub::list_repo_tree(evil, "", o);
                  }).find("unsafe file name from the Hub"),
                  std::string::npos);
    }
    expect_nothing_committed(mock, o);
}

TEST(HubListing, TreeEntriesAreRangeChecked) {
    test::MockHub mock;
    const auto o = test::mock_options(mock, "listing_sizes");
    const auto entry = [](const json& size, const std::string& path = "w.bin") {
        return json{{"type", "file"}, {"path", path}, {"size", size}, {"oid", "0"}};
    };
    const json bad_sizes[] = {-1, "12", 1e300, 1.5, json(UINT64_MAX), nullptr};
    for (const auto& size : bad_sizes) {
        SCOPED_TRACE(size.dump());
        mock.set_listing(EVIL_KEY, json::object(), json::array({entry(size)}));
        const std::string msg = test::error_of([&] { hub::list_repo_tree(evil, "", o); });
        EXPECT_NE(msg.find("tree entry \"w.bin\": \"size\" is not a byte count"), std::string::npos)
            << msg;
    }
    mock.set_listing(EVIL_KEY, json::object(),
                     json::array({json{{"type", "file"}, {"path", 5}, {"size", 1}}}));
    EXPECT_NE(test::error_of([&] {
                  hub::list_repo_tree(evil, "", o);
              }).find("a tree entry without a \"path\" string"),
              std::string::npos);
    json lfs = entry(10);
    lfs["lfs"] = {{"oid", 7}};
    mock.set_listing(EVIL_KEY, json::object(), json::array({lfs}));
    EXPECT_NE(test::error_of([&] {
                  hub::list_repo_tree(evil, "", o);
              }).find("tree entry \"w.bin\": \"lfs.oid\" is not a string"),
              std::string::npos);
    // Sizes in range pass through.
    json big = entry(int64_t{1} << 40, "w1.bin");
    big["lfs"] = {{"oid", std::string(64, 'c')}};
    mock.set_listing(EVIL_KEY, json::object(), json::array({entry(0, "w0.bin"), big}));
    const auto tree = hub::list_repo_tree(evil, "", o);
    ASSERT_EQ(tree.size(), 3u);  // config.json and the two
    EXPECT_EQ(tree[1].size, 0);
    EXPECT_EQ(tree[2].size, int64_t{1} << 40);
    EXPECT_EQ(tree[2].lfs_sha256, std::string(64, 'c'));
}

}  // namespace
}  // namespace ft
