#!/usr/bin/env python3
"""tests/goldens/trainer_current/<case>.json: current HF's Trainer (the tools/make_hf_venv.sh venv,
transformers 5.25.0) with gradient accumulation over epochs whose batch count is not a multiple of
gradient_accumulation_steps, also resumed from a checkpoint; the oracle of
tests/train/accumulation_parity_test.cpp.

    VENV/bin/python tools/make_accumulation_goldens.py --shared ../shared \\
        --init build/testdata/trainer_distilbert --out tests/goldens/trainer_current

--init is the tiny DistilBERT tools/make_test_data.py writes (the ctest fixture; seed 4201), the
same init as the 4.8.2 goldens; its file sha256 is recorded. Every dropout is 0 and the order
sequential, so each run is deterministic and ours can equal it.

The semantics followed: the loss of each micro-batch is divided by the number of batches in its
window (GA, or the epoch's shorter remainder). For models whose forward takes **kwargs (DistilBERT,
BERT) 5.25.0 skips that division unless `loss_is_scaled_for_ga` is False (trainer.py:2148-2156),
which a documented Trainer attribute sets here; tests/goldens/trainer/README.md lists why.

Recorded per optimizer step: the micro-batch losses (compute_loss's value before the division)
and shapes, grad_norm and learning_rate from the step's log entry (logging every step: current
HF logs the lr the step used, the loss unrounded). Then each evaluation, the dev rows' logits and
sum / sum of squares / max |x| of every parameter after training. The resume case also runs HF's
resume_from_checkpoint from checkpoint-<resume_from> and asserts that it equals the whole run, so
the whole run's steps after it are also the resumed run's golden.
"""

import argparse
import json
import os
import sys
import tempfile

import numpy as np
import torch
import transformers
from transformers import (AutoConfig, AutoModelForSequenceClassification, AutoTokenizer,
                          DataCollatorWithPadding, Trainer, TrainingArguments)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_trainer_goldens import (ListDataset, compute_metrics_for, dumps, load_rows,  # noqa: E402
                                  null_timings, sha256_file)

MAX_SEQ_LENGTH = 128
DROPOUT0 = dict(dropout=0.0, attention_dropout=0.0, seq_classif_dropout=0.0)
# 100 rows in batches of 2: 50 batches an epoch; GA 3 makes 16 windows of 3 and one of 2, so 17
# optimizer steps an epoch, 51 in 3 epochs (past the 20-step tier of the parity tolerances).
BASE = dict(per_device_train_batch_size=2, per_device_eval_batch_size=8, gradient_accumulation_steps=3,
            num_train_epochs=3, learning_rate=1e-3, weight_decay=0.01, lr_scheduler_type="linear",
            warmup_steps=5, max_grad_norm=1.0, logging_steps=1, eval_strategy="epoch", seed=42,
            train_sampling_strategy="sequential")
CASES = {
    # The epoch's remainder window (2 batches of GA 3) is its own step, its losses halved. Saved
    # every 5 steps; the resumed runs start at checkpoint-20, 3 steps (9 batches) into epoch 2.
    "distilbert_cola_ga3_remainder": dict(train_rows=100, eval_rows=40, resume_from=20,
                                          args=dict(BASE, save_strategy="steps", save_steps=5)),
}


