"""Checks, with plain Python and torch only, that a checkpoint directory written by finetune holds
exactly the tensors of a reference PyTorch file under HF's names.

    python3 tools/check_saved_checkpoint.py SAVED_DIR REFERENCE(.bin|.safetensors)

Buffers (position_ids) in the reference are not parameters and are skipped. Exit 0 when every
tensor is present with the same dtype, shape and bits; else prints the mismatches and exits 1.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_plain  # noqa: E402


def main():
    saved_dir, reference = sys.argv[1], sys.argv[2]
    saved, meta = safetensors_plain.load(os.path.join(saved_dir, "model.safetensors"))
    if reference.endswith(".safetensors"):
        ref, _ = safetensors_plain.load(reference)
    else:
        ref = torch.load(reference, map_location="cpu")
    ref = {k: v for k, v in ref.items() if not k.endswith("position_ids")}
    errors = []
    if meta.get("format") != "pt":
        errors.append(f"metadata format is {meta.get('format')!r}, HF needs 'pt'")
    for k in ref:
        if k not in saved:
            errors.append(f"missing {k}")
    for k, v in saved.items():
        if k not in ref:
            errors.append(f"unexpected {k}")
        elif v.dtype != ref[k].dtype or v.shape != ref[k].shape:
            errors.append(f"{k}: {v.dtype}{tuple(v.shape)} vs {ref[k].dtype}{tuple(ref[k].shape)}")
        elif not torch.equal(v.view(-1).view(torch.uint8) if v.numel() else v,
                             ref[k].contiguous().view(-1).view(torch.uint8) if v.numel() else ref[k]):
            errors.append(f"{k}: values differ (max abs diff {(v - ref[k]).abs().max().item()})")
    with open(os.path.join(saved_dir, "config.json")) as f:
        cfg = json.load(f)
    if cfg.get("model_type") not in ("distilbert", "bert") or not cfg.get("architectures"):
        errors.append("config.json lacks model_type or architectures")
    for e in errors[:20]:
        print(e)
    print(f"{len(saved)} tensors checked, {len(errors)} problems")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
