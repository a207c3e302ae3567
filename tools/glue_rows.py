#!/usr/bin/python3
"""Independent oracle for the GLUE reader tests: reads a GLUE task directory the way HF's glue
dataset script does (Python's csv module, QUOTE_NONE; label names -> class index, else int();
float32 scores; -1 without a label column; MRPC from the Microsoft files when present) and prints
one JSON object {split: [[text..., label, idx], ...]} on stdout.

usage: glue_rows.py TASK DIR
"""
import csv
import json
import os
import struct
import sys

TASKS = {
    "cola": (["sentence"], ["unacceptable", "acceptable"], "is_acceptable"),
    "sst2": (["sentence"], ["negative", "positive"], "label"),
    "mrpc": (["#1 String", "#2 String"], ["not_equivalent", "equivalent"], "Quality"),
    "stsb": (["sentence1", "sentence2"], None, "score"),
    "rte": (["sentence1", "sentence2"], ["entailment", "not_entailment"], "label"),
    "wnli": (["sentence1", "sentence2"], ["not_entailment", "entailment"], "label"),
}


def f32(x):
    return struct.unpack("f", struct.pack("f", float(x)))[0]


def label_of(raw, classes):
    if classes is None:
        return f32(raw)
    return classes.index(raw) if raw in classes else int(raw)


def read_split(task, path, split):
    texts, classes, label_col = TASKS[task]
    rows = []
    # utf-8-sig drops a byte order mark, which only MRPC's GLUE-format files carry.
    with open(path, encoding="utf-8-sig") as f:
        if task == "cola" and split != "test":
            for n, r in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)):
                rows.append([r[3], label_of(r[1], classes), n])
            return rows
        for n, r in enumerate(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)):
            label = label_of(r[label_col], classes) if label_col in r else (-1.0 if classes is None else -1)
            rows.append([r[t] for t in texts] + [label, n])
    return rows


def read_mrpc(d):
    dev = set()
    with open(os.path.join(d, "dev_ids.tsv"), encoding="utf-8") as f:
        for r in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            dev.add((r[0], r[1]))
    out = {"train": [], "validation": [], "test": []}
    for name, splits in (("msr_paraphrase_train.txt", ("train", "validation")), ("msr_paraphrase_test.txt", ("test",))):
        with open(os.path.join(d, name), encoding="utf-8-sig") as f:
            for n, r in enumerate(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)):
                split = splits[0] if len(splits) == 1 else ("validation" if (r["#1 ID"], r["#2 ID"]) in dev else "train")
                out[split].append([r["#1 String"], r["#2 String"], int(r["Quality"]), n])
    return out


def main():
    task, d = sys.argv[1], sys.argv[2]
    if task == "mrpc":
        out = read_mrpc(d)
    else:
        out = {}
        for split, name in (("train", "train.tsv"), ("validation", "dev.tsv"), ("test", "test.tsv")):
            out[split] = read_split(task, os.path.join(d, name), split)
    json.dump(out, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
