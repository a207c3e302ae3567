"""A mock HuggingFace Hub on 127.0.0.1 for the hub tests: serves a repository tree (made by
tools/make_mock_hub_repos.py) with the Hub's endpoints, headers and error codes, logs every request
and injects faults on demand. Standard library only; prints the port on stdout, then serves.

Tree: ROOT/repos.json plus ROOT/<models|datasets>/<repo_id>/<commit>/<files>. repos.json:
  {"repos": {"models/org/name": {"branches": {"main": sha}, "token": null | "secret",
                                 "extra_siblings": {"name": "content"}}},
   "redirects": {"models/old-name": "models/org/name"}, "lfs": ["*.safetensors", ...]}

Endpoints (as huggingface.co):
  HEAD/GET /{repo}/resolve/{rev}/{path}, /datasets/{repo}/resolve/{rev}/{path}
      X-Repo-Commit, ETag (quoted git blob sha1); LFS files answer 302 to an absolute /_lfs/<sha256>
      (host "localhost", standing for the CDN) with X-Linked-Etag (quoted sha256) and X-Linked-Size; Range requests (206, 416).
  GET /api/{models|datasets}/{repo}/revision/{rev}  -> {"id", "sha", "siblings": [{"rfilename"}]}
  GET /api/{models|datasets}/{repo}/tree/{rev}[/{path}]?recursive=true -> [{"type", "path", ...}]
  Renamed repos answer 307 with a relative Location. Errors: 404 + X-Error-Code RepoNotFound,
  RevisionNotFound, EntryNotFound; 401 GatedRepo without a token, 401 with a wrong token.
Control (tests): GET /_mock/faults?match=SUBSTR&cut_after=N&corrupt=1&delay=S&status=503&times=K
  arms faults for file bodies whose URL path contains SUBSTR (the first K requests when times is
  given; cut_after hits once without times). More faults for those bodies: ignore_range=1 (a full
  200 whatever the Range), range_from_zero=1 (a 206 that starts at byte 0 whatever the Range),
  hold_heads=N (the body waits until N HEAD requests have come: orders concurrent callers
  without timers), hold_retry=1 (the body stalls until another GET of the same path comes, i.e.
  until the client timed out and retried, however long that takes; 60 s at most).
  Faults that need no match: lfs_host=ORIGIN (the LFS redirect goes to ORIGIN/_lfs/<sha256>
  instead of http://localhost:<port>); linked_size=TEXT (its X-Linked-Size); redirect=ORIGIN (a GET of a non-LFS resolve URL that came to
  the first port under the Host 127.0.0.1:<port> answers 302 to ORIGIN + the same path).
  GET /_mock/branch?repo=KEY&name=NAME&commit=SHA adds a branch (e.g. refs/pr/1).
  GET /_mock/listing?repo=KEY&siblings=JSON_OBJECT&tree=JSON_LIST sets a repo's extra siblings
  (name -> content, listed and served as they are) and extra raw tree entries (hostile listings).
  GET /_mock/log returns the request log (method, path, range, auth: whether an Authorization
  header came, authorization: its value or null, port: the port it came to; method DONE marks a
  file body sent in full); GET /_mock/clear_log.
With --prefix-port the server also listens on a second port whose number starts with the first's
digits (P and 10*P+d, both printed): the string-prefix trap for a token check.
"""
import argparse
import fnmatch
import hashlib
import json
import os
import random
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Hub:
    def __init__(self, root):
        self.root = root
        with open(os.path.join(root, "repos.json")) as f:
            cfg = json.load(f)
        self.repos = cfg["repos"]
        self.redirects = cfg.get("redirects", {})
        self.lfs = cfg.get("lfs", [])
        self.lock = threading.Lock()
        self.log = []
        self.faults = {}
        self.ports = []  # the first is the one HF_ENDPOINT names
        self.blobs = {}  # sha256 -> file path, for /_lfs

    def repo_dir(self, key, commit):
        return os.path.join(self.root, key, commit)

    def commit_of(self, key, rev):
        repo = self.repos[key]
        if rev in repo["branches"]:
            return repo["branches"][rev]
        if len(rev) == 40 and os.path.isdir(self.repo_dir(key, rev)):
            return rev
        return None

    def files(self, key, commit):
        base = self.repo_dir(key, commit)
        out = []
        for d, _, names in os.walk(base):
            for n in names:
                out.append(os.path.relpath(os.path.join(d, n), base).replace(os.sep, "/"))
        return sorted(out)

    def is_lfs(self, path):
        return any(fnmatch.fnmatch(os.path.basename(path), p) for p in self.lfs)


