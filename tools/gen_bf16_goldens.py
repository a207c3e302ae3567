"""Writes the bf16 mixed-precision oracle: 20 training steps of the tiny goldens' models under
torch.autocast("cpu", dtype=torch.bfloat16), and the same 20 steps in plain float32.

    LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/blas /usr/bin/python3 tools/gen_bf16_goldens.py \
        --out tests/goldens/bf16 [--torch2-python /work/.venv-hf/bin/python]

--torch2-python adds the bf16 steps as a current torch 2.x computes them (section bf16_torch2):
torch 1.13 accumulates small bf16 GEMMs in bf16, 2.x does not (docs/bf16-autocast.md).
Reads tests/goldens/{distilbert_cls,bert_cls}.safetensors (the tiny models' init weights and their
batch; written by tools/gen_goldens.py) and writes <model>.json per model. The forward is
tools/hf_modules.py (HF 4.8.2's math); autocast wraps the forward and the loss only, as HF's
Trainer does; backward, clipping and torch.optim.AdamW run outside it on the float32 master
weights. See tests/goldens/bf16/README.md and docs/bf16-autocast.md.
"""
import argparse
import contextlib
import json
import os
import re
import subprocess
import sys
import warnings

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_goldens  # noqa: E402  (train(), set_dropout(), TRAIN: the 5-step trajectory setup)
import hf_modules  # noqa: E402
import safetensors_plain  # noqa: E402

MODELS = ("distilbert_cls", "bert_cls")
# gen_goldens.TRAIN (lr 1e-3, AdamW betas/eps, weight decay 0.01, warmup 2, clipping 1.0), 20 steps.
TRAIN = {**gen_goldens.TRAIN, "steps": 20}
GOLDENS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "goldens")


def load(name):
    """The golden's model (hf_modules, init weights, dropout 0), a forward on its padded batch."""
    t, meta = safetensors_plain.load(os.path.join(GOLDENS, f"{name}.safetensors"))
    config = json.loads(meta["config"])
    config["num_labels"] = len(config["id2label"])
    is_bert = config["model_type"] == "bert"
    cls = (hf_modules.BertForSequenceClassification if is_bert
           else hf_modules.DistilBertForSequenceClassification)
    model = cls(config)
    params = {n[len("param."):]: v for n, v in t.items() if n.startswith("param.")}
    missing, unexpected = model.load_state_dict(params, strict=False)
    assert not unexpected and set(missing) == set(dict(model.named_buffers())), missing
    gen_goldens.set_dropout(model, 0.0)
    args = [t["batch.input_ids_padded"], t["batch.attention_mask"]]
    if is_bert:
        args.append(t["batch.token_type_ids_padded"])
    model.probe_args = args
    return model, lambda: model(*args, labels=t["batch.labels"]), t


def probe(name, bf16):
    """The eval-mode logits of the model with an identity classifier (C labels, weight I, bias 0):
    the head's input to the classifier itself (DistilBERT: relu(pre_classifier(h_cls)); BERT: the
    pooler output), B x C values that a change anywhere in the forward shows in. The logits of
    the real 3-label head are rounded to bf16 at the end and hide small changes upstream."""
    model, _, _ = load(name)
    c = model.classifier.in_features
    model.classifier = torch.nn.Linear(c, c)
    with torch.no_grad():
        model.classifier.weight.copy_(torch.eye(c))
        model.classifier.bias.zero_()
    model.num_labels = c
    model.eval()
    with torch.no_grad(), autocast(bf16):
        _, logits = model(*model.probe_args)
    return logits.float().tolist()


def autocast(bf16):
    return torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()


