"""Writes tests/goldens/bf16/linear.json: F.linear under
torch.autocast("cpu", dtype=torch.bfloat16), forward and backward, on fixed small inputs, for
tests/ops/linear_bf16_test.cpp.

    /usr/bin/python3 tools/gen_bf16_linear_golden.py --out tests/goldens/bf16/linear.json

Debian's torch 1.13 (CPU). Every GEMM here has more than 16^3 multiply-adds, so torch runs it on
oneDNN with float32 accumulation, not on the small-GEMM loop that 1.13 accumulates in bf16
(docs/bf16-autocast.md). The forward runs under autocast and backward outside it, as HF's Trainer
does. Values are float32 (or bf16 values held in float32), written exactly (repr of the float).

Cases:
- "linear": one Linear with bias. Its input is a non-leaf float32 tensor (as a LayerNorm output
  is); the upstream gradient g is float32 and reaches the bf16 output through its float32 cast,
  which rounds it. W.grad and b.grad start from nonzero float32 values: backward adds into them.
- "linear_nobias": no bias, inputs over a wide range of magnitudes.
- "qkv": three Linears (q, k, v, created in that order) on one non-leaf input x, which also feeds
  a float32 "residual" term (x * gr).sum() created after them, like the residual add of a block.
  The gradients of q, k, v are scaled 1, 2^9 and 2^19 so that their float32 sum is inexact and its
  order shows. The script checks and records the order autograd sums x's gradient in:
  ((r + dx_v) + dx_k) + dx_q, r = gr, each dx_* the bf16-rounded product.
"""
import argparse
import json

import torch
import torch.nn.functional as F


def grid(gen, shape, scale):
    """Random multiples of scale * 2^-12 in (-2 scale, 2 scale): float32 values with up to 14
    significant bits (not bf16 values, which keep 8), short to write in decimal."""
    return torch.randint(-8191, 8192, shape, generator=gen).float() * (scale / 4096.0)


def flat(t):
    return [float(v) for v in t.detach().to(torch.float32).reshape(-1).tolist()]


def autocast():
    return torch.autocast("cpu", dtype=torch.bfloat16)


def bf16_partial(g, w):
    """r(r(g) @ r(w)) as torch computes it: the bf16 mm that addmm's backward runs."""
    return g.to(torch.bfloat16).mm(w.detach().to(torch.bfloat16)).float()


def case_linear(gen, N, I, O, bias, wide):
    x0 = grid(gen, (N, I), 1.0)
    if wide:  # magnitudes over ~2^-12 .. 2^12
        x0 = x0 * torch.exp2(torch.randint(-12, 13, (N, I), generator=gen).float())
    w = grid(gen, (O, I), 0.25).requires_grad_(True)
    b = grid(gen, (O,), 1.0).requires_grad_(True) if bias else None
    g = grid(gen, (N, O), 1.0)
    w.grad = grid(gen, (O, I), 1 / 128)
    if bias:
        b.grad = grid(gen, (O,), 1 / 128)
    dw0 = w.grad.clone()
    db0 = b.grad.clone() if bias else None
    xl = x0.clone().requires_grad_(True)
    x = xl * 1.0  # non-leaf: autocast's cast of it is not cached
    with autocast():
        y = F.linear(x, w, b)
    assert y.dtype == torch.bfloat16
    (y.float() * g).sum().backward()
    assert w.grad.dtype == torch.float32
    out = {"N": N, "I": I, "O": O, "x": flat(x0), "w": flat(w), "g": flat(g), "y": flat(y),
           "dw0": flat(dw0), "dx": flat(xl.grad), "dw": flat(w.grad)}
    if bias:
        out.update(b=flat(b), db0=flat(db0), db=flat(b.grad))
    return out


def case_qkv(gen, N, I, O):
    x0 = grid(gen, (N, I), 1.0)
    ws = [grid(gen, (O, I), 0.25).requires_grad_(True) for _ in range(3)]
    bs = [grid(gen, (O,), 1.0).requires_grad_(True) for _ in range(3)]
    scales = [1.0, 2.0**9, 2.0**19]
    gs = [grid(gen, (N, O), s) for s in scales]
    gr = torch.randn(N, I, generator=gen) * 2.0**12  # any float32
    xl = x0.clone().requires_grad_(True)
    x = xl * 1.0
    with autocast():
        ys = [F.linear(x, w, b) for w, b in zip(ws, bs)]  # q, k, v
    residual = (x * gr).sum()  # created after q, k, v, as a block's residual add is
    loss = sum((y.float() * g).sum() for y, g in zip(ys, gs)) + residual
    loss.backward()
    q, k, v = (bf16_partial(g, w) for g, w in zip(gs, ws))
    torch_order = ((gr + v) + k) + q
    engine_order = ((gr + q) + k) + v
    mismatch_torch = int((xl.grad != torch_order).sum())
    mismatch_other = int((xl.grad != engine_order).sum())
    assert mismatch_torch == 0, f"autograd's sum order is not ((r + v) + k) + q: {mismatch_torch}"
    assert mismatch_other > 0, "the case does not tell the orders apart"
    return {"N": N, "I": I, "O": O, "x": flat(x0), "gr": flat(gr),
            "w": [flat(w) for w in ws], "b": [flat(b) for b in bs], "g": [flat(g) for g in gs],
            "y": [flat(y) for y in ys], "dw": [flat(w.grad) for w in ws],
            "db": [flat(b.grad) for b in bs], "dx": flat(xl.grad),
            "order": {"torch": "((r + v) + k) + q", "mismatches_torch_order": mismatch_torch,
                      "mismatches_r_q_k_v": mismatch_other}}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(18)
    golden = {
        "made_by": "tools/gen_bf16_linear_golden.py",
        "torch": torch.__version__,
        "linear": case_linear(gen, 12, 24, 20, bias=True, wide=False),
        "linear_nobias": case_linear(gen, 8, 24, 24, bias=False, wide=True),
        "qkv": case_qkv(gen, 17, 16, 16),
    }
    with open(args.out, "w") as f:
        json.dump(golden, f, separators=(",", ":"))
        f.write("\n")


if __name__ == "__main__":
    main()
