#!/usr/bin/env python3
"""Summarises tools/run_ner_accuracy.sh's runs side by side: dev (eval) and test (predict) accuracy
and loss, dev accuracy after each epoch, time per epoch (train()'s runtime / epochs, with and
without the epoch-end evaluations), the median optimizer step, estimates for a full epoch of the
whole train file, eval/predict times, peak RSS, the machine, and how far the two predictions.txt
agree. Writes DIR/summary.json and DIR/summary.md and prints the Markdown.

Usage: summarize_ner_accuracy.py DIR   (stdlib only; runs with /usr/bin/python3 or the HF venv)
DIR/ours and DIR/hf hold each side's all_results.json, trainer_state.json, predictions.txt,
train.log and time.txt; DIR/hf/report.json is tools/hf_run_ner.py's report.
"""
import json
import math
import re
import sys
from pathlib import Path

UD_EWT_TRAIN_SENTENCES = 12544  # used when the HF report (with the files' sizes) is missing


def read_json(path):
    return json.loads(path.read_text()) if path.is_file() else None


def read_kv(path):
    out = {}
    if path.is_file():
        for line in path.read_text().splitlines():
            k, _, v = line.partition(" ")
            try:
                out[k] = float(v)
            except ValueError:
                pass
    return out


def side(d):
    """One side's numbers from its folder, or None."""
    res = read_json(d / "all_results.json")
    state = read_json(d / "trainer_state.json")
    if res is None or state is None:
        return None
    history = state.get("log_history", [])
    end = next((i for i, e in enumerate(history) if "train_runtime" in e), len(history))
    evals = [e for e in history[:end] if "eval_runtime" in e]
    epochs = float(state.get("epoch") or 0)
    steps = int(state.get("global_step") or 0)
    runtime = res.get("train_runtime")
    in_train_eval = sum(e["eval_runtime"] for e in evals)
    median = None
    log = d / "train.log"
    if log.is_file():
        m = re.search(r"step time: median ([0-9.eE+-]+) s over (\d+)", log.read_text(errors="replace"))
        if m:
            median = float(m.group(1))
    report = read_json(d / "report.json")
    if report and report.get("median_step_s") is not None:
        median = report["median_step_s"]
    t = read_kv(d / "time.txt")
    s = {
        "dev_accuracy": res.get("eval_accuracy"), "dev_loss": res.get("eval_loss"), "dev_f1": res.get("eval_f1"),
        "test_accuracy": res.get("predict_accuracy"), "test_loss": res.get("predict_loss"),
        "test_f1": res.get("predict_f1"),
        "train_loss": res.get("train_loss"),
        "train_rows": res.get("train_samples"), "eval_rows": res.get("eval_samples"),
        "steps": steps, "epochs": epochs, "train_batch_size": state.get("train_batch_size"),
        "dev_accuracy_per_epoch": [(round(e.get("epoch", 0), 4), e.get("eval_accuracy")) for e in evals],
        "train_runtime_s": runtime,
        "in_train_eval_s": in_train_eval,
        "time_per_epoch_s": runtime / epochs if runtime and epochs else None,
        "time_per_epoch_without_eval_s": (runtime - in_train_eval) / epochs if runtime and epochs else None,
        "mean_step_s": (runtime - in_train_eval) / steps if runtime and steps else None,
        "median_step_s": median,
        "final_eval_s": res.get("eval_runtime"), "predict_s": res.get("predict_runtime"),
        "process_wall_s": t.get("wall_s"), "peak_rss_mb": t["peak_rss_kb"] / 1024 if "peak_rss_kb" in t else None,
    }
    if report:
        s["step_time_sum_per_epoch_s"] = report.get("step_time_per_epoch_s")
        s["versions"] = report.get("versions")
        s["torch_threads"] = report.get("torch_threads")
        s["tokenizer"] = f"{report.get('tokenizer_class')} (fast={report.get('tokenizer_is_fast')}, " \
                         f"do_lower_case={report.get('do_lower_case')})"
    return s


