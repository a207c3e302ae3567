"""Loads a .safetensors file with the plain-Python reader and prints what it sees as JSON.

Used by tests/io/safetensors_test.cpp to check files written by finetune from the Python side:
    python3 tools/check_safetensors.py FILE [OUT.json]
writes, to OUT.json or else stdout, {"metadata": {...}, "tensors": [{"name", "dtype", "shape",
"hex", "values"}, ...]} in file order; "hex" is the raw little-endian bytes, "values" the elements
as Python numbers (null when any is not finite, since JSON has no NaN).
"""
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_plain  # noqa: E402
import torch  # noqa: E402


def describe(name, t):
    flat = t.reshape(-1)
    raw = flat.view(torch.uint8).numpy().tobytes() if t.numel() else b""
    if t.dtype == torch.bool:
        values = [int(v) for v in flat.tolist()]
    elif t.is_floating_point():
        values = flat.double().tolist()
        if not all(math.isfinite(v) for v in values):
            values = None
    else:
        values = flat.tolist()
    return {"name": name, "dtype": safetensors_plain.NAMES[t.dtype], "shape": list(t.shape),
            "hex": raw.hex(), "values": values}


def main():
    tensors, meta = safetensors_plain.load(sys.argv[1])
    text = json.dumps({"metadata": meta, "tensors": [describe(k, v) for k, v in tensors.items()]})
    if len(sys.argv) > 2:
        # A file keeps the JSON apart from anything torch prints on stderr.
        with open(sys.argv[2], "w") as f:
            f.write(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
