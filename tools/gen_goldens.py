"""Writes the PyTorch goldens the C++ op and model tests compare against.

    /usr/bin/python3 tools/gen_goldens.py --out tests/goldens
    /usr/bin/python3 tools/gen_goldens.py --check-reference ../shared/reference   # optional

Outputs (committed, KB-sized; see tests/goldens/README.md for names and layouts):
    ops.safetensors              every op of src/ops/ops.h on tiny random inputs:
                                 outputs, saved statistics and gradients (torch autograd)
    distilbert_cls.safetensors   tiny models with HF init: parameters, a packed + padded batch,
    bert_cls.safetensors         eval logits/loss, every parameter gradient, and a 5-step AdamW
    bert_reg.safetensors         trajectory (losses, grad norms, lrs, final parameters)

--check-reference runs tools/hf_modules.py's forward against the real HF transformers outputs in
shared/reference/tiny_distilbert (eval logits, four 5-step training trajectories, final weights)
and prints the max differences; it is the proof that the model goldens follow HF's math.
Everything is seeded and single-threaded, so reruns write identical bytes.
"""
import argparse
import json
import math
import os
import sys
from collections import OrderedDict

import torch
from torch.nn import functional as F
from torch.optim.lr_scheduler import LambdaLR

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_modules  # noqa: E402
import safetensors_plain  # noqa: E402

OPS_SEED = 20240601
MODEL_SEEDS = {"distilbert_cls": 1, "bert_cls": 2, "bert_reg": 3}
BATCH_SEED = 7

# Training settings of the model trajectories (and of the reference check).
TRAIN = {"lr": 1e-3, "weight_decay": 0.01, "betas": (0.9, 0.999), "eps": 1e-8,
         "warmup_steps": 2, "steps": 5, "max_grad_norm": 1.0}

# ----------------------------------------------------------------------------------------------
# HF's linear LR schedule (multiplier of the base lr after s scheduler steps) for the model
# goldens' trajectories, written from transformers.optimization's definition. schedules.json
# (every schedule) comes from current HF itself: tools/make_schedule_goldens.py.


def sched_linear(s, warmup, total):
    if s < warmup:
        return float(s) / float(max(1, warmup))
    return max(0.0, float(total - s) / float(max(1, total - warmup)))


# ----------------------------------------------------------------------------------------------
# Training pieces: HF Trainer parameter groups, AdamW (torch and HF flavours), one step.


def decay_parameter_names(model):
    """The Trainer's rule: weight decay for every parameter except biases and LayerNorm weights."""
    in_layernorm = set()
    for mname, m in model.named_modules():
        if isinstance(m, torch.nn.LayerNorm):
            in_layernorm.update(f"{mname}.{p}" if mname else p for p, _ in m.named_parameters())
    return [n for n, _ in model.named_parameters() if n not in in_layernorm and "bias" not in n]


def param_groups(model, weight_decay):
    decay = set(decay_parameter_names(model))
    named = list(model.named_parameters())
    return [{"params": [p for n, p in named if n in decay], "weight_decay": weight_decay},
            {"params": [p for n, p in named if n not in decay], "weight_decay": 0.0}]


