"""The peer of bench/train_step_bench: one HF-style training step of DistilBertForSequenceClassification
in plain PyTorch (tools/hf_modules.py, HF's math), on the same checkpoint and the same CoLA batches.

    python3 tools/bench_train_step_peer.py --checkpoint DIR --ids IDS.jsonl [--steps 20 --warmup 3] [--bf16]
    VENV/bin/python tools/bench_train_step_peer.py --hf --checkpoint DIR --ids IDS.jsonl   # any HF model

--hf runs transformers' own AutoModelForSequenceClassification (the current HF stack of
tools/requirements-hf.txt) on DIR as save_pretrained wrote it, e.g. the roberta-base-size model of
tools/make_roberta_bench_data.py; batches are then padded with the config's pad_token_id, which
RoBERTa's position ids depend on.

DIR holds pytorch_model.bin + config.json (tools/make_full_checkpoint.py); IDS.jsonl the CoLA
token ids HF's tokenizer gives (shared/reference/tokenization/cola_bert_uncased_ids.jsonl). Batches
of 16 train sentences in file order, right-padded to the longest like DataCollatorWithPadding; model
in train mode (dropout on); loss.backward(); clip_grad_norm_(1.0); torch.optim.AdamW (lr 2e-5,
weight decay 0.01 except biases and LayerNorm weights, as the Trainer groups them); zero_grad.
With --bf16 the forward and the loss run under torch.autocast("cpu", dtype=torch.bfloat16), the
backward outside it, as HF's Trainer does with --bf16 --use_cpu.
Prints one JSON line: median seconds per step, tokens/s (real and padded), torch threads.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_modules  # noqa: E402


def param_groups(model, weight_decay):
    """The Trainer's groups: no weight decay for biases and LayerNorm weights."""
    no_decay = set()
    for mname, m in model.named_modules():
        if isinstance(m, torch.nn.LayerNorm):
            no_decay.update(f"{mname}.{p}" for p, _ in m.named_parameters())
    named = list(model.named_parameters())
    is_decay = [n not in no_decay and "bias" not in n for n, _ in named]
    return [{"params": [p for (n, p), d in zip(named, is_decay) if d], "weight_decay": weight_decay},
            {"params": [p for (n, p), d in zip(named, is_decay) if not d], "weight_decay": 0.0}]


def batches(ids_path, batch_size, count, pad_id=0):
    rows = []
    with open(ids_path) as f:
        for line in f:
            r = json.loads(line)
            if r["split"] == "train":
                rows.append(r["input_ids"])
            if len(rows) == batch_size * count:
                break
    out = []
    for b in range(count):
        seqs = rows[b * batch_size:(b + 1) * batch_size]
        L = max(len(s) for s in seqs)
        ids = torch.full((len(seqs), L), pad_id, dtype=torch.long)
        mask = torch.zeros(len(seqs), L, dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, :len(s)] = torch.tensor(s)
            mask[i, :len(s)] = 1
        labels = torch.tensor([(b * batch_size + i) % 2 for i in range(len(seqs))])
        out.append((ids, mask, labels, sum(len(s) for s in seqs)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--bf16", action="store_true", help="bf16 autocast for the forward and loss")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads; 0 keeps torch's default")
    ap.add_argument("--hf", action="store_true", help="transformers' own model class from DIR")
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    with open(os.path.join(a.checkpoint, "config.json")) as f:
        cfg = json.load(f)
    cfg.setdefault("num_labels", 2)
    if a.hf:
        import transformers
        model = transformers.AutoModelForSequenceClassification.from_pretrained(a.checkpoint)
        forward = model.forward

        def run(ids, mask, labels):
            return forward(input_ids=ids, attention_mask=mask, labels=labels).loss
    else:
        model = hf_modules.DistilBertForSequenceClassification(cfg)
        model.load_state_dict(torch.load(os.path.join(a.checkpoint, "pytorch_model.bin")))

        def run(ids, mask, labels):
            return model(ids, attention_mask=mask, labels=labels)[0]
    model.train()
    opt = torch.optim.AdamW(param_groups(model, 0.01), lr=2e-5)
    data = batches(a.ids, a.batch, a.warmup + a.steps, cfg.get("pad_token_id") or 0 if a.hf else 0)
    times = []
    for i, (ids, mask, labels, _) in enumerate(data):
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
            loss = run(ids, mask, labels)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        if i >= a.warmup:
            times.append(time.perf_counter() - t0)
    timed = data[a.warmup:]
    real = sum(d[3] for d in timed) / len(timed)
    padded = sum(d[0].numel() for d in timed) / len(timed)
    med = statistics.median(times)
    print(json.dumps({"peer": "transformers " + transformers.__version__ if a.hf else "pytorch",
                      "model_type": cfg.get("model_type"), "precision": "bf16 autocast" if a.bf16 else "fp32",
                      "torch": torch.__version__, "threads": torch.get_num_threads(),
                      "malloc_tuned": "MALLOC_MMAP_MAX_" in os.environ, "steps": len(times),
                      "median_step_s": med, "real_tokens_per_s": real / med,
                      "padded_tokens_per_s": padded / med, "padding_fraction": 1 - real / padded}))


if __name__ == "__main__":
    main()
