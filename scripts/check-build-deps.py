#!/usr/bin/env python3
"""Checks that scripts/install-deps.sh installs everything a build read from the system.

After configure and build, it collects the system files the build read:
  - the absolute paths in CMakeCache.txt (found libraries, headers, package config folders),
  - every CMake file the configure step read (build.ninja's re-run-cmake inputs),
  - every header ninja recorded for every object (`ninja -t deps`),
  - the libraries on the link lines (absolute paths and -l names resolved as the linker does),
then maps each file to its Debian package with `dpkg -S` (trying the symlink's target and the
/usr-merged twin too). It passes only if each package is in the closure of the install-deps
group over Depends and Pre-Depends (never Recommends), or has Priority required or important.

Usage: scripts/check-build-deps.py BUILD_DIR [--group build|all] [--packages FILE]
  --packages FILE  check against this list (one package a line) instead of install-deps.sh's group
Exit 0 when complete; 1 with the missing packages and the files that need them.
"""
import argparse
import os
import re
import shlex
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw).stdout


def source_dir(build_dir):
    """The source tree the build was configured from (a worktree may not be this script's)."""
    with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
        for line in f:
            if line.startswith("CMAKE_HOME_DIRECTORY:INTERNAL="):
                return line.split("=", 1)[1].strip()
    return REPO


def is_system_path(path, build_dir):
    path = os.path.abspath(path)
    if not path.startswith("/"):
        return False
    for private in (REPO, source_dir(build_dir), os.path.abspath(build_dir), "/tmp", "/proc", "/dev",
                    "/root", "/home"):
        if path == private or path.startswith(private + "/"):
            return False
    return os.path.exists(path)


# Binary utilities CMake's compiler detection picks among alternatives (llvm-ar where LLVM is
# installed, binutils' ar otherwise): a machine without the preferred one builds all the same.
TOOLCHAIN_UTILITY = re.compile(
    r"^CMAKE_((C|CXX|ASM)_COMPILER_)?(AR|RANLIB|LINKER|NM|OBJCOPY|OBJDUMP|READELF|STRIP|ADDR2LINE|"
    r"DLLTOOL|MT)$")


def cuda_toolkit_root(build_dir):
    """The CUDA toolkit's folder when configure found nvcc (CMakeLists.txt's check_language records
    it even where FT_CUDA is off, e.g. the sanitizer build), else None. The toolkit is optional and
    not a Debian package: a machine without it builds the CPU-only library."""
    values = {}
    with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
        for line in f:
            m = re.match(r"^(FT_CUDA|CMAKE_CUDA_COMPILER):[A-Z]+=(.*)$", line.strip())
            if m:
                values[m.group(1)] = m.group(2)
    if not values.get("CMAKE_CUDA_COMPILER") or values["CMAKE_CUDA_COMPILER"].endswith("NOTFOUND"):
        return None
    return os.path.dirname(os.path.dirname(os.path.realpath(values["CMAKE_CUDA_COMPILER"])))


def cache_paths(build_dir):
    """Absolute paths among CMakeCache.txt values (a value may be a ;-list)."""
    out = set()
    with open(os.path.join(build_dir, "CMakeCache.txt")) as f:
        for line in f:
            m = re.match(r"^([A-Za-z0-9_.+-]+):(PATH|FILEPATH|STRING|UNINITIALIZED)=(.*)$", line.strip())
            if not m or TOOLCHAIN_UTILITY.match(m.group(1)):
                continue
            for item in m.group(3).split(";"):
                # Link-item lists carry keywords and flags; keep only absolute paths.
                if item.startswith("/"):
                    out.add(item)
    return out


def cmake_inputs(build_dir):
    """The CMake files configure read: the inputs of build.ninja's RERUN_CMAKE edge."""
    out = set()
    text = open(os.path.join(build_dir, "build.ninja")).read()
    m = re.search(r"^build build\.ninja[^:]*: RERUN_CMAKE[^|\n]*\|((?:[^\n]|\$\n)*)", text, re.M)
    if m:
        body = m.group(1).replace("$\n", " ")
        out.update(p.replace("$ ", " ") for p in re.split(r"(?<!\$) +", body) if p.startswith("/"))
    return out


