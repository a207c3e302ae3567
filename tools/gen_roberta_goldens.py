"""Writes the RoBERTa and XLM-RoBERTa model goldens: tiny RobertaForSequenceClassification and
XLMRobertaForSequenceClassification models from current transformers (the HF stack users install
today, not a re-implementation), with HF's init, a padded batch, eval logits and loss, every
parameter gradient, and a 5-step AdamW trajectory, in the layout of tools/gen_goldens.py's model
goldens (tests/model/golden_model.h reads both).

    /work/.venv-hf/bin/python tools/gen_roberta_goldens.py --out tests/goldens

What RoBERTa adds over BERT and these files exercise: position ids that start at pad + 1 and
count only the non-pad tokens (the padded batch has right padding, so each sequence's positions
are pad+1 .. pad+len), one token type, no pooler, and the classification head's dropout before
its dense layer (dropout is 0 for the gradients, as in gen_goldens.py).
"""
import argparse
import json
import os
import sys
from collections import OrderedDict

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_goldens  # noqa: E402  (train, set_dropout, f32, f64_scalar, TRAIN, decay names)
import safetensors_plain  # noqa: E402

BOS, PAD, EOS = 0, 1, 2  # fairseq's order, as roberta-base and xlm-roberta-base have it
LENGTHS = [5, 9, 3, 7]
PAIRS = {1: 4, 3: 3}  # sequence -> where its second segment starts (<s> a </s></s> b </s>)
BATCH_SEED = 7
SEEDS = {"roberta_cls": 31, "xlm_roberta_cls": 37}


def tiny_config(kind):
    from transformers import RobertaConfig, XLMRobertaConfig
    cls = RobertaConfig if kind == "roberta" else XLMRobertaConfig
    return cls(vocab_size=99, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
               intermediate_size=24, max_position_embeddings=20, type_vocab_size=1,
               layer_norm_eps=1e-5, pad_token_id=PAD, bos_token_id=BOS, eos_token_id=EOS,
               num_labels=3, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
               architectures=[("Roberta" if kind == "roberta" else "XLMRoberta")
                              + "ForSequenceClassification"])


def make_batch(vocab):
    g = torch.Generator().manual_seed(BATCH_SEED)
    seqs = []
    for b, n in enumerate(LENGTHS):
        ids = torch.randint(EOS + 2, vocab, (n,), generator=g)  # 3 (<unk>) left out too
        ids[0], ids[-1] = BOS, EOS
        if b in PAIRS:  # the pair template's </s></s> between the segments
            ids[PAIRS[b] - 2], ids[PAIRS[b] - 1] = EOS, EOS
        seqs.append(ids)
    labels = torch.randint(0, 3, (len(LENGTHS),), generator=g)
    B, L = len(seqs), max(LENGTHS)
    padded = torch.full((B, L), PAD, dtype=torch.int64)
    mask = torch.zeros(B, L, dtype=torch.int64)
    for b, s in enumerate(seqs):
        padded[b, :len(s)], mask[b, :len(s)] = s, 1
    offsets = torch.tensor([0] + list(torch.cumsum(torch.tensor(LENGTHS), 0)), dtype=torch.int32)
    return {"input_ids_packed": torch.cat(seqs).to(torch.int32), "offsets": offsets,
            "labels": labels, "input_ids_padded": padded, "attention_mask": mask}


def golden(name, kind):
    from transformers import RobertaForSequenceClassification, XLMRobertaForSequenceClassification
    cls = (RobertaForSequenceClassification if kind == "roberta"
           else XLMRobertaForSequenceClassification)
    config = tiny_config(kind)
    torch.manual_seed(SEEDS[name])
    model = cls(config)  # HF's _init_weights
    batch = make_batch(config.vocab_size)

    def forward():
        out = model(input_ids=batch["input_ids_padded"], attention_mask=batch["attention_mask"],
                    labels=batch["labels"])
        return out.loss, out.logits

    out = OrderedDict()
    for n, p in model.named_parameters():
        out["param." + n] = gen_goldens.f32(p)
    for k in ("input_ids_packed", "offsets", "labels", "input_ids_padded", "attention_mask"):
        out["batch." + k] = batch[k]

    model.eval()
    with torch.no_grad():
        loss, logits = forward()
        # Each sequence alone, unpadded, gives the padded batch's logits: what packing relies on.
        ids, offs = batch["input_ids_packed"].long(), batch["offsets"].tolist()
        for b in range(len(LENGTHS)):
            one = ids[offs[b]:offs[b + 1]][None]
            alone = model(input_ids=one, attention_mask=torch.ones_like(one)).logits
            assert (alone[0] - logits[b]).abs().max().item() < 1e-5, b
    out["eval.logits"] = gen_goldens.f32(logits)
    out["eval.loss"] = gen_goldens.f64_scalar(loss)

    gen_goldens.set_dropout(model, 0.0)
    model.train()
    loss, _ = forward()
    loss.backward()
    out["grad.loss"] = gen_goldens.f64_scalar(loss)
    for n, p in model.named_parameters():
        out["grad." + n] = gen_goldens.f32(p.grad)
    model.zero_grad()

    t = gen_goldens.TRAIN
    losses, norms, lrs = gen_goldens.train(model, lambda k: forward()[0], t["steps"],
                                           "adamw_torch", t["lr"], t["weight_decay"], t["betas"],
                                           t["eps"], t["warmup_steps"], t["max_grad_norm"])
    out["traj.loss"] = torch.tensor(losses, dtype=torch.float64)
    out["traj.grad_norm"] = torch.tensor(norms, dtype=torch.float64)
    out["traj.lr"] = torch.tensor(lrs, dtype=torch.float64)
    for n, p in model.named_parameters():
        out["final." + n] = gen_goldens.f32(p)

    import transformers
    cfg = json.loads(config.to_json_string())
    meta = {
        "config": json.dumps(cfg, sort_keys=True),
        "torch_version": torch.__version__, "transformers_version": transformers.__version__,
        "seed": str(SEEDS[name]), "batch_seed": str(BATCH_SEED),
        "eval": "model.eval(), padded batch (pad id 1), HF's loss",
        "grad": "train mode, every dropout 0, gradients of grad.loss",
        "traj": "as gen_goldens.py's model goldens: 5 AdamW steps, warmup 2, clipping 1.0",
        "rounding_noise_params": json.dumps([n for n, _ in model.named_parameters()
                                             if n.endswith("key.bias")]),
    }
    return out, meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="folder for the goldens (tests/goldens)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    for name, kind in (("roberta_cls", "roberta"), ("xlm_roberta_cls", "xlm-roberta")):
        tensors, meta = golden(name, kind)
        path = os.path.join(args.out, f"{name}.safetensors")
        safetensors_plain.save(tensors, path, meta)
        print(f"  {path}: {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