class AdamWHF(torch.optim.Optimizer):
    """transformers.optimization.AdamW (the Trainer's "adamw_hf") as shared/reference/README.md
    writes it out: eps added to sqrt(v) before the bias correction is folded into the step size,
    and the decoupled weight decay applied after the Adam update."""

    def __init__(self, params, lr, betas, eps, weight_decay):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            lr, wd = group["lr"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st["step"] = 0
                    st["m"] = torch.zeros_like(p)
                    st["v"] = torch.zeros_like(p)
                st["step"] += 1
                t, m, v, g = st["step"], st["m"], st["v"], p.grad
                m.mul_(b1).add_(g, alpha=1.0 - b1)
                v.mul_(b2).addcmul_(g, g, value=1.0 - b2)
                step_size = lr * math.sqrt(1.0 - b2 ** t) / (1.0 - b1 ** t)
                p.addcdiv_(m, v.sqrt().add_(group["eps"]), value=-step_size)
                if wd > 0.0:
                    p.add_(p, alpha=-lr * wd)


def make_optimizer(kind, model, lr, weight_decay, betas, eps):
    groups = param_groups(model, weight_decay)
    if kind == "adamw_torch":
        return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    if kind == "adamw_hf":
        return AdamWHF(groups, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay)
    raise ValueError(kind)


def train(model, loss_of_step, steps, optim, lr, weight_decay, betas, eps, warmup_steps,
          max_grad_norm):
    """HF Trainer's inner loop without dropout: loss, backward, clip_grad_norm_ (norm returned
    before clipping), optimizer step, linear-schedule step, zero grads.
    Returns per-step lists of (loss, grad norm before clipping, lr used)."""
    model.train()
    opt = make_optimizer(optim, model, lr, weight_decay, betas, eps)
    sched = LambdaLR(opt, lambda s: sched_linear(s, warmup_steps, steps))
    losses, norms, lrs = [], [], []
    for k in range(steps):
        lrs.append(opt.param_groups[0]["lr"])
        loss = loss_of_step(k)
        loss.backward()
        norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)))
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(float(loss))
    return losses, norms, lrs


def set_dropout(model, p):
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = p


# ----------------------------------------------------------------------------------------------
# Oracle check against shared/reference (real HF transformers 4.8.2 outputs).


def load_final_params(path_f32, path_json):
    """Reads final_params_*.f32 + .json; returns name -> (tensor, rows or None)."""
    index = json.load(open(path_json))
    raw = open(path_f32, "rb").read()
    out = {}
    for t in index["tensors"]:
        shape = t.get("stored_shape", t["shape"])
        begin = t["offset_bytes"]
        data = torch.frombuffer(bytearray(raw[begin:begin + 4 * t["numel"]]),
                                dtype=torch.float32).reshape(shape)
        out[t["name"]] = (data, t.get("rows"))
    return out


def check_reference(ref_root):
    """Prints the max differences between hf_modules' DistilBERT and the real HF reference."""
    ref = os.path.join(ref_root, "tiny_distilbert")
    cfg = json.load(open(os.path.join(ref, "init", "config.json")))
    cfg.setdefault("num_labels", 2)
    state = torch.load(os.path.join(ref, "init", "pytorch_model.bin"), map_location="cpu")
    batches = [{k: torch.tensor(v) for k, v in b.items()}
               for b in json.load(open(os.path.join(ref, "batches.json")))["batches"]]

    def fresh(dropout):
        model = hf_modules.DistilBertForSequenceClassification(cfg)
        model.load_state_dict(state, strict=True)
        if dropout is not None:
            set_dropout(model, dropout)
        return model

    def run(model, b):
        return model(b["input_ids"], b["attention_mask"], labels=b["labels"])

    worst = {}

    def note(key, diff):
        worst[key] = max(worst.get(key, 0.0), float(diff))

    model = fresh(None).eval()
    ev = json.load(open(os.path.join(ref, "eval_init.json")))["per_batch"]
    with torch.no_grad():
        for b, r in zip(batches, ev):
            loss, logits = run(model, b)
            note("eval_init logits", (logits.double() - torch.tensor(r["logits"])).abs().max())
            note("eval_init loss", abs(float(loss) - r["loss"]))

    for optim in ("adamw_torch", "adamw_hf"):
        for gn in ("1", "0.5"):
            tag = f"{optim}_maxgn{gn}"
            tr = json.load(open(os.path.join(ref, f"train_{tag}.json")))
            assert tr["lr"] == 1e-3 and tr["weight_decay"] == 0.01
            model = fresh(0.0)
            trainer_decay = sorted(tr["param_groups"][0]["params"])
            assert sorted(decay_parameter_names(model)) == trainer_decay, \
                "the weight-decay group differs from the Trainer's"
            losses, norms, lrs = train(model, lambda k: run(model, batches[k % 4])[0], 5, optim,
                                       tr["lr"], tr["weight_decay"], tuple(tr["betas"]), tr["eps"],
                                       0, tr["max_grad_norm"])
            for k, s in enumerate(tr["steps"]):
                note(f"{tag} step loss", abs(losses[k] - s["loss_before_update"]))
                note(f"{tag} grad norm", abs(norms[k] - s["grad_norm_before_clip"]))
                note(f"{tag} lr", abs(lrs[k] - s["lr"]))
            model.eval()
            with torch.no_grad():
                for b, r in zip(batches, tr["final_eval_per_batch"]):
                    loss, logits = run(model, b)
                    want = torch.tensor(r["logits"])
                    note(f"{tag} final logits", (logits.double() - want).abs().max())
                    note(f"{tag} final loss", abs(float(loss) - r["loss"]))
            finals = load_final_params(os.path.join(ref, f"final_params_{tag}.f32"),
                                       os.path.join(ref, f"final_params_{tag}.json"))
            params = dict(model.named_parameters())
            assert set(finals) == set(params), "parameter names differ"
            for name, (want, rows) in finals.items():
                got = params[name].detach()
                if rows is not None:
                    got = got[torch.tensor(rows)]
                note(f"{tag} final params", (got - want).abs().max())
    width = max(len(k) for k in worst)
    for k, v in worst.items():
        print(f"  {k:<{width}}  max |diff| = {v:.3g}")
    return worst


