#!/usr/bin/env bash
# Runs the benchmarks side by side with the PyTorch peer on the same files and batches, and
# prints medians. Usage: scripts/run-benchmarks.sh BUILD_DIR
# [load|train|trainer|ops|tokenizer|all|bf16|roberta]
# `trainer` (not in `all`: ~20 min) runs the seed recipe's epoch side by side with current HF's
# Trainer on PyPI's torch; it needs the tools/make_hf_venv.sh venv ($FT_HF_PYTHON, default
# /work/.venv-hf/bin/python) and tools/get_minilm.py's model ($FT_MINILM_DIR).
# `bf16` (not in `all`: ~12 min) runs bf16 autocast beside float32 on a CPU with AVX512-BF16 or
# AMX: the train step (ours, and PyTorch's autocast in Debian's torch and in the venv's current
# torch), the 1043 CoLA dev sentences' evaluation, and one epoch of the seed recipe.
# `roberta` (not in `all`: ~5 min) runs the roberta-base-size train step beside HF's own
# RobertaForSequenceClassification in the venv.
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

if [ "$what" = trainer ]; then
  # One epoch of the seed recipe (batch 16, lr 2e-5, weight decay 0.01, eval and save at the
  # epoch's end, dropout on, shuffled) by `finetune train` and by current HF's Trainer
  # (tools/hf_run_glue.py), on the same init: full-size DistilBERT (random weights, speed only)
  # and the pretrained all-MiniLM-L6-v2. Each runs alone; GNU time gives the peak RSS.
  hf_py=${FT_HF_PYTHON:-/work/.venv-hf/bin/python}
  minilm=${FT_MINILM_DIR:-$HOME/.cache/finetune/all-MiniLM-L6-v2}
  results=${FT_BENCH_RESULTS:-$build/bench_results/trainer}
  tok=$shared/data/tokenizers/bert-base-uncased
  distil=$build/bench_data/distilbert_base_trainer
  mkdir -p "$distil"
  # The checkpoint as HF saves it (pytorch_model.bin) for both, with the tokenizer files beside it.
  cp "$data/bin/config.json" "$data/bin/pytorch_model.bin" "$tok/vocab.txt" "$tok/tokenizer.json" \
    "$tok/tokenizer_config.json" "$distil/"
  rm -rf "$results" && mkdir -p "$results"
  unset LD_LIBRARY_PATH  # PyPI's torch brings its own MKL
  export OMP_WAIT_POLICY=passive HF_HUB_OFFLINE=1
  grep -m1 'model name' /proc/cpuinfo
  echo "cores: $(nproc); flags: $(grep -m1 flags /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|avx512f|avx512_bf16)$' | tr '\n' ' ')"
  for job in distilbert minilm; do
    model=$distil; [ $job = minilm ] && model=$minilm
    d=$results/$job && mkdir -p "$d"
    echo "== trainer, $job: finetune.cpp"
    /usr/bin/time -o "$d/ours.rss_kb" -f %M "$build/finetune" train --model_name_or_path "$model" \
      --task_name cola --data_dir "$shared/data/glue/cola" --num_train_epochs 1 --disable_tqdm true \
      --output_dir "$d/ours" --overwrite_output_dir > "$d/ours.stdout" 2>&1
    grep -E 'step time|train_runtime|eval_runtime' "$d/ours.stdout"
    echo "== trainer, $job: HF Trainer (current transformers on PyPI's torch)"
    /usr/bin/time -o "$d/hf.rss_kb" -f %M "$hf_py" "$here/tools/hf_run_glue.py" --model_name_or_path "$model" \
      --task_name cola --shared "$shared" --num_train_epochs 1 --output_dir "$d/hf" \
      --report "$d/hf.json" > "$d/hf.stdout" 2>&1
    tail -1 "$d/hf.stdout"
    rm -rf "$d/ours"/checkpoint-* "$d/hf"
  done
  python3 "$here/tools/compare_trainer_peer.py" "$results" distilbert minilm
fi

