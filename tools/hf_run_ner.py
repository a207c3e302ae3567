#!/usr/bin/env python3
"""Current HuggingFace's token-classification fine-tuning (run_ner.py's path: word/tag rows, the
label list, tokenizer(is_split_into_words=True) with labels aligned by word_ids(),
AutoModelForTokenClassification, DataCollatorForTokenClassification, Trainer, seqeval), for the
tools/make_hf_venv.sh venv only (transformers 5.25.0, seqeval 1.2.2, conllu 6.0.0). The HF side of
tools/run_ner_accuracy.sh, the peer of `finetune train-tagger`. Written for this repository;
nothing of run_ner.py is copied.

    VENV/bin/python tools/hf_run_ner.py --model_name_or_path DIR --label_column_name upos \\
        --train_file T.conllu --validation_file D.conllu --test_file E.conllu \\
        --output_dir OUT --do_train --do_eval --do_predict [--max_seq_length 128] \\
        [--max_train_samples N] [--max_eval_samples N] [--max_predict_samples N] \\
        [--label_all_tokens] [--return_entity_level_metrics] [--threads N] [--report REPORT.json] \\
        [any TrainingArguments flag: --learning_rate 5e-5 --num_train_epochs 1 --eval_strategy epoch ...]

TrainingArguments keep HF's defaults (run_ner has no recipe of its own) except report_to none,
disable_tqdm and use_cpu, which this script sets unless given; flags given win.

- Data: CoNLL-U files read as `finetune train-tagger` reads them (its CoNLL-U reader): a sentence
  is the token lines between blank lines, FORM -> tokens, UPOS -> upos, XPOS -> xpos ("_" ->
  None), and multiword-token lines (ID "3-4") and empty nodes (ID "8.1") are SKIPPED
  (--conllu_lines words, the default; `all` keeps them, as HF's universal_dependencies loader's
  conllu.parse_incr does). The reading is checked against conllu.parse_incr minus those lines
  (tools/make_ner_trainer_goldens.py's check_with_conllu). upos is a List(ClassLabel) column with
  the universal_dependencies loader's 18 names in its order (tests/goldens/trainer_ner/README.md),
  so it gives the label list; another column (xpos) is strings, and the label list is the sorted
  set of the train split's tags (run_ner's get_label_list).
- run_ner's columns (--text_column_name, else tokens; --label_column_name, else <task_name>_tags,
  else the second column), max_*_samples (the first N rows, before tokenizing),
  tokenize_and_align_labels (special tokens -100, a word's first sub-token its label, the others
  -100 or with --label_all_tokens b_to_i_label of it), add_prefix_space for the byte-level BPE
  families, from_pretrained(num_labels, id2label, label2id), compute_metrics (argmax, -100
  dropped, names, seqeval as evaluate calls it: tools/gen_seqeval_goldens.py's seqeval_scores),
  and its outputs: the final model (save_model), train/eval/predict/all_results.json,
  trainer_state.json, predictions.txt (the test split's tags, a line per sentence).
- --threads N: torch.set_num_threads (0 keeps torch's default).
- --report FILE: JSON with the versions, torch's GEMM backend and threads, the CPU, the run's
  arguments, the label list, rows and sub-token counts of each split used and of each whole file
  (to scale a subset's times to a full epoch), the input ids' sha256, log_history, every
  optimizer step's wall time (on_step_begin -> on_step_end: forward, backward, clipping, AdamW;
  evaluation and saving excluded), train()'s wall time, the evaluations run inside it, time per
  epoch (train() / epochs, and the same without those evaluations), the final eval and test
  (predict) metrics with their wall times, and the peak RSS.
"""

import dataclasses
import hashlib
import json
import math
import os
import platform
import resource
import sys
import time
from importlib import metadata
from typing import Optional

import datasets
import numpy as np
import torch
import transformers
from datasets import ClassLabel, Features, List, Value
from transformers import (AutoConfig, AutoModelForTokenClassification, AutoTokenizer,
                          DataCollatorForTokenClassification, HfArgumentParser, Trainer,
                          TrainingArguments, set_seed)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen_seqeval_goldens import seqeval_scores  # noqa: E402
from hf_run_glue import StepTimes, gemm_backend  # noqa: E402
from make_ner_trainer_goldens import UPOS_NAMES, check_with_conllu  # noqa: E402

# run_ner.py: these tokenizers need add_prefix_space=True for pre-split words.
PREFIX_SPACE_TYPES = {"bloom", "gpt2", "roberta", "deberta"}