def ninja_deps(build_dir):
    """Every header any object depended on, as ninja recorded it."""
    out = set()
    for line in run(["ninja", "-C", build_dir, "-t", "deps"]).splitlines():
        if line.startswith("    "):
            out.add(line.strip())
    return out


def linker_search_dirs():
    text = run(["sh", "-c", "ld --verbose"])
    return re.findall(r'SEARCH_DIR\("=?([^"]+)"\)', text)


def link_libraries(build_dir):
    """Libraries on the link lines: absolute paths, and -lNAME resolved along -L and the defaults."""
    out = set()
    defaults = linker_search_dirs()
    for line in run(["ninja", "-C", build_dir, "-t", "commands"]).splitlines():
        try:
            args = shlex.split(line)
        except ValueError:
            continue
        if " -o " not in line or not any(a.endswith((".a", ".so")) or a.startswith("-l") for a in args):
            continue
        if any(a == "-c" for a in args):  # a compile, not a link
            continue
        # The compiler driver: CMake's link lines start ": && /usr/bin/c++ ...".
        driver = next((a for a in args if re.search(r"(clang|g\+\+|c\+\+|gcc)[-0-9.]*$", a)), "")
        search = [a[2:] for a in args if a.startswith("-L")] + defaults
        for a in args:
            if a.startswith("/") and re.search(r"\.(a|so)(\.[0-9.]+)?$", a):
                out.add(a)
            elif a.startswith("-l") and len(a) > 2:
                name = a[2:]
                for d in search:
                    for cand in (f"lib{name}.so", f"lib{name}.a"):
                        p = os.path.join(d, cand)
                        if os.path.exists(p):
                            out.add(p)
                            break
                    else:
                        continue
                    break
            elif a.startswith("-fopenmp") and driver and "clang" not in driver:
                # GCC's driver adds libgomp; ask it where that lies.
                p = run([driver, "-print-file-name=libgomp.so"]).strip()
                if os.path.isabs(p):
                    out.add(p)
            elif a.startswith("-fsanitize=") and "clang" in driver:
                # clang's driver links its sanitizer and libFuzzer runtimes from its runtime dir.
                rt = run([driver, "--print-runtime-dir"]).strip()
                names = {"address": "asan", "undefined": "ubsan_standalone", "fuzzer": "fuzzer"}
                for s in a.split("=", 1)[1].split(","):
                    if s in names:
                        out.add(os.path.join(rt, f"libclang_rt.{names[s]}-x86_64.a"))
    return out


def dpkg_search(paths):
    """path -> owning packages, for the paths dpkg knows; one `dpkg -S` call per 200 paths."""
    found = {}
    paths = sorted(set(paths))
    for i in range(0, len(paths), 200):
        r = subprocess.run(["dpkg", "-S"] + paths[i:i + 200], capture_output=True, text=True)
        for line in r.stdout.splitlines():
            # "pkg1:amd64, pkg2: /path"; diversions start with "diversion by".
            if line.startswith("diversion "):
                continue
            names, _, owned = line.rpartition(": ")
            found.setdefault(owned.strip(), set()).update(n.strip().split(":")[0] for n in names.split(","))
    return found


def owners(files):
    """file -> sorted owning packages, trying the path, its resolved target and its /usr-merged twin."""
    def forms(path):
        out = [path, os.path.realpath(path)]
        return out + [p[4:] if p.startswith("/usr/") else "/usr" + p for p in out]

    found = dpkg_search(p for f in files for p in forms(f))
    result = {}
    for f in files:
        for p in forms(f):
            if p in found:
                result[f] = sorted(found[p])
                break
        else:
            result[f] = []
    return result


