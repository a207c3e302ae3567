#!/usr/bin/env bash
# Long fuzzing runs that grow the committed corpora (`make fuzz-long`): each libFuzzer target runs
# for SECONDS with fuzz/corpus/<name>/ as its seeds, writing new inputs to a scratch folder; the new
# inputs that add coverage are then merged into fuzz/corpus/<name>/ with -merge=1, so the corpus
# keeps its named seeds and grows only by what libFuzzer could not reach before.
# Usage: scripts/fuzz-long.sh BUILD_DIR SECONDS REPORT [NAME...]   (NAME: e.g. config; default all)
# SECONDS 0 fuzzes nothing and only brings each corpus back under its size budget.
# Prints a table (fuzzer, seconds, executions, edges, features, corpus) to stdout and REPORT.
# A crash, leak, sanitizer report, timeout or out-of-memory input fails the script; its reproducer
# is kept under BUILD_DIR/fuzz-long-artifacts/. Logs: BUILD_DIR/fuzz-long-logs/<name>.log.
# Tunables (environment): FUZZ_MAX_LEN (bytes per input, 65536), FUZZ_RSS_MB (2048),
# FUZZ_MALLOC_MB (one allocation, 1024), FUZZ_TIMEOUT (seconds per input, 60),
# FUZZ_CORPUS_MAX_KB (1024) and FUZZ_CORPUS_MAX_FILES (1000): past either, the generated part of
# the corpus is re-minimised.
set -uo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 BUILD_DIR SECONDS REPORT [NAME...]" >&2
  exit 2
fi
build_dir=$(cd "$1" && pwd) || exit 2
seconds=$2
report=$3
shift 3
repo=$(cd "$(dirname "$0")/.." && pwd)
max_len=${FUZZ_MAX_LEN:-65536}
rss_mb=${FUZZ_RSS_MB:-2048}
malloc_mb=${FUZZ_MALLOC_MB:-1024}
timeout=${FUZZ_TIMEOUT:-60}
corpus_max_kb=${FUZZ_CORPUS_MAX_KB:-1024}
corpus_max_files=${FUZZ_CORPUS_MAX_FILES:-1000}

artifacts="$build_dir/fuzz-long-artifacts"
logs="$build_dir/fuzz-long-logs"
mkdir -p "$artifacts" "$logs" "$(dirname "$report")"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ft-fuzz-long.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

