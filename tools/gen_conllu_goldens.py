#!/usr/bin/env python3
"""Goldens for the CoNLL-U reader (tests/data/conllu_reader_test.cpp) from UD English EWT.

The rows are built the way HF's `universal_dependencies` loader builds them (it parses with the
`conllu` package and stores str() of what conllu parses), with the one difference our reader
documents: tokens whose conllu id is not an int (multiword tokens 3-4, empty nodes 5.1) are
dropped, so every row holds the sentence's syntactic words only. Run with the HF venv plus
conllu==6.0.0 (pip install conllu==6.0.0; datasets 5 cannot run the loader script itself):

    /work/.venv-hf/bin/python tools/gen_conllu_goldens.py \
        --ud ../shared/data/ud/en_ewt --out tests/goldens/conllu/en_ewt.json

Per split: the row count, sha256 digests of the tokens / upos ids / xpos of every row (the
serialisation is in digest() below; the test rebuilds it), the number of multiword and empty
nodes skipped, HF's unfiltered token count for reference, and the full rows of a few chosen
sentences (the first ones, ones with multiword tokens or empty nodes, and the longest).
"""
import argparse
import hashlib
import importlib.metadata
import json
import os

import conllu

# HF's universal_dependencies ClassLabel order for upos.
UPOS = ["NOUN", "PUNCT", "ADP", "NUM", "SYM", "SCONJ", "ADJ", "PART", "DET", "CCONJ",
        "PROPN", "PRON", "X", "_", "ADV", "INTJ", "VERB", "AUX"]
SPLITS = [("train", "train"), ("validation", "dev"), ("test", "test")]


def hf_rows(path):
    """HF's loader's rows (ids kept in `_ids` so the filter can see them)."""
    with open(path, "r", encoding="utf-8") as f:
        sentences = list(conllu.parse_incr(f))
    rows = []
    for number, sent in enumerate(sentences):
        rows.append({
            "idx": str(sent.metadata.get("sent_id", number)),
            "text": sent.metadata.get("text"),
            "_ids": [t["id"] for t in sent],
            "tokens": [t["form"] for t in sent],
            "lemmas": [t["lemma"] for t in sent],
            "upos": [t["upos"] for t in sent],
            "xpos": [t["xpos"] for t in sent],
            "feats": [str(t["feats"]) for t in sent],
            "head": [str(t["head"]) for t in sent],
            "deprel": [str(t["deprel"]) for t in sent],
            "deps": [str(t["deps"]) for t in sent],
            "misc": [str(t["misc"]) for t in sent],
        })
    return rows


def words_only(row):
    keep = [isinstance(i, int) for i in row["_ids"]]
    out = {"idx": row["idx"]}
    cols = ["tokens", "lemmas", "upos", "xpos", "feats", "head", "deprel", "deps", "misc"]
    for c in cols:
        out[c] = [v for v, k in zip(row[c], keep) if k]
    out["text"] = row["text"] if row["text"] is not None else " ".join(out["tokens"])
    out["upos"] = [UPOS.index(u) for u in out["upos"]]
    return {k: out[k] for k in ["idx", "text"] + cols}


def digest(rows, column):
    # One line per row, the row's values joined by U+001F; ints in decimal.
    text = "\n".join("\x1f".join(str(v) for v in r[column]) for r in rows)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ud", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    result = {"made_by": "tools/gen_conllu_goldens.py",
              "conllu": importlib.metadata.version("conllu"), "splits": {}}
    for split, stem in SPLITS:
        path = os.path.join(args.ud, f"en_ewt-ud-{stem}.conllu")
        raw = hf_rows(path)
        rows = [words_only(r) for r in raw]
        multiword = sum(1 for r in raw for i in r["_ids"] if isinstance(i, tuple) and i[1] == "-")
        empty = sum(1 for r in raw for i in r["_ids"] if isinstance(i, tuple) and i[1] == ".")
        chosen = [0, 1, 2, len(rows) - 1]
        def with_id(sep):
            return [n for n, r in enumerate(raw)
                    if any(isinstance(i, tuple) and i[1] == sep for i in r["_ids"])]
        chosen += with_id("-")[:4] + with_id(".")[:2]
        chosen.append(max(range(len(rows)), key=lambda n: len(rows[n]["tokens"])))
        chosen = sorted(set(chosen))
        result["splits"][split] = {
            "file": os.path.basename(path),
            "num_rows": len(rows),
            "num_tokens": sum(len(r["tokens"]) for r in rows),
            "hf_num_tokens_with_multiword_and_empty": sum(len(r["tokens"]) for r in raw),
            "multiword_skipped": multiword,
            "empty_nodes_skipped": empty,
            "sha256": {c: digest(rows, c) for c in ["tokens", "upos", "xpos"]},
            "rows": {str(n): rows[n] for n in chosen},
        }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
