// Names and numbers the client trusts only after checking: repo ids, revisions (git's ref-name
// rules: they name files under refs/), file names and listings from the server (which must never
// lead outside the cache nor ask the filesystem for the impossible), byte counts, and the glob
// patterns of --include and dataset data_files.
#include <cctype>
#include <charconv>
#include <set>

#include "hub/hub_internal.h"

namespace ft::hub {

void validate_repo_filename(const std::string& filename) {
    const auto bad = [&](const std::string& why) {
        throw Error("unsafe file name from the Hub: \"" + filename + "\" (" + why + ")");
    };
    if (filename.empty()) bad("empty");
    if (filename[0] == '/') bad("absolute path");
    if (filename.find('\\') != std::string::npos) bad("backslash");
    if (filename.find('\0') != std::string::npos) bad("NUL byte");
    size_t start = 0;
    while (true) {
        const size_t end = filename.find('/', start);
        const std::string part =
            filename.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (part.empty()) bad("empty path component");
        if (part == "." || part == "..") bad("'" + part + "' component");
        // NAME_MAX of Linux filesystems: the snapshot link could not be made.
        if (part.size() > 255) bad("a path component longer than 255 bytes");
        if (end == std::string::npos) break;
        start = end + 1;
    }
}

namespace {

// The revision as a message can show it: control bytes escaped.
std::string printable(const std::string& s) {
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) {
        if (c < 0x20 || c == 0x7f) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

}  // namespace

void validate_revision(const std::string& revision) {
    const auto bad = [&](const std::string& why) {
        throw Error("invalid revision \"" + printable(revision) + "\": " + why +
                    " (expected a branch or tag name, or a 40-hex commit hash)");
    };
    if (revision.empty()) bad("empty");
    if (is_commit_hash(revision)) return;
    // git check-ref-format's rules, with one-level names ("main") allowed.
    if (revision.size() > 1024) bad("longer than 1024 bytes");
    for (unsigned char c : revision) {
        if (c < 0x20 || c == 0x7f) bad("control character");
        if (std::string(" ~^:?*[\\").find(static_cast<char>(c)) != std::string::npos)
            bad("character '" + std::string(1, static_cast<char>(c)) + "'");
    }
    if (revision == "@") bad("'@' alone");
    if (revision.find("..") != std::string::npos) bad("'..'");
    if (revision.find("@{") != std::string::npos) bad("'@{'");
    if (revision.front() == '/' || revision.back() == '/') bad("leading or trailing '/'");
    if (revision.front() == '-') bad("leading '-'");
    if (revision.back() == '.') bad("trailing '.'");
    size_t start = 0;
    while (true) {
        const size_t end = revision.find('/', start);
        const std::string part =
            revision.substr(start, end == std::string::npos ? std::string::npos : end - start);
        if (part.empty()) bad("empty path component");
        if (part.front() == '.') bad("a component starting with '.'");
        if (part.size() >= 5 && part.compare(part.size() - 5, 5, ".lock") == 0)
            bad("a component ending with \".lock\"");
        if (part.size() > 255) bad("a path component longer than 255 bytes");
        if (end == std::string::npos) break;
        start = end + 1;
    }
}

std::optional<int64_t> parse_byte_count(const std::string& text) {
    int64_t n = -1;
    const char* end = text.data() + text.size();
    // from_chars takes no sign, space or exponent here, and fails on overflow.
    if (text.empty() || !std::isdigit(static_cast<unsigned char>(text[0]))) return std::nullopt;
    const auto [ptr, ec] = std::from_chars(text.data(), end, n);
    if (ec != std::errc() || ptr != end || n < 0 || n > MAX_FILE_BYTES) return std::nullopt;
    return n;
}

void check_listing(const std::vector<std::string>& names, const std::string& source) {
    const std::set<std::string> all(names.begin(), names.end());
    for (const auto& name : names) {
        for (size_t slash = name.find('/'); slash != std::string::npos;
             slash = name.find('/', slash + 1)) {
            const std::string dir = name.substr(0, slash);
            if (all.count(dir))
                throw Error(source + ": the Hub lists both \"" + dir + "\" and \"" + name +
                            "\": a file cannot also be a directory");
        }
    }
}

void validate_repo_id(const std::string& repo_id) {
    const auto bad = [&](const std::string& why) {
        throw Error("invalid repository id \"" + repo_id + "\": " + why +
                    " (expected \"name\" or \"org/name\")");
    };
    if (repo_id.empty()) bad("empty");
    int slashes = 0;
    for (unsigned char c : repo_id) {
        if (c == '/') {
            ++slashes;
        } else if (!std::isalnum(c) && c != '-' && c != '_' && c != '.') {
            bad("character '" + std::string(1, static_cast<char>(c)) + "'");
        }
    }
    if (slashes > 1) bad("more than one '/'");
    if (repo_id.front() == '/' || repo_id.back() == '/') bad("empty org or name");
    size_t start = 0;
    while (start <= repo_id.size()) {
        size_t end = repo_id.find('/', start);
        if (end == std::string::npos) end = repo_id.size();
        const std::string part = repo_id.substr(start, end - start);
        if (part == "." || part == ".." || part.find("--") != std::string::npos)
            bad("'" + part + "' is not a valid name part");
        start = end + 1;
    }
}

namespace {

// fnmatch without FNM_PATHNAME: '*' also matches '/'.
bool match_from(const std::string& p, size_t pi, const std::string& s, size_t si) {
    while (pi < p.size()) {
        const char c = p[pi];
        if (c == '*') {
            while (pi < p.size() && p[pi] == '*') ++pi;
            if (pi == p.size()) return true;
            for (size_t k = si; k <= s.size(); ++k)
                if (match_from(p, pi, s, k)) return true;
            return false;
        }
        if (si == s.size()) return false;
        if (c == '?') {
            ++pi;
            ++si;
            continue;
        }
        if (c == '[') {
            size_t close = p.find(']', pi + 2);
            if (close != std::string::npos) {
                bool negate = p[pi + 1] == '!';
                size_t k = pi + 1 + (negate ? 1 : 0);
                bool hit = false;
                for (; k < close; ++k) {
                    if (k + 2 < close && p[k + 1] == '-') {
                        hit |= s[si] >= p[k] && s[si] <= p[k + 2];
                        k += 2;
                    } else {
                        hit |= s[si] == p[k];
                    }
                }
                if (hit == negate) return false;
                pi = close + 1;
                ++si;
                continue;
            }
        }
        if (c != s[si]) return false;
        ++pi;
        ++si;
    }
    return si == s.size();
}

}  // namespace

bool glob_match(const std::string& pattern, const std::string& path) {
    return match_from(pattern, 0, path, 0);
}

}  // namespace ft::hub
