#!/usr/bin/env python3
"""tests/goldens/minilm/dropout_stats.json: the spread that dropout gives one training step of
all-MiniLM-L6-v2 in current HF, the oracle of MiniLMDropout in
tests/model/minilm_trainer_parity_test.cpp. Dropout masks come from torch's RNG and ours from
Philox, so no single step can match; their distributions must. For SEEDS seeds, in train mode
(every dropout at the config's 0.1): the loss of one batch (the first 16 CoLA train sentences,
padded as DataCollatorWithPadding pads them) and the gradient norm after backward. Also the
eval-mode (no dropout) loss and grad norm of the same batch.

    VENV/bin/python tools/make_minilm_dropout_stats.py --model DIR --shared ../shared \\
        --out tests/goldens/minilm/dropout_stats.json
"""
import argparse
import json
import os
import statistics
import sys

import safetensors.torch
import torch
import transformers
from transformers import AutoModelForSequenceClassification, AutoTokenizer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import glue_rows  # noqa: E402

SEEDS, ROWS = 400, 16


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.set_num_threads(1)
    head = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "goldens", "minilm",
                        "classifier_head.safetensors")
    model = AutoModelForSequenceClassification.from_pretrained(a.model, num_labels=2)
    model.load_state_dict(safetensors.torch.load_file(head), strict=False)
    tok = AutoTokenizer.from_pretrained(a.model)
    rows = glue_rows.read_split("cola", os.path.join(a.shared, "data", "glue", "cola", "train.tsv"), "train")[:ROWS]
    batch = tok([r[0] for r in rows], padding=True, truncation=True, max_length=128, return_tensors="pt")
    batch["labels"] = torch.tensor([r[1] for r in rows])

    def step():
        model.zero_grad()
        loss = model(**batch).loss
        loss.backward()
        norm = torch.sqrt(sum((p.grad.double() ** 2).sum() for p in model.parameters() if p.grad is not None))
        return loss.item(), norm.item()

    model.eval()
    eval_loss, eval_norm = step()
    model.train()
    losses, norms = [], []
    for seed in range(SEEDS):
        torch.manual_seed(seed)
        l, n = step()
        losses.append(l)
        norms.append(n)
    out = {
        "what": f"train-mode loss and gradient norm of one batch (first {ROWS} CoLA train rows), {SEEDS} dropout draws",
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__},
        "input_ids": [ids[:int(m.sum())] for ids, m in zip(batch["input_ids"].tolist(), batch["attention_mask"])],
        "labels": batch["labels"].tolist(),
        "eval_loss": eval_loss, "eval_grad_norm": eval_norm,
        "seeds": SEEDS,
        "loss": {"mean": statistics.mean(losses), "std": statistics.stdev(losses)},
        "grad_norm": {"mean": statistics.mean(norms), "std": statistics.stdev(norms)},
    }
    with open(a.out + ".tmp", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    os.replace(a.out + ".tmp", a.out)
    print(json.dumps({k: out[k] for k in ("eval_loss", "eval_grad_norm", "loss", "grad_norm")}))


if __name__ == "__main__":
    main()
