#!/usr/bin/env python3
"""Current HuggingFace's GLUE fine-tuning (run_glue.py's path: tokenizer, map, DataCollatorWithPadding,
AutoModelForSequenceClassification, Trainer, MCC/accuracy), for the tools/make_hf_venv.sh venv only.
It is the oracle of the MiniLM parity golden, the HF side of the accuracy runs and the HF Trainer peer
of scripts/run-benchmarks.sh. Written for this repository; nothing of run_glue.py is copied.

    VENV/bin/python tools/hf_run_glue.py --model_name_or_path DIR --task_name cola \\
        --shared ../shared --output_dir OUT [--no_dropout] [--random_init] [--head FILE] \\
        [--report REPORT.json] [any TrainingArguments flag: --seed 7 --max_steps 300 ...]

The TrainingArguments defaults are the seed recipe, as `finetune train`'s are: lr 2e-5, batch 16,
5 epochs, weight decay 0.01, evaluate and save every epoch, best model by matthews_correlation
(accuracy for the other classification tasks, pearson for STS-B); flags given win.

- Data: shared/data/glue/<task> read as HF's glue script reads it (tools/glue_rows.py).
- --no_dropout: every dropout of the config set to 0 at from_pretrained.
- --random_init: weights from HF's _init_weights (after set_seed(seed)) on the folder's config.json.
- --head FILE: a safetensors file whose tensors (classifier.weight/bias) replace the seeded head.
- --tokenizer_name DIR: tokenizer files when the model folder has none.
- --threads N: torch.set_num_threads (0 keeps torch's default).
- --report_eval_logits: the report also holds the final model's logits for every eval row.
- --report FILE: JSON with the versions, torch's GEMM backend and threads, the run's arguments, the
  token ids' sha256, log_history, every optimizer step's wall time (on_step_begin -> on_step_end:
  forward, backward, clipping, AdamW; evaluation and saving excluded), train() and the final
  evaluate()'s wall times, and the peak RSS.
"""

import dataclasses
import hashlib
import json
import os
import platform
import re
import resource
import sys
import time
from pathlib import Path

import datasets
import numpy as np
import safetensors.torch
import sklearn
import torch
import transformers
from sklearn.metrics import matthews_corrcoef
from scipy.stats import pearsonr, spearmanr
from transformers import (AutoConfig, AutoModelForSequenceClassification, AutoTokenizer,
                          DataCollatorWithPadding, HfArgumentParser, Trainer, TrainerCallback,
                          TrainingArguments, set_seed)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import glue_rows  # noqa: E402

DROPOUT_KEYS = ("hidden_dropout_prob", "attention_probs_dropout_prob", "classifier_dropout",
                "dropout", "attention_dropout", "seq_classif_dropout")


@dataclasses.dataclass
class JobArguments:
    model_name_or_path: str = dataclasses.field(metadata={"help": "model folder"})
    shared: str = dataclasses.field(default="../shared", metadata={"help": "the shared/ folder"})
    task_name: str = "cola"
    tokenizer_name: str = ""
    max_seq_length: int = 128
    max_train_samples: int = -1
    max_eval_samples: int = -1
    no_dropout: bool = False
    random_init: bool = False
    head: str = ""
    threads: int = 0
    report: str = ""
    report_eval_logits: bool = False


RECIPE = {"learning_rate": 2e-5, "per_device_train_batch_size": 16, "per_device_eval_batch_size": 16,
          "num_train_epochs": 5.0, "weight_decay": 0.01, "eval_strategy": "epoch", "save_strategy": "epoch",
          "load_best_model_at_end": True, "report_to": "none", "disable_tqdm": True, "use_cpu": True,
          "logging_steps": 500}


class StepTimes(TrainerCallback):
    """Wall time of each optimizer step, from on_step_begin to on_step_end."""

    def __init__(self):
        self.times, self._t0 = [], None

    def on_step_begin(self, args, state, control, **kw):
        self._t0 = time.perf_counter()

    def on_step_end(self, args, state, control, **kw):
        self.times.append(time.perf_counter() - self._t0)


def metric_fn(task):
    def compute(p):
        preds, labels = p.predictions, p.label_ids
        if task == "stsb":
            preds = np.squeeze(preds)
            r = {"pearson": float(pearsonr(preds, labels)[0]), "spearmanr": float(spearmanr(preds, labels)[0])}
            r["combined_score"] = (r["pearson"] + r["spearmanr"]) / 2
            return r
        preds = np.argmax(preds, axis=1)
        if task == "cola":
            return {"matthews_correlation": float(matthews_corrcoef(labels, preds))}
        return {"accuracy": float((preds == labels).mean())}
    return compute


