"""Makes a full-size, randomly initialised DistilBertForSequenceClassification (the
distilbert-base-uncased architecture, 66,955,010 parameters) in both file formats, for the
benchmarks and the demo. No pretrained weights exist here; these are HF-style random init.

    python3 tools/make_full_checkpoint.py --config ../shared/data/models/distilbert-base-uncased/config.json --out DIR
writes DIR/bin/{config.json,pytorch_model.bin} and DIR/safetensors/{config.json,model.safetensors}.
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_modules  # noqa: E402
import safetensors_plain  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with open(args.config) as f:
        cfg = json.load(f)
    cfg.setdefault("pad_token_id", 0)
    cfg.setdefault("num_labels", 2)
    cfg["model_type"] = "distilbert"
    cfg["architectures"] = ["DistilBertForSequenceClassification"]
    torch.manual_seed(args.seed)
    model = hf_modules.DistilBertForSequenceClassification(cfg)
    hf_modules.hf_init_(model, cfg.get("initializer_range", 0.02))
    sd = model.state_dict()
    for sub in ("bin", "safetensors"):
        os.makedirs(os.path.join(args.out, sub), exist_ok=True)
        with open(os.path.join(args.out, sub, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2, sort_keys=True)
    torch.save(sd, os.path.join(args.out, "bin", "pytorch_model.bin"))
    safetensors_plain.save(sd, os.path.join(args.out, "safetensors", "model.safetensors"), {"format": "pt"})
    print(sum(p.numel() for p in model.parameters()), "parameters written to", args.out)


if __name__ == "__main__":
    main()