# ----------------------------------------------------------------------------------------------
# ops.safetensors: each op on tiny inputs. Inputs are float32; the math runs in float64 autograd
# and the results are rounded to float32, so the goldens are the exact answers to float32 rounding.


def f32(t):
    """A float32 copy (never a view: parameters and grads change after they are stored)."""
    return t.detach().to(torch.float32).clone().contiguous()


def f64_scalar(x):
    return torch.tensor(float(x), dtype=torch.float64)


def grad_of(outputs, inputs, douts):
    """Gradients of sum(out * dout) w.r.t. inputs (float64 autograd)."""
    return torch.autograd.grad(outputs, inputs, douts)


def op_goldens():
    g = torch.Generator().manual_seed(OPS_SEED)

    def rnd(*shape, scale=1.0):  # float32 values, promoted to float64 leaves
        x = (torch.randn(*shape, generator=g) * scale).to(torch.float32)
        return x.double().requires_grad_()

    out = OrderedDict()

    # embedding: two packed sequences of lengths 3 and 4, ids repeated (accumulation)
    V, P, TT, C = 10, 6, 2, 4
    ids = torch.tensor([2, 5, 7, 2, 7, 7, 9], dtype=torch.int32)
    pos = torch.tensor([0, 1, 2, 0, 1, 2, 3], dtype=torch.int32)
    types = torch.tensor([0, 0, 1, 0, 1, 1, 1], dtype=torch.int32)
    wte, wpe, wtt = rnd(V, C), rnd(P, C), rnd(TT, C)
    y = wte[ids.long()] + wpe[pos.long()] + wtt[types.long()]
    dy = rnd(len(ids), C).detach()
    dwte, dwpe, dwtt = grad_of(y, (wte, wpe, wtt), dy)
    out.update({"embedding.ids": ids, "embedding.pos": pos, "embedding.types": types,
                "embedding.wte": f32(wte), "embedding.wpe": f32(wpe), "embedding.wtt": f32(wtt),
                "embedding.out": f32(y), "embedding.dout": f32(dy), "embedding.dwte": f32(dwte),
                "embedding.dwpe": f32(dwpe), "embedding.dwtt": f32(dwtt)})

    # layernorm: one row with a variance near eps, so that where eps goes matters
    T, C, eps = 5, 8, 1e-5
    x = rnd(T, C)
    with torch.no_grad():
        x[2] = x[2] * 0.003
    w, b = rnd(C, scale=0.5), rnd(C, scale=0.5)
    with torch.no_grad():
        w += 1.0
    y, mean, rstd = torch.native_layer_norm(x, [C], w, b, eps)  # PyTorch's own saved statistics
    dy = rnd(T, C).detach()
    dx, dw, db = grad_of(y, (x, w, b), dy)
    out.update({"layernorm.inp": f32(x), "layernorm.weight": f32(w), "layernorm.bias": f32(b),
                "layernorm.out": f32(y), "layernorm.mean": f32(mean.reshape(T)),
                "layernorm.rstd": f32(rstd.reshape(T)), "layernorm.dout": f32(dy),
                "layernorm.dinp": f32(dx), "layernorm.dweight": f32(dw),
                "layernorm.dbias": f32(db), "layernorm.eps": f64_scalar(eps)})

    # linear (torch.nn.Linear layout)
    N, I, O = 5, 6, 4
    x, w, b = rnd(N, I), rnd(O, I, scale=0.5), rnd(O, scale=0.5)
    y = F.linear(x, w, b)
    dy = rnd(N, O).detach()
    dx, dw, db = grad_of(y, (x, w, b), dy)
    out.update({"linear.inp": f32(x), "linear.weight": f32(w), "linear.bias": f32(b),
                "linear.out": f32(y), "linear.dout": f32(dy), "linear.dinp": f32(dx),
                "linear.dweight": f32(dw), "linear.dbias": f32(db)})

    # attention core on a packed batch of 3 sequences (lengths 3, 5, 2), NH 2, HS 4, no dropout
    offsets = [0, 3, 8, 10]
    NH, HS = 2, 4
    T, C = offsets[-1], NH * HS
    q, k, v = rnd(T, C), rnd(T, C), rnd(T, C)
    ctx_rows, probs = [], []
    for s in range(len(offsets) - 1):
        a, e = offsets[s], offsets[s + 1]
        # (len, C) -> (NH, len, HS)
        qh, kh, vh = (t[a:e].view(e - a, NH, HS).transpose(0, 1) for t in (q, k, v))
        p = torch.softmax(qh @ kh.transpose(1, 2) / math.sqrt(HS), dim=-1)  # (NH, len, len)
        probs.append(p.reshape(-1))
        ctx_rows.append((p @ vh).transpose(0, 1).reshape(e - a, C))
    ctx = torch.cat(ctx_rows)
    dctx = rnd(T, C).detach()
    dq, dk, dv = grad_of(ctx, (q, k, v), dctx)
    out.update({"attention.offsets": torch.tensor(offsets, dtype=torch.int32),
                "attention.nh": torch.tensor(NH, dtype=torch.int32),
                "attention.hs": torch.tensor(HS, dtype=torch.int32),
                "attention.q": f32(q), "attention.k": f32(k), "attention.v": f32(v),
                "attention.ctx": f32(ctx), "attention.probs": f32(torch.cat(probs)),
                "attention.dctx": f32(dctx), "attention.dq": f32(dq), "attention.dk": f32(dk),
                "attention.dv": f32(dv)})

    # pointwise
    for name, fn in (("gelu", F.gelu), ("relu", F.relu), ("tanh", torch.tanh)):
        x = rnd(24, scale=2.0)
        y = fn(x)
        dy = rnd(24).detach()
        (dx,) = grad_of(y, (x,), dy)
        out.update({f"{name}.inp": f32(x), f"{name}.out": f32(y), f"{name}.dout": f32(dy),
                    f"{name}.dinp": f32(dx)})
    a, b = rnd(12), rnd(12)
    out.update({"add.a": f32(a), "add.b": f32(b), "add.out": f32(a + b)})

    # gather_first_token on the attention batch's offsets
    B, C = len(offsets) - 1, 4
    hidden = rnd(T, C)
    first = hidden[torch.tensor(offsets[:-1])]
    dfirst = rnd(B, C).detach()
    (dhidden,) = grad_of(first, (hidden,), dfirst)
    out.update({"gather_first_token.offsets": torch.tensor(offsets, dtype=torch.int32),
                "gather_first_token.hidden": f32(hidden), "gather_first_token.out": f32(first),
                "gather_first_token.dout": f32(dfirst),
                "gather_first_token.dhidden": f32(dhidden)})

    # losses; a logit of 90 checks the numerically stable forms (exp(90) overflows float32)
    logits = rnd(5, 3, scale=2.0)
    with torch.no_grad():
        logits[3, 1] = 90.0
    labels = torch.tensor([1, 0, -100, 2, 1], dtype=torch.int64)
    loss = F.cross_entropy(logits, labels, ignore_index=-100)
    (dl,) = torch.autograd.grad(loss, logits)
    out.update({"cross_entropy.logits": f32(logits), "cross_entropy.labels": labels,
                "cross_entropy.loss": f64_scalar(loss), "cross_entropy.dlogits": f32(dl)})

    pred, target = rnd(6), rnd(6).detach()
    loss = F.mse_loss(pred, target)
    (dp,) = torch.autograd.grad(loss, pred)
    out.update({"mse.pred": f32(pred), "mse.target": f32(target), "mse.loss": f64_scalar(loss),
                "mse.dpred": f32(dp)})

    logits = rnd(4, 3, scale=2.0)
    with torch.no_grad():
        logits[0, 2], logits[2, 0] = 90.0, -90.0
    target = torch.tensor([[1, 0, 1], [0, 0, 1], [1, 1, 0], [0, 1, 0]], dtype=torch.float64)
    loss = F.binary_cross_entropy_with_logits(logits, target)
    (dl,) = torch.autograd.grad(loss, logits)
    out.update({"bce.logits": f32(logits), "bce.target": f32(target), "bce.loss": f64_scalar(loss),
                "bce.dlogits": f32(dl)})
    return out