def git_blob_sha1(data):
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def split_repo(parts, hub, kind):
    """Finds the repo id at the start of `parts` (1 or 2 components). Returns (key, rest)."""
    for n in (2, 1):
        if len(parts) > n:
            key = kind + "/" + "/".join(parts[:n])
            if key in hub.repos or key in hub.redirects:
                return key, parts[n:]
    # Unknown repo: assume org/name when the next part is an endpoint word.
    n = 2 if len(parts) > 2 and parts[2] in ("resolve", "revision", "tree") else 1
    return kind + "/" + "/".join(parts[:n]), parts[n:]


class Handler(BaseHTTPRequestHandler):
    hub = None

    def log_message(self, fmt, *args):  # quiet: the tests read /_mock/log instead
        pass

    def do_HEAD(self):
        self.handle_any(head=True)

    def do_GET(self):
        self.handle_any(head=False)

    # --- responses -----------------------------------------------------------------------------

    def send(self, status, headers=None, body=b"", head=False):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head and body:
            self.wfile.write(body)

    def error(self, status, code, message, extra=None, head=False):
        headers = {"X-Error-Message": message, "Content-Type": "application/json"}
        if code:
            headers["X-Error-Code"] = code
        headers.update(extra or {})
        self.send(status, headers, json.dumps({"error": message}).encode(), head)

    def json(self, obj, head=False):
        self.send(200, {"Content-Type": "application/json"}, json.dumps(obj).encode(), head)

    # --- dispatch ------------------------------------------------------------------------------

    def handle_any(self, head):
        hub = self.hub
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        query = urllib.parse.parse_qs(url.query)
        with hub.lock:
            hub.log.append({"method": self.command, "path": path,
                            "range": self.headers.get("Range"),
                            "auth": self.headers.get("Authorization") is not None,
                            "authorization": self.headers.get("Authorization"),
                            "port": self.server.server_address[1]})
        if path.startswith("/_mock/"):
            return self.control(path, query)
        if path.startswith("/_lfs/"):
            sha = path[len("/_lfs/"):]
            if sha not in hub.blobs:
                return self.error(404, None, "no such blob", head=head)
            return self.serve_file(hub.blobs[sha], path, {"ETag": '"%s"' % sha}, head)
        # Split before unquoting: a revision like refs%2Fpr%2F1 is one part, as on the Hub.
        parts = [urllib.parse.unquote(p) for p in url.path.split("/") if p]
        if parts[:1] == ["api"] and len(parts) > 2 and parts[1] in ("models", "datasets"):
            key, rest = split_repo(parts[2:], hub, parts[1])
            prefix = "/api/" + parts[1] + "/"
            return self.api(key, rest, prefix, url.query, head)
        kind = "models"
        if parts[:1] == ["datasets"]:
            kind, parts = "datasets", parts[1:]
        key, rest = split_repo(parts, hub, kind)
        if len(rest) >= 3 and rest[0] == "resolve":
            prefix = "/" if kind == "models" else "/datasets/"
            return self.resolve(key, rest[1], "/".join(rest[2:]), prefix, url.query, head)
        return self.error(404, None, "unknown endpoint " + path, head=head)

    def control(self, path, query):
        hub = self.hub
        if path == "/_mock/log":
            with hub.lock:
                return self.json(list(hub.log))
        if path == "/_mock/clear_log":
            with hub.lock:
                hub.log.clear()
            return self.json({})
        if path == "/_mock/faults":
            with hub.lock:
                hub.faults = {k: v[0] for k, v in query.items()}
            return self.json(hub.faults)
        if path == "/_mock/branch":
            with hub.lock:
                hub.repos[query["repo"][0]]["branches"][query["name"][0]] = query["commit"][0]
            return self.json({})
        if path == "/_mock/listing":
            with hub.lock:
                repo = hub.repos[query["repo"][0]]
                repo["extra_siblings"] = json.loads(query.get("siblings", ["{}"])[0])
                repo["extra_tree"] = json.loads(query.get("tree", ["[]"])[0])
            return self.json({})
        return self.error(404, None, "unknown control " + path)

    def redirect_repo(self, key, rest_path, prefix, query, head):
        """A renamed repo: 307 to the new name, with a relative Location like the Hub's."""
        target = self.hub.redirects[key].split("/", 1)[1]
        loc = prefix + target + "/" + rest_path + ("?" + query if query else "")
        self.send(307, {"Location": urllib.parse.quote(loc, safe="/?=&")}, head=head)

    def check_repo(self, key, head):
        """Answers the auth errors; returns the repo config or None once an error was sent."""
        repo = self.hub.repos.get(key)
        if repo is None:
            self.error(404, "RepoNotFound", "Repository not found", head=head)
            return None
        want = repo.get("token")
        if want:
            auth = self.headers.get("Authorization")
            if auth is None:
                self.error(401, "GatedRepo", "Access to this repo is restricted. You must be "
                           "authenticated to access it.", head=head)
                return None
            if auth != "Bearer " + want:
                self.error(401, None, "Invalid credentials in Authorization header", head=head)
                return None
        return repo

    def api(self, key, rest, prefix, query, head):
        hub = self.hub
        if key in hub.redirects:
            return self.redirect_repo(key, "/".join(rest), prefix, query, head)
        repo = self.check_repo(key, head)
        if repo is None:
            return
        if len(rest) >= 2 and rest[0] in ("revision", "tree"):
            commit = hub.commit_of(key, rest[1])
            if commit is None:
                return self.error(404, "RevisionNotFound", "Invalid rev id: " + rest[1], head=head)
            files = hub.files(key, commit)
            if rest[0] == "revision":
                names = files + list(repo.get("extra_siblings", {}))
                return self.json({"id": key.split("/", 1)[1], "sha": commit,
                                  "siblings": [{"rfilename": n} for n in names]}, head)
            sub = "/".join(rest[2:])
            entries = []
            for f in files:
                if sub and not f.startswith(sub + "/"):
                    continue
                with open(os.path.join(hub.repo_dir(key, commit), f), "rb") as fh:
                    data = fh.read()
                e = {"type": "file", "path": f, "size": len(data), "oid": git_blob_sha1(data)}
                if hub.is_lfs(f):
                    e["lfs"] = {"oid": hashlib.sha256(data).hexdigest(), "size": len(data),
                                "pointerSize": 134}
                entries.append(e)
            for name in repo.get("extra_siblings", {}):
                entries.append({"type": "file", "path": name, "size": 1, "oid": "0" * 40})
            entries.extend(repo.get("extra_tree", []))
            return self.json(entries, head)
        return self.error(404, None, "unknown api endpoint", head=head)

    def resolve(self, key, rev, fname, prefix, query, head):
        hub = self.hub
        if key in hub.redirects:
            return self.redirect_repo(key, "resolve/%s/%s" % (rev, fname), prefix, query, head)
        repo = self.check_repo(key, head)
        if repo is None:
            return
        commit = hub.commit_of(key, rev)
        if commit is None:
            return self.error(404, "RevisionNotFound", "Invalid rev id: " + rev, head=head)
        extra = repo.get("extra_siblings", {})
        if fname in extra:  # a hostile name: served as-is, the client must refuse it first
            body = extra[fname].encode()
            return self.send(200, {"X-Repo-Commit": commit,
                                   "ETag": '"%s"' % git_blob_sha1(body)}, body, head)
        full = os.path.normpath(os.path.join(hub.repo_dir(key, commit), fname))
        if not full.startswith(hub.repo_dir(key, commit) + os.sep) or not os.path.isfile(full):
            return self.error(404, "EntryNotFound", "Entry not found",
                              {"X-Repo-Commit": commit}, head)
        with open(full, "rb") as fh:
            data = fh.read()
        if hub.is_lfs(fname):
            sha = hashlib.sha256(data).hexdigest()
            with hub.lock:
                hub.blobs[sha] = full
            # Another host name for the same server, as the Hub's CDN is another host: the client
            # must not send the token there.
            host = self.hub.faults.get("lfs_host",
                                       "http://localhost:%d" % self.server.server_address[1])
            return self.send(302, {
                "Location": host + "/_lfs/" + sha, "X-Repo-Commit": commit,
                "X-Linked-Etag": '"%s"' % sha,
                "X-Linked-Size": self.hub.faults.get("linked_size", str(len(data))),
                "ETag": '"%s"' % git_blob_sha1(data)}, head=head)
        redirect = self.hub.faults.get("redirect")
        primary = "127.0.0.1:%d" % self.server.server_address[1]
        if redirect and not head and self.headers.get("Host") == primary and \
                self.server.server_address[1] == self.hub.ports[0]:
            return self.send(302, {"Location": redirect + self.path})
        return self.serve_file(full, self.path, {"X-Repo-Commit": commit,
                                                 "ETag": '"%s"' % git_blob_sha1(data)}, head)

    def serve_file(self, full, url_path, headers, head):
        hub = self.hub
        with open(full, "rb") as fh:
            data = bytearray(fh.read())
        with hub.lock:
            f = dict(hub.faults)
            armed = not head and f.get("match") is not None and f["match"] in url_path
            if armed and "times" in f:  # the fault hits this many requests, then none
                times = int(f["times"])
                hub.faults["times"] = str(times - 1)
                armed = times > 0
        if armed and "delay" in f:
            time.sleep(float(f["delay"]))
        if armed and ("hold_heads" in f or "hold_retry" in f):
            path_only = urllib.parse.urlsplit(url_path).path

            def released():
                if "hold_heads" in f:
                    return sum(r["method"] == "HEAD" for r in hub.log) >= int(f["hold_heads"])
                return sum(r["method"] == "GET" and r["path"] == path_only for r in hub.log) >= 2

            deadline = time.time() + 60
            while time.time() < deadline:
                with hub.lock:
                    if released():
                        break
                time.sleep(0.005)
            if "hold_retry" in f:  # the client gave up on this one; its retry gets the body
                self.close_connection = True
                return
        if armed and "status" in f:
            return self.error(int(f["status"]), None, "injected failure")
        if armed and "corrupt" in f and len(data) > 0:
            data[len(data) // 2] ^= 0xFF
        start, end, status = 0, len(data), 200
        rng = self.headers.get("Range")
        if armed and "ignore_range" in f:
            rng = None
        if rng and armed and "range_from_zero" in f:
            rng = "bytes=0-"
        if rng and rng.startswith("bytes="):
            a, _, b = rng[len("bytes="):].partition("-")
            start = int(a)
            end = int(b) + 1 if b else len(data)
            if start >= len(data):
                return self.send(416, {"Content-Range": "bytes */%d" % len(data)}, head=head)
            status = 206
            headers = dict(headers, **{"Content-Range": "bytes %d-%d/%d" % (start, end - 1,
                                                                              len(data))})
        body = bytes(data[start:end])
        if armed and "cut_after" in f:
            if "times" not in f:
                with hub.lock:
                    hub.faults.pop("cut_after", None)  # once
            n = int(f["cut_after"])
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:n])
            self.wfile.flush()
            self.close_connection = True
            return
        self.send(status, headers, body, head)
        if not head:  # lets tests order events: this body was sent in full
            with hub.lock:
                hub.log.append({"method": "DONE", "path": urllib.parse.urlsplit(url_path).path,
                                "range": None, "auth": False})


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A client that gave up (timeout tests) leaves a broken pipe behind: not an error here.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def prefix_port_servers():
    """Two servers on P and 10*P+d (d in 0..9): P's digits are a prefix of the other's."""
    rng = random.Random()
    for _ in range(200):
        p = rng.randrange(1100, 6553)
        try:
            first = Server(("127.0.0.1", p), Handler)
        except OSError:
            continue
        for d in range(10):
            try:
                return first, Server(("127.0.0.1", 10 * p + d), Handler)
            except OSError:
                pass
        first.server_close()
    raise SystemExit("no free pair of prefix ports")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--prefix-port", action="store_true",
                    help="also listen on 10*P+d, so that one port is a string prefix of the other")
    args = ap.parse_args()
    Handler.hub = Hub(args.root)
    if args.prefix_port:
        server, second = prefix_port_servers()
        Handler.hub.ports = [server.server_address[1], second.server_address[1]]
        threading.Thread(target=second.serve_forever, daemon=True).start()
        print(*Handler.hub.ports, flush=True)
    else:
        server = Server(("127.0.0.1", args.port), Handler)
        Handler.hub.ports = [server.server_address[1]]
        print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
