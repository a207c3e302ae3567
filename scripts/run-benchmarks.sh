#!/usr/bin/env bash
# Runs the benchmarks side by side with the PyTorch peer on the same files and prints medians.
# Usage: scripts/run-benchmarks.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${FT_SHARED_DIR:-$here/../shared}
data=$build/bench_data/full_distilbert
if [ ! -f "$data/bin/pytorch_model.bin" ]; then
  /usr/bin/python3 "$here/tools/make_full_checkpoint.py" \
    --config "$shared/data/models/distilbert-base-uncased/config.json" --out "$data"
fi
echo "== finetune (C++): load_bench, medians of 5"
FT_BENCH_CHECKPOINTS=$data "$build/load_bench" --benchmark_repetitions=5 \
  --benchmark_report_aggregates_only=true --benchmark_filter='.*' 2>&1 | grep -E 'median|Benchmark' || true
echo "== peer (PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)')), medians of 5"
/usr/bin/python3 "$here/tools/bench_load_peer.py" "$data" --repetitions 5