# ----------------------------------------------------------------------------------------------
# Model goldens.

CLS, SEP = 2, 3
LENGTHS = [5, 9, 3, 7]
PAIR_SPLIT = {1: 4, 3: 3}  # sequence -> length of its first segment ([CLS] a.. [SEP]) for BERT

# initializer_range 0.2 (HF's default is 0.02) so that the tiny models' logits differ between
# sequences and attention is far from uniform: a wrong encoder then shows in the outputs.
DISTIL_CONFIG = {
    "activation": "gelu", "architectures": ["DistilBertForSequenceClassification"],
    "attention_dropout": 0.1, "dim": 16, "dropout": 0.1, "hidden_dim": 20,
    "initializer_range": 0.2, "max_position_embeddings": 32, "model_type": "distilbert",
    "n_heads": 2, "n_layers": 2, "pad_token_id": 0, "qa_dropout": 0.1,
    "seq_classif_dropout": 0.2, "sinusoidal_pos_embds": False, "tie_weights_": True,
    "transformers_version": "4.8.2", "vocab_size": 64,
}
BERT_CONFIG = {
    "architectures": ["BertForSequenceClassification"], "attention_probs_dropout_prob": 0.1,
    "gradient_checkpointing": False, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
    "hidden_size": 16, "initializer_range": 0.2, "intermediate_size": 20,
    "layer_norm_eps": 1e-12, "max_position_embeddings": 32, "model_type": "bert",
    "num_attention_heads": 2, "num_hidden_layers": 2, "pad_token_id": 0,
    "position_embedding_type": "absolute", "transformers_version": "4.8.2",
    "type_vocab_size": 2, "use_cache": True, "vocab_size": 64,
}