@dataclasses.dataclass
class JobArguments:
    model_name_or_path: str = dataclasses.field(metadata={"help": "model folder"})
    tokenizer_name: str = ""
    task_name: str = "ner"
    train_file: str = ""
    validation_file: str = ""
    test_file: str = ""
    text_column_name: str = ""
    label_column_name: str = ""
    max_seq_length: Optional[int] = None
    max_train_samples: Optional[int] = None
    max_eval_samples: Optional[int] = None
    max_predict_samples: Optional[int] = None
    label_all_tokens: bool = False
    return_entity_level_metrics: bool = False
    conllu_lines: str = dataclasses.field(default="words", metadata={"choices": ["words", "all"]})
    check_conllu: bool = dataclasses.field(default=True, metadata={
        "help": "check the reading against conllu.parse_incr"})
    threads: int = 0
    report: str = ""
    # TrainingArguments 5.x has no overwrite_output_dir; accepted (and ignored: the Trainer writes
    # into the folder anyway) so that the same flags serve `finetune train-tagger` and this script.
    overwrite_output_dir: bool = False


DEFAULTS = {"report_to": "none", "disable_tqdm": True, "use_cpu": True}


# ----------------------------------------------------------------------------------------------
# Data

def read_conllu_file(path, lines):
    """Every sentence of a CoNLL-U file: tokens (FORM), upos, xpos ("_" -> None), as
    make_ner_trainer_goldens.read_conllu reads the first n (lines="words": multiword tokens and
    empty nodes skipped), and as our reader reads them."""
    sents, cur = [], None

    def close():
        if cur is not None and cur["tokens"]:
            sents.append(cur)

    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                close()
                cur = None
                continue
            if cur is None:
                cur = {"sent_id": None, "tokens": [], "upos": [], "xpos": []}
            if line.startswith("#"):
                if line.startswith("# sent_id = "):
                    cur["sent_id"] = line[len("# sent_id = "):]
                continue
            cols = line.split("\t")
            if len(cols) != 10:
                sys.exit(f"{path}:{lineno}: {len(cols)} columns, not 10")
            if lines == "words" and ("-" in cols[0] or "." in cols[0]):
                continue
            cur["tokens"].append(cols[1])
            cur["upos"].append(cols[3])
            cur["xpos"].append(None if cols[4] == "_" else cols[4])
    close()
    return sents


def load_split(path, lines, check):
    if not path.endswith(".conllu"):
        sys.exit(f"hf_run_ner: {path}: only .conllu files are read here")
    sents = read_conllu_file(path, lines)
    if check:
        import conllu
        with open(path, encoding="utf-8") as f:
            n = sum(1 for _ in conllu.parse_incr(f))
        assert n == len(sents), f"{path}: conllu.parse_incr gives {n} sentences, we read {len(sents)}"
        check_with_conllu(path, sents, lines)
    unknown = {t for s in sents for t in s["upos"]} - set(UPOS_NAMES)
    if unknown:
        sys.exit(f"hf_run_ner: {path}: upos tags {sorted(unknown)} are not universal_dependencies' names")
    features = Features({"tokens": List(Value("string")), "upos": List(ClassLabel(names=UPOS_NAMES)),
                         "xpos": List(Value("string"))})
    return datasets.Dataset.from_dict({k: [s[k] for s in sents] for k in ("tokens", "upos", "xpos")},
                                      features=features)


# ----------------------------------------------------------------------------------------------
# run_ner's path

def label_list_of(raw, label_column):
    """run_ner: a List(ClassLabel) column gives its names, else the sorted set of train tags."""
    feature = raw["train"].features[label_column] if "train" in raw else None
    if feature is None:
        feature = next(iter(raw.values())).features[label_column]
    if isinstance(getattr(feature, "feature", None), ClassLabel):
        return list(feature.feature.names), True
    tags = set()
    for row in raw["train"][:][label_column]:
        tags |= set(row)
    return sorted(tags), False


def featurize(tok, rows, text_column, label_column, label_list, is_class_label, max_len, label_all_tokens):
    """tokenize_and_align_labels over a whole split (the tokenizer batched)."""
    label_to_id = {l: i for i, l in enumerate(label_list)}
    b_to_i_label = []
    for idx, label in enumerate(label_list):
        if label.startswith("B-") and label.replace("B-", "I-") in label_list:
            b_to_i_label.append(label_list.index(label.replace("B-", "I-")))
        else:
            b_to_i_label.append(idx)
    enc = tok(rows[text_column], padding=False, truncation=True, max_length=max_len, is_split_into_words=True)
    all_labels = []
    for i, tags in enumerate(rows[label_column]):
        ids = tags if is_class_label else [label_to_id[t] for t in tags]
        labels, prev = [], None
        for w in enc.word_ids(i):
            if w is None:
                labels.append(-100)
            elif w != prev:
                labels.append(ids[w])
            else:
                labels.append(b_to_i_label[ids[w]] if label_all_tokens else -100)
            prev = w
        all_labels.append(labels)
    d = {k: list(v) for k, v in enc.items()}
    d["labels"] = all_labels
    return datasets.Dataset.from_dict(d)


