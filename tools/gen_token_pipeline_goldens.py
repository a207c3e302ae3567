#!/usr/bin/env python3
"""Goldens for the token-classification pipeline (tests/api/token_classification_pipeline_test.cpp):
HF's pipeline("token-classification", aggregation_strategy=...) and run_ner's word-level tags on
the tiny BERT and DistilBERT token classifiers of tests/goldens/trainer_ner, relabelled with an
NER tag set and with their classifier made decisive (see TRANSFORM), on UD English-EWT dev
sentences plus a few hand-made ones.

Run in the HF venv (the exact command and versions are in tests/goldens/token_pipeline/README.md):
    /work/.venv-hf/bin/python tools/gen_token_pipeline_goldens.py --shared ../shared \
        --out tests/goldens/token_pipeline/goldens.json
The models are not copied: the test applies TRANSFORM to the same init checkpoints in memory.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
import tempfile
import warnings

import numpy as np
import tokenizers
import torch
import transformers
from safetensors.torch import load_file, save_file
from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline

# 18 labels: CoNLL's B-/I- pairs, bare tags (get_tag reads them as I-), B-/I- DATE, and prefixes
# get_tag does not know (E-, S-), whose group name still drops them (split("-", 1)).
LABELS = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC",
          "PER", "LOC", "DATE", "B-DATE", "I-DATE", "E-ORG", "S-MISC", "TIME", "NUM"]
# classifier.weight *= 50 (float32) so that argmaxes vary from token to token; classifier.bias[O]
# += 8 (float32) so that a third to a half of the tokens are O and groups end.
TRANSFORM = {"classifier_weight_scale": 50.0, "o_bias_shift": 8.0}
MODELS = ["bert", "distilbert"]
STRATEGIES = ["none", "simple", "first", "average", "max"]
NUM_UD_SENTENCES = 26
HAND_MADE = [
    # Words that split into several sub-tokens.
    "Schwarzenegger visited Kuala-Lumpur internationally , unquestionably acclaimed .",
    # Punctuation inside whitespace words: HF's "first" words are the tokenizer's, not these.
    "The U.S. economy grew 3.5% in Q4 -- didn't it ?",
    # A word that is one unknown token, and accented words (offsets not recoverable).
    "\u2603 said Caf\u00e9 na\u00efve r\u00e9sum\u00e9 !",
]
# (UD dev sentence 20 is 170 tokens long: the pipeline truncates it to the model's 128.)


def ud_sentences(path, n):
    out, words = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                if words:
                    out.append(words)
                    words = []
                    if len(out) == n:
                        break
                continue
            if line.startswith("#"):
                continue
            cols = line.split("\t")
            if "-" in cols[0] or "." in cols[0]:
                continue
            words.append(cols[1])
    return out


def f9(x):
    """A float32 value as the shortest double that prints its 9 significant digits."""
    return float(f"{float(x):.9g}")


def byte_offset(text, char_index):
    return len(text[:char_index].encode("utf-8"))


def make_model_dir(src, dst):
    os.makedirs(dst)
    for name in ["tokenizer.json", "tokenizer_config.json"]:
        shutil.copy(os.path.join(src, name), dst)
    with open(os.path.join(src, "config.json")) as f:
        config = json.load(f)
    config["id2label"] = {str(i): l for i, l in enumerate(LABELS)}
    config["label2id"] = {l: i for i, l in enumerate(LABELS)}
    with open(os.path.join(dst, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    state = load_file(os.path.join(src, "model.safetensors"))
    state["classifier.weight"] = state["classifier.weight"] * torch.tensor(
        TRANSFORM["classifier_weight_scale"], dtype=torch.float32)
    bias = state["classifier.bias"].clone()
    bias[LABELS.index("O")] += torch.tensor(TRANSFORM["o_bias_shift"], dtype=torch.float32)
    state["classifier.bias"] = bias
    save_file(state, os.path.join(dst, "model.safetensors"), metadata={"format": "pt"})


def entity_row(e, text, strategy):
    """[label, score, word, start_byte, end_byte(, index)]: HF's dict, offsets in UTF-8 bytes."""
    label = e["entity"] if strategy == "none" else e["entity_group"]
    row = [label, f9(e["score"]), e["word"], byte_offset(text, e["start"]),
           byte_offset(text, e["end"])]
    if strategy == "none":
        row.append(int(e["index"]))
    return row


