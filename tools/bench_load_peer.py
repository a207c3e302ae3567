"""The peer for bench/load_bench: PyTorch loading the same full-size checkpoint files.

    python3 tools/bench_load_peer.py DIR [--repetitions 5]
DIR as written by tools/make_full_checkpoint.py. Prints one JSON line per case with the median
seconds: torch.load of pytorch_model.bin, and a plain-Python safetensors load into torch tensors
(what safetensors.torch.load_file does, without the Rust package).
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_plain  # noqa: E402


def median_seconds(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--repetitions", type=int, default=5)
    a = ap.parse_args()
    binf = os.path.join(a.dir, "bin", "pytorch_model.bin")
    stf = os.path.join(a.dir, "safetensors", "model.safetensors")
    cases = {
        "torch.load(pytorch_model.bin)": lambda: torch.load(binf, map_location="cpu"),
        "plain-python safetensors load": lambda: safetensors_plain.load(stf),
    }
    for name, fn in cases.items():
        fn()  # warm the page cache, as the C++ benchmark's first iteration does
        print(json.dumps({"case": name, "median_s": median_seconds(fn, a.repetitions)}))


if __name__ == "__main__":
    main()
