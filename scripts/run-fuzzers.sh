#!/usr/bin/env bash
# Runs every libFuzzer target in a build for a fixed time, each on a scratch copy of its seed corpus
# (fuzz/corpus/<name without _fuzz>/) so the committed corpus never grows.
# Usage: scripts/run-fuzzers.sh BUILD_DIR SECONDS     (exits non-zero if any fuzzer fails)
set -uo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 BUILD_DIR SECONDS" >&2
  exit 2
fi
build_dir=$1
seconds=$2
repo=$(cd "$(dirname "$0")/.." && pwd)

scratch=$(mktemp -d "${TMPDIR:-/tmp}/ft-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

found=0
failed=()
for fuzzer in "$build_dir"/*_fuzz; do
  [ -f "$fuzzer" ] && [ -x "$fuzzer" ] || continue
  found=1
  name=$(basename "$fuzzer" _fuzz)
  corpus="$scratch/$name"
  mkdir -p "$corpus"
  if [ -d "$repo/fuzz/corpus/$name" ]; then
    cp -R "$repo/fuzz/corpus/$name/." "$corpus/"
  else
    echo "note: no seed corpus fuzz/corpus/$name; starting empty" >&2
  fi
  echo "=== $name: ${seconds}s"
  # Crash reproducers land in the scratch dir too; libFuzzer prints their path on failure.
  if ! "$fuzzer" -max_total_time="$seconds" -print_final_stats=1 \
       -artifact_prefix="$scratch/$name-" "$corpus"; then
    failed+=("$name")
    # Keep the reproducer where the user can find it after the scratch dir is removed.
    for a in "$scratch/$name-"*; do
      [ -e "$a" ] && cp "$a" "$build_dir/" && echo "reproducer: $build_dir/$(basename "$a")"
    done
  fi
done

if [ $found -eq 0 ]; then
  echo "no *_fuzz executables in $build_dir (configure with -DFT_FUZZ=ON)" >&2
  exit 1
fi
if [ ${#failed[@]} -ne 0 ]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "all fuzzers passed"