if [ "$what" = bf16 ]; then
  steps=${FT_BENCH_STEPS:-20}
  hf_py=${FT_HF_PYTHON:-/work/.venv-hf/bin/python}
  tok=$shared/data/tokenizers/bert-base-uncased
  distil=$build/bench_data/distilbert_base_trainer
  mkdir -p "$distil"
  cp "$data/bin/config.json" "$data/bin/pytorch_model.bin" "$tok/vocab.txt" "$tok/tokenizer.json" \
    "$tok/tokenizer_config.json" "$distil/"
  export OMP_WAIT_POLICY=passive
  grep -m1 'model name' /proc/cpuinfo
  echo "cores: $(nproc); flags: $(grep -m1 flags /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|avx512f|avx512_bf16|amx_bf16)$' | tr '\n' ' ')"
  echo "== train step: full-size DistilBERT, CoLA batches of 16, $steps steps after 3 warm-up; ours alternating fp32 / bf16, 3 rounds"
  for round in 1 2 3; do
    for p in 0 1; do
      "$build/train_step_bench" --checkpoint "$data/safetensors" --ids "$ids" --steps "$steps" --bf16 $p
    done
  done
  echo "== train step: PyTorch peers (tuned malloc, 2 threads), fp32 then bf16 autocast"
  for flag in "" --bf16; do
    "${tuned_malloc[@]}" $py "$here/tools/bench_train_step_peer.py" --checkpoint "$data/bin" --ids "$ids" \
      --steps "$steps" --threads 2 $flag
  done
  if [ -x "$hf_py" ]; then
    for flag in "" --bf16; do
      (unset LD_LIBRARY_PATH; "${tuned_malloc[@]}" "$hf_py" "$here/tools/bench_train_step_peer.py" \
        --checkpoint "$data/bin" --ids "$ids" --steps "$steps" --threads 2 $flag)
    done
  fi
  echo "== eval: the 1043 CoLA dev sentences, batch 16, fp32 then bf16 (3 rounds)"
  for round in 1 2 3; do
    for flag in "" --bf16_full_eval; do
      "$build/finetune" train --model_name_or_path "$distil" --task_name cola \
        --data_dir "$shared/data/glue/cola" --do_train false --disable_tqdm true --use_cpu $flag \
        --output_dir "$build/bench_results/bf16_eval" --overwrite_output_dir 2>&1 |
        grep -E "'eval_runtime'" | sed "s/^/${flag:-fp32} /"
    done
  done
  echo "== seed recipe, one epoch (full-size DistilBERT, random weights: speed only), fp32 then bf16"
  for flag in "" "--bf16"; do
    "$build/finetune" train --model_name_or_path "$distil" --task_name cola \
      --data_dir "$shared/data/glue/cola" --num_train_epochs 1 --disable_tqdm true --use_cpu $flag \
      --output_dir "$build/bench_results/bf16_epoch" --overwrite_output_dir 2>&1 |
      grep -E 'step time|train_runtime' | sed "s/^/${flag:-fp32} /"
  done
  rm -rf "$build/bench_results/bf16_eval" "$build/bench_results/bf16_epoch"
fi

if [ "$what" = roberta ]; then
  # roberta-base's shape (random init, speed only): one optimizer step on CoLA train batches of 16
  # in file order, ours against transformers' own RobertaForSequenceClassification on PyPI's torch
  # (the venv), alternating, 3 rounds. Inputs from tools/make_roberta_bench_data.py.
  steps=${FT_BENCH_STEPS:-20}
  hf_py=${FT_HF_PYTHON:-/work/.venv-hf/bin/python}
  rdata=$build/bench_data/roberta_base
  [ -f "$rdata/model/model.safetensors" ] ||
    "$hf_py" "$here/tools/make_roberta_bench_data.py" --shared "$shared" --out "$rdata" >&2
  export OMP_WAIT_POLICY=passive
  grep -m1 'model name' /proc/cpuinfo
  echo "cores: $(nproc); flags: $(grep -m1 flags /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|avx512f|avx512_bf16|amx_bf16)$' | tr '\n' ' ')"
  echo "== train step: roberta-base size, CoLA batches of 16, $steps steps after 3 warm-up; ours, then HF (tuned malloc, 2 threads), 3 rounds"
  for round in 1 2 3; do
    "$build/train_step_bench" --checkpoint "$rdata/model" --ids "$rdata/cola_roberta_ids.jsonl" --steps "$steps"
    (unset LD_LIBRARY_PATH; "${tuned_malloc[@]}" "$hf_py" "$here/tools/bench_train_step_peer.py" --hf \
      --checkpoint "$rdata/model" --ids "$rdata/cola_roberta_ids.jsonl" --steps "$steps" --threads 2)
  done
fi
