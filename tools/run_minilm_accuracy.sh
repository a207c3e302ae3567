#!/usr/bin/env bash
# The seed recipe (lr 2e-5, batch 16, 5 epochs, weight decay 0.01, dropout on, random order,
# evaluate and save every epoch, best model by Matthews correlation) on the pretrained
# all-MiniLM-L6-v2 and GLUE CoLA, with several seeds, by finetune.cpp and by current HF
# (tools/hf_run_glue.py in the tools/make_hf_venv.sh venv). Writes one JSON per run into OUT
# (ours: trainer_state.json's log_history; HF: hf_run_glue's report), then the summary
# (tools/summarize_accuracy.py) to OUT/summary.json.
# Usage: tools/run_minilm_accuracy.sh FINETUNE_BINARY VENV_PYTHON MINILM_DIR SHARED_DIR OUT [SEEDS...]
# FT_TRAIN_FLAGS adds flags to our runs (e.g. "--bf16 --use_cpu"); FT_SKIP_HF=1 runs ours only.
set -euo pipefail
if [ $# -lt 5 ]; then
  echo "usage: $0 FINETUNE_BINARY VENV_PYTHON MINILM_DIR SHARED_DIR OUT [SEEDS...]" >&2
  exit 2
fi
finetune=$1 py=$2 model=$3 shared=$4 out=$5
shift 5
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(42 43 44)
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
export OMP_WAIT_POLICY=passive HF_HUB_OFFLINE=1
for seed in "${seeds[@]}"; do
  echo "== seed $seed: finetune.cpp"
  "$finetune" train --model_name_or_path "$model" --task_name cola --data_dir "$shared/data/glue/cola" \
    --seed "$seed" --save_total_limit 1 --disable_tqdm true --output_dir "$work/ours-$seed" \
    --overwrite_output_dir ${FT_TRAIN_FLAGS:-} | grep -E "eval_matthews|step time|train_runtime" || true
  cp "$work/ours-$seed/trainer_state.json" "$out/ours-seed$seed.json"
  rm -rf "$work/ours-$seed"
  [ "${FT_SKIP_HF:-0}" = 1 ] && continue
  echo "== seed $seed: HF"
  "$py" "$here/hf_run_glue.py" --model_name_or_path "$model" --task_name cola --shared "$shared" \
    --seed "$seed" --save_total_limit 1 --output_dir "$work/hf-$seed" --report "$out/hf-seed$seed.json" \
    2>&1 | grep -E "eval_matthews|train_runtime" || true
  rm -rf "$work/hf-$seed"
done
python3 "$here/summarize_accuracy.py" "$out"