def run(name, bf16):
    model, forward, golden = load(name)

    def eval_logits():  # eval mode, under autocast too (HF's bf16 evaluation does that)
        model.eval()
        with torch.no_grad(), autocast(bf16):
            loss, logits = forward()
        model.train()
        assert logits.dtype == (torch.bfloat16 if bf16 else torch.float32)
        return logits.float().tolist(), float(loss)

    init_logits, init_loss = eval_logits()

    def loss_of_step(_):  # forward and loss under autocast; backward outside it
        with autocast(bf16):
            loss = forward()[0]
        assert loss.dtype == torch.float32  # the losses are on autocast's float32 list
        return loss

    t = TRAIN
    losses, norms, lrs = gen_goldens.train(model, loss_of_step, t["steps"], "adamw_torch", t["lr"],
                                           t["weight_decay"], t["betas"], t["eps"],
                                           t["warmup_steps"], t["max_grad_norm"])
    final_logits, final_loss = eval_logits()
    if not bf16:  # the 5-step goldens' setup: steps 1-3 have their lrs (0, 5e-4, 1e-3) too.
        # Equal up to the BLAS (bit for bit with the reference BLAS those goldens were made with).
        assert max(abs(a - b) for a, b in zip(losses, golden["traj.loss"].tolist()[:3])) < 1e-6
        assert (torch.tensor(init_logits) - golden["eval.logits"]).abs().max() < 1e-5
    return {"loss": losses, "grad_norm": norms, "lr": lrs,
            "eval_init": {"logits": init_logits, "loss": init_loss,
                          "identity_head_logits": probe(name, bf16)},
            "eval_final": {"logits": final_logits, "loss": final_loss}}


def dump(doc, path):
    """indent=1 JSON with each list of numbers on one line."""
    text = json.dumps(doc, indent=1)
    text = re.sub(r"\[([^\[\]{}]*)\]", lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    with open(path, "w") as f:
        f.write(text + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="folder for the goldens (tests/goldens/bf16)")
    ap.add_argument("--torch2-python", help="a Python with torch 2.x (tools/make_hf_venv.sh venv)")
    ap.add_argument("--section", choices=MODELS, help=argparse.SUPPRESS)  # the torch-2 subprocess
    args = ap.parse_args()
    torch.set_num_threads(1)
    if args.section:  # torch 2.x warns about gen_goldens.train's float(loss): harmless here
        warnings.filterwarnings("ignore", "Converting a tensor with requires_grad")
        print(json.dumps({"torch_version": torch.__version__, **run(args.section, True)}))
        return
    if not args.out:
        ap.error("give --out")
    os.makedirs(args.out, exist_ok=True)
    for name in MODELS:
        bf16, fp32 = run(name, True), run(name, False)
        assert bf16["lr"] == fp32["lr"]
        doc = {
            "model": name,
            "source": f"tests/goldens/{name}.safetensors (param.*, batch.*: padded batch)",
            "torch_version": torch.__version__,
            "train": {"steps": TRAIN["steps"], "lr": TRAIN["lr"], "schedule": "linear",
                      "warmup_steps": TRAIN["warmup_steps"], "optimizer": "torch.optim.AdamW",
                      "betas": list(TRAIN["betas"]), "eps": TRAIN["eps"],
                      "weight_decay": TRAIN["weight_decay"],
                      "weight_decay_params": "all but biases and LayerNorm weights",
                      "max_grad_norm": TRAIN["max_grad_norm"], "dropout": 0.0,
                      "batch": "the same batch every step", "lr_per_step": fp32["lr"]},
            "bf16": {k: v for k, v in bf16.items() if k != "lr"},
            "fp32": {k: v for k, v in fp32.items() if k != "lr"},
        }
        if args.torch2_python:
            out = subprocess.run([args.torch2_python, __file__, "--section", name], check=True,
                                 stdout=subprocess.PIPE, text=True).stdout
            doc["bf16_torch2"] = {k: v for k, v in json.loads(out).items() if k != "lr"}
        dump(doc, os.path.join(args.out, f"{name}.json"))
        t2 = doc.get("bf16_torch2")
        for tag, a, b in (("bf16 - fp32", bf16, fp32), ("bf16_torch2 - fp32", t2, fp32),
                          ("bf16_torch2 - bf16", t2, bf16)):
            if a:
                d = [abs(x - y) for x, y in zip(a["loss"], b["loss"])]
                print(f"{name}: |loss {tag}| max {max(d):.2g} (step {d.index(max(d)) + 1}), "
                      "per step: " + " ".join(f"{x:.1g}" for x in d))


if __name__ == "__main__":
    main()