def metric_fn(label_list, entity_level):
    def compute(p):
        predictions, labels = p
        predictions = np.argmax(predictions, axis=2)
        true_predictions = [[label_list[q] for (q, l) in zip(pred, lab) if l != -100]
                            for pred, lab in zip(predictions, labels)]
        true_labels = [[label_list[l] for (q, l) in zip(pred, lab) if l != -100]
                       for pred, lab in zip(predictions, labels)]
        r = seqeval_scores(true_labels, true_predictions)
        if entity_level:
            out = {}
            for name, s in r["types"].items():
                for k, v in s.items():
                    out[f"{name}_{k}"] = v
            out.update({k: v for k, v in r.items() if k.startswith("overall_")})
            return out
        return {"precision": r["overall_precision"], "recall": r["overall_recall"], "f1": r["overall_f1"],
                "accuracy": r["overall_accuracy"]}
    return compute


def cpu_info():
    model, flags = None, []
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k.strip() == "model name" and model is None:
                    model = v.strip()
                elif k.strip() == "flags" and not flags:
                    flags = v.split()
    except OSError:
        pass
    return {"model": model, "cores": os.cpu_count(), "flags": flags}


def sha256_ids(ds):
    return hashlib.sha256(json.dumps(list(ds["input_ids"]), separators=(",", ":")).encode()).hexdigest()