def word_tags(model, tokenizer, words):
    """run_ner's evaluation view: the first sub-token's argmax per word (None: no token)."""
    enc = tokenizer(words, is_split_into_words=True, truncation=True, return_tensors="pt")
    with torch.no_grad():
        logits = model(**enc).logits[0]
    probs = torch.softmax(logits, dim=-1)
    tags, seen = [None] * len(words), set()
    for t, w in enumerate(enc.word_ids(0)):
        if w is None or w in seen:
            continue
        seen.add(w)
        k = int(torch.argmax(logits[t]))
        tags[w] = [LABELS[k], f9(probs[t, k])]
    return tags


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default="../shared")
    ap.add_argument("--out", default="tests/goldens/token_pipeline/goldens.json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    warnings.simplefilter("ignore")
    here = os.path.dirname(os.path.abspath(__file__))
    init_root = os.path.join(here, "..", "tests", "goldens", "trainer_ner")
    conllu = os.path.join(args.shared, "data", "ud", "en_ewt", "en_ewt-ud-dev.conllu")
    sentences = [" ".join(w) for w in ud_sentences(conllu, NUM_UD_SENTENCES)] + HAND_MADE

    doc = {
        "made_by": "tools/gen_token_pipeline_goldens.py",
        "versions": {"transformers": transformers.__version__, "tokenizers": tokenizers.__version__,
                     "torch": torch.__version__, "numpy": np.__version__,
                     "python": sys.version.split()[0]},
        "labels": LABELS, "transform": TRANSFORM,
        "entity_row": ["entity (none) or entity_group", "score", "word", "start byte",
                       "end byte", "index (none only)"],
        "models": {},
    }
    agree_split = True
    with tempfile.TemporaryDirectory() as tmp:
        for name in MODELS:
            src = os.path.join(init_root, f"init_{name}")
            with open(os.path.join(src, "model.safetensors"), "rb") as f:
                sha = hashlib.sha256(f.read()).hexdigest()
            dst = os.path.join(tmp, name)
            make_model_dir(src, dst)
            model = AutoModelForTokenClassification.from_pretrained(dst).eval()
            tokenizer = AutoTokenizer.from_pretrained(dst)
            pipes = {s: pipeline("token-classification", model=model, tokenizer=tokenizer,
                                 aggregation_strategy=s, device="cpu") for s in STRATEGIES}
            rows = []
            for text in sentences:
                words = text.split(" ")
                row = {"text": text, "word_tags": word_tags(model, tokenizer, words)}
                for s in STRATEGIES:
                    out = pipes[s](text)
                    row[s] = [entity_row(e, text, s) for e in out]
                    # The same words given pre-split give the same answer (BERT's tokenizers).
                    split_out = pipes[s](words, is_split_into_words=True)
                    if split_out and isinstance(split_out[0], list):
                        split_out = split_out[0]
                    split = [entity_row(e, text, s) for e in split_out]
                    if split != row[s]:
                        agree_split = False
                        print(f"{name} {s}: split words differ on {text[:40]!r}", file=sys.stderr)
                rows.append(row)
            doc["models"][name] = {"init": f"tests/goldens/trainer_ner/init_{name}",
                                   "init_model_sha256": sha, "sentences": rows}
    doc["split_words_agree"] = agree_split

    # One sentence per line: small diffs, identical bytes on reruns.
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("{\n")
        keys = [k for k in doc if k != "models"]
        for k in keys:
            f.write(f"  {json.dumps(k)}: {json.dumps(doc[k], ensure_ascii=False)},\n")
        f.write('  "models": {\n')
        for i, name in enumerate(MODELS):
            m = doc["models"][name]
            f.write(f'    {json.dumps(name)}: {{"init": {json.dumps(m["init"])}, '
                    f'"init_model_sha256": {json.dumps(m["init_model_sha256"])}, '
                    '"sentences": [\n')
            for j, row in enumerate(m["sentences"]):
                sep = "," if j + 1 < len(m["sentences"]) else ""
                f.write(f"      {json.dumps(row, ensure_ascii=False)}{sep}\n")
            f.write("    ]}" + ("," if i + 1 < len(MODELS) else "") + "\n")
        f.write("  }\n}\n")
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes)")


if __name__ == "__main__":
    main()
