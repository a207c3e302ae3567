"""Builds the repository tree that tools/mock_hub.py serves to the hub tests, in the Hub's formats:
a tiny DistilBERT (the shared reference checkpoint) with two commits (v1: pytorch_model.bin, main:
model.safetensors), a sharded copy, a gated copy, a repo listing hostile file names, and a
glue-like dataset (README.md with configs and dataset_info, Parquet-named files per split).

Usage: /usr/bin/python3 tools/make_mock_hub_repos.py --shared ../shared --out DIR
           [--cola-parquet tests/data/parquet/cola_like.parquet]
"""
import argparse
import hashlib
import json
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_plain  # noqa: E402

# Fixed fake commit hashes (40 hex digits), one per repo state.
C_V1 = "1" * 40
C_MAIN = "2" * 40
C_SHARDED = "3" * 40
C_GATED = "4" * 40
C_EVIL = "5" * 40
C_GLUE = "6" * 40
C_TRAINABLE = "7" * 40
GATED_TOKEN = "hf_mocksecret_0123456789"

GLUE_README = """---
pretty_name: GLUE (mock)
configs:
- config_name: cola
  data_files:
  - split: train
    path: cola/train-*
  - split: validation
    path: cola/validation-*
  - split: test
    path: cola/test-*
- config_name: sst2
  data_files:
  - split: train
    path: sst2/train-*
  - split: validation
    path: sst2/validation-*
dataset_info:
- config_name: cola
  features:
  - name: sentence
    dtype: string
  - name: label
    dtype:
      class_label:
        names:
          '0': unacceptable
          '1': acceptable
  - name: idx
    dtype: int32
  splits:
  - name: train
    num_bytes: 484869
    num_examples: 8551
- config_name: sst2
  features:
  - name: sentence
    dtype: string
  - name: label
    dtype:
      class_label:
        names:
          '0': negative
          '1': positive
  - name: idx
    dtype: int32
---

# GLUE (mock)

A stand-in for nyu-mll/glue with the same README structure; the Parquet files are placeholders.
"""


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def fake_parquet(tag, size):
    """Placeholder bytes with Parquet's magic at both ends (content is not parsed by these tests)."""
    body = (tag.encode() * (size // max(1, len(tag)) + 1))[:size]
    return b"PAR1" + body + b"PAR1"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cola-parquet", help="a real Parquet file to serve as glue/cola's splits")
    args = ap.parse_args()
    out = args.out
    shutil.rmtree(out, ignore_errors=True)
    src = os.path.join(args.shared, "reference", "tiny_distilbert", "init")
    with open(os.path.join(src, "config.json"), "rb") as f:
        config = f.read()
    with open(os.path.join(src, "pytorch_model.bin"), "rb") as f:
        bin_bytes = f.read()
    state = torch.load(os.path.join(src, "pytorch_model.bin"), map_location="cpu")

    model = os.path.join(out, "models", "test-org", "tiny-distilbert")
    write(os.path.join(model, C_V1, "config.json"), config)
    write(os.path.join(model, C_V1, "pytorch_model.bin"), bin_bytes)
    write(os.path.join(model, C_MAIN, "config.json"), config)
    write(os.path.join(model, C_MAIN, "README.md"), "# tiny-distilbert (mock)\n")
    write(os.path.join(model, C_MAIN, "tokenizer_config.json"), '{"do_lower_case": true}\n')
    os.makedirs(os.path.join(model, C_MAIN), exist_ok=True)
    safetensors_plain.save(state, os.path.join(model, C_MAIN, "model.safetensors"),
                           {"format": "pt"})

    sharded = os.path.join(out, "models", "test-org", "tiny-distilbert-sharded", C_SHARDED)
    write(os.path.join(sharded, "config.json"), config)
    names = list(state)
    halves = [names[: len(names) // 2], names[len(names) // 2:]]
    weight_map, total = {}, 0
    for i, part in enumerate(halves):
        fname = "model-%05d-of-%05d.safetensors" % (i + 1, len(halves))
        safetensors_plain.save({n: state[n] for n in part}, os.path.join(sharded, fname),
                               {"format": "pt"})
        for n in part:
            weight_map[n] = fname
            total += state[n].numel() * state[n].element_size()
    write(os.path.join(sharded, "model.safetensors.index.json"),
          json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2))

    # A repo `finetune train` can use as it comes: the tiny model plus bert-base-uncased's vocab.
    trainable = os.path.join(out, "models", "test-org", "tiny-distilbert-cola", C_TRAINABLE)
    write(os.path.join(trainable, "config.json"), config)
    write(os.path.join(trainable, "tokenizer_config.json"), '{"do_lower_case": true}\n')
    with open(os.path.join(args.shared, "data", "tokenizers", "bert-base-uncased", "vocab.txt"),
              "rb") as f:
        write(os.path.join(trainable, "vocab.txt"), f.read())
    safetensors_plain.save(state, os.path.join(trainable, "model.safetensors"), {"format": "pt"})

    gated = os.path.join(out, "models", "test-org", "gated-model", C_GATED)
    write(os.path.join(gated, "config.json"), config)
    write(os.path.join(gated, "pytorch_model.bin"), bin_bytes)

    evil = os.path.join(out, "models", "test-org", "evil", C_EVIL)
    write(os.path.join(evil, "config.json"), config)

    glue = os.path.join(out, "datasets", "nyu-mll", "glue", C_GLUE)
    write(os.path.join(glue, "README.md"), GLUE_README)
    # cola: a real Parquet file with HF's features when given (the data tests' cola_like
    # fixture), so the files can be read end to end; the rest are placeholders.
    cola_bytes = None
    if args.cola_parquet:
        with open(args.cola_parquet, "rb") as f:
            cola_bytes = f.read()
    for cfg, splits in (("cola", ("train", "validation", "test")), ("sst2", ("train", "validation"))):
        for split in splits:
            data = cola_bytes if cfg == "cola" and cola_bytes else fake_parquet(cfg + "/" + split, 3000)
            write(os.path.join(glue, cfg, "%s-00000-of-00001.parquet" % split), data)

    repos = {
        "repos": {
            "models/test-org/tiny-distilbert": {"branches": {"main": C_MAIN, "v1": C_V1}},
            "models/test-org/tiny-distilbert-sharded": {"branches": {"main": C_SHARDED}},
            "models/test-org/gated-model": {"branches": {"main": C_GATED}, "token": GATED_TOKEN},
            "models/test-org/tiny-distilbert-cola": {"branches": {"main": C_TRAINABLE}},
            "models/test-org/evil": {"branches": {"main": C_EVIL},
                                     "extra_siblings": {"../../evil": "escaped\n",
                                                        "/tmp/evil-abs": "escaped\n"}},
            "datasets/nyu-mll/glue": {"branches": {"main": C_GLUE}},
        },
        "redirects": {
            "models/distilbert-base-uncased": "models/test-org/tiny-distilbert",
            "datasets/glue": "datasets/nyu-mll/glue",
        },
        "lfs": ["*.safetensors", "*.bin", "*.parquet"],
    }
    write(os.path.join(out, "repos.json"), json.dumps(repos, indent=2))

    # The tests' oracle for blob names: sha256 and git blob sha1 of every served file, by hashlib.
    manifest = {}
    for key in repos["repos"]:
        for commit in sorted(os.listdir(os.path.join(out, key))):
            base = os.path.join(out, key, commit)
            for d, _, names in os.walk(base):
                for n in names:
                    with open(os.path.join(d, n), "rb") as f:
                        data = f.read()
                    rel = os.path.relpath(os.path.join(d, n), base).replace(os.sep, "/")
                    manifest.setdefault(key, {}).setdefault(commit, {})[rel] = {
                        "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                        "git_sha1": hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()}
    write(os.path.join(out, "manifest.json"), json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main()
