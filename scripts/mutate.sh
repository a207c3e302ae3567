#!/usr/bin/env bash
# Mutation check, by hand (not in CI): applies each small mutation of scripts/mutations.tsv, one
# at a time, to a copy of the tree, rebuilds the test binary there, runs only the tests the row
# names, and reports whether they caught it. The copy and its build persist in $MUTATE_DIR
# (default /tmp/finetune-mutate), so only the first run builds everything (~7 min on 2 cores);
# each mutation then rebuilds one file and relinks.
# Usage: scripts/mutate.sh [NAME...]   (no names: every row)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${MUTATE_DIR:-/tmp/finetune-mutate}
list=$repo/scripts/mutations.tsv
mkdir -p "$work/tree"
# The tracked files (and the untracked ones git does not ignore) as they are in the working tree.
# Only files whose bytes differ are written (with a new mtime, so the build sees them); the
# others keep theirs and are not rebuilt. Files the tree no longer has are removed from the copy.
(cd "$repo" && git ls-files -co --exclude-standard -z) | python3 -c '
import os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
files = [rel for rel in sys.stdin.buffer.read().decode().split("\0") if rel]
keep = set(files)
for root, _, names in os.walk(dst):
    for name in names:
        rel = os.path.relpath(os.path.join(root, name), dst)
        if rel not in keep:
            os.remove(os.path.join(root, name))
for rel in files:
    if not os.path.isfile(os.path.join(src, rel)):
        continue
    a, b = os.path.join(src, rel), os.path.join(dst, rel)
    if os.path.exists(b) and open(a, "rb").read() == open(b, "rb").read():
        continue
    os.makedirs(os.path.dirname(b), exist_ok=True)
    shutil.copyfile(a, b)
    shutil.copymode(a, b)
' "$repo" "$work/tree"
ln -sfn "$(cd "$repo/.." && pwd)/shared" "$work/shared"
tree=$work/tree build=$work/build
# CPU-only: the mutations are of CPU code, and CUDA would only slow each rebuild.
cmake -S "$tree" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFT_BUILD_TESTS=ON \
  -DFT_BUILD_BENCH=OFF -DFT_CUDA=OFF -DFT_SHARED_DIR="$work/shared" > "$work/configure.log"
echo "building the unmutated copy in $build"
cmake --build "$build" -j "$(nproc)" --target finetune_tests > "$work/build.log" 2>&1 ||
  { tail -20 "$work/build.log"; exit 1; }
(cd "$build" && ctest -R make_test_data > /dev/null)  # the test data the suites read

results=$work/results.tsv
printf 'mutation\tfile\tverdict\tfailed tests\n' > "$results"
export OMP_WAIT_POLICY=passive
while IFS=$'\t' read -r name file original replacement filter; do
  case $name in '#'*|'') continue ;; esac
  if [ $# -gt 0 ] && ! printf '%s\n' "$@" | grep -qx "$name"; then continue; fi
  cp "$tree/$file" "$work/original"
  if ! python3 - "$tree/$file" "$original" "$replacement" <<'PY'
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
if text.count(old) != 1:
    sys.exit(f"{path}: the mutation's original text occurs {text.count(old)} times, not once: {old}")
open(path, "w").write(text.replace(old, new))
PY
  then
    printf '%s\t%s\t%s\t%s\n' "$name" "$file" "not applied" "-" | tee -a "$results"
    continue
  fi
  verdict=""
  if ! cmake --build "$build" -j "$(nproc)" --target finetune_tests > "$work/build.log" 2>&1; then
    verdict="build failed"
    failed="-"
  else
    log=$work/$name.log
    if (cd "$build" && ./finetune_tests --gtest_filter="$filter" > "$log" 2>&1); then
      verdict="SURVIVED"
      failed="-"
    else
      verdict="caught"
      failed=$(grep -E '^\[  FAILED  \] [A-Za-z]' "$log" | grep -v ' tests\?, listed' | sed 's/\[  FAILED  \] //; s/ (.*//' | sort -u | tr '\n' ' ' || true)
      # A test binary that aborts (an internal assert) names no failed test: say what stopped it.
      [ -n "$failed" ] || failed="(stopped: $(tail -n 1 "$log" | cut -c1-100))"
    fi
  fi
  cp "$work/original" "$tree/$file"  # a new mtime: the next build sees the file change back
  printf '%s\t%s\t%s\t%s\n' "$name" "$file" "$verdict" "$failed" | tee -a "$results"
done < "$list"
cmake --build "$build" -j "$(nproc)" --target finetune_tests > "$work/build.log" 2>&1
echo "results: $results"
awk -F'\t' 'NR > 1 && $3 == "SURVIVED" { n++ } END { print n + 0, "survivors" }' "$results"
