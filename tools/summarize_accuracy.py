#!/usr/bin/env python3
"""Summarises tools/run_minilm_accuracy.sh's runs: per-epoch eval MCC of each seed, each run's best
MCC, and per system the mean and sample standard deviation (n-1) of the best MCC. The check the
issue asks for: the two means differ by less than the larger standard deviation.
Writes DIR/summary.json and prints a Markdown table. Usage: summarize_accuracy.py DIR
(stdlib only: ours-seed<N>.json are trainer_state.json files, hf-seed<N>.json hf_run_glue reports)."""
import json
import re
import statistics
import sys
from pathlib import Path


def epochs_mcc(log_history):
    """[(epoch, MCC)] of the evaluations during training (the final evaluate() repeats the best)."""
    out = []
    for e in log_history:
        if "eval_matthews_correlation" in e and (not out or e["step"] != out[-1][2]):
            out.append((round(e["epoch"], 4), e["eval_matthews_correlation"], e["step"]))
    return [(ep, m) for ep, m, _ in out]


def main():
    d = Path(sys.argv[1])
    runs = {"finetune.cpp": {}, "HF": {}}
    for f in sorted(d.glob("*-seed*.json")):
        m = re.fullmatch(r"(ours|hf)-seed(\d+)\.json", f.name)
        if not m:
            continue
        system = "finetune.cpp" if m.group(1) == "ours" else "HF"
        runs[system][int(m.group(2))] = epochs_mcc(json.loads(f.read_text())["log_history"])
    summary = {"systems": {}}
    print("| system | seed | eval MCC after epoch 1, 2, 3, 4, 5 | best |")
    print("|---|---|---|---|")
    for system, seeds in runs.items():
        best = {}
        for seed, ev in sorted(seeds.items()):
            best[seed] = max(m for _, m in ev)
            print(f"| {system} | {seed} | {', '.join(f'{m:.4f}' for _, m in ev)} | {best[seed]:.4f} |")
        vals = list(best.values())
        summary["systems"][system] = {
            "per_seed": {str(s): {"epochs": seeds[s], "best": best[s]} for s in sorted(seeds)},
            "mean_best": statistics.mean(vals) if vals else None,
            "std_best": statistics.stdev(vals) if len(vals) > 1 else None,
        }
    ours, hf = summary["systems"]["finetune.cpp"], summary["systems"]["HF"]
    if ours["std_best"] is not None and hf["std_best"] is not None:
        diff = abs(ours["mean_best"] - hf["mean_best"])
        larger = max(ours["std_best"], hf["std_best"])
        summary["mean_difference"], summary["larger_std"] = diff, larger
        summary["means_within_larger_std"] = diff < larger
        for name, s in (("finetune.cpp", ours), ("HF", hf)):
            print(f"\n{name}: best MCC {s['mean_best']:.4f} ± {s['std_best']:.4f} (mean ± sample std)", end="")
        print(f"\n|difference of means| {diff:.4f} vs larger std {larger:.4f}: "
              f"{'within' if diff < larger else 'NOT within'}")
    (d / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")


if __name__ == "__main__":
    main()
