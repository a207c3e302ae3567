"""Goldens for the XLM-RoBERTa SentencePiece tokenizer (tests/goldens/xlm_roberta_tokenizer).

The oracle is transformers 5's XLMRobertaTokenizer (tokenizers' Unigram, converted from the
SentencePiece model) on the folder model/: the sentencepiece.bpe.model that tools/make_xlmr_spm.sh
trains, with XLM-R's tokenizer_config.json / special_tokens_map.json (written here). Where
--slow-transformers names an unpacked transformers 4.x wheel, 4.x's pure-Python (sentencepiece)
XLMRobertaTokenizer is asked every id list too, in a subprocess; disagreements are listed and only
the known ones (see KNOWN_SLOW_DIFFERENCES) are allowed. --check-saved DIR instead loads DIR (a
folder our save_pretrained wrote) with AutoTokenizer and checks it gives the oracle's ids.

    /work/.venv-hf/bin/python tools/gen_xlmr_tokenizer_goldens.py --shared ../shared \
        --out tests/goldens/xlm_roberta_tokenizer [--slow-transformers DIR] [--check-saved DIR]

Writes into --out: model/{tokenizer_config.json,special_tokens_map.json} (next to the committed
sentencepiece.bpe.model), hf_saved/ (transformers' save_pretrained of model/: tokenizer.json and
tokenizer_config.json), tricky.jsonl, glue.json (hashes of every GLUE row), glue_sample.jsonl
(the first rows of each GLUE file spelled out). README.md is written by hand.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

if __name__ == "__main__" and sys.argv[1:2] == ["--slow-worker"]:
    import types  # transformers 4.x refuses the newer tokenizers at import; it is not used
    sys.modules["transformers.dependency_versions_check"] = types.ModuleType("check")

import transformers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
MAX_LENGTH = 16
SAMPLE_ROWS = 15  # per GLUE file, spelled out in glue_sample.jsonl
STRATEGIES = [("lf16", "longest_first"), ("of16", "only_first"), ("os16", "only_second")]
CONFIG = {
    "bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>",
    "mask_token": {"content": "<mask>", "lstrip": True, "normalized": True, "rstrip": False,
                   "single_word": False, "__type": "AddedToken"},
    "model_max_length": 512, "pad_token": "<pad>", "sep_token": "</s>",
    "tokenizer_class": "XLMRobertaTokenizer", "unk_token": "<unk>",
}
SPECIAL_MAP = {k: v for k, v in CONFIG.items() if k.endswith("_token")}

from gen_roberta_tokenizer_goldens import GLUE, TRICKY, TRICKY_PAIRS, fnv1a32, ids_text  # noqa

TRICKY_XLMR = TRICKY + [
    "a\u0085b", "x\u00a8y", "\u2000a\u3000b\u00a0", "＜mask＞", "<mask>.", "<mask>,<mask>",
    "Hello , world . Don 't", "it ' s", "Ａｂｃ１２３", "\u3300", "¼", "㍻", "ｶﾀｶﾅ", "e\u0301\u0301",
    "\u200d", "\u00ad", "tab\tand\u000bvertical", "\U0001F468\u200d\U0001F4BB code",
]
TRICKY_PAIRS_XLMR = TRICKY_PAIRS + [("a\u0085b", "c"), ("<mask>", "<mask>")]
KNOWN_SLOW_DIFFERENCES = "U+0085 (NEL): WhitespaceSplit splits on it, SentencePiece keeps it"


def read_glue(shared):
    rows = []
    for task, split, header, cols in GLUE:
        path = os.path.join(shared, "data", "glue", task, split + ".tsv")
        with open(path, encoding="utf-8", newline="") as f:
            lines = f.read().split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if header:
            lines = lines[1:]
        for i, line in enumerate(lines):
            fields = line.split("\t")
            texts = [fields[c] for c in cols]
            rows.append((task + "/" + split, i, texts[0], texts[1] if len(texts) > 1 else None))
    return rows


def truncated(tok, text, pair, strategy):
    try:
        return tok(text, pair, truncation=strategy, max_length=MAX_LENGTH)["input_ids"]
    except Exception:
        return "error"


def record(tok, text, pair):
    ids = tok(text, pair)["input_ids"]
    r = {"text": text}
    if pair is not None:
        r["pair"] = pair
    r["ids"] = ids
    r["plain"] = tok(text, pair, add_special_tokens=False)["input_ids"]
    r["tokens"] = tok.convert_ids_to_tokens(ids)
    r["decode"] = tok.decode(ids, skip_special_tokens=False)
    r["decode_skip"] = tok.decode(ids, skip_special_tokens=True)
    r["decode_clean"] = tok.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=True)
    if pair is None:
        r["t16"] = truncated(tok, text, None, "longest_first")
    else:
        for key, strategy in STRATEGIES:
            r[key] = truncated(tok, text, pair, strategy)
    return r


def extra_text(tok, text, pair, ids):
    if pair is None:
        parts = [ids_text(truncated(tok, text, None, "longest_first"))]
    else:
        parts = []
        for _, strategy in STRATEGIES:
            t = truncated(tok, text, pair, strategy)
            parts.append("E" if t == "error" else ids_text(t))
    parts.append(tok.decode(ids, skip_special_tokens=False))
    parts.append(tok.decode(ids, skip_special_tokens=True))
    return "\x1f".join(parts)


def slow_worker(model_dir, cases_path, out_path):
    """Under transformers 4.x: the sentencepiece XLMRobertaTokenizer's ids for every case."""
    from transformers.models.xlm_roberta.tokenization_xlm_roberta import XLMRobertaTokenizer
    import sentencepiece
    try:
        tok = XLMRobertaTokenizer.from_pretrained(model_dir)
    except TypeError as e:
        # 4.8 reads special_tokens_map.json with AddedToken(**value), which refuses the "__type"
        # key that later versions write: give it a copy without that key.
        if "__type" not in str(e):
            raise
        with tempfile.TemporaryDirectory() as tmp:
            shutil.copytree(model_dir, tmp, dirs_exist_ok=True)
            path = os.path.join(tmp, "special_tokens_map.json")
            with open(path, encoding="utf-8") as f:
                special = json.load(f)
            for value in special.values():
                if isinstance(value, dict):
                    value.pop("__type", None)
            with open(path, "w", encoding="utf-8") as f:
                json.dump(special, f)
            tok = XLMRobertaTokenizer.from_pretrained(tmp)
    with open(cases_path, encoding="utf-8") as f:
        cases = json.load(f)
    out = []
    for text, pair, strategy in cases:
        kwargs = {"truncation": strategy, "max_length": MAX_LENGTH} if strategy else {}
        try:
            out.append(tok(text, pair, **kwargs)["input_ids"])
        except Exception:
            out.append("error")
    with open(out_path, "w", encoding="utf-8") as f:
        # str(mask_token) is "<mask>" unless 4.x runs without the tokenizers package: then (4.8)
        # its own AddedToken has no __str__ and <mask> is registered under the dataclass's repr.
        json.dump({"version": transformers.__version__, "sentencepiece": sentencepiece.__version__,
                   "mask_token": str(tok.mask_token), "ids": out}, f)