def predictions(d):
    p = d / "predictions.txt"
    return [line.split() for line in p.read_text().splitlines()] if p.is_file() else None


def fmt(v, digits=4):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def main():
    d = Path(sys.argv[1])
    sides = {"finetune.cpp": side(d / "ours"), "HF": side(d / "hf")}
    report = read_json(d / "hf" / "report.json")
    machine = read_json(d / "machine.json") or {}
    settings = read_json(d / "settings.json") or {}

    # Full-epoch estimates: the epoch's training time (evaluations excluded) scaled by the sub-tokens
    # of the whole train file over those trained on (rows when the HF report is missing), and the
    # median step times the full epoch's steps. The full dev evaluation: the final eval's time
    # scaled by sub-tokens.
    files = (report or {}).get("files") or {}
    used = (report or {}).get("sub_tokens") or {}
    est = {}
    for name, s in sides.items():
        if s is None:
            continue
        full_rows = files.get("train", {}).get("rows", UD_EWT_TRAIN_SENTENCES)
        if files.get("train") and used.get("train"):
            scale, by = files["train"]["sub_tokens"] / used["train"], "sub-tokens"
        else:
            scale, by = full_rows / s["train_rows"] if s["train_rows"] else None, "rows"
        batch = s.get("train_batch_size") or 16
        e = {"full_train_rows": full_rows, "scale": scale, "scaled_by": by,
             "full_epoch_s": s["time_per_epoch_without_eval_s"] * scale
             if scale and s["time_per_epoch_without_eval_s"] else None,
             "full_epoch_by_median_step_s": s["median_step_s"] * math.ceil(full_rows / batch)
             if s["median_step_s"] else None}
        if files.get("validation") and used.get("eval") and s["final_eval_s"]:
            e["full_dev_eval_s"] = s["final_eval_s"] * files["validation"]["sub_tokens"] / used["eval"]
        est[name] = e

    # predictions.txt: same sentences and tags per sentence (the same words labelled after
    # truncation), and the share of identical tags.
    agree = None
    po, ph = predictions(d / "ours"), predictions(d / "hf")
    if po is not None and ph is not None:
        same_shape = len(po) == len(ph) and all(len(a) == len(b) for a, b in zip(po, ph))
        n = sum(min(len(a), len(b)) for a, b in zip(po, ph))
        same = sum(x == y for a, b in zip(po, ph) for x, y in zip(a, b))
        agree = {"sentences": [len(po), len(ph)], "same_shape": same_shape, "tags": n,
                 "identical_tags": same / n if n else None}

    ours, hf = sides["finetune.cpp"], sides["HF"]
    rows = [  # (label, key, digits, comparison): "diff" ours - HF, "ratio" ours / HF
        ("dev accuracy (final eval)", "dev_accuracy", 4, "diff"),
        ("test accuracy (predict)", "test_accuracy", 4, "diff"),
        ("dev eval loss", "dev_loss", 4, "diff"),
        ("test loss", "test_loss", 4, "diff"),
        ("dev seqeval f1 (POS: odd, see README)", "dev_f1", 4, "diff"),
        ("train loss (mean over the run)", "train_loss", 4, "diff"),
        ("train sentences / steps / epochs", None, 0, None),
        ("train runtime (s)", "train_runtime_s", 1, "ratio"),
        ("time per epoch (s), epoch-end eval included", "time_per_epoch_s", 1, "ratio"),
        ("time per epoch (s), eval excluded", "time_per_epoch_without_eval_s", 1, "ratio"),
        ("median optimizer step (s)", "median_step_s", 3, "ratio"),
        ("mean step incl. data loading (s)", "mean_step_s", 3, "ratio"),
        ("final dev eval (s)", "final_eval_s", 1, "ratio"),
        ("test predict (s)", "predict_s", 1, "ratio"),
        ("process wall (s)", "process_wall_s", 1, "ratio"),
        ("peak RSS (MB)", "peak_rss_mb", 0, "ratio"),
    ]
    md = []
    md.append(f"UPOS on UD English-EWT, all-MiniLM-L6-v2; settings: epochs {settings.get('epochs')}, "
              f"lr {settings.get('learning_rate')}, batch {settings.get('batch')}, eval batch "
              f"{settings.get('eval_batch')}, max_seq_length {settings.get('max_seq_length')}, seed "
              f"{settings.get('seed')}, threads {settings.get('threads')}; max train/eval/predict samples "
              f"{settings.get('max_train_samples') or 'all'}/{settings.get('max_eval_samples') or 'all'}/"
              f"{settings.get('max_predict_samples') or 'all'}")
    md.append(f"Machine: {machine.get('cpu_model')}, {machine.get('cores')} cores, SIMD "
              f"{' '.join(machine.get('simd_flags', []))}; load average (1/5/15 min) "
              + "; ".join(f"{k} before {v['before']}, after {v['after']}"
                          for k, v in (machine.get("load_average") or {}).items()))
    md.append("")
    md.append("| | finetune.cpp | HF | ours − HF or ours / HF |")
    md.append("|---|---|---|---|")
    for label, key, digits, cmp in rows:
        if key is None:
            cells = [f"{int(s['train_rows'] or 0)} / {s['steps']} / {fmt(s['epochs'], 2)}" if s else "–"
                     for s in (ours, hf)]
            md.append(f"| {label} | {cells[0]} | {cells[1]} | |")
            continue
        a, b = (ours or {}).get(key), (hf or {}).get(key)
        c = ""
        if a is not None and b is not None:
            if cmp == "diff":
                c = f"{a - b:+.4f}"
            elif cmp == "ratio" and b:
                c = f"{a / b:.2f}×"
        md.append(f"| {label} | {fmt(a, digits)} | {fmt(b, digits)} | {c} |")
    ea, eb = est.get("finetune.cpp", {}), est.get("HF", {})
    for label, key in (("est. full train epoch (s), by sub-tokens", "full_epoch_s"),
                       ("est. full train epoch (s), median step × steps", "full_epoch_by_median_step_s"),
                       ("est. full dev evaluation (s)", "full_dev_eval_s")):
        a, b = ea.get(key), eb.get(key)
        c = f"{a / b:.2f}×" if a and b else ""
        md.append(f"| {label} | {fmt(a, 0)}{f' ({a / 60:.1f} min)' if a else ''} | "
                  f"{fmt(b, 0)}{f' ({b / 60:.1f} min)' if b else ''} | {c} |")
    for name, s in sides.items():
        if s and s["dev_accuracy_per_epoch"]:
            md.append(f"\n{name}: dev accuracy after each epoch: "
                      + ", ".join(f"{ep}: {fmt(acc)}" for ep, acc in s["dev_accuracy_per_epoch"]))
    if est:
        any_e = next(iter(est.values()))
        md.append(f"\nFull-epoch estimates: the epoch's training time without evaluation × "
                  f"{fmt(any_e['scale'], 2)} (the whole train file's {any_e['scaled_by']} over those trained on; "
                  f"{any_e['full_train_rows']} sentences).")
    if agree:
        md.append(f"\npredictions.txt: {agree['sentences'][0]} vs {agree['sentences'][1]} sentences, "
                  f"{'the same' if agree['same_shape'] else 'DIFFERENT'} tags per sentence; "
                  f"{fmt(agree['identical_tags'])} of {agree['tags']} tags identical.")
    if hf and hf.get("versions"):
        v = hf["versions"]
        md.append(f"\nHF: transformers {v.get('transformers')}, torch {v.get('torch')} "
                  f"({hf.get('torch_threads')} threads), seqeval {v.get('seqeval')}; tokenizer {hf.get('tokenizer')}.")
    text = "\n".join(md) + "\n"
    (d / "summary.md").write_text(text)
    (d / "summary.json").write_text(json.dumps({"sides": sides, "full_epoch_estimates": est,
                                                "predictions_agreement": agree, "machine": {
                                                    k: v for k, v in machine.items() if k != "flags"},
                                                "settings": settings}, indent=1) + "\n")
    print(text, end="")


if __name__ == "__main__":
    main()