fuzzers=()
if [ $# -gt 0 ]; then
  for n in "$@"; do fuzzers+=("$build_dir/${n%_fuzz}_fuzz"); done
else
  for f in "$build_dir"/*_fuzz; do fuzzers+=("$f"); done
fi

# The options every run and merge shares: the same limits, so merging sees what fuzzing saw.
common=(-max_len="$max_len" -rss_limit_mb="$rss_mb" -malloc_limit_mb="$malloc_mb"
  -timeout="$timeout")

corpus_kb() { du -sb "$1" | awk '{print int($1 / 1024)}'; }  # bytes, not disk blocks
corpus_files() { find "$1" -type f | wc -l; }
over_budget() { [ "$(corpus_kb "$1")" -gt "$corpus_max_kb" ] || [ "$(corpus_files "$1")" -gt "$corpus_max_files" ]; }

rows=()
failed=()
for fuzzer in "${fuzzers[@]}"; do
  name=$(basename "$fuzzer" _fuzz)
  if [ ! -x "$fuzzer" ]; then
    echo "no fuzzer $fuzzer (configure with -DFT_FUZZ=ON and build)" >&2
    failed+=("$name")
    rows+=("| $name | - | - | - | - | - | missing |")
    continue
  fi
  # A private copy runs, so the build folder can be rebuilt (a fix) while the run goes on; each
  # fuzzer is copied when its turn comes and so includes the fixes built before then.
  cp "$fuzzer" "$scratch/$name.bin" || exit 1
  fuzzer="$scratch/$name.bin"
  corpus="$repo/fuzz/corpus/$name"
  mkdir -p "$corpus"
  new="$scratch/$name-new"
  mkdir -p "$new"
  log="$logs/$name.log"
  [ "$seconds" -gt 0 ] || log="$logs/$name-budget.log"  # keeps the last real run's log
  echo "=== $name: ${seconds}s on fuzz/corpus/$name ($(corpus_files "$corpus") files)"
  # The first folder receives the new inputs; the committed corpus is only read until the merge.
  # SECONDS 0 only re-checks the corpus budget (libFuzzer would read 0 as "no time limit").
  start=$SECONDS
  rc=0
  : >"$log"
  if [ "$seconds" -gt 0 ]; then
    "$fuzzer" "${common[@]}" -max_total_time="$seconds" -print_final_stats=1 \
      -artifact_prefix="$artifacts/$name-" "$new" "$corpus" >"$log" 2>&1
    rc=$?
  fi
  ran=$((SECONDS - start))
  status=ok
  if [ $rc -ne 0 ]; then
    status="FAILED (exit $rc)"
    failed+=("$name")
    grep -E "^(==[0-9]+==ERROR|SUMMARY|.*runtime error)|Test unit written to" "$log" | head -5
  fi
  execs=$(grep -oE "stat::number_of_executed_units: [0-9]+" "$log" | tail -1 | grep -oE "[0-9]+$")
  # The last status line (DONE, or the last one before a crash) has the final counts.
  last=$(grep -E "^#[0-9]+.*cov: [0-9]+" "$log" | tail -1)
  edges=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$last")
  features=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$last")

  # Only inputs that add coverage to the committed corpus join it.
  added=$(corpus_files "$new")
  if [ "$added" -gt 0 ]; then
    before=$(corpus_files "$corpus")
    if ! "$fuzzer" "${common[@]}" -merge=1 "$corpus" "$new" >>"$log" 2>&1; then
      status="$status, merge failed"
      failed+=("$name")
    fi
    echo "merged: $((  $(corpus_files "$corpus") - before )) of $added new inputs kept"
  fi
  # Past the budget, the generated inputs (named by their SHA-1) are minimised afresh against
  # the hand-made seeds, which always stay: first keeping every feature (edges and their hit
  # counts), then, if still too big, only the edges (-use_counters=0), which keeps far fewer
  # inputs for formats like Parquet.
  for counters in 1 0; do
    over_budget "$corpus" || break
    echo "corpus over ${corpus_max_kb} KB or ${corpus_max_files} files: minimising it (use_counters=$counters)"
    min="$scratch/$name-min-$counters"
    generated="$scratch/$name-generated-$counters"
    mkdir -p "$min" "$generated"
    for f in "$corpus"/*; do
      if [[ $(basename "$f") =~ ^[0-9a-f]{40}$ ]]; then cp "$f" "$generated/"; else cp "$f" "$min/"; fi
    done
    if "$fuzzer" "${common[@]}" -use_counters=$counters -merge=1 "$min" "$generated" \
      >>"$log" 2>&1 && [ "$(corpus_files "$min")" -gt 0 ]; then
      rm -rf "${corpus:?}"/*
      cp "$min"/* "$corpus"/
    else
      status="$status, minimise failed"
      failed+=("$name")
      break
    fi
  done
  over_budget "$corpus" && status="$status, corpus over budget"
  files=$(corpus_files "$corpus")
  kb=$(corpus_kb "$corpus")
  echo "$name: ${ran}s, ${execs:-?} executions, ${edges:-?} edges, ${features:-?} features, $files files (${kb} KB): $status"
  rm -f "$fuzzer"
  rows+=("| $name | $ran | ${execs:-?} | ${edges:-?} | ${features:-?} | $files (${kb} KB) | $status |")
done

{
  echo "# fuzz-long: $(date -u +%Y-%m-%dT%H:%MZ), $(git -C "$repo" rev-parse --short HEAD 2>/dev/null)"
  echo
  echo "| fuzzer | seconds | executions | edges (cov) | features (ft) | corpus files | result |"
  echo "|---|---|---|---|---|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Reproducers: $artifacts. Logs: $logs."
} >"$report"
echo
cat "$report"

if [ ${#failed[@]} -ne 0 ]; then
  echo "FAILED: ${failed[*]}" >&2
  exit 1
fi
