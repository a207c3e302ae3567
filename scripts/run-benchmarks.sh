#!/usr/bin/env bash
# Runs the benchmarks side by side with the PyTorch peer on the same files and batches, and
# prints medians. Usage: scripts/run-benchmarks.sh BUILD_DIR [load|train|ops|tokenizer|all]
set -euo pipefail
build=${1:-build}
what=${2:-all}
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${FT_SHARED_DIR:-$here/../shared}
data=$build/bench_data/full_distilbert
ids=$shared/reference/tokenization/cola_bert_uncased_ids.jsonl
py=/usr/bin/python3
if [ ! -f "$data/bin/pytorch_model.bin" ]; then
  $py "$here/tools/make_full_checkpoint.py" \
    --config "$shared/data/models/distilbert-base-uncased/config.json" --out "$data"
fi
# The peer's torch runs its float GEMMs through libblas.so.3: use OpenBLAS, as the reference
# environment did (Debian's reference BLAS is many times slower and would flatter us).
openblas=/usr/lib/x86_64-linux-gnu/openblas-pthread
[ -f "$openblas/libblas.so.3" ] && export LD_LIBRARY_PATH=$openblas${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
tuned_malloc=(env MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=68719476736 MALLOC_TOP_PAD_=536870912)

if [ "$what" = load ] || [ "$what" = all ]; then
  echo "== load: finetune (C++), medians of 5"
  FT_BENCH_CHECKPOINTS=$data "$build/load_bench" --benchmark_repetitions=5 \
    --benchmark_report_aggregates_only=true 2>&1 | grep -E 'median|Benchmark' || true
  echo "== load: peer (PyTorch $($py -c 'import torch; print(torch.__version__)')), medians of 5"
  $py "$here/tools/bench_load_peer.py" "$data" --repetitions 5
fi

if [ "$what" = train ] || [ "$what" = all ]; then
  steps=${FT_BENCH_STEPS:-20}
  echo "== machine limits: peak f32 FMA rate and AdamW-shaped in-place memory bandwidth"
  "$build/machine_limits_bench"
  echo "== train step: full-size DistilBERT, CoLA train batches of 16 in file order, $steps steps after 3 warm-up"
  "$build/train_step_bench" --checkpoint "$data/safetensors" --ids "$ids" --steps "$steps"
  $py "$here/tools/bench_train_step_peer.py" --checkpoint "$data/bin" --ids "$ids" --steps "$steps"
  "${tuned_malloc[@]}" $py "$here/tools/bench_train_step_peer.py" --checkpoint "$data/bin" --ids "$ids" --steps "$steps"
  "${tuned_malloc[@]}" $py "$here/tools/bench_train_step_peer.py" --checkpoint "$data/bin" --ids "$ids" --steps "$steps" --threads 2
fi

if [ "$what" = ops ] || [ "$what" = all ]; then
  echo "== ops (GEMM shapes of the model, attention)"
  "$build/ops_bench" --benchmark_min_time=0.3
fi

if [ "$what" = tokenizer ] || [ "$what" = all ]; then
  # No peer runs here: neither transformers nor tokenizers is packaged in Debian.
  echo "== tokenizer: CoLA + SST-2 train sentences; map with the tokenizer over SST-2 train"
  FT_SHARED_DIR=$shared "$build/tokenizer_bench" --benchmark_repetitions=5 \
    --benchmark_report_aggregates_only=true 2>&1 | grep -E 'median|Benchmark' || true
  FT_SHARED_DIR=$shared "$build/map_bench" --benchmark_repetitions=5 \
    --benchmark_report_aggregates_only=true 2>&1 | grep -E 'median|Benchmark' || true
fi