def installed_db():
    """package -> (priority, [[alternatives] of Depends + Pre-Depends]); provides -> providers."""
    fmt = "${Package}\t${Status}\t${Priority}\t${Depends}\t${Pre-Depends}\t${Provides}\n"
    db, provides = {}, {}
    for line in run(["dpkg-query", "-W", "-f", fmt]).splitlines():
        pkg, status, prio, dep, pre, prov = (line.split("\t") + [""] * 6)[:6]
        if not status.endswith(" installed"):
            continue
        groups = []
        for field in (dep, pre):
            for group in filter(None, (g.strip() for g in field.split(","))):
                alts = [re.split(r"[ (:]", a.strip())[0] for a in group.split("|")]
                groups.append(alts)
        db[pkg] = (prio, groups)
        for p in filter(None, (x.strip() for x in prov.split(","))):
            provides.setdefault(re.split(r"[ (:]", p)[0], set()).add(pkg)
    return db, provides


def closure(roots, db, provides):
    seen, todo = set(), list(roots)
    while todo:
        name = todo.pop()
        for pkg in [name] + sorted(provides.get(name, ())):
            if pkg in seen or pkg not in db:
                continue
            seen.add(pkg)
            for alts in db[pkg][1]:
                todo.extend(alts)  # an alternative that is installed is what satisfied it
    return seen


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build_dir")
    ap.add_argument("--group", choices=["build", "all"], default="all")
    ap.add_argument("--packages", help="one package a line, instead of install-deps.sh's group")
    args = ap.parse_args()

    if args.packages:
        roots = [l.split("#")[0].strip() for l in open(args.packages)]
        roots = [r for r in roots if r]
        source = args.packages
    else:
        script = os.path.join(REPO, "scripts", "install-deps.sh")
        roots = run([script, "--list", args.group]).split()
        source = f"install-deps.sh --list {args.group}"

    files = set()
    for collect in (cache_paths, cmake_inputs, ninja_deps, link_libraries):
        files |= {os.path.normpath(p) for p in collect(args.build_dir) if is_system_path(p, args.build_dir)}
    cuda_root = cuda_toolkit_root(args.build_dir)
    cuda_on = "FT_CUDA:BOOL=ON" in open(os.path.join(args.build_dir, "CMakeCache.txt")).read()
    cuda_files = set()
    if cuda_root:
        def in_toolkit(p):
            r = os.path.realpath(p)
            return r == cuda_root or r.startswith(cuda_root + "/") or p.startswith("/usr/local/cuda/") or p == "/usr/local/cuda"
        cuda_files = {f for f in files if in_toolkit(f)}
        files -= cuda_files

    db, provides = installed_db()
    allowed = closure(roots, db, provides)
    base = {p for p, (prio, _) in db.items() if prio in ("required", "important")}
    allowed_all = allowed | base

    missing, unowned, checked = {}, [], 0
    for f, pkgs in sorted(owners(files).items()):
        if not pkgs:
            # A folder no package owns (CMAKE_INSTALL_PREFIX=/usr/local) was not read from; a file
            # no package owns is something installed by hand, which a fresh machine lacks.
            if not os.path.isdir(f):
                unowned.append(f)
            continue
        checked += 1
        # A folder is shared by every package with files in it: one allowed owner suffices.
        if not any(p in allowed_all for p in pkgs):
            for p in pkgs:
                missing.setdefault(p, []).append(f)

    print(f"check-build-deps: {len(files)} system files read by {args.build_dir}, {checked} owned by "
          f"Debian packages; {len(roots)} packages in {source}, {len(allowed)} with their Depends")
    if cuda_files:
        print(f"  and {len(cuda_files)} files of the CUDA toolkit in {cuda_root} (FT_CUDA "
              f"{'ON' if cuda_on else 'OFF'}; optional, not a Debian package)")
    if unowned:
        print("FAIL: the build reads files that no Debian package installs (a fresh machine lacks them):")
        for f in unowned:
            print(f"  {f}")
    if missing:
        print(f"FAIL: the build reads files of packages that {source} does not install:")
        for p, fs in sorted(missing.items()):
            more = f" (+{len(fs) - 3} more)" if len(fs) > 3 else ""
            print(f"  {p}: {', '.join(fs[:3])}{more}")
    if missing or unowned:
        return 1
    print("PASS: every file the build read comes from an installed-by-us or base package")
    return 0


if __name__ == "__main__":
    sys.exit(main())
