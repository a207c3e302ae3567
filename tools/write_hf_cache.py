"""Writes a model into a HuggingFace cache the way Python's huggingface_hub lays it out, without
huggingface_hub (not packaged for Debian): blobs named by ETag (sha256 for LFS files, the git blob
sha1 otherwise), refs/<revision> holding the commit hash with no newline, and snapshot files that
are relative symlinks made with os.path.relpath, as file_download._create_symlink does.

Usage: /usr/bin/python3 tools/write_hf_cache.py --cache DIR --repo org/name --commit SHA
           --revision main --src MODEL_DIR [--lfs *.bin --lfs *.safetensors]
"""
import argparse
import fnmatch
import hashlib
import os


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", required=True)
    ap.add_argument("--repo", required=True)
    ap.add_argument("--commit", required=True)
    ap.add_argument("--revision", default="main")
    ap.add_argument("--src", required=True)
    ap.add_argument("--lfs", action="append", default=[])
    args = ap.parse_args()
    lfs = args.lfs or ["*.bin", "*.safetensors"]
    storage = os.path.join(args.cache, "models--" + args.repo.replace("/", "--"))
    os.makedirs(os.path.join(storage, "blobs"), exist_ok=True)
    os.makedirs(os.path.join(storage, "refs"), exist_ok=True)
    with open(os.path.join(storage, "refs", args.revision), "w") as f:
        f.write(args.commit)
    for name in sorted(os.listdir(args.src)):
        with open(os.path.join(args.src, name), "rb") as f:
            data = f.read()
        if any(fnmatch.fnmatch(name, p) for p in lfs):
            etag = hashlib.sha256(data).hexdigest()
        else:
            etag = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        blob = os.path.join(storage, "blobs", etag)
        with open(blob, "wb") as f:
            f.write(data)
        pointer = os.path.join(storage, "snapshots", args.commit, name)
        os.makedirs(os.path.dirname(pointer), exist_ok=True)
        os.symlink(os.path.relpath(blob, os.path.dirname(pointer)), pointer)


if __name__ == "__main__":
    main()
