#!/usr/bin/env bash
# The lent GPU machine's one run (issue 17; DEVELOPERS.md: one prepared script, one call): build
# with CUDA, run the GPU tests, then the seed recipe on a full-size randomly initialised
# DistilBERT on the GPU, and one epoch of it on the machine's CPU cores. Everything goes to $OUT
# (default gpu-check-out): logs, the tests' XML, and summary.md with the figures.
#
# Run from the repository root, with the tests' data made on a machine with Debian's torch and
# carried along (the device machine may have no Python):
#   run(command="scripts/gpu-check.sh", carry=["build/testdata"], timeout_s=540)
# Stages are timed and each is skipped once the budget (GPU_CHECK_BUDGET_S, default 500 s) is
# near, so that a slow build still leaves results behind.
set -uo pipefail
out=${OUT:-gpu-check-out}
mkdir -p "$out"
budget=${GPU_CHECK_BUDGET_S:-500}
start=$(date +%s)
jobs=$(nproc)
build=build-gpu
summary=$out/summary.md
elapsed() { echo $(($(date +%s) - start)); }
left() { echo $((budget - $(elapsed))); }
note() { echo "$*" | tee -a "$summary"; }

{
  echo "# gpu-check $(date -u +%FT%TZ)"
  echo
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-), $(nproc) cores"
  echo "cpu flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|avx512f|avx512_bf16|amx_bf16|amx_tile)$' | tr '\n' ' ')"
  echo
} > "$summary"
nvidia-smi > "$out/nvidia-smi.txt" 2>&1
note "gpu: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | head -1)"

# ---- build (CUDA on: nvcc is on PATH there) ----
t0=$(date +%s)
if ! { cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFT_BUILD_BENCH=OFF \
         -DCMAKE_CUDA_ARCHITECTURES=90 && cmake --build "$build" -j "$jobs"; } > "$out/build.txt" 2>&1; then
  note "BUILD FAILED after $(( $(date +%s) - t0 )) s: see build.txt"
  tail -40 "$out/build.txt"
  exit 1
fi
note "build: $(( $(date +%s) - t0 )) s"
grep -q '^FT_CUDA:BOOL=ON' "$build/CMakeCache.txt" || note "WARNING: FT_CUDA is off in $build"
"$build/finetune" info > "$out/info.txt" 2>&1
cat "$out/info.txt" >> "$summary"

# ---- GPU tests: the CUDA-vs-CPU ops, then the model and Trainer on the GPU ----
if [ -d build/testdata ]; then
  rm -rf "$build/testdata" && cp -r build/testdata "$build/testdata"
fi
t0=$(date +%s)
(cd "$build" && timeout $(( $(left) > 60 ? 240 : 30 )) ./finetune_tests \
   --gtest_filter='CudaOps*:*Cuda*:*cuda*' --gtest_output="xml:../$out/gpu-tests.xml") \
   > "$out/gpu-tests.txt" 2>&1
note "gpu tests ($(( $(date +%s) - t0 )) s): $(grep -E '^\[  (PASSED|FAILED|SKIPPED) ' "$out/gpu-tests.txt" | tr '\n' ';')"
grep -E '^\[  FAILED  \]' "$out/gpu-tests.txt" | head -20 >> "$summary"

# ---- the seed recipe, 5 epochs, full-size DistilBERT, random init ----
model=$out/distilbert-base-random
mkdir -p "$model"
cat > "$model/config.json" <<'EOF'
{"model_type": "distilbert", "architectures": ["DistilBertForMaskedLM"], "vocab_size": 30522,
 "dim": 768, "n_layers": 6, "n_heads": 12, "hidden_dim": 3072, "max_position_embeddings": 512,
 "dropout": 0.1, "attention_dropout": 0.1, "activation": "gelu", "pad_token_id": 0}
EOF
tok=../shared/data/tokenizers/bert-base-uncased
[ -d "$tok" ] || tok=data/demo/distilbert-small
cp "$tok"/vocab.txt "$tok"/tokenizer_config.json "$model/" 2>/dev/null
cp "$tok"/tokenizer.json "$model/" 2>/dev/null || true

recipe() {  # recipe NAME EPOCHS SAVE_STRATEGY [extra args]
  local name=$1 epochs=$2 save=$3
  shift 3
  local t0=$(date +%s)
  HF_HUB_OFFLINE=1 timeout "$(left)" "$build/finetune" train --model_name_or_path "$model" --random_init \
    --task_name cola --learning_rate 2e-5 --per_device_train_batch_size 16 \
    --num_train_epochs "$epochs" --weight_decay 0.01 --eval_strategy epoch --save_strategy "$save" \
    --load_best_model_at_end "$([ "$save" = no ] && echo false || echo true)" \
    --metric_for_best_model matthews_correlation --logging_steps 100 --disable_tqdm true \
    --output_dir "$out/run-$name" --overwrite_output_dir "$@" > "$out/train-$name.txt" 2>&1
  local rc=$?
  local runtime step eval_s
  runtime=$(grep -oE "'train_runtime': [0-9.]+" "$out/train-$name.txt" | tail -1 | grep -oE '[0-9.]+$')
  step=$(grep -oE 'step time: median [0-9.]+ s' "$out/train-$name.txt" | tail -1 | grep -oE '[0-9.]+')
  eval_s=$(grep -oE "'eval_runtime': [0-9.]+" "$out/train-$name.txt" | grep -oE '[0-9.]+$' |
    awk '{s += $1; n += 1} END {if (n) printf "%.2f s over %d evaluations", s, n}')
  note "$name: rc $rc, wall $(( $(date +%s) - t0 )) s, train_runtime ${runtime:-?} s, median step ${step:-?} s, eval ${eval_s:-?}"
  grep -E "eval_matthews_correlation" "$out/train-$name.txt" | tail -1 >> "$summary"
}
# Checkpoint writes: the difference between saving every epoch and not saving at all.
[ "$(left)" -gt 60 ] && recipe gpu-save 5 epoch
[ "$(left)" -gt 60 ] && recipe gpu-nosave 5 no
# The same recipe on the CPU cores, one epoch (five would not fit the device time).
[ "$(left)" -gt 120 ] && recipe cpu-1epoch 1 no --use_cpu
note "total: $(elapsed) s"