def run(case, shared, init_dir, out_dir, resume=None):
    transformers.logging.set_verbosity_error()
    tok = AutoTokenizer.from_pretrained(os.path.join(shared, "data", "tokenizers", "bert-base-uncased"))
    data = load_rows(shared, "cola", case["train_rows"], case["eval_rows"])

    def featurize(rows):
        feats, recs = [], []
        for text, label, idx in rows:
            enc = tok(text, padding=False, max_length=MAX_SEQ_LENGTH, truncation=True)
            feats.append({"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "label": label})
            recs.append({"idx": idx, "input_ids": enc["input_ids"], "label": label})
        return feats, recs

    train_feats, train_recs = featurize(data["train"]["rows"])
    eval_feats, eval_recs = featurize(data["validation"]["rows"])
    config = AutoConfig.from_pretrained(init_dir, **DROPOUT0)
    model = AutoModelForSequenceClassification.from_pretrained(init_dir, config=config)
    micro = []

    class RecordingTrainer(Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            out = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            if model.training:
                loss = out[0] if return_outputs else out
                micro.append({"loss": loss.item(), "shape": list(inputs["input_ids"].shape),
                              "global_step_before": self.state.global_step})
            return out

    args = TrainingArguments(output_dir=out_dir, report_to="none", disable_tqdm=True, use_cpu=True,
                             log_level="error", dataloader_num_workers=0, **case["args"])
    trainer = RecordingTrainer(model=model, args=args, train_dataset=ListDataset(train_feats),
                               eval_dataset=ListDataset(eval_feats), processing_class=tok,
                               data_collator=DataCollatorWithPadding(tok), compute_metrics=compute_metrics_for("cola"))
    trainer.loss_is_scaled_for_ga = False  # divide each micro-batch loss by its window's size
    trainer.train(resume_from_checkpoint=resume)
    history = [dict(e) for e in trainer.state.log_history]
    logits = trainer.predict(ListDataset(eval_feats)).predictions
    steps = []
    for e in history:
        if "loss" not in e:
            continue
        gs = e["step"]
        mb = [m for m in micro if m["global_step_before"] == gs - 1]
        steps.append({"global_step": gs, "epoch": e["epoch"], "loss_logged": e["loss"], "grad_norm": e["grad_norm"],
                      "lr_used": e["learning_rate"], "micro_batch_losses": [m["loss"] for m in mb],
                      "micro_batch_shapes": [m["shape"] for m in mb]})
    stats = {}
    for n, p in trainer.model.named_parameters():
        t = p.detach().double()
        stats[n] = {"shape": list(p.shape), "sum": t.sum().item(), "sum_sq": (t * t).sum().item(),
                    "max_abs": t.abs().max().item()}
    return {"data": data, "train_recs": train_recs, "eval_recs": eval_recs, "steps": steps,
            "log_history": null_timings(history), "final_eval_logits": logits.tolist(),
            "final_param_stats": stats, "global_step": trainer.state.global_step,
            "max_steps": trainer.state.max_steps}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", required=True)
    ap.add_argument("--init", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    os.makedirs(a.out, exist_ok=True)
    for name, case in CASES.items():
        with tempfile.TemporaryDirectory() as tmp:
            r = run(case, a.shared, a.init, tmp)
            golden_steps = r["steps"]
            if "resume_from" in case:
                k = case["resume_from"]
                resumed = run(case, a.shared, a.init, tmp, resume=os.path.join(tmp, f"checkpoint-{k}"))
                # HF's own resume must reproduce the whole run's steps after k, bit for bit.
                after = [s for s in golden_steps if s["global_step"] > k]
                # The resumed run's log_history starts with the checkpoint's (steps 1-k).
                resumed_steps = [s for s in resumed["steps"] if s["global_step"] > k]
                assert [s["micro_batch_losses"] for s in resumed_steps] == \
                    [s["micro_batch_losses"] for s in after], "HF's resume differs from its whole run"
                assert resumed["final_param_stats"] == r["final_param_stats"]
        assert len(golden_steps) == r["max_steps"] == r["global_step"], (len(golden_steps), r["max_steps"])
        golden = {
            "case": name, "task": "cola", "model_dir": "trainer_distilbert", "max_seq_length": MAX_SEQ_LENGTH,
            "rows": {"train": case["train_rows"], "eval": case["eval_rows"]},
            "data_files": {k: {"file": v["file"], "sha256": v["sha256"]} for k, v in r["data"].items()},
            "training_args_explicit": case["args"],
            "loss_is_scaled_for_ga": False,
            "resume_from": case.get("resume_from"),
            "dropout_overrides": DROPOUT0,
            "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                         "numpy": np.__version__, "python": sys.version.split()[0]},
            "init": {"pytorch_model_bin_sha256": sha256_file(os.path.join(a.init, "pytorch_model.bin"))},
            "train_rows": r["train_recs"], "eval_rows": r["eval_recs"],
            "max_steps": r["max_steps"], "steps": golden_steps, "log_history": r["log_history"],
            "final_eval_logits": r["final_eval_logits"], "final_param_stats": r["final_param_stats"],
        }
        path = os.path.join(a.out, name + ".json")
        with open(path + ".tmp", "w") as f:
            f.write(dumps(golden) + "\n")
        os.replace(path + ".tmp", path)
        windows = [len(s["micro_batch_losses"]) for s in golden_steps]
        print(f"{path}: {len(golden_steps)} steps, window sizes {windows[:18]}...")


if __name__ == "__main__":
    main()