def main():
    argv = sys.argv[1:]
    for k, v in DEFAULTS.items():  # flags given win
        if f"--{k}" not in argv:
            argv += [f"--{k}", str(v)]
    job, args = HfArgumentParser((JobArguments, TrainingArguments)).parse_args_into_dataclasses(argv)
    if job.threads > 0:
        torch.set_num_threads(job.threads)
    transformers.logging.set_verbosity_warning()
    set_seed(args.seed)
    if not (args.do_train or args.do_eval or args.do_predict):
        sys.exit("hf_run_ner: nothing to do: pass --do_train, --do_eval and/or --do_predict")

    files = {"train": job.train_file, "validation": job.validation_file, "test": job.test_file}
    t0 = time.perf_counter()
    raw = {split: load_split(path, job.conllu_lines, job.check_conllu) for split, path in files.items() if path}
    read_s = time.perf_counter() - t0
    for split, flag in (("train", "do_train"), ("validation", "do_eval"), ("test", "do_predict")):
        if getattr(args, flag) and split not in raw:
            sys.exit(f"hf_run_ner: --{flag} needs --{split}_file")
    columns = next(iter(raw.values())).column_names
    text_column = job.text_column_name or ("tokens" if "tokens" in columns else columns[0])
    label_column = job.label_column_name or (f"{job.task_name}_tags" if f"{job.task_name}_tags" in columns
                                             else columns[1])
    label_list, is_class_label = label_list_of(raw, label_column)
    num_labels = len(label_list)

    config = AutoConfig.from_pretrained(job.model_name_or_path, num_labels=num_labels,
                                        finetuning_task=job.task_name,
                                        id2label=dict(enumerate(label_list)),
                                        label2id={l: i for i, l in enumerate(label_list)})
    tok_kw = {"add_prefix_space": True} if config.model_type in PREFIX_SPACE_TYPES else {}
    tok = AutoTokenizer.from_pretrained(job.tokenizer_name or job.model_name_or_path, **tok_kw)
    model = AutoModelForTokenClassification.from_pretrained(job.model_name_or_path, config=config)
    max_len = job.max_seq_length  # None: the tokenizer's model_max_length

    def select(split, limit):
        ds = raw[split]
        return ds.select(range(min(limit, len(ds)))) if limit is not None else ds

    def prep(split, limit):
        return featurize(tok, select(split, limit)[:], text_column, label_column, label_list, is_class_label,
                         max_len, job.label_all_tokens)

    train = prep("train", job.max_train_samples) if args.do_train else None
    evald = prep("validation", job.max_eval_samples) if args.do_eval else None
    test = prep("test", job.max_predict_samples) if args.do_predict else None
    # Rows and sub-tokens (after truncation) of each whole file, to scale a subset's times.
    file_sizes = {}
    for split, ds in raw.items():
        enc = tok(ds[:][text_column], truncation=True, max_length=max_len, is_split_into_words=True)
        file_sizes[split] = {"rows": len(ds), "sub_tokens": sum(len(x) for x in enc["input_ids"])}

    timer = StepTimes()
    trainer = Trainer(model=model, args=args, train_dataset=train, eval_dataset=evald, processing_class=tok,
                      data_collator=DataCollatorForTokenClassification(tok),
                      compute_metrics=metric_fn(label_list, job.return_entity_level_metrics),
                      callbacks=[timer])
    results, walls = {}, {}
    if args.do_train:
        t0 = time.perf_counter()
        train_result = trainer.train()
        walls["train"] = time.perf_counter() - t0
        trainer.save_model()
        metrics = dict(train_result.metrics, train_samples=len(train))
        trainer.log_metrics("train", metrics)
        trainer.save_metrics("train", metrics)
        trainer.save_state()
        results["train"] = metrics
    if args.do_eval:
        t0 = time.perf_counter()
        metrics = trainer.evaluate()
        walls["eval"] = time.perf_counter() - t0
        metrics["eval_samples"] = len(evald)
        trainer.log_metrics("eval", metrics)
        trainer.save_metrics("eval", metrics)
        results["eval"] = metrics
    if args.do_predict:
        t0 = time.perf_counter()
        predictions, labels, metrics = trainer.predict(test, metric_key_prefix="predict")
        walls["predict"] = time.perf_counter() - t0
        trainer.log_metrics("predict", metrics)
        trainer.save_metrics("predict", metrics)
        results["predict"] = metrics
        predictions = np.argmax(predictions, axis=2)
        lines = [" ".join(label_list[q] for (q, l) in zip(pred, lab) if l != -100)
                 for pred, lab in zip(predictions, labels)]
        if trainer.is_world_process_zero():
            os.makedirs(args.output_dir, exist_ok=True)
            with open(os.path.join(args.output_dir, "predictions.txt"), "w") as f:
                f.write("".join(line + "\n" for line in lines))
    print(json.dumps(results))

    if job.report:
        history = trainer.state.log_history
        # The evaluations inside train() (eval_strategy): the entries before train()'s summary; the
        # final evaluate() logs one after it.
        in_train_evals = []
        if args.do_train:
            end = next((i for i, e in enumerate(history) if "train_runtime" in e), len(history))
            in_train_evals = [e["eval_runtime"] for e in history[:end] if "eval_runtime" in e]
        epochs = float(trainer.state.epoch or 0) if args.do_train else 0.0
        steps = trainer.state.global_step if args.do_train else 0
        train_s = walls.get("train")
        report = {
            "system": "HF",
            "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                         "tokenizers": __import__("tokenizers").__version__, "datasets": datasets.__version__,
                         "numpy": np.__version__, "seqeval": metadata.version("seqeval"),
                         "conllu": metadata.version("conllu"), "python": platform.python_version()},
            "torch_threads": torch.get_num_threads(), "gemm": gemm_backend(), "cpu": cpu_info(),
            "job": dataclasses.asdict(job),
            "training_args": {k: v for k, v in args.to_dict().items() if isinstance(v, (int, float, str, bool))
                              or v is None},
            "tokenizer_class": type(tok).__name__, "tokenizer_is_fast": tok.is_fast,
            "do_lower_case": getattr(tok, "do_lower_case", None),
            "text_column": text_column, "label_column": label_column, "label_list": label_list,
            "rows": {s: len(d) for s, d in (("train", train), ("eval", evald), ("test", test)) if d is not None},
            "sub_tokens": {s: sum(len(x) for x in d["input_ids"])
                           for s, d in (("train", train), ("eval", evald), ("test", test)) if d is not None},
            "label_tokens": {s: sum(sum(1 for l in x if l != -100) for x in d["labels"])
                             for s, d in (("train", train), ("eval", evald), ("test", test)) if d is not None},
            "files": file_sizes,
            "input_ids_sha256": {s: sha256_ids(d) for s, d in (("train", train), ("eval", evald), ("test", test))
                                 if d is not None},
            "num_parameters": model.num_parameters(),
            "log_history": history,
            "global_steps": steps, "epochs": epochs,
            "steps_per_epoch": math.ceil(len(train) / (args.per_device_train_batch_size *
                                                       args.gradient_accumulation_steps)) if train else None,
            "step_seconds": timer.times,
            "median_step_s": float(np.median(timer.times)) if timer.times else None,
            "mean_step_s": float(np.mean(timer.times)) if timer.times else None,
            "read_wall_s": read_s,
            "train_wall_s": train_s,
            "train_runtime": results.get("train", {}).get("train_runtime"),
            "in_train_eval_s": in_train_evals,
            "time_per_epoch_s": train_s / epochs if train_s and epochs else None,
            "time_per_epoch_without_eval_s": (train_s - sum(in_train_evals)) / epochs if train_s and epochs
            else None,
            "step_time_per_epoch_s": sum(timer.times) / epochs if timer.times and epochs else None,
            "final_eval_wall_s": walls.get("eval"), "predict_wall_s": walls.get("predict"),
            "eval_metrics": results.get("eval"), "test_metrics": results.get("predict"),
            "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        }
        tmp = job.report + ".tmp"
        with open(tmp, "w") as f:
            json.dump(report, f, indent=1)
            f.write("\n")
        os.replace(tmp, job.report)


if __name__ == "__main__":
    main()