def with_labels(config, num_labels):
    c = dict(config)
    c["id2label"] = {str(i): f"LABEL_{i}" for i in range(num_labels)}
    c["label2id"] = {f"LABEL_{i}": i for i in range(num_labels)}
    return c


def make_batch(vocab, num_labels, regression):
    """Four sequences of lengths LENGTHS, packed and right-padded (HF collator layout)."""
    g = torch.Generator().manual_seed(BATCH_SEED)
    seqs, types = [], []
    for b, n in enumerate(LENGTHS):
        ids = torch.randint(SEP + 1, vocab, (n,), generator=g)
        ids[0], ids[-1] = CLS, SEP
        tt = torch.zeros(n, dtype=torch.int64)
        if b in PAIR_SPLIT:
            ids[PAIR_SPLIT[b] - 1] = SEP
            tt[PAIR_SPLIT[b]:] = 1
        seqs.append(ids)
        types.append(tt)
    if regression:
        labels = (torch.randn(len(LENGTHS), generator=g) * 2.0).to(torch.float32)
    else:
        labels = torch.randint(0, num_labels, (len(LENGTHS),), generator=g)
    B, L = len(seqs), max(LENGTHS)
    padded = torch.zeros(B, L, dtype=torch.int64)
    mask = torch.zeros(B, L, dtype=torch.int64)
    types_padded = torch.zeros(B, L, dtype=torch.int64)
    for b, (s, t) in enumerate(zip(seqs, types)):
        padded[b, :len(s)], mask[b, :len(s)], types_padded[b, :len(s)] = s, 1, t
    offsets = torch.tensor([0] + list(torch.cumsum(torch.tensor(LENGTHS), 0)), dtype=torch.int32)
    return {"input_ids_packed": torch.cat(seqs).to(torch.int32), "offsets": offsets,
            "token_type_ids_packed": torch.cat(types).to(torch.int32), "labels": labels,
            "input_ids_padded": padded, "attention_mask": mask,
            "token_type_ids_padded": types_padded}