def gemm_backend():
    """torch's float GEMM route: its build's BLAS_INFO / USE_MKLDNN and the MKL it loaded."""
    keys = ("BLAS_INFO", "LAPACK_INFO", "USE_MKLDNN", "USE_OPENMP", "TORCH_VERSION")
    build = [kv.strip() for kv in re.split(r"[,:\n]", torch.__config__.show())
             if kv.strip().split("=")[0] in keys]
    libs = [ln.strip() for ln in torch.__config__.parallel_info().splitlines()
            if "Math Kernel" in ln or "OpenMP" in ln or "oneDNN" in ln]
    return {"build": build, "libraries": libs, "mkldnn_enabled": torch.backends.mkldnn.is_available()}


def main():
    argv = sys.argv[1:]
    task = argv[argv.index("--task_name") + 1] if "--task_name" in argv else JobArguments.task_name
    # The task's metric ranks checkpoints, as `finetune train` does; left unset, TrainingArguments
    # would rank them by eval loss.
    metric = {"cola": "matthews_correlation", "stsb": "pearson"}.get(task, "accuracy")
    for k, v in dict(RECIPE, metric_for_best_model=metric).items():  # flags given win
        if f"--{k}" not in argv:
            argv += [f"--{k}", str(v)]
    job, args = HfArgumentParser((JobArguments, TrainingArguments)).parse_args_into_dataclasses(argv)
    if job.threads > 0:
        torch.set_num_threads(job.threads)
    set_seed(args.seed)

    rows = json.loads(os.popen(f"{sys.executable} {os.path.dirname(os.path.abspath(__file__))}/glue_rows.py "
                               f"{job.task_name} {Path(job.shared) / 'data' / 'glue' / job.task_name}").read())
    texts, classes, _ = glue_rows.TASKS[job.task_name]
    tok = AutoTokenizer.from_pretrained(job.tokenizer_name or job.model_name_or_path)

    def tokenise(split, limit):
        r = rows[split][:limit] if limit > 0 else rows[split]
        cols = [[x[i] for x in r] for i in range(len(texts))]
        enc = tok(*cols, padding=False, truncation=True, max_length=job.max_seq_length)
        d = {k: v for k, v in enc.items()}
        d["label"] = [x[len(texts)] for x in r]
        return datasets.Dataset.from_dict(d)

    train = tokenise("train", job.max_train_samples)
    evald = tokenise("validation", job.max_eval_samples)
    ids_sha = {s: hashlib.sha256(json.dumps(list(d["input_ids"]), separators=(",", ":")).encode()).hexdigest()
               for s, d in (("train", train), ("validation", evald))}

    num_labels = 1 if classes is None else len(classes)
    overrides = {k: 0.0 for k in DROPOUT_KEYS} if job.no_dropout else {}
    config = AutoConfig.from_pretrained(job.model_name_or_path, num_labels=num_labels, **overrides)
    if job.random_init:
        model = AutoModelForSequenceClassification.from_config(config)
    else:
        model = AutoModelForSequenceClassification.from_pretrained(job.model_name_or_path, config=config)
    if job.head:
        head = safetensors.torch.load_file(job.head)
        missing, unexpected = model.load_state_dict(head, strict=False)
        assert not unexpected and len(head) == 2, (unexpected, list(head))

    timer = StepTimes()
    trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=evald, processing_class=tok,
                      data_collator=DataCollatorWithPadding(tok), compute_metrics=metric_fn(job.task_name),
                      callbacks=[timer])
    t0 = time.perf_counter()
    train_result = trainer.train()
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    final_eval = trainer.evaluate()
    eval_s = time.perf_counter() - t0
    print(json.dumps({"train": train_result.metrics, "eval": final_eval}))

    if job.report:
        report = {
            "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                         "numpy": np.__version__, "sklearn": sklearn.__version__,
                         "python": platform.python_version()},
            "torch_threads": torch.get_num_threads(), "gemm": gemm_backend(),
            "job": dataclasses.asdict(job),
            "training_args": {k: v for k, v in args.to_dict().items() if isinstance(v, (int, float, str, bool))
                              or v is None},
            "rows": {"train": len(train), "eval": len(evald)}, "input_ids_sha256": ids_sha,
            "num_parameters": model.num_parameters(),
            "log_history": trainer.state.log_history,
            "best_metric": trainer.state.best_metric,
            "best_model_checkpoint": trainer.state.best_model_checkpoint and
            os.path.basename(trainer.state.best_model_checkpoint),
            "step_seconds": timer.times,
            "median_step_s": float(np.median(timer.times)) if timer.times else None,
            "train_wall_s": train_s, "final_eval_wall_s": eval_s,
            "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }
        if job.report_eval_logits:
            logits = trainer.predict(evald).predictions
            report["eval_logits"] = [[float(x) for x in row] for row in logits]
        tmp = job.report + ".tmp"
        with open(tmp, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
        os.replace(tmp, job.report)


if __name__ == "__main__":
    main()
