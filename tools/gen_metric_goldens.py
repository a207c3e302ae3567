#!/usr/bin/python3
"""Goldens for the GLUE metric tests: many drawn cases scored with sklearn and scipy the way
evaluate's metrics/glue does it, written to tests/goldens/metrics.json.

Run with Debian's python3 (python3-sklearn, python3-scipy):
    /usr/bin/python3 tools/gen_metric_goldens.py --out tests/goldens/metrics.json
"""
import argparse
import json
import os
import math
import platform
import warnings

import numpy as np
import scipy
import sklearn
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics import f1_score, matthews_corrcoef

SEED = 20261127
CLASSIFICATION_TASKS = ["cola", "sst2", "mrpc", "qqp", "mnli", "mnli_matched", "mnli_mismatched",
                        "qnli", "rte", "wnli", "hans"]


def glue_scores(task, predictions, references):
    """What evaluate.load("glue", task).compute(...) returns: its features cast the columns to
    int64 (float32 for stsb) and hand numpy arrays to sklearn / scipy."""
    dtype = np.float32 if task == "stsb" else np.int64
    preds = np.asarray(predictions, dtype=dtype)
    refs = np.asarray(references, dtype=dtype)
    if task == "cola":
        return {"matthews_correlation": float(matthews_corrcoef(refs, preds))}
    if task == "stsb":
        return {"pearson": float(pearsonr(preds, refs)[0]),
                "spearmanr": float(spearmanr(preds, refs)[0])}
    accuracy = float((preds == refs).mean())
    if task in ("mrpc", "qqp"):
        return {"accuracy": accuracy, "f1": float(f1_score(y_true=refs, y_pred=preds))}
    return {"accuracy": accuracy}


def make_case(task, predictions, references, why):
    case = {"task": task, "why": why, "predictions": predictions, "references": references}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zero-division and constant-input warnings
            scores = glue_scores(task, predictions, references)
        # JSON has no NaN: a constant column's correlation is written as null.
        case["expected"] = {k: (None if math.isnan(v) else v) for k, v in scores.items()}
    except ValueError as e:
        case["error"] = str(e)
    return case


def draw_cases(rng):
    cases = []
    ints = lambda a: [int(v) for v in a]

    # Random classification rows: tiny to a few hundred, 2 and 3 classes, some skewed.
    for task in CLASSIFICATION_TASKS:
        binary_only = task in ("mrpc", "qqp")
        for n in (1, 2, 3, 7, 40, 300):
            k = 2 if binary_only or rng.random() < 0.5 else 3
            refs = rng.integers(0, k, n)
            agree = rng.random(n) < rng.uniform(0.3, 0.95)  # better than chance, usually
            preds = np.where(agree, refs, rng.integers(0, k, n))
            cases.append(make_case(task, ints(preds), ints(refs), f"random n={n} k={k}"))

    # Zero denominators and other edges (MCC 0.0, F1 0.0 by zero division, perfect / inverted).
    for task in ("cola", "mrpc"):
        refs = ints(rng.integers(0, 2, 25))
        cases.append(make_case(task, [0] * 25, refs, "all predictions 0"))
        cases.append(make_case(task, [1] * 25, refs, "all predictions 1"))
        cases.append(make_case(task, refs, [1] * 25, "all references 1"))
        cases.append(make_case(task, [0] * 9, [0] * 9, "everything 0"))
        cases.append(make_case(task, refs, refs, "perfect"))
        cases.append(make_case(task, [1 - r for r in refs], refs, "inverted"))
    cases.append(make_case("cola", ints(rng.integers(0, 3, 50)), ints(rng.integers(0, 3, 50)),
                           "3 classes, multiclass MCC"))
    cases.append(make_case("cola", [2, 2, 5, 5, 2], [5, 2, 5, 2, 2], "labels 2 and 5"))
    cases.append(make_case("mrpc", [2, 2, 2], [2, 2, 2], "only label 2: no positive, f1 0"))
    cases.append(make_case("mrpc", [0, 2, 0, 2], [0, 0, 2, 2], "labels 0 and 2: no pos_label 1"))
    cases.append(make_case("qqp", [0, 1, 2, 1], [0, 1, 1, 2], "3 classes under binary f1"))

    # stsb: raw float64 values (evaluate rounds them to float32), STS-B-like grids with ties.
    for n in (2, 3, 4, 10, 60, 400):
        refs = np.round(rng.uniform(0, 5, n) * 5) / 5  # steps of 0.2: many ties
        preds = refs + rng.normal(0, 1.0, n)
        cases.append(make_case("stsb", [float(v) for v in preds], [float(v) for v in refs],
                               f"random n={n}, tied references"))
    for n in (5, 30):
        preds = np.round(rng.uniform(0, 5, n))  # ties in both columns
        refs = np.round(rng.uniform(0, 5, n))
        cases.append(make_case("stsb", [float(v) for v in preds], [float(v) for v in refs],
                               f"integer grid n={n}, ties in both"))
    cases.append(make_case("stsb", [3.0] * 6, [float(v) for v in rng.uniform(0, 5, 6)],
                           "constant predictions: NaN"))
    cases.append(make_case("stsb", [1.0, 2.0], [4.0, 0.5], "two rows: -1"))
    cases.append(make_case("stsb", [0.1, 0.2, 0.3, 0.7], [0.3, 0.1, 0.2, 0.4],
                           "not float32-representable"))
    cases.append(make_case("stsb", [1000.0 + 1e-3 * v for v in range(8)],
                           [float(v) for v in rng.uniform(0, 5, 8)], "large offset"))
    cases.append(make_case("stsb", [2.5], [2.5], "one row: scipy raises"))
    return cases


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    rng = np.random.default_rng(SEED)
    doc = {
        "generator": "tools/gen_metric_goldens.py",
        "seed": SEED,
        "versions": {"python": platform.python_version(), "numpy": np.__version__,
                     "scipy": scipy.__version__, "sklearn": sklearn.__version__},
        "semantics": "evaluate metrics/glue: matthews_corrcoef(refs, preds), "
                     "f1_score(y_true=refs, y_pred=preds), float((preds == refs).mean()), "
                     "pearsonr(preds, refs)[0], spearmanr(preds, refs)[0]; int64 columns, "
                     "float32 for stsb; null = NaN; 'error' = sklearn/scipy raised ValueError",
        "cases": draw_cases(rng),
    }
    with open(args.out + ".tmp", "w") as f:
        json.dump(doc, f, indent=None, separators=(",", ":"))
        f.write("\n")

    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
