"""Goldens for tokenizing pre-split words (tests/goldens/word_tokenizer), from HF.

The oracle is transformers 5's fast tokenizers called as run_ner.py calls them:
tokenizer(words, is_split_into_words=True, truncation=True, max_length=N) and
BatchEncoding.word_ids(). Four tokenizers: bert-base-uncased (../shared), the small byte-level
BPE of tests/goldens/trainer_roberta/init_roberta and the full GPT-2 BPE RoBERTa folder that
tools/make_roberta_vocab.py builds (both loaded with add_prefix_space=True, as run_ner loads
RoBERTa), and the XLM-R SentencePiece model of tests/goldens/xlm_roberta_tokenizer/model.

    /work/.venv-hf/bin/python tools/gen_word_tokenizer_goldens.py \
        --shared ../shared --out tests/goldens/word_tokenizer [--show KIND:SPLIT:INDEX]

Writes into --out:
  tricky.jsonl    one record per hand-made word list: "words", then per tokenizer kind a map
                  from variant (see VARIANTS) to [ids, word_ids] or "error" where HF raises
                  (lists of more than LONG words: the truncating variants only).
  ud_ewt/KIND.json  every sentence of UD English-EWT train/dev/test (the FORM column), as three
                  FNV-1a 32-bit hashes per sentence (hex, 24 characters a sentence): of the ids,
                  of the word ids, and of the max_length-128 truncation (ids, U+001F, word ids).
  ud_ewt/sample.jsonl  the first sentences of each split spelled out, per kind.
Word ids are written -1 where Python has None (special tokens, padding). --show prints HF's
tokens, ids and word ids of one UD sentence (e.g. bert:train:17) and writes nothing.
README.md is written by hand. Reruns write identical bytes.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import tokenizers
import transformers
from transformers import AutoTokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SPLITS = ["train", "dev", "test"]
MAX_LENGTH = 128
SAMPLE = 12  # sentences per split spelled out in sample.jsonl

# variant -> the keyword arguments of the call, beside is_split_into_words=True.
VARIANTS = {
    "full": {},
    "plain": {"add_special_tokens": False},
    "t1": {"truncation": True, "max_length": 1},
    "t2": {"truncation": True, "max_length": 2},
    "t3": {"truncation": True, "max_length": 3},
    "t8": {"truncation": True, "max_length": 8},
    "t128": {"truncation": True, "max_length": 128},
    "t512": {"truncation": True, "max_length": 512},
    "plain_t8": {"add_special_tokens": False, "truncation": True, "max_length": 8},
    "p16": {"padding": "max_length", "truncation": True, "max_length": 16},
    "p_mult8": {"padding": True, "pad_to_multiple_of": 8},
}
LONG = 100  # word lists longer than this keep only the truncating variants
LONG_VARIANTS = ["t8", "t128", "t512"]

COMMON = ["the", "cat", "sat", "on", "mat", "unbelievably", "tokenization", ",", "Zaman", "42",
          "don't", "café", "日本", "😀", "New", "York-based", "e-mail", "(", ")", "."]
TRICKY = [
    ["Hello", "world"], [], [""], ["", "a", "", "b", ""], ["Hello", "", "world"],
    [" "], [" ", "a", "  ", "b"], ["\t", "\n", "x", "\r\n"], ["a b", "c", "d  e f"],
    [" a", "b ", " c "], ["a\tb", "c\nd"], ["café", "naïve", "Ünïcödé", "e\u0301", "\u00c5ngstr\u00f6m"],
    ["日本語", "中文", "한국어", "テキスト", "日本 語"], ["😀", "👨\u200d👩\u200d👧", "🇫🇷", "a😀b"],
    ["\x00", "a", "\x01\x02", "b", "\x7f", "c", "\u200b", "d", "\ufeff", "e", "\u00ad"],
    ["a\u00a0b", "\u00a0", "\u3000", "x\u2028y", "\u0085", "a\u0085b", "\u000b", "f"],
    ["[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]", "x"], ["[CLS]x", "a[SEP]", "[cls]"],
    ["<s>", "</s>", "<pad>", "<unk>", "<mask>", "x"], ["<mask>x", "a<mask>", "a <mask>", " <mask>"],
    ["<mask>", "<mask>"], ["don't", "'s", "n't", "I'm", "'"], ["Al", "-", "Zaman", ":", "American"],
    ["1,000", "3.14", "$", "100", "%", "½", "①"], ["http://example.com/a?b=c", "user@example.com"],
    ["supercalifragilisticexpialidocious"], ["a" * 150], ["ab" * 60, "x"], ["é" * 101, "ok"],
    ["ALLCAPS", "MiXeD", "camelCase"], ["İstanbul", "ß", "ﬁne", "Ａｂｃ"],
    ["Ελληνικά", "Русский", "עברית", "العربية", "हिन्दी", "ไทย"],
    ["unbelievably", "tokenization", "unbelievably", "tokenization", "unbelievably"],
    ["\ufffd", "\ue000"],
    [COMMON[i % len(COMMON)] for i in range(600)],
    ["w%d" % i for i in range(600)],
    ["x"] * 600,
]


def fnv1a32(data):
    h = 0x811C9DC5
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def ints_text(xs):
    return " ".join(str(x) for x in xs)


def word_ids_of(enc, i=0):
    return [-1 if w is None else w for w in enc.word_ids(i)]


def read_conllu(path):
    """The FORM of every token line, per sentence: comments, multiword tokens (1-2) and empty
    nodes (1.1) skipped; sentences end at blank lines."""
    with open(path, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    sentences, words = [], []
    for line in lines:
        if line.endswith("\r"):
            line = line[:-1]
        if not line:
            if words:
                sentences.append(words)
            words = []
            continue
        if line.startswith("#"):
            continue
        fields = line.split("\t")
        if "-" in fields[0] or "." in fields[0]:
            continue
        words.append(fields[1])
    if words:
        sentences.append(words)
    return sentences


def load_tokenizers(shared, tmp):
    gpt2_dir = os.path.join(tmp, "roberta_gpt2")
    subprocess.run([sys.executable, os.path.join(HERE, "make_roberta_vocab.py"), "--gpt2",
                    os.path.join(shared, "data/tokenizers/gpt2-bpe"), "--out", gpt2_dir],
                   check=True)
    toks = {
        "bert": AutoTokenizer.from_pretrained(
            os.path.join(shared, "data/tokenizers/bert-base-uncased")),
        "roberta": AutoTokenizer.from_pretrained(
            os.path.join(REPO, "tests/goldens/trainer_roberta/init_roberta"),
            add_prefix_space=True),
        "roberta_gpt2": AutoTokenizer.from_pretrained(gpt2_dir, add_prefix_space=True),
        "xlmr": AutoTokenizer.from_pretrained(
            os.path.join(REPO, "tests/goldens/xlm_roberta_tokenizer/model")),
    }
    for name, tok in toks.items():
        assert tok.is_fast, name
    return toks


def call(tok, words, kwargs):
    try:
        enc = tok(words, is_split_into_words=True, **kwargs)
    except Exception:  # tokenizers refuses a truncation it cannot do
        return "error"
    return [enc["input_ids"], word_ids_of(enc)]


def tricky_records(toks):
    records = []
    for words in TRICKY:
        r = {"words": words}
        for name, tok in toks.items():
            r[name] = {v: call(tok, words, kw) for v, kw in VARIANTS.items()
                       if len(words) <= LONG or v in LONG_VARIANTS}
        records.append(r)
    return records


def ud_hashes(tok, sentences):
    """24 hex characters a sentence: ids, word ids, and the max_length-128 truncation."""
    full = tok(sentences, is_split_into_words=True)
    cut = tok(sentences, is_split_into_words=True, truncation=True, max_length=MAX_LENGTH)
    out, tokens, truncated = [], 0, 0
    for i in range(len(sentences)):
        ids, wids = full["input_ids"][i], word_ids_of(full, i)
        cids, cwids = cut["input_ids"][i], word_ids_of(cut, i)
        tokens += len(ids)
        truncated += len(cids) != len(ids)
        out.append("%08x%08x%08x" % (
            fnv1a32(ints_text(ids).encode()), fnv1a32(ints_text(wids).encode()),
            fnv1a32((ints_text(cids) + "\x1f" + ints_text(cwids)).encode())))
    return "".join(out), tokens, truncated


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--show", help="KIND:SPLIT:INDEX, e.g. bert:train:17: print one sentence")
    args = ap.parse_args()

    ud_dir = os.path.join(args.shared, "data/ud/en_ewt")
    splits = {s: read_conllu(os.path.join(ud_dir, "en_ewt-ud-%s.conllu" % s)) for s in SPLITS}
    with tempfile.TemporaryDirectory() as tmp:
        toks = load_tokenizers(args.shared, tmp)
        if args.show:
            kind, split, index = args.show.split(":")
            words = splits[split][int(index)]
            enc = toks[kind](words, is_split_into_words=True)
            print("words:", words)
            print("tokens:", toks[kind].convert_ids_to_tokens(enc["input_ids"]))
            print("ids:", enc["input_ids"])
            print("word_ids:", word_ids_of(enc))
            return

        os.makedirs(os.path.join(args.out, "ud_ewt"), exist_ok=True)
        write_jsonl(os.path.join(args.out, "tricky.jsonl"), tricky_records(toks))
        sample = []
        for name, tok in toks.items():
            golden = {"hash": "fnv1a32", "max_length": MAX_LENGTH, "sentences": {},
                      "tokens": {}, "truncated": {}, "sets": {}}
            for split in SPLITS:
                sentences = splits[split]
                h, tokens, truncated = ud_hashes(tok, sentences)
                golden["sentences"][split] = len(sentences)
                golden["tokens"][split] = tokens
                golden["truncated"][split] = truncated
                golden["sets"][split] = h
                for i, words in enumerate(sentences[:SAMPLE]):
                    enc = tok(words, is_split_into_words=True)
                    sample.append({"kind": name, "split": split, "index": i, "words": words,
                                   "ids": enc["input_ids"], "word_ids": word_ids_of(enc)})
            with open(os.path.join(args.out, "ud_ewt", name + ".json"), "w", encoding="utf-8",
                      newline="\n") as f:
                json.dump(golden, f, separators=(",", ":"))
                f.write("\n")
            print(name, "sentences", golden["sentences"], "tokens", golden["tokens"],
                  "truncated at", MAX_LENGTH, golden["truncated"])
        write_jsonl(os.path.join(args.out, "ud_ewt", "sample.jsonl"), sample)
    print("transformers", transformers.__version__, "tokenizers", tokenizers.__version__)


if __name__ == "__main__":
    main()
