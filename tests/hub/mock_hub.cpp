// Starts and stops tools/mock_hub.py for the hub tests and talks to its control endpoints.
#include "hub/mock_hub.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>

#include "hub/hub_internal.h"
#include "test_env.h"

namespace ft::test {

namespace fs = std::filesystem;

fs::path mock_repos() {
    // Built once into the testdata folder and shared by the test processes ctest runs side by
    // side: the first one builds under a lock, into a temporary folder that is then renamed.
    static std::once_flag once;
    static const fs::path dir = testdata_dir() / "mock_hub_repos";
    std::call_once(once, [] {
        fs::create_directories(testdata_dir());
        hub::FileLock lock(testdata_dir() / "mock_hub_repos.lock");
        const fs::path script = tools_dir() / "make_mock_hub_repos.py";
        const fs::path cola = tools_dir().parent_path() / "tests/data/parquet/cola_like.parquet";
        // Rebuilt when the script or the Parquet fixture changed since.
        if (fs::exists(dir / "manifest.json") &&
            fs::last_write_time(dir / "manifest.json") > fs::last_write_time(script) &&
            fs::last_write_time(dir / "manifest.json") > fs::last_write_time(cola))
            return;
        const fs::path tmp = testdata_dir() / ("mock_hub_repos.tmp." + std::to_string(::getpid()));
        const std::string cmd = python() + " " + script.string() + " --shared " +
                                shared_dir().string() + " --out " + tmp.string() +
                                " --cola-parquet " + cola.string();
        std::string out;
        if (run_command(cmd, &out) != 0) throw Error("make_mock_hub_repos.py failed: " + out);
        fs::remove_all(dir);
        fs::rename(tmp, dir);
    });
    return dir;
}

const nlohmann::json& mock_manifest() {
    static const nlohmann::json m =
        nlohmann::json::parse(read_file_bytes(mock_repos() / "manifest.json"));
    return m;
}

std::string read_file_bytes(const fs::path& p) {
    std::ifstream f(p, std::ios::binary);
    if (!f) throw Error(p.string() + ": cannot open");
    return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

MockHub::MockHub(bool prefix_port) {
    const std::string root = mock_repos().string();
    int fds[2];
    if (::pipe(fds) != 0) throw Error("pipe failed");
    const std::string py = python();
    const std::string script = (tools_dir() / "mock_hub.py").string();
    pid_ = ::fork();
    if (pid_ == 0) {
        ::dup2(fds[1], STDOUT_FILENO);
        ::close(fds[0]);
        ::close(fds[1]);
        ::execl(py.c_str(), py.c_str(), script.c_str(), "--root", root.c_str(),
                prefix_port ? "--prefix-port" : static_cast<char*>(nullptr),
                static_cast<char*>(nullptr));
        ::_exit(127);
    }
    ::close(fds[1]);
    // The first line on its stdout is the port it bound (then the second one, if asked).
    std::string line;
    char c;
    while (::read(fds[0], &c, 1) == 1 && c != '\n') line += c;
    ::close(fds[0]);
    port_ = std::atoi(line.c_str());
    if (prefix_port) {
        const size_t sp = line.find(' ');
        second_port_ = sp == std::string::npos ? 0 : std::atoi(line.c_str() + sp + 1);
    }
    if (port_ <= 0 || (prefix_port && second_port_ <= 0)) {
        stop();
        throw Error("mock_hub.py did not start (printed \"" + line + "\")");
    }
}

MockHub::~MockHub() {
    stop();
}

void MockHub::stop() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
}

std::string MockHub::get(const std::string& path) const {
    hub::HttpRequest req;
    req.url = endpoint() + path;
    const auto r = hub::http_request(req);
    if (r.status != 200) throw Error(path + ": mock answered " + std::to_string(r.status));
    return r.body;
}

nlohmann::json MockHub::log() const {
    return nlohmann::json::parse(get("/_mock/log"));
}
void MockHub::clear_log() const {
    get("/_mock/clear_log");
}
void MockHub::set_faults(const std::string& query) const {
    get("/_mock/faults?" + query);
}
void MockHub::set_branch(const std::string& repo_key, const std::string& name,
                         const std::string& commit) const {
    get("/_mock/branch?repo=" + hub::url_encode_path(repo_key) +
        "&name=" + hub::url_encode_path(name) + "&commit=" + commit);
}
void MockHub::set_listing(const std::string& repo_key, const nlohmann::json& siblings,
                          const nlohmann::json& tree) const {
    get("/_mock/listing?repo=" + hub::url_encode_path(repo_key) + "&siblings=" +
        hub::url_encode_path(siblings.dump()) + "&tree=" + hub::url_encode_path(tree.dump()));
}

std::vector<nlohmann::json> MockHub::requests(const std::string& method,
                                              const std::string& part) const {
    std::vector<nlohmann::json> out;
    for (const auto& r : log())
        if (r["method"] == method && r["path"].get<std::string>().find(part) != std::string::npos)
            out.push_back(r);
    return out;
}

namespace {
// The caches the tests fill (megabytes each) are removed when the test process exits.
std::mutex temp_homes_mutex;
std::vector<fs::path> temp_homes;
void remove_temp_homes() {
    std::lock_guard<std::mutex> lock(temp_homes_mutex);
    std::error_code ec;
    for (const auto& d : temp_homes) fs::remove_all(d, ec);
}
}  // namespace

fs::path hub_temp_dir(const std::string& tag) {
    const fs::path dir = make_temp_dir(tag);
    std::lock_guard<std::mutex> lock(temp_homes_mutex);
    if (temp_homes.empty()) std::atexit(remove_temp_homes);
    temp_homes.push_back(dir);
    return dir;
}

hub::HubOptions mock_options(const MockHub& hub, const std::string& tag) {
    hub::HubOptions o;
    o.endpoint = hub.endpoint();
    o.hf_home = hub_temp_dir("hub_" + tag);
    o.cache_dir = o.hf_home / "hub";
    o.progress_bars = false;
    o.max_retries = 3;
    o.retry_base_delay_s = 0.01;
    o.download_timeout_s = 5;
    o.etag_timeout_s = 5;
    return o;
}

}  // namespace ft::test
