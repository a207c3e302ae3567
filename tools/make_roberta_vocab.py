"""Builds a RoBERTa-style byte-level BPE tokenizer folder from GPT-2's files, standard library only.

RoBERTa's merges are GPT-2's; its vocabulary puts <s> <pad> </s> <unk> first and <mask> last.
Here the middle is GPT-2's tokens in GPT-2's id order, shifted by 4 (roberta-base orders them by
fairseq's dictionary instead, so ids differ from roberta-base's but the tokenization is the same).

    python3 tools/make_roberta_vocab.py --gpt2 ../shared/data/tokenizers/gpt2-bpe --out DIR

writes DIR/vocab.json, merges.txt, tokenizer_config.json and special_tokens_map.json as
roberta-base's slow tokenizer saves them, and tokenizer.json as transformers' RobertaTokenizerFast
saves this folder (tools/gen_roberta_tokenizer_goldens.py checks that against transformers).
--no-tokenizer-json leaves tokenizer.json out. Reruns give identical bytes.
"""
import argparse
import json
import os

SPECIAL_FIRST = ["<s>", "<pad>", "</s>", "<unk>"]
MASK = "<mask>"


def vocabulary(gpt2_dir):
    with open(os.path.join(gpt2_dir, "encoder.json"), encoding="utf-8") as f:
        encoder = json.load(f)
    tokens = sorted(encoder, key=encoder.__getitem__)
    if [encoder[t] for t in tokens] != list(range(len(tokens))):
        raise SystemExit("encoder.json: ids must run 0..n-1")
    vocab = {t: i for i, t in enumerate(SPECIAL_FIRST)}
    for t in tokens:
        vocab.setdefault(t, len(vocab))
    vocab[MASK] = len(vocab)
    return vocab


def merges_lines(gpt2_dir):
    with open(os.path.join(gpt2_dir, "vocab.bpe"), encoding="utf-8") as f:
        lines = f.read().split("\n")
    # The "#version" header and the empty string after the last newline are not merges.
    return [line for line in lines if line and not line.startswith("#version")]


def added_token(content, i, lstrip=False):
    return {"id": i, "content": content, "single_word": False, "lstrip": lstrip, "rstrip": False,
            "normalized": False, "special": True}


def tokenizer_json(vocab, merges):
    # The layout transformers 5 (tokenizers 0.23) saves for RobertaTokenizerFast.
    specials = SPECIAL_FIRST + [MASK]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [added_token(t, vocab[t], lstrip=t == MASK) for t in specials],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", vocab["</s>"]],
                           "cls": ["<s>", vocab["<s>"]], "trim_offsets": True,
                           "add_prefix_space": False},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True,
                    "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": "", "end_of_word_suffix": "", "fuse_unk": False,
                  "byte_fallback": False, "ignore_merges": False, "vocab": vocab,
                  "merges": [m.split(" ") for m in merges]},
    }


def write(path, text):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gpt2", required=True, help="folder with encoder.json and vocab.bpe")
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-tokenizer-json", action="store_true")
    args = ap.parse_args()
    vocab = vocabulary(args.gpt2)
    merges = merges_lines(args.gpt2)
    os.makedirs(args.out, exist_ok=True)
    write(os.path.join(args.out, "vocab.json"), json.dumps(vocab, ensure_ascii=False) + "\n")
    write(os.path.join(args.out, "merges.txt"), "#version: 0.2\n" + "\n".join(merges) + "\n")
    mask = {"content": MASK, "lstrip": True, "normalized": False, "rstrip": False,
            "single_word": False}
    special_map = {"bos_token": "<s>", "cls_token": "<s>", "eos_token": "</s>",
                   "mask_token": mask, "pad_token": "<pad>", "sep_token": "</s>",
                   "unk_token": "<unk>"}
    config = {"add_prefix_space": False, "bos_token": "<s>", "clean_up_tokenization_spaces": True,
              "cls_token": "<s>", "eos_token": "</s>", "errors": "replace", "mask_token": MASK,
              "model_max_length": 512, "pad_token": "<pad>", "sep_token": "</s>",
              "tokenizer_class": "RobertaTokenizer", "trim_offsets": True, "unk_token": "<unk>"}
    write(os.path.join(args.out, "special_tokens_map.json"), json.dumps(special_map, indent=2) + "\n")
    write(os.path.join(args.out, "tokenizer_config.json"), json.dumps(config, indent=2) + "\n")
    path = os.path.join(args.out, "tokenizer.json")
    if args.no_tokenizer_json:
        if os.path.exists(path):
            os.remove(path)
    else:
        # No newline at the end, as tokenizers writes it.
        write(path, json.dumps(tokenizer_json(vocab, merges), ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