def run_slow(slow_dir, slow_python, model_dir, cases):
    with tempfile.TemporaryDirectory() as tmp:
        cases_path, out_path = os.path.join(tmp, "cases.json"), os.path.join(tmp, "out.json")
        with open(cases_path, "w", encoding="utf-8") as f:
            json.dump(cases, f)
        env = dict(os.environ, PYTHONPATH=slow_dir)
        subprocess.run([slow_python or sys.executable, os.path.abspath(__file__),
                        "--slow-worker", model_dir, cases_path, out_path], check=True, env=env)
        with open(out_path, encoding="utf-8") as f:
            return json.load(f)


def main():
    if sys.argv[1:2] == ["--slow-worker"]:
        return slow_worker(*sys.argv[2:])
    import tokenizers
    from transformers import AutoTokenizer
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--slow-transformers", help="an unpacked transformers 4.x wheel, or a "
                    "PYTHONPATH (folders joined by ':') that imports transformers 4.x")
    ap.add_argument("--slow-python", help="the Python that runs the slow tokenizer "
                    "(default: this one), e.g. /usr/bin/python3 for Debian's packages")
    ap.add_argument("--check-saved", help="a folder our save_pretrained wrote: check it, no goldens")
    args = ap.parse_args()

    model_dir = os.path.join(args.out, "model")
    for name, content in [("tokenizer_config.json", CONFIG), ("special_tokens_map.json", SPECIAL_MAP)]:
        with open(os.path.join(model_dir, name), "w", encoding="utf-8") as f:
            json.dump(content, f, indent=2)
            f.write("\n")
    tok = AutoTokenizer.from_pretrained(model_dir)
    assert type(tok).__name__ == "XLMRobertaTokenizer" and transformers.__version__ >= "5"
    rows = read_glue(args.shared)

    if args.check_saved:
        saved = AutoTokenizer.from_pretrained(args.check_saved)
        cases = [(t, None) for t in TRICKY_XLMR] + list(TRICKY_PAIRS_XLMR)
        cases += [(t, p) for _, i, t, p in rows if i < 200]
        bad = [c for c in cases if saved(*c)["input_ids"] != tok(*c)["input_ids"]
               or saved.decode(tok(*c)["input_ids"]) != tok.decode(tok(*c)["input_ids"])]
        print("saved folder %s (%s): %d of %d cases agree with the oracle" %
              (args.check_saved, type(saved).__name__, len(cases) - len(bad), len(cases)))
        for c in bad[:20]:
            print("  differs:", repr(c), saved(*c)["input_ids"], tok(*c)["input_ids"])
        raise SystemExit(1 if bad else 0)

    hf_saved = os.path.join(args.out, "hf_saved")
    shutil.rmtree(hf_saved, ignore_errors=True)
    tok.save_pretrained(hf_saved)
    records = [record(tok, t, None) for t in TRICKY_XLMR]
    records += [record(tok, a, b) for a, b in TRICKY_PAIRS_XLMR]
    mask = tok.mask_token_id
    for ids in ([0, 5, 6, 7, 2], [mask, 8, mask], [3, 3, 9], [], [1, 1], [10, 1, 11],
                tok("Hello , world . I 'm here", add_special_tokens=False)["input_ids"]):
        records.append({"decode_ids": ids, "decode": tok.decode(ids),
                        "decode_skip": tok.decode(ids, skip_special_tokens=True),
                        "decode_clean": tok.decode(ids, skip_special_tokens=True,
                                                   clean_up_tokenization_spaces=True)})
    with open(os.path.join(args.out, "tricky.jsonl"), "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")

    hashes, all_ids = {}, []
    with open(os.path.join(args.out, "glue_sample.jsonl"), "w", encoding="utf-8") as f:
        for name, i, text, pair in rows:
            ids = tok(text, pair)["input_ids"]
            all_ids.append(ids)
            hashes.setdefault(name, []).append("%08x%08x" % (
                fnv1a32(ids_text(ids).encode()), fnv1a32(extra_text(tok, text, pair, ids).encode())))
            if i < SAMPLE_ROWS:
                r = record(tok, text, pair)
                r["set"], r["row"] = name, i
                f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
    with open(os.path.join(args.out, "glue.json"), "w", encoding="utf-8") as f:
        json.dump({"hash": "fnv1a32", "max_length": MAX_LENGTH,
                   "sets": {n: "".join(h) for n, h in hashes.items()}}, f, separators=(",", ":"))
        f.write("\n")
    print("transformers", transformers.__version__, "tokenizers", tokenizers.__version__)
    print("tricky records:", len(records), "glue rows:", len(rows),
          "tokens:", sum(len(i) for i in all_ids))

    if args.slow_transformers:
        cases, expected = [], []
        for r in records:
            if "text" not in r:
                continue
            cases.append([r["text"], r.get("pair"), None])
            expected.append(r["ids"])
            for key, strategy in (STRATEGIES if "pair" in r else [("t16", "longest_first")]):
                cases.append([r["text"], r.get("pair"), strategy])
                expected.append(r[key])
        for (name, i, text, pair), ids in zip(rows, all_ids):
            cases.append([text, pair, None])
            expected.append(ids)
        slow = run_slow(args.slow_transformers, args.slow_python, model_dir, cases)
        bad = [k for k, (a, b) in enumerate(zip(slow["ids"], expected)) if a != b]
        print("slow XLMRobertaTokenizer (transformers %s, sentencepiece %s): %d of %d id lists "
              "agree" % (slow["version"], slow["sentencepiece"], len(cases) - len(bad), len(cases)))
        if slow.get("mask_token", "<mask>") != "<mask>":
            print("slow mask_token is %r, not '<mask>': <mask> in a text is not matched"
                  % slow["mask_token"])
        for k in bad:
            print("  differs:", repr(cases[k]), "slow", slow["ids"][k], "fast", expected[k])


if __name__ == "__main__":
    main()