def check_packed_equals_padded(model, is_bert, batch, logits):
    """Each sequence run alone, unpadded, must give the padded batch's logits (what the packed C++
    model relies on): HF's -inf / -10000 masks leave pads out up to float rounding."""
    ids, offs = batch["input_ids_packed"].long(), batch["offsets"].tolist()
    types = batch["token_type_ids_packed"].long()
    for b in range(len(offs) - 1):
        one = ids[offs[b]:offs[b + 1]][None]
        if is_bert:
            _, alone = model(one, torch.ones_like(one), types[offs[b]:offs[b + 1]][None])
        else:
            _, alone = model(one, torch.ones_like(one))
        diff = (alone[0] - logits[b]).abs().max().item()
        assert diff < 1e-5, f"sequence {b}: unpadded differs from padded by {diff}"


def model_golden(kind, num_labels, seed):
    """Builds one tiny model with HF init and returns (tensors, metadata)."""
    is_bert = kind.startswith("bert")
    config = with_labels(BERT_CONFIG if is_bert else DISTIL_CONFIG, num_labels)
    module_cfg = {**config, "num_labels": num_labels}
    torch.manual_seed(seed)
    if is_bert:
        model = hf_modules.BertForSequenceClassification(module_cfg)
    else:
        model = hf_modules.DistilBertForSequenceClassification(module_cfg)
    hf_modules.hf_init_(model, config["initializer_range"])
    batch = make_batch(config["vocab_size"], num_labels, regression=num_labels == 1)

    def forward():
        if is_bert:
            return model(batch["input_ids_padded"], batch["attention_mask"],
                         batch["token_type_ids_padded"], labels=batch["labels"])
        return model(batch["input_ids_padded"], batch["attention_mask"], labels=batch["labels"])

    out = OrderedDict()
    for n, p in model.named_parameters():
        out["param." + n] = f32(p)
    for k in ("input_ids_packed", "offsets", "token_type_ids_packed", "labels",
              "input_ids_padded", "attention_mask"):
        if k == "token_type_ids_packed" and not is_bert:
            continue
        out["batch." + k] = batch[k]
    if is_bert:
        out["batch.token_type_ids_padded"] = batch["token_type_ids_padded"]

    model.eval()
    with torch.no_grad():
        loss, logits = forward()
        check_packed_equals_padded(model, is_bert, batch, logits)
    out["eval.logits"] = f32(logits)
    out["eval.loss"] = f64_scalar(loss)

    set_dropout(model, 0.0)
    model.train()
    loss, _ = forward()
    loss.backward()
    out["grad.loss"] = f64_scalar(loss)
    for n, p in model.named_parameters():
        out["grad." + n] = f32(p.grad)
    model.zero_grad()

    t = TRAIN
    losses, norms, lrs = train(model, lambda k: forward()[0], t["steps"], "adamw_torch", t["lr"],
                               t["weight_decay"], t["betas"], t["eps"], t["warmup_steps"],
                               t["max_grad_norm"])
    out["traj.loss"] = torch.tensor(losses, dtype=torch.float64)
    out["traj.grad_norm"] = torch.tensor(norms, dtype=torch.float64)
    out["traj.lr"] = torch.tensor(lrs, dtype=torch.float64)
    for n, p in model.named_parameters():
        out["final." + n] = f32(p)

    meta = {
        "config": json.dumps(config, sort_keys=True),
        "torch_version": torch.__version__, "seed": str(seed), "batch_seed": str(BATCH_SEED),
        "eval": "model.eval(), padded batch, HF loss for the label dtype",
        "grad": "train mode, every dropout 0, gradients of eval.loss (grad.loss repeats it)",
        "traj": ("torch.optim.AdamW lr 1e-3 betas (0.9,0.999) eps 1e-8, weight decay 0.01 except "
                 "biases and LayerNorm weights; linear schedule warmup 2 of 5 steps (LambdaLR); "
                 "clip_grad_norm_ 1.0; same batch each step; dropout 0; traj.grad_norm is before "
                 "clipping; traj.lr is the lr used by that step"),
        "decay_params": json.dumps(decay_parameter_names(model)),
        # A key bias shifts every score of a query row alike, so softmax ignores it: its exact
        # gradient is 0 and what autograd gives is rounding noise (~1e-9), which Adam (eps 1e-8)
        # turns into noise-driven moves of up to sum(lr) = 2.5e-3. Compare these loosely.
        "rounding_noise_params": json.dumps([n for n, _ in model.named_parameters()
                                             if n.endswith(("k_lin.bias", "key.bias"))]),
    }
    return out, meta


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", help="folder for the goldens (tests/goldens)")
    ap.add_argument("--check-reference", metavar="DIR",
                    help="shared/reference: compare hf_modules against real HF outputs")
    args = ap.parse_args()
    if not args.out and not args.check_reference:
        ap.error("give --out and/or --check-reference")
    torch.set_num_threads(1)
    if args.check_reference:
        print("hf_modules vs real HF transformers 4.8.2 (shared/reference/tiny_distilbert):")
        check_reference(args.check_reference)
    if not args.out:
        return
    os.makedirs(args.out, exist_ok=True)
    meta = {"torch_version": torch.__version__, "seed": str(OPS_SEED),
            "about": ("inputs float32; math in float64 torch autograd, results rounded to float32; "
                      "parameter grads as from zero; loss scalars float64")}
    safetensors_plain.save(op_goldens(), os.path.join(args.out, "ops.safetensors"), meta)
    for name, (kind, num_labels) in (("distilbert_cls", ("distilbert", 3)),
                                     ("bert_cls", ("bert", 3)), ("bert_reg", ("bert", 1))):
        tensors, meta = model_golden(kind, num_labels, MODEL_SEEDS[name])
        safetensors_plain.save(tensors, os.path.join(args.out, f"{name}.safetensors"), meta)
    for fn in sorted(os.listdir(args.out)):
        print(f"  {fn}: {os.path.getsize(os.path.join(args.out, fn))} bytes")


if __name__ == "__main__":
    main()
