#!/usr/bin/env python3
"""Goldens for the seqeval tests (tests/train/seqeval_test.cpp): hand-made boundary cases and
seeded random tag sequences scored with seqeval 1.2.2 exactly as evaluate's metrics/seqeval does
(classification_report(output_dict=True) minus the macro/weighted rows, plus accuracy_score).

Run in the HF venv after `pip install seqeval==1.2.2`:
    /work/.venv-hf/bin/python tools/gen_seqeval_goldens.py --out tests/goldens/seqeval/cases.json
With --evaluate-script PATH (a local copy of evaluate's metrics/seqeval/seqeval.py; evaluate
cannot fetch it offline) a few cases are also run through evaluate.load(PATH).compute(...).
"""
import argparse
import json
import random
import warnings

import seqeval
import seqeval.scheme
from seqeval.metrics import accuracy_score, classification_report

SEED = 20261205
SCHEMES = ["IOB1", "IOB2", "IOE1", "IOE2", "IOBES", "BILOU"]
PREFIXES = {"IOB1": "IOB", "IOB2": "IOB", "IOE1": "IOE", "IOE2": "IOE", "IOBES": "IOBES",
            "BILOU": "BILOU"}


def seqeval_scores(references, predictions, mode=None, scheme=None, suffix=False,
                   zero_division="warn"):
    """evaluate's Seqeval._compute, with the per-type dicts flattened as run_ner.py does."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        report = classification_report(
            y_true=references, y_pred=predictions, suffix=suffix, output_dict=True,
            scheme=getattr(seqeval.scheme, scheme) if scheme else None, mode=mode,
            zero_division=zero_division)
    report.pop("macro avg")
    report.pop("weighted avg")
    overall = report.pop("micro avg")
    types = {name: {"precision": float(s["precision"]), "recall": float(s["recall"]),
                    "f1": float(s["f1-score"]), "number": int(s["support"])}
             for name, s in report.items()}
    return {"types": types,
            "overall_precision": float(overall["precision"]),
            "overall_recall": float(overall["recall"]),
            "overall_f1": float(overall["f1-score"]),
            "overall_accuracy": float(accuracy_score(y_true=references, y_pred=predictions))}


def case(why, references, predictions, mode=None, scheme=None, suffix=False,
         zero_division="warn"):
    c = {"why": why, "references": references, "predictions": predictions,
         "mode": mode or "default", "scheme": scheme or "AUTO", "suffix": suffix,
         "zero_division": str(zero_division)}
    try:
        c["expected"] = seqeval_scores(references, predictions, mode, scheme, suffix,
                                       zero_division)
    except (ValueError, KeyError, IndexError, ZeroDivisionError, TypeError) as e:
        c["error"] = type(e).__name__
    return c


def hand_cases():
    out = []
    add = lambda *a, **k: out.append(case(*a, **k))
    doc = ([["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]],
           [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]])
    for mode, scheme in [(None, None), ("strict", "IOB2"), ("strict", None)]:
        add("evaluate docstring example", *doc, mode=mode, scheme=scheme)
    edge = ([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "B-LOC"]])
    add("entities at start and end of sentence", *edge)
    add("entities at start and end, strict IOB2", *edge, mode="strict", scheme="IOB2")
    adj = ([["B-PER", "B-PER", "O", "I-LOC", "I-LOC"]], [["B-PER", "I-PER", "O", "I-LOC", "B-LOC"]])
    for mode, scheme in [(None, None), ("strict", "IOB1"), ("strict", "IOB2")]:
        add("adjacent same-type entities, B-X B-X and I-X I-X", *adj, mode=mode, scheme=scheme)
    iob1 = ([["I-PER", "I-PER", "B-PER", "O", "I-LOC", "B-LOC", "I-LOC"]],
            [["I-PER", "B-PER", "I-PER", "O", "I-LOC", "I-LOC", "I-LOC"]])
    for mode, scheme in [(None, None), ("strict", "IOB1")]:
        add("IOB1 B- only splits same-type chunks", *iob1, mode=mode, scheme=scheme)
    no_b = ([["O", "B-PER", "I-PER", "O"]], [["O", "I-PER", "I-PER", "O"]])
    for mode, scheme in [(None, None), ("strict", "IOB2"), ("strict", "IOB1")]:
        add("I- without B-: lenient opens a chunk, strict IOB2 does not", *no_b, mode=mode,
            scheme=scheme)
    change = ([["B-PER", "I-PER", "I-PER", "O"]], [["B-PER", "I-PER", "I-LOC", "O"]])
    for mode, scheme in [(None, None), ("strict", "IOB2")]:
        add("type change inside I-", *change, mode=mode, scheme=scheme)
    iobes = ([["S-PER", "O", "B-LOC", "I-LOC", "E-LOC", "S-LOC", "B-ORG", "E-ORG"]],
             [["S-PER", "O", "B-LOC", "I-LOC", "I-LOC", "S-LOC", "B-ORG", "I-ORG"]])
    for mode, scheme in [(None, None), ("strict", "IOBES"), ("strict", None)]:
        add("E- and S- tags (IOBES)", *iobes, mode=mode, scheme=scheme)
    bilou = ([["U-PER", "O", "B-LOC", "I-LOC", "L-LOC", "U-LOC"]],
             [["U-PER", "O", "B-LOC", "L-LOC", "O", "U-LOC"]])
    for mode, scheme in [(None, None), ("strict", "BILOU")]:
        add("BILOU", *bilou, mode=mode, scheme=scheme)
    ioe = ([["I-PER", "E-PER", "E-PER", "O", "I-LOC", "I-LOC"]],
           [["I-PER", "I-PER", "E-PER", "O", "I-LOC", "E-LOC"]])
    for mode, scheme in [(None, None), ("strict", "IOE1"), ("strict", "IOE2")]:
        add("IOE1 / IOE2", *ioe, mode=mode, scheme=scheme)
    sfx = ([["PER-B", "PER-I", "O", "LOC-B"], ["MISC-S", "O"]],
           [["PER-B", "PER-I", "O", "LOC-I"], ["MISC-S", "O"]])
    for mode, scheme in [(None, None), ("strict", "IOBES"), ("strict", None)]:
        add("suffix style", *sfx, mode=mode, scheme=scheme, suffix=True)
    all_o = ([["O", "O"], ["O"]], [["O", "O"], ["O"]])
    for zd in ["warn", 0, 1]:
        add("all-O sentences, zero_division", *all_o, zero_division=zd)
    none_pred = ([["B-PER", "O"], ["B-LOC", "I-LOC"]], [["O", "O"], ["O", "O"]])
    for zd in ["warn", 0, 1]:
        add("no predicted entities, zero_division", *none_pred, zero_division=zd)
        add("no true entities, zero_division", none_pred[1], none_pred[0], zero_division=zd)
        add("no predicted entities, zero_division, strict", *none_pred, mode="strict",
            scheme="IOB2", zero_division=zd)
    multi = ([["B-PER", "I-PER"], ["I-PER", "O"], ["B-LOC"], [], ["O", "B-ORG", "I-ORG"]],
             [["B-PER", "I-PER"], ["I-PER", "I-PER"], ["B-LOC"], [], ["B-ORG", "I-ORG", "I-ORG"]])
    for mode, scheme in [(None, None), ("strict", "IOB2"), ("strict", "IOB1")]:
        add("several sentences; entities at the borders do not join", *multi, mode=mode,
            scheme=scheme)
    odd = ([["B", "I", "O", "B-PER-X", "I-PER-X", "X-PER", ".-PER", "I-PER"], ["I-PER", "O"]],
           [["B", "B", "O", "B-PER-X", "I-PER", "X-PER", "I-PER", "I-PER"], ["I-PER", "O"]])
    add("untyped tags, dashes in types, unknown prefixes (lenient)", *odd)
    add("error: strict IOB2 rejects S-", [["S-PER"]], [["B-PER"]], mode="strict", scheme="IOB2")
    add("error: strict IOB2 rejects an unknown prefix", [["B-PER"]], [["X-PER"]], mode="strict",
        scheme="IOB2")
    add("error: strict auto-detect of all-O references", [["O"]], [["O"]], mode="strict")
    add("error: sentence lengths differ", [["O", "O"]], [["O"]])
    add("error: sentence counts differ", [["O"], ["O"]], [["O"]])
    return out


def random_sequence(rng, scheme, length, types):
    tags = []
    for _ in range(length):
        p = rng.choice(PREFIXES[scheme])
        tags.append("O" if p == "O" else p + "-" + rng.choice(types))
    return tags


def random_cases(rng):
    out = []
    for scheme in SCHEMES:
        for k in range(50):
            n = rng.randint(1, 8)
            lengths = [rng.randint(0, 12) for _ in range(n)]
            types = ["PER", "LOC"] if k % 2 else ["PER", "LOC", "ORG"]
            refs = [random_sequence(rng, scheme, m, types) for m in lengths]
            if k % 3 == 0:  # predictions near the references, so entities match often
                preds = [[t if rng.random() < 0.8 else random_sequence(rng, scheme, 1, types)[0]
                          for t in r] for r in refs]
            else:
                preds = [random_sequence(rng, scheme, m, types) for m in lengths]
            suffix = k % 10 == 9
            if suffix:
                flip = lambda t: t if t == "O" else t[2:] + "-" + t[0]
                refs = [[flip(t) for t in r] for r in refs]
                preds = [[flip(t) for t in r] for r in preds]
            zd = ["warn", 0, 1][k % 3]
            why = f"random {scheme} #{k}"
            out.append(case(why, refs, preds, suffix=suffix, zero_division=zd))
            out.append(case(why + " strict", refs, preds, mode="strict", scheme=scheme,
                            suffix=suffix, zero_division=zd))
            if k % 5 == 0:
                out.append(case(why + " strict auto", refs, preds, mode="strict", suffix=suffix,
                                zero_division=zd))
    return out


def check_with_evaluate(script, cases):
    import evaluate
    metric = evaluate.load(script)
    checked = 0
    for c in cases:
        if "error" in c or c["suffix"] or c["mode"] != "default" or not any(c["references"]):
            continue
        zd = c["zero_division"]
        got = metric.compute(predictions=c["predictions"], references=c["references"],
                             zero_division=int(zd) if zd != "warn" else zd)
        exp = c["expected"]
        want = {**{t: {**v} for t, v in exp["types"].items()},
                **{k: v for k, v in exp.items() if k != "types"}}
        assert list(got) == sorted(exp["types"]) + ["overall_precision", "overall_recall",
                                                    "overall_f1", "overall_accuracy"], list(got)
        assert {k: (dict(v) if isinstance(v, dict) else v) for k, v in got.items()} == want, c
        checked += 1
        if checked == 12:
            break
    return checked


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--evaluate-script")
    args = ap.parse_args()
    rng = random.Random(SEED)
    cases = hand_cases() + random_cases(rng)
    meta = {"seqeval": "1.2.2", "seed": SEED,
            "made_by": "tools/gen_seqeval_goldens.py --out tests/goldens/seqeval/cases.json"}
    if args.evaluate_script:
        meta["evaluate_checked_cases"] = check_with_evaluate(args.evaluate_script, cases)
    with open(args.out, "w") as f:
        json.dump({"meta": meta, "cases": cases}, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"{len(cases)} cases -> {args.out}; errors: {sum('error' in c for c in cases)}")


if __name__ == "__main__":
    main()
