"""Makes the roberta-base-size train-step benchmark's inputs with the current HF stack (the venv of
tools/make_hf_venv.sh): a randomly initialised RobertaForSequenceClassification of roberta-base's
shape (124,647,170 parameters, 2 labels) saved by save_pretrained (config.json + model.safetensors),
and the CoLA train sentences' ids from RobertaTokenizerFast on tools/make_roberta_vocab.py's folder
(GPT-2's byte-level BPE with RoBERTa's special tokens), one JSON line per sentence as
shared/reference/tokenization/*_ids.jsonl has them. Both sides of the benchmark read these files.

    VENV/bin/python tools/make_roberta_bench_data.py --shared ../shared --out DIR

writes DIR/model/ and DIR/cola_roberta_ids.jsonl. Seeded: reruns give the same weights and ids.
"""
import argparse
import csv
import json
import os
import subprocess
import sys

import torch
import transformers

# roberta-base's config.json as the Hub has it (architecture and sizes only).
ROBERTA_BASE = {
    "architectures": ["RobertaForMaskedLM"], "attention_probs_dropout_prob": 0.1, "bos_token_id": 0,
    "eos_token_id": 2, "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "hidden_size": 768,
    "initializer_range": 0.02, "intermediate_size": 3072, "layer_norm_eps": 1e-05,
    "max_position_embeddings": 514, "model_type": "roberta", "num_attention_heads": 12,
    "num_hidden_layers": 12, "pad_token_id": 1, "type_vocab_size": 1, "vocab_size": 50265,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    here = os.path.dirname(os.path.abspath(__file__))
    tok_dir = os.path.join(a.out, "tokenizer")
    subprocess.run([sys.executable, os.path.join(here, "make_roberta_vocab.py"), "--gpt2",
                    os.path.join(a.shared, "data", "tokenizers", "gpt2-bpe"), "--out", tok_dir],
                   check=True)
    tok = transformers.AutoTokenizer.from_pretrained(tok_dir)
    with open(os.path.join(a.shared, "data", "glue", "cola", "train.tsv"), newline="",
              encoding="utf-8") as f:
        sentences = [row[3] for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]
    with open(os.path.join(a.out, "cola_roberta_ids.jsonl"), "w") as f:
        for i, s in enumerate(sentences):
            ids = tok(s, truncation=True, max_length=128)["input_ids"]
            f.write(json.dumps({"idx": i, "split": "train", "input_ids": ids}, separators=(",", ":")))
            f.write("\n")
    torch.manual_seed(a.seed)
    config = transformers.RobertaConfig(**{k: v for k, v in ROBERTA_BASE.items() if k != "architectures"},
                                        num_labels=2)
    model = transformers.RobertaForSequenceClassification(config)
    model.save_pretrained(os.path.join(a.out, "model"), safe_serialization=True)
    print(f"{sum(p.numel() for p in model.parameters()):,} parameters; {len(sentences)} sentences")


if __name__ == "__main__":
    main()
