#!/usr/bin/python3
"""Writes tests/goldens/trainer/<case>.json: trajectories of the REAL Hugging Face Trainer
(transformers 4.8.2) fine-tuning tiny randomly-initialised DistilBERT/BERT models on the first rows
of GLUE tasks. They are the oracle of the C++ Trainer parity tests. Run by hand (about 30 s, CPU):

    # transformers 4.8.2 (tag v4.8.2, commit 96d1cfb13db094d1468883060ec2d4471f63fd01),
    # huggingface_hub 0.0.12 and sacremoses 0.0.45 exported from their git repositories into
    # /tmp/hf482/{transformers,hub,sacremoses}; /tmp/hf482/meta holds two stub dist-info folders
    # (sacremoses-0.0.45.dist-info, huggingface_hub-0.0.12.dist-info, each a 3-line METADATA:
    # "Metadata-Version: 2.1 / Name: ... / Version: ...") so 4.8.2's import-time version check
    # passes; Debian packages python3-torch python3-sklearn python3-scipy python3-tqdm
    # python3-regex python3-filelock python3-requests python3-packaging.
    PYTHONPATH=/tmp/hf482/transformers/src:/tmp/hf482/hub/src:/tmp/hf482/sacremoses:/tmp/hf482/meta \\
        /usr/bin/python3 tools/make_trainer_goldens.py --shared ../shared --out tests/goldens/trainer
    /usr/bin/python3 tools/make_trainer_goldens.py --check tests/goldens/trainer   # no HF needed

Nothing of HF is copied here: transformers is imported and used as a library. The init checkpoints
come from tools/make_test_data.py's trainer_inits() (the ctest fixture writes the same files into
build/testdata/trainer_*), written afresh into a temporary folder; their checksums are recorded.

Per case (CASES below): from_pretrained(init, every dropout 0), the slow BertTokenizer from
shared/data/tokenizers/bert-base-uncased (from_pretrained; run_glue's tokenisation: no padding,
truncation=True, max_length=128; DistilBERT gets no token_type_ids, as DistilBertTokenizer and
run_glue's column removal give), DataCollatorWithPadding, a Trainer subclass whose train sampler is
SequentialSampler, compute_metrics = run_glue's with the GLUE metric written with sklearn/scipy, then
trainer.train(), trainer.evaluate() and trainer.predict(eval set) for the logits.
torch.nn.utils.clip_grad_norm_ is wrapped to record each optimizer step's grad norm (before
clipping) and the lr the optimizer is about to use. Values that measure time (*_runtime,
*_samples_per_second, *_steps_per_second) are written as null so that reruns write identical
bytes. --check (also run after writing) re-derives what can be re-derived (schedules, logged
losses, train_loss, total_flos, epochs, eval loss and metrics from the logits, best checkpoint,
rotation) and fails loudly on a mismatch. The JSON schema is in tests/goldens/trainer/README.md.
"""
import argparse
import contextlib
import hashlib
import io
import json
import math
import os
import shutil
import sys
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

MAX_SEQ_LENGTH = 128
TIMING_SUFFIXES = ("_runtime", "_samples_per_second", "_steps_per_second")
TASK_TEXTS = {"cola": 1, "sst2": 1, "rte": 2, "stsb": 2}  # number of text columns

