#!/usr/bin/env python3
"""Reads one side-by-side run of scripts/run-benchmarks.sh's `trainer` section and prints the table:
per job (full-size DistilBERT, MiniLM), finetune.cpp's and the HF Trainer's median seconds per
optimizer step, one epoch of the seed recipe (train_runtime: the steps, the epoch's evaluation and
its checkpoint), the evaluation of the dev sentences (eval_runtime of the evaluate() after
training), and peak RSS (GNU time's %M), each with the ratio HF / ours. stdlib only.

Usage: compare_trainer_peer.py RESULTS_DIR JOB [JOB...]
RESULTS_DIR/JOB/ holds ours.stdout, ours/ (output_dir), ours.rss_kb, hf.json (hf_run_glue's report),
hf.rss_kb."""
import json
import re
import sys
from pathlib import Path


def ours(d):
    step = re.search(r"step time: median ([0-9.]+) s over (\d+)", (d / "ours.stdout").read_text())
    train = json.loads((d / "ours" / "train_results.json").read_text())
    ev = json.loads((d / "ours" / "eval_results.json").read_text())
    return {"step_s": float(step.group(1)), "steps": int(step.group(2)), "epoch_s": train["train_runtime"],
            "eval_s": ev["eval_runtime"], "rss_mb": int((d / "ours.rss_kb").read_text()) / 1024,
            "mcc": ev.get("eval_matthews_correlation")}


def hf(d):
    r = json.loads((d / "hf.json").read_text())
    train = next(e for e in r["log_history"] if "train_runtime" in e)
    ev = [e for e in r["log_history"] if "eval_runtime" in e][-1]
    return {"step_s": r["median_step_s"], "steps": len(r["step_seconds"]), "epoch_s": train["train_runtime"],
            "eval_s": ev["eval_runtime"], "rss_mb": int((d / "hf.rss_kb").read_text()) / 1024,
            "mcc": ev.get("eval_matthews_correlation"), "versions": r["versions"], "gemm": r["gemm"],
            "threads": r["torch_threads"]}


def main():
    root = Path(sys.argv[1])
    rows, peer = [], None
    for job in sys.argv[2:]:
        o, h = ours(root / job), hf(root / job)
        peer = h
        assert o["steps"] == h["steps"], (job, o["steps"], h["steps"])
        for key, name, unit in (("step_s", "median s / optimizer step", "s"), ("epoch_s", "one epoch (train_runtime)", "s"),
                                ("eval_s", "eval, dev sentences (eval_runtime)", "s"), ("rss_mb", "peak RSS", "MB")):
            rows.append((job, name, o[key], h[key], h[key] / o[key], unit))
        rows.append((job, "dev MCC after the epoch", o["mcc"], h["mcc"], None, ""))
    v = peer["versions"]
    print(f"peer: HF Trainer, transformers {v['transformers']}, torch {v['torch']} (PyPI wheel), "
          f"{peer['threads']} torch threads, GEMM: {', '.join(peer['gemm']['build'][:1] + peer['gemm']['libraries'][1:2])}")
    print("| job | what | finetune.cpp | HF Trainer | HF / finetune.cpp |")
    print("|---|---|---|---|---|")
    for job, name, a, b, ratio, unit in rows:
        fmt = (lambda x: f"{x:.4f}") if unit != "MB" else (lambda x: f"{x:.0f} MB")
        if ratio is None:
            print(f"| {job} | {name} | {a:.4f} | {b:.4f} | |")
        else:
            print(f"| {job} | {name} | {fmt(a)}{' s' if unit == 's' else ''} | {fmt(b)}{' s' if unit == 's' else ''} | {ratio:.2f}× |")
    (root / "summary.json").write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
