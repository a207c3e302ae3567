#!/usr/bin/env bash
# A/B of two builds of finetune.cpp in one run, alternating old and new so that both see the same
# machine state: the full-size DistilBERT train step (train_step_bench's median), the CoLA dev
# evaluation (finetune eval's eval_runtime, 1043 sentences) and tokenizer throughput
# (tokenizer_bench, CoLA + SST-2 train). Prints the medians over the rounds and new/old ratios.
# Usage: scripts/ab-builds.sh OLD_BUILD NEW_BUILD [ROUNDS=5]
set -euo pipefail
old=$1
new=$2
rounds=${3:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
shared=${FT_SHARED_DIR:-$here/../shared}
ids=$shared/reference/tokenization/cola_bert_uncased_ids.jsonl
data=$new/bench_data/full_distilbert
model=$new/bench_data/distilbert_base_trainer
[ -f "$data/safetensors/model.safetensors" ] ||
  { echo "run scripts/run-benchmarks.sh $new train once to make the checkpoint" >&2; exit 1; }
# The eval model: the same checkpoint as HF saves it, with the tokenizer files beside it.
if [ ! -f "$model/pytorch_model.bin" ]; then
  tok=$shared/data/tokenizers/bert-base-uncased
  mkdir -p "$model"
  cp "$data/bin/config.json" "$data/bin/pytorch_model.bin" "$tok/vocab.txt" "$tok/tokenizer.json" \
    "$tok/tokenizer_config.json" "$model/"
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

step() {  # BUILD -> median seconds per step
  "$1/train_step_bench" --checkpoint "$data/safetensors" --ids "$ids" --steps 12 --warmup 2 |
    python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["median_step_s"])'
}
eval_s() {  # BUILD -> eval_runtime of CoLA dev
  rm -rf "$out/eval"
  "$1/finetune" eval --model_name_or_path "$model" --task_name cola --output_dir "$out/eval" \
    --per_device_eval_batch_size 16 >/dev/null 2>&1
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["eval_runtime"])' "$out/eval/eval_results.json"
}
tok() {  # BUILD -> median ms of one pass over CoLA + SST-2 train, one thread
  FT_SHARED_DIR=$shared "$1/tokenizer_bench" --benchmark_filter='BM_encode_cola_sst2_train/1' \
    --benchmark_repetitions=3 --benchmark_report_aggregates_only=true --benchmark_format=json |
    python3 -c 'import json,sys; print([b["real_time"] for b in json.load(sys.stdin)["benchmarks"] if b["aggregate_name"]=="median"][0])'
}

for r in $(seq "$rounds"); do
  for side in old new; do
    b=${!side}
    echo "$side step $(step "$b")" >>"$out/res"
    echo "$side eval $(eval_s "$b")" >>"$out/res"
    echo "$side tok $(tok "$b")" >>"$out/res"
  done
  echo "round $r done" >&2
done
grep -m1 'model name' /proc/cpuinfo
python3 - "$out/res" <<'PY'
import statistics, sys
res = {}
for line in open(sys.argv[1]):
    side, what, v = line.split()
    res.setdefault((side, what), []).append(float(v))
for what, unit in (("step", "s/step"), ("eval", "s"), ("tok", "ms/pass")):
    o, n = statistics.median(res[("old", what)]), statistics.median(res[("new", what)])
    print(f"{what:5s} old {o:.4f} new {n:.4f} {unit}  new/old {n / o:.3f}  "
          f"(old runs {res[('old', what)]}, new runs {res[('new', what)]})")
PY