COMMON = {"learning_rate": 1e-3, "weight_decay": 0.01, "logging_steps": 1, "load_best_model_at_end": True}
CASES = {
    "distilbert_cola": dict(
        task="cola", model="trainer_distilbert", train_rows=48, eval_rows=40, optim="adamw_hf",
        args=dict(COMMON, per_device_train_batch_size=8, per_device_eval_batch_size=16, num_train_epochs=3,
                  lr_scheduler_type="linear", warmup_steps=3, max_grad_norm=1.0, evaluation_strategy="epoch",
                  save_strategy="epoch", metric_for_best_model="matthews_correlation", seed=42)),
    "distilbert_cola_adamw_torch": dict(
        task="cola", model="trainer_distilbert", train_rows=48, eval_rows=40, optim="adamw_torch",
        args=dict(COMMON, per_device_train_batch_size=8, per_device_eval_batch_size=16, num_train_epochs=3,
                  lr_scheduler_type="linear", warmup_steps=3, max_grad_norm=1.0, evaluation_strategy="epoch",
                  save_strategy="epoch", metric_for_best_model="matthews_correlation", seed=42)),
    "distilbert_sst2": dict(
        task="sst2", model="trainer_distilbert", train_rows=40, eval_rows=32, optim="adamw_hf",
        args=dict(COMMON, per_device_train_batch_size=8, per_device_eval_batch_size=8, num_train_epochs=3,
                  lr_scheduler_type="cosine", warmup_ratio=0.1, max_grad_norm=0.3, evaluation_strategy="epoch",
                  save_strategy="epoch", save_total_limit=2, metric_for_best_model="accuracy", seed=42)),
    "bert_rte": dict(
        task="rte", model="trainer_bert_rte", train_rows=32, eval_rows=24, optim="adamw_hf",
        args=dict(COMMON, per_device_train_batch_size=4, per_device_eval_batch_size=8,
                  gradient_accumulation_steps=2, num_train_epochs=2, lr_scheduler_type="linear",
                  warmup_ratio=0.2, evaluation_strategy="steps", eval_steps=2, save_strategy="steps",
                  save_steps=2, save_total_limit=3, metric_for_best_model="accuracy", seed=42)),
    "bert_stsb": dict(
        task="stsb", model="trainer_bert_stsb", train_rows=40, eval_rows=24, optim="adamw_hf",
        args=dict(COMMON, per_device_train_batch_size=8, per_device_eval_batch_size=8, num_train_epochs=3,
                  weight_decay=0.0, lr_scheduler_type="constant_with_warmup", warmup_steps=2,
                  logging_steps=2, evaluation_strategy="epoch", save_strategy="epoch",
                  metric_for_best_model="pearson", seed=42)),
}
# TrainingArguments fields recorded (resolved values, after __post_init__) in every golden.
RECORDED_ARGS = [
    "per_device_train_batch_size", "per_device_eval_batch_size", "gradient_accumulation_steps",
    "num_train_epochs", "max_steps", "learning_rate", "weight_decay", "adam_beta1", "adam_beta2",
    "adam_epsilon", "max_grad_norm", "lr_scheduler_type", "warmup_steps", "warmup_ratio",
    "logging_strategy", "logging_steps", "logging_first_step", "evaluation_strategy", "eval_steps",
    "save_strategy", "save_steps", "save_total_limit", "load_best_model_at_end",
    "metric_for_best_model", "greater_is_better", "seed", "dataloader_drop_last",
    "eval_accumulation_steps", "label_smoothing_factor", "adafactor", "group_by_length",
    "prediction_loss_only", "fp16",
]


# ----------------------------------------------------------------------------------------------
# Small helpers (no HF needed)

def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def tensor_sha256(t):
    return hashlib.sha256(t.detach().contiguous().cpu().numpy().tobytes()).hexdigest()


def is_timing(key):
    return isinstance(key, str) and key.endswith(TIMING_SUFFIXES)


def null_timings(obj):
    if isinstance(obj, dict):
        return {k: (None if is_timing(k) else null_timings(v)) for k, v in obj.items()}
    if isinstance(obj, list):
        return [null_timings(v) for v in obj]
    return obj


