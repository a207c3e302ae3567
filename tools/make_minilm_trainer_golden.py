#!/usr/bin/env python3
"""tests/goldens/minilm/trainer_cola_300.json: current HF's Trainer fine-tuning the real pretrained
all-MiniLM-L6-v2 on GLUE CoLA, the oracle of tests/model/minilm_trainer_parity_test.cpp.

Both sides start from the same init: the checkpoint plus tests/goldens/minilm/classifier_head.safetensors
(the head HF initialised once, see that folder's README). Dropout 0, sequential order, the seed
recipe's other settings (lr 2e-5 linear to 0, batch 16, weight decay 0.01, AdamW as current HF
runs it, clipping at 1.0), 300 steps, evaluating the 1043 dev sentences every 100 steps, logging
every step (current HF logs the loss unrounded and the lr the step used). The last entry of
"evals" is trainer.evaluate() after train(); "final_eval_logits" are the dev rows' logits then.

    VENV/bin/python tools/make_minilm_trainer_golden.py --model DIR --shared ../shared \\
        --out tests/goldens/minilm/trainer_cola_300.json

It runs tools/hf_run_glue.py and keeps what does not measure time.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from get_minilm import sha256_of  # noqa: E402

STEPS, EVAL_EVERY = 300, 100
TIMING = ("_runtime", "_samples_per_second", "_steps_per_second")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--shared", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    a = ap.parse_args()
    head = HERE.parent / "tests" / "goldens" / "minilm" / "classifier_head.safetensors"
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        flags = ["--model_name_or_path", str(a.model), "--shared", str(a.shared), "--task_name", "cola",
                 "--output_dir", str(Path(tmp) / "run"), "--no_dropout", "--head", str(head),
                 "--train_sampling_strategy", "sequential", "--max_steps", str(STEPS),
                 "--eval_strategy", "steps", "--eval_steps", str(EVAL_EVERY), "--save_strategy", "no",
                 "--load_best_model_at_end", "false", "--logging_steps", "1", "--seed", "42",
                 "--threads", "1", "--report", str(report), "--report_eval_logits"]
        subprocess.run([sys.executable, str(HERE / "hf_run_glue.py")] + flags, check=True)
        r = json.loads(report.read_text())
    steps, evals = [], []
    for e in r["log_history"]:
        if "loss" in e:
            steps.append({k: e[k] for k in ("step", "loss", "grad_norm", "learning_rate", "epoch")})
        elif "eval_loss" in e:
            evals.append({k: v for k, v in e.items() if not k.endswith(TIMING)})
    assert len(steps) == STEPS and [e["step"] for e in evals] == [100, 200, 300, 300], evals
    golden = {
        "what": "current HF Trainer, all-MiniLM-L6-v2 + classifier_head.safetensors, GLUE CoLA, dropout 0, "
                "sequential order, 300 steps; the last evals entry is trainer.evaluate() after train()",
        "model_safetensors_sha256": sha256_of(a.model / "model.safetensors"),
        "classifier_head_sha256": sha256_of(head),
        "versions": r["versions"],
        "torch_threads": r["torch_threads"],
        "training_args": {k: r["training_args"][k] for k in (
            "learning_rate", "per_device_train_batch_size", "per_device_eval_batch_size", "max_steps",
            "weight_decay", "adam_beta1", "adam_beta2", "adam_epsilon", "max_grad_norm", "lr_scheduler_type",
            "warmup_steps", "optim", "train_sampling_strategy", "eval_strategy", "eval_steps", "seed")},
        "max_seq_length": r["job"]["max_seq_length"],
        "rows": r["rows"],
        "input_ids_sha256": r["input_ids_sha256"],
        "num_parameters": r["num_parameters"],
        "steps": steps,
        "evals": evals,
        "final_eval_logits": r["eval_logits"],
    }
    tmp_out = a.out.with_suffix(".json.tmp")
    tmp_out.write_text(json.dumps(golden, indent=1) + "\n")
    os.replace(tmp_out, a.out)
    print(f"{a.out}: {len(steps)} steps, evals", [(e["step"], e["eval_matthews_correlation"]) for e in evals])
    return 0


if __name__ == "__main__":
    sys.exit(main())