def dumps(obj, indent=0):
    """JSON with dicts and lists of containers indented, lists of scalars on one line."""
    pad, pad1 = " " * indent, " " * (indent + 1)
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        items = [f"{pad1}{json.dumps(str(k))}: {dumps(v, indent + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in obj):
            return "[" + ", ".join(json.dumps(v) for v in obj) + "]"
        return "[\n" + ",\n".join(pad1 + dumps(v, indent + 1) for v in obj) + "\n" + pad + "]"
    if isinstance(obj, float) and not math.isfinite(obj):
        raise ValueError("non-finite float in golden")
    return json.dumps(obj)


def glue_metric(task, preds, labels):
    """run_glue's compute_metrics with datasets' glue metric (written with sklearn/scipy)."""
    from scipy.stats import pearsonr, spearmanr
    from sklearn.metrics import matthews_corrcoef
    if task == "cola":
        result = {"matthews_correlation": matthews_corrcoef(labels, preds)}
    elif task == "stsb":
        result = {"pearson": float(pearsonr(preds, labels)[0]), "spearmanr": float(spearmanr(preds, labels)[0])}
    else:
        result = {"accuracy": float((preds == labels).mean())}
    if len(result) > 1:  # run_glue adds the mean when a task has several metrics
        result["combined_score"] = np.mean(list(result.values())).item()
    return result


def compute_metrics_for(task):
    def compute_metrics(p):
        preds = p.predictions[0] if isinstance(p.predictions, tuple) else p.predictions
        preds = np.squeeze(preds) if task == "stsb" else np.argmax(preds, axis=1)
        return glue_metric(task, preds, p.label_ids)
    return compute_metrics


# ----------------------------------------------------------------------------------------------
# Running one case with the real Trainer

def load_rows(shared, task, n_train, n_eval):
    import glue_rows
    d = os.path.join(shared, "data", "glue", task)
    out = {}
    for split, name, n in (("train", "train.tsv", n_train), ("validation", "dev.tsv", n_eval)):
        rows = glue_rows.read_split(task, os.path.join(d, name), split)[:n]
        out[split] = {"file": f"data/glue/{task}/{name}", "sha256": sha256_file(os.path.join(d, name)), "rows": rows}
    return out


class ListDataset(torch.utils.data.Dataset):
    def __init__(self, features):
        self.features = features

    def __len__(self):
        return len(self.features)

    def __getitem__(self, i):
        return dict(self.features[i])


def run_case(name, case, shared, init_dir, workdir):
    import transformers
    from torch.utils.data import SequentialSampler
    from transformers import (AutoConfig, AutoModelForSequenceClassification, BertTokenizer,
                              DataCollatorWithPadding, Trainer, TrainerCallback, TrainingArguments)
    transformers.logging.set_verbosity_error()

    task, is_bert = case["task"], case["model"].startswith("trainer_bert")
    n_texts = TASK_TEXTS[task]
    tok = BertTokenizer.from_pretrained(os.path.join(shared, "data", "tokenizers", "bert-base-uncased"))
    data = load_rows(shared, task, case["train_rows"], case["eval_rows"])

    def featurize(rows):
        feats, recs = [], []
        for r in rows:
            texts, label, idx = r[:n_texts], r[n_texts], r[n_texts + 1]
            enc = tok(*texts, padding=False, max_length=MAX_SEQ_LENGTH, truncation=True)
            f = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
            rec = {"idx": idx, "text": texts, "input_ids": enc["input_ids"]}
            if is_bert:
                f["token_type_ids"] = enc["token_type_ids"]
                rec["token_type_ids"] = enc["token_type_ids"]
            f["label"] = label
            rec["label"] = label
            feats.append(f)
            recs.append(rec)
        return feats, recs

    train_feats, train_recs = featurize(data["train"]["rows"])
    eval_feats, eval_recs = featurize(data["validation"]["rows"])
    train_ds, eval_ds = ListDataset(train_feats), ListDataset(eval_feats)

    dropout0 = (dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0) if is_bert
                else dict(dropout=0.0, attention_dropout=0.0, seq_classif_dropout=0.0))
    config = AutoConfig.from_pretrained(init_dir, **dropout0)
    model, info = AutoModelForSequenceClassification.from_pretrained(init_dir, config=config, output_loading_info=True)
    assert not any(info.values()), f"{name}: loading info {info}"

    # ---- recording hooks
    rec = {"steps": [], "micro": [], "clip_calls": []}
    trainer_box = {}
    orig_clip = torch.nn.utils.clip_grad_norm_

    def clip_and_record(parameters, max_norm, *a, **kw):
        total = orig_clip(parameters, max_norm, *a, **kw)
        opt = trainer_box["t"].optimizer
        rec["clip_calls"].append({"grad_norm": float(total), "lr_used": [g["lr"] for g in opt.param_groups]})
        return total

    class Recorder(TrainerCallback):
        def on_step_end(self, args, state, control, **kw):
            rec["steps"].append({"global_step": state.global_step, "epoch": state.epoch,
                                 "lr_after": trainer_box["t"]._get_learning_rate()})

    class SeqTrainer(Trainer):
        def _get_train_sampler(self):
            return SequentialSampler(self.train_dataset)

        def compute_loss(self, model, inputs, return_outputs=False):
            out = super().compute_loss(model, inputs, return_outputs)
            if model.training:
                loss = out[0] if return_outputs else out
                rec["micro"].append({"loss": loss.item(), "shape": list(inputs["input_ids"].shape),
                                     "global_step_before": self.state.global_step})
            return out

        def create_optimizer(self):
            if case["optim"] == "adamw_hf":
                return super().create_optimizer()
            # adamw_torch: torch.optim.AdamW with the Trainer's own two parameter groups
            super().create_optimizer()
            groups = [{"params": g["params"], "weight_decay": g["weight_decay"]} for g in self.optimizer.param_groups]
            self.optimizer = torch.optim.AdamW(groups, lr=self.args.learning_rate,
                                               betas=(self.args.adam_beta1, self.args.adam_beta2),
                                               eps=self.args.adam_epsilon)

    out_dir = os.path.join(workdir, name)
    args = TrainingArguments(output_dir=out_dir, report_to="none", disable_tqdm=True, no_cuda=True, log_level="error",
                             dataloader_num_workers=0, **case["args"])
    trainer = SeqTrainer(model=model, args=args, train_dataset=train_ds, eval_dataset=eval_ds,
                         tokenizer=tok, data_collator=DataCollatorWithPadding(tok),
                         compute_metrics=compute_metrics_for(task), callbacks=[Recorder()])
    trainer_box["t"] = trainer

    torch.nn.utils.clip_grad_norm_ = clip_and_record
    try:
        train_output = trainer.train()
    finally:
        torch.nn.utils.clip_grad_norm_ = orig_clip
    param_groups = [{"weight_decay": g["weight_decay"],
                     "names": [n for n, p in model.named_parameters() if any(p is q for q in g["params"])]}
                    for g in trainer.optimizer.param_groups]
    final_metrics = trainer.evaluate()
    log_history = [dict(e) for e in trainer.state.log_history]
    pred = trainer.predict(eval_ds)
    assert len(trainer.state.log_history) == len(log_history), "predict() must not log"

    def rel(p):
        return None if p is None else os.path.relpath(p, out_dir)

    # ---- per optimizer step
    assert len(rec["steps"]) == len(rec["clip_calls"]) == trainer.state.global_step
    steps = []
    for s, c in zip(rec["steps"], rec["clip_calls"]):
        gs = s["global_step"]
        micro = [m for m in rec["micro"] if m["global_step_before"] == gs - 1]
        logged = [e for e in log_history if e.get("step") == gs and "loss" in e]
        assert len(logged) <= 1, f"{name}: two loss logs at step {gs}"
        assert len(set(c["lr_used"])) == 1
        steps.append({
            "global_step": gs, "epoch": s["epoch"], "lr_used": c["lr_used"][0],
            "learning_rate_logged": logged[0]["learning_rate"] if logged else None,
            "loss_logged": logged[0]["loss"] if logged else None, "lr_after_step": s["lr_after"],
            "grad_norm": c["grad_norm"], "clipped": c["grad_norm"] > trainer.args.max_grad_norm,
            "micro_batch_losses": [m["loss"] for m in micro], "micro_batch_shapes": [m["shape"] for m in micro],
        })
    assert sum(len(s["micro_batch_losses"]) for s in steps) == len(rec["micro"]), "micro batches without a step"

    # ---- checkpoints left at the end
    ckpts = sorted((d for d in os.listdir(out_dir) if d.startswith("checkpoint-")), key=lambda d: int(d.split("-")[1]))
    checkpoints = []
    for d in ckpts:
        with open(os.path.join(out_dir, d, "trainer_state.json")) as f:
            st = json.load(f)
        st["best_model_checkpoint"] = rel(st["best_model_checkpoint"])
        checkpoints.append({"name": d, "files": sorted(os.listdir(os.path.join(out_dir, d))),
                            "trainer_state": null_timings(st)})

    stats = {}
    for n, p in trainer.model.named_parameters():
        t = p.detach().double()
        stats[n] = {"shape": list(p.shape), "sum": t.sum().item(), "sum_sq": (t * t).sum().item(),
                    "max_abs": t.abs().max().item()}

    resolved = {}
    for k in RECORDED_ARGS:
        v = getattr(trainer.args, k)
        resolved[k] = getattr(v, "value", v)

    init_sd = torch.load(os.path.join(init_dir, "pytorch_model.bin"), map_location="cpu")
    return {
        "case": name,
        "task": task,
        "model_dir": case["model"],
        "optim": case["optim"],
        "max_seq_length": MAX_SEQ_LENGTH,
        "rows": {"train": case["train_rows"], "eval": case["eval_rows"]},
        "data_files": {k: {"file": v["file"], "sha256": v["sha256"]} for k, v in data.items()},
        "training_args_explicit": case["args"],
        "training_args": resolved,
        "dropout_overrides": dropout0,
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                     "numpy": np.__version__, "python": sys.version.split()[0]},
        "init": {
            "pytorch_model_bin_sha256": sha256_file(os.path.join(init_dir, "pytorch_model.bin")),
            "config_json_sha256": sha256_file(os.path.join(init_dir, "config.json")),
            "tensor_sha256": {k: tensor_sha256(v) for k, v in init_sd.items()},
        },
        "num_parameters": sum(p.numel() for p in trainer.model.parameters()),
        "num_parameters_non_embedding": sum(
            p.numel() for n, p in trainer.model.named_parameters()
            if n not in {f"{m}.weight" for m, mod in trainer.model.named_modules() if isinstance(mod, torch.nn.Embedding)}),
        "param_groups": param_groups,
        "train_rows": train_recs,
        "eval_rows": eval_recs,
        "steps": steps,
        "log_history": null_timings(log_history),
        "train_output": {"global_step": train_output.global_step, "training_loss": train_output.training_loss,
                         "metrics": null_timings(dict(train_output.metrics))},
        "final_trainer_state": {"global_step": trainer.state.global_step, "max_steps": trainer.state.max_steps,
                                "num_train_epochs": trainer.state.num_train_epochs, "epoch": trainer.state.epoch,
                                "total_flos": trainer.state.total_flos},
        "checkpoints": checkpoints,
        "best_model_checkpoint": rel(trainer.state.best_model_checkpoint),
        "best_metric": trainer.state.best_metric,
        "final_eval_metrics": null_timings(dict(final_metrics)),
        "final_eval_logits": pred.predictions.tolist(),
        "final_param_stats": stats,
    }


# ----------------------------------------------------------------------------------------------
# Self-consistency check (no HF)

def lr_multiplier(kind, s, warmup, total):
    if kind == "constant_with_warmup":
        return float(s) / float(max(1.0, warmup)) if s < warmup else 1.0
    if s < warmup:
        return float(s) / float(max(1, warmup))
    if kind == "linear":
        return max(0.0, float(total - s) / float(max(1, total - warmup)))
    if kind == "cosine":
        progress = float(s - warmup) / float(max(1, total - warmup))
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))
    raise ValueError(kind)


def check_golden(g):
    """Raises AssertionError on any inconsistency; returns a few facts for the summary line."""
    a = g["training_args"]
    name, ga = g["case"], a["gradient_accumulation_steps"]
    bs = a["per_device_train_batch_size"]
    n_train = len(g["train_rows"])
    batches = math.ceil(n_train / bs)
    upd_per_epoch = max(batches // ga, 1)
    max_steps = math.ceil(a["num_train_epochs"] * upd_per_epoch)
    st = g["final_trainer_state"]
    assert st["max_steps"] == max_steps == len(g["steps"]), (name, st, max_steps)
    warmup = a["warmup_steps"] if a["warmup_steps"] > 0 else math.ceil(max_steps * a["warmup_ratio"])
    lr0, kind = a["learning_rate"], a["lr_scheduler_type"]
    facts = {"steps": max_steps, "warmup": warmup, "clipped": 0}

    # schedule: lr used at step s = lr0 * mult(s-1); logged lr = lr0 * mult(s) (after scheduler.step)
    for s in g["steps"]:
        k = s["global_step"]
        assert s["lr_used"] == lr0 * lr_multiplier(kind, k - 1, warmup, max_steps), (name, k, s["lr_used"])
        assert s["lr_after_step"] == lr0 * lr_multiplier(kind, k, warmup, max_steps), (name, k)
        if s["learning_rate_logged"] is not None:
            assert s["learning_rate_logged"] == s["lr_after_step"], (name, k)
        assert s["clipped"] == (s["grad_norm"] > a["max_grad_norm"])
        facts["clipped"] += s["clipped"]
        # epoch = epoch_index + (batch index in epoch + 1) / batches per epoch
        e_idx, in_epoch = divmod(k - 1, upd_per_epoch)
        assert s["epoch"] == e_idx + (in_epoch + 1) * ga / batches, (name, k, s["epoch"])
        assert len(s["micro_batch_losses"]) == ga

    # logged losses: tr_loss is a float32 tensor += loss / ga; logged = round(sum / steps since log, 4)
    tr, last_logged, total_scalar, n_loss_logs = np.float32(0), 0, 0.0, 0
    flos = 0.0
    for s in g["steps"]:
        for loss, shape in zip(s["micro_batch_losses"], s["micro_batch_shapes"]):
            tr = np.float32(tr + (np.float32(loss) / np.float32(ga) if ga > 1 else np.float32(loss)))
            flos += float(6 * shape[0] * shape[1] * g["num_parameters"])
        if s["loss_logged"] is not None:
            expect = round(float(tr) / (s["global_step"] - last_logged), 4)
            assert s["loss_logged"] == expect, (name, s["global_step"], s["loss_logged"], expect)
            total_scalar += float(tr)
            tr, last_logged, n_loss_logs = np.float32(0), s["global_step"], n_loss_logs + 1
        else:
            assert a["logging_steps"] > 1 and s["global_step"] % a["logging_steps"] != 0
    total_scalar += float(tr)
    train_loss = total_scalar / max_steps
    assert g["train_output"]["training_loss"] == train_loss, (name, g["train_output"]["training_loss"], train_loss)
    assert g["train_output"]["metrics"]["train_loss"] == train_loss
    train_log = [e for e in g["log_history"] if "train_loss" in e]
    assert len(train_log) == 1 and train_log[0]["train_loss"] == train_loss
    assert st["total_flos"] == flos == train_log[0]["total_flos"], (name, st["total_flos"], flos)

    # log_history: every entry's epoch is round(state.epoch, 2); eval entries where expected
    step_epoch = {s["global_step"]: s["epoch"] for s in g["steps"]}
    evals = [e for e in g["log_history"] if "eval_loss" in e]
    for e in g["log_history"]:
        assert e["epoch"] == round(step_epoch[e["step"]], 2), (name, e)
    if a["evaluation_strategy"] == "epoch":
        expect_eval_steps = [upd_per_epoch * (i + 1) for i in range(math.ceil(a["num_train_epochs"]))]
    else:
        expect_eval_steps = [k for k in range(1, max_steps + 1) if k % a["eval_steps"] == 0]
    assert [e["step"] for e in evals[:-1]] == expect_eval_steps, (name, [e["step"] for e in evals])
    assert evals[-1] == g["final_eval_metrics"] | {"epoch": evals[-1]["epoch"], "step": max_steps}

    # best checkpoint: strict improvement (first of ties wins), greater or smaller is better
    key = a["metric_for_best_model"]
    key = key if key.startswith("eval_") else "eval_" + key
    best, best_step = None, None
    for e in evals[:-1]:
        v = e[key]
        if best is None or (v > best if a["greater_is_better"] else v < best):
            best, best_step = v, e["step"]
    assert g["best_metric"] == best and g["best_model_checkpoint"] == f"checkpoint-{best_step}", (name, best, best_step)
    names = [c["name"] for c in g["checkpoints"]]
    limit = a["save_total_limit"]
    saved = [f"checkpoint-{k}" for k in expect_eval_steps]
    if not limit or len(saved) <= limit:
        assert names == saved, (name, names)
    else:
        assert len(names) == limit and g["best_model_checkpoint"] in names, (name, names)
    for c in g["checkpoints"]:
        ts = c["trainer_state"]
        assert ts["global_step"] == int(c["name"].split("-")[1])
        lh = ts["log_history"]  # a prefix of the whole history, ending with this save's eval entry
        assert lh == g["log_history"][:len(lh)] and "eval_loss" in lh[-1] and lh[-1]["step"] == ts["global_step"]

    # final eval: loss = sample-weighted mean of per-batch mean losses; metrics from the logits
    logits = torch.tensor(g["final_eval_logits"], dtype=torch.float32)
    labels = [r["label"] for r in g["eval_rows"]]
    eb = a["per_device_eval_batch_size"]
    per_sample = []
    for i in range(0, len(labels), eb):
        lg = logits[i:i + eb]
        if g["task"] == "stsb":
            lab = torch.tensor(labels[i:i + eb], dtype=torch.float32)
            loss = torch.nn.functional.mse_loss(lg.squeeze(), lab.squeeze())
        else:
            loss = torch.nn.functional.cross_entropy(lg, torch.tensor(labels[i:i + eb]))
        per_sample += [loss.item()] * lg.shape[0]
    eval_loss = np.array(per_sample, dtype=np.float32).mean().item()
    fm = g["final_eval_metrics"]
    assert abs(fm["eval_loss"] - eval_loss) <= 1e-6 * max(1.0, abs(eval_loss)), (name, fm["eval_loss"], eval_loss)
    facts["eval_loss_diff"] = abs(fm["eval_loss"] - eval_loss)
    npl = logits.numpy()
    preds = np.squeeze(npl) if g["task"] == "stsb" else np.argmax(npl, axis=1)
    labs = np.array(labels, dtype=np.float32 if g["task"] == "stsb" else np.int64)
    for k, v in glue_metric(g["task"], preds, labs).items():
        assert abs(fm["eval_" + k] - v) <= 1e-6, (name, k, fm["eval_" + k], v)
    facts["best"] = f"{g['best_model_checkpoint']}={g['best_metric']:.4g}"
    facts["left"] = names
    return facts


# ----------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "shared"))
    ap.add_argument("--out", default=os.path.join(HERE, "..", "tests", "goldens", "trainer"))
    ap.add_argument("--cases", nargs="*", default=list(CASES))
    ap.add_argument("--check", metavar="DIR", help="only check the goldens in DIR")
    args = ap.parse_args()
    torch.set_num_threads(1)

    if args.check is None:
        import make_test_data
        os.makedirs(args.out, exist_ok=True)
        with tempfile.TemporaryDirectory() as tmp:
            with contextlib.redirect_stdout(io.StringIO()):
                inits = make_test_data.trainer_inits(os.path.join(tmp, "init"))
            for name in args.cases:
                case = CASES[name]
                g = run_case(name, case, os.path.abspath(args.shared), inits[case["model"]], os.path.join(tmp, "runs"))
                with open(os.path.join(args.out, name + ".json"), "w") as f:
                    f.write(dumps(g) + "\n")
                shutil.rmtree(os.path.join(tmp, "runs", name), ignore_errors=True)
        check_dir = args.out
    else:
        check_dir = args.check
    for name in args.cases:
        with open(os.path.join(check_dir, name + ".json")) as f:
            g = json.load(f)
        print(name, "consistent:", check_golden(g))


if __name__ == "__main__":
    main()
