#!/usr/bin/env python3
"""The data-parallel scaling model of docs/data-parallel-scaling.md (issue 21).

Standard library only; runs in milliseconds and measures nothing: every input is a figure
already in bench/results/ or an assumption named below. `python3 tools/scaling_model.py`
prints the document's tables; `--alpha-us`, `--eff`, `--mnli-len` and `--bucket-mib` vary the
assumptions.

Model (weak scaling: the batch per rank is fixed, as HF's per_device_train_batch_size):
  ring all-reduce of s bytes over N ranks:  A(s, N) = 2 (N-1) (alpha + s / (N B))
  no overlap:  T_N = F + Bw + A(S, N) + O                  (one call on the flat buffer)
  overlap:     buckets in reverse parameter order, each all-reduced as soon as backward has
               written it, one at a time on the link; T_N = max(F + Bw, end of last bucket) + O
  efficiency:  E(N) = T_1 / T_N,  T_1 = F + Bw + O
F forward, Bw backward, O gradient clipping + AdamW (they need the reduced gradient).
"""
import argparse

# ---------------------------------------------------------------------------------------------
# Parameter tables, in HF's named_parameters() order, as src/model/parameters.cpp writes them.


def parameter_table(V, P, TT, L, C, Fd, labels, head_dense=True):
    t = [("word_embeddings", V * C, "emb"), ("position_embeddings", P * C, "emb")]
    if TT:
        t.append(("token_type_embeddings", TT * C, "emb"))
    t.append(("embeddings.LayerNorm", 2 * C, "emb"))
    for l in range(L):
        for name, n in [("q", C * C + C), ("k", C * C + C), ("v", C * C + C), ("o", C * C + C),
                        ("norm1", 2 * C), ("ffn1", C * Fd + Fd), ("ffn2", Fd * C + C),
                        ("norm2", 2 * C)]:
            t.append((f"layer.{l}.{name}", n, l))
    if head_dense:
        t.append(("head.dense (pre_classifier / pooler)", C * C + C, "head"))
    t.append(("head.out (classifier)", C * labels + labels, "head"))
    return t


DISTILBERT = parameter_table(V=30522, P=512, TT=0, L=6, C=768, Fd=3072, labels=2)
BERT_BASE_MNLI = parameter_table(V=30522, P=512, TT=2, L=12, C=768, Fd=3072, labels=3)
ROBERTA_BASE = parameter_table(V=50265, P=514, TT=1, L=12, C=768, Fd=3072, labels=2)


def numel(table):
    return sum(n for _, n, _ in table)


def flat_numel(table):  # ModelWeights pads each tensor to 16 floats (64 bytes)
    return sum((n + 15) // 16 * 16 for _, n, _ in table)


# ---------------------------------------------------------------------------------------------
# Measured step figures (2 cores). Sources: bench/results/bf16_2026-12-06.txt (AMD EPYC, Zen 5
# class, 2 cores, AVX-512 + AVX512_BF16, no AMX) and bf16_amx_2026-12-06.txt /
# roberta_step_2026-12-06.txt (Intel Xeon, Sapphire Rapids class, 2 cores, AMX).
# train_step_bench: CoLA train batches of 16 in file order, 233.65 real tokens a batch,
# sum of squared lengths 3825 a batch (computed from cola_bert_uncased_ids.jsonl, rows 48-367:
# the 20 timed batches after 3 warm-up ones). Medians of the 3 rounds of each column.
BENCH_TOKENS, BENCH_SUMSQ = 233.65, 3825.15
ZEN5 = {  # fwd, bwd, adamw, clip, attention (s / step), DistilBERT
    "fp32": dict(fwd=0.0980, bwd=0.2065, adamw=0.0466, clip=0.0088, attn=0.0068, gradadd=0.0),
    # bf16 backward includes adding the bf16 weight gradients into the float32 ones, ~0.02 s
    # (README, "bf16 autocast against float32"): a per-parameter cost, not a per-token one.
    "bf16": dict(fwd=0.0647, bwd=0.1409, adamw=0.0501, clip=0.0086, attn=0.0089, gradadd=0.02),
}
SPR_FP32 = dict(fwd=0.0665, bwd=0.1608, adamw=0.0451, clip=0.0156, attn=0.0062, gradadd=0.0)
# The seed recipe on Zen 5, shuffled CoLA (8,551 rows, mean 11.33 ids, E[len^2] 145.2), median
# optimizer step over the epoch's 535 steps, fp32 then bf16, same run (bf16_2026-12-06.txt).
SEED_STEP = {"fp32": 0.2829, "bf16": 0.2401}
COLA_LEN, COLA_LEN2 = 11.327, 145.17
# RoBERTa-base step on Sapphire Rapids (roberta_step_2026-12-06.txt): median of 3 rounds,
# 230.44 real tokens a batch (405.79 tokens/s x 0.5679 s).
ROBERTA_MEASURED, ROBERTA_TOKENS = 0.5679, 230.44


def rates(m, params):
    """Per token-layer, per (layer x len^2) and per parameter costs from one bench column."""
    fb = m["fwd"] + m["bwd"]
    tok = (fb - m["attn"] - m["gradadd"]) / (BENCH_TOKENS * 6)
    att = m["attn"] / (BENCH_SUMSQ * 6)
    par = (m["adamw"] + m["clip"]) / params
    gadd = m["gradadd"] / params
    fwd_share = m["fwd"] / fb
    return dict(tok=tok, att=att, par=par, gadd=gadd, fwd_share=fwd_share)


def predict(r, table, L, tokens, sumsq):
    """(F, Bw, O) on 2 cores for a batch of `tokens` ids and sum of squared lengths `sumsq`."""
    p = numel(table)
    fb = tokens * L * r["tok"] + sumsq * L * r["att"] + p * r["gadd"]
    return fb * r["fwd_share"], fb * (1 - r["fwd_share"]), p * r["par"]


# ---------------------------------------------------------------------------------------------
# Communication.


def allreduce(s, n, bw, alpha):
    return 0.0 if n == 1 else 2 * (n - 1) * (alpha + s / (n * bw))


def buckets(table, L, cap_bytes):
    """Buckets in reverse parameter order (DDP's rule: add a tensor, close at >= cap), each
    with the backward fraction at which its last gradient is written (0 = start of backward:
    the head; 1 = its end: the embeddings, whose gradients backward writes last)."""
    out, cur, ready = [], 0, 0.0
    for _, n, where in reversed(table):
        frac = 0.0 if where == "head" else 1.0 if where == "emb" else (L - where) / L
        cur += n
        ready = frac
        if cur * 4 >= cap_bytes:
            out.append((cur, ready))
            cur = 0
    if cur:
        out.append((cur, ready))
    return out


def step_time(case, n, bw, overlap, a):
    F, Bw, O = case["F"], case["Bw"], case["O"]
    wb = case["wire_bytes"]
    if n == 1:
        return F + Bw + O
    if not overlap:
        return F + Bw + allreduce(case["params"] * wb, n, bw, a.alpha) + O
    t = 0.0
    for cnt, frac in case["buckets"]:
        t = max(F + frac * Bw, t) + allreduce(cnt * wb, n, bw, a.alpha)
    return max(t, F + Bw) + O


def efficiency(case, n, bw, overlap, a):
    return step_time(case, 1, bw, overlap, a) / step_time(case, n, bw, overlap, a)


NMAX = 1024


def largest_n(case, bw, overlap, a, target=0.8):
    best = 1
    for n in range(2, NMAX + 1):
        if efficiency(case, n, bw, overlap, a) < target:
            break
        best = n
    return best


def accumulated(case, k):
    """k micro-batches per optimizer step (gradient accumulation, no all-reduce until the last):
    the first k-1 forward+backward passes run before the last backward, where overlap starts."""
    fb = case["F"] + case["Bw"]
    return dict(case, F=(k - 1) * fb + case["F"])


def scaled(case, cores):
    k = 2.0 / cores  # linear intra-node scaling from the 2-core figures (an assumption)
    return dict(case, F=case["F"] * k, Bw=case["Bw"] * k, O=case["O"] * k)


# ---------------------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--alpha-us", type=float, default=30.0, help="latency per ring step (us)")
    ap.add_argument("--eff", type=float, default=0.8, help="achieved fraction of line rate")
    ap.add_argument("--mnli-len", type=float, default=40.0, help="assumed mean MNLI pair ids")
    ap.add_argument("--mnli-sd", type=float, default=15.0, help="assumed sd of MNLI pair ids")
    ap.add_argument("--bucket-mib", type=float, default=25.0, help="bucket cap (MiB of fp32)")
    a = ap.parse_args()
    a.alpha = a.alpha_us * 1e-6
    cap = a.bucket_mib * 1024 * 1024
    gbps = [10, 25, 100]
    bws = {g: g * 1e9 / 8 * a.eff for g in gbps}
    cores = [2, 16, 64]

    print("## Parameters (src/model/parameters.cpp's table)\n")
    print("| model | parameters | flat buffer (padded) | fp32 gradient | bf16 gradient | buckets (25 MiB cap) |")
    print("|---|---|---|---|---|---|")
    for name, t, L in [("DistilBERT-base, 2 labels", DISTILBERT, 6),
                       ("bert-base-uncased, 3 labels (MNLI)", BERT_BASE_MNLI, 12),
                       ("roberta-base, 2 labels (check only)", ROBERTA_BASE, 12)]:
        b = buckets(t, L, cap)
        emb = sum(n for _, n, w in t if w == "emb")
        print(f"| {name} | {numel(t):,} | {flat_numel(t):,} | {numel(t) * 4 / 1e6:.1f} MB | "
              f"{numel(t) * 2 / 1e6:.1f} MB | {len(b)}; last (embeddings) {emb * 4 / 1e6:.1f} MB |")

    # Cases on 2 cores.
    cases = {}
    for prec in ("fp32", "bf16"):
        r = rates(ZEN5[prec], numel(DISTILBERT))
        # DistilBERT on CoLA: anchored on the measured seed-recipe step; O from the bench.
        O = ZEN5[prec]["adamw"] + ZEN5[prec]["clip"]
        fb = SEED_STEP[prec] - O
        model_fb = sum(predict(r, DISTILBERT, 6, 16 * COLA_LEN, 16 * COLA_LEN2)[:2])
        cases[("DistilBERT / CoLA", prec)] = dict(
            F=fb * r["fwd_share"], Bw=fb * (1 - r["fwd_share"]), O=O, params=numel(DISTILBERT),
            buckets=buckets(DISTILBERT, 6, cap), wire_bytes=4 if prec == "fp32" else 2,
            note=f"measured {SEED_STEP[prec]:.3f} s (model: {model_fb + O:.3f} s)")
        # bert-base on MNLI: by the per-token and per-parameter rates (not measured).
        sumsq = 16 * (a.mnli_len ** 2 + a.mnli_sd ** 2)
        F, Bw, O2 = predict(r, BERT_BASE_MNLI, 12, 16 * a.mnli_len, sumsq)
        cases[("bert-base / MNLI", prec)] = dict(
            F=F, Bw=Bw, O=O2, params=numel(BERT_BASE_MNLI), buckets=buckets(BERT_BASE_MNLI, 12, cap),
            wire_bytes=4 if prec == "fp32" else 2, note="estimated")
    order = [(m, p) for m in ("DistilBERT / CoLA", "bert-base / MNLI") for p in ("fp32", "bf16")]
    cases = {k: cases[k] for k in order}

    # Cross-check of the rate model: RoBERTa-base on Sapphire Rapids from SPR's DistilBERT.
    r = rates(SPR_FP32, numel(DISTILBERT))
    rb = predict(r, ROBERTA_BASE, 12, ROBERTA_TOKENS, BENCH_SUMSQ * (ROBERTA_TOKENS / BENCH_TOKENS) ** 2)
    print(f"\nRate-model check (Sapphire Rapids, fp32): RoBERTa-base step predicted {sum(rb):.3f} s "
          f"from DistilBERT's rates, measured {ROBERTA_MEASURED:.3f} s "
          f"({(sum(rb) / ROBERTA_MEASURED - 1) * 100:+.1f}%).")
    print(f"Assumptions: alpha {a.alpha_us:g} us per ring step, {a.eff:.0%} of line rate, "
          f"MNLI mean {a.mnli_len:g} ids (sd {a.mnli_sd:g}), buckets {a.bucket_mib:g} MiB.\n")

    print("## Step compute per rank, batch 16 (F + Bw + O; linear in cores from the 2-core figures)\n")
    print("| case | tokens / batch | " + " | ".join(f"{c} cores / rank" for c in cores) + " | F / Bw / O on 2 cores | note |")
    print("|---|---|" + "---|" * len(cores) + "---|---|")
    for (m, prec), c in cases.items():
        tok = 16 * (COLA_LEN if "CoLA" in m else a.mnli_len)
        t2 = c["F"] + c["Bw"] + c["O"]
        print(f"| {m}, {prec} | {tok:.0f} | " + " | ".join(f"{t2 * 2 / k:.3f} s" for k in cores)
              + f" | {c['F']:.3f} / {c['Bw']:.3f} / {c['O']:.3f} | {c['note']} |")

    print("\n## Ring all-reduce of the whole gradient, N = 2, 8, 64 (one call)\n")
    print("| payload | " + " | ".join(f"{g} Gb/s" for g in gbps) + " |")
    print("|---|" + "---|" * len(gbps))
    for label, s in [("DistilBERT fp32", numel(DISTILBERT) * 4), ("DistilBERT bf16", numel(DISTILBERT) * 2),
                     ("bert-base fp32", numel(BERT_BASE_MNLI) * 4), ("bert-base bf16", numel(BERT_BASE_MNLI) * 2)]:
        cells = [" / ".join(f"{allreduce(s, n, bws[g], a.alpha):.3f}" for n in (2, 8, 64)) for g in gbps]
        print(f"| {label} ({s / 1e6:.0f} MB) | " + " | ".join(c + " s" for c in cells) + " |")

    print("\n## Largest N with E(N) >= 80% (up to N = 1024), and E(64)\n")
    print("| case | link | " + " | ".join(f"{c} cores: no overlap | {c} cores: overlap" for c in cores) + " |")
    print("|---|---|" + "---|---|" * len(cores))
    for (m, prec), c in cases.items():
        for g in gbps:
            cells = []
            for k in cores:
                sc = scaled(c, k)
                for ov in (False, True):
                    n = largest_n(sc, bws[g], ov, a)
                    e64 = efficiency(sc, 64, bws[g], ov, a)
                    shown = f"≥{NMAX}" if n == NMAX else ("none" if n == 1 else str(n))
                    cells.append(f"{shown} ({e64:.0%})")
            print(f"| {m}, {prec} | {g} Gb/s | " + " | ".join(cells) + " |")

    print("\n## Example curves: E(N)\n")
    ns = [2, 4, 8, 16, 32, 64, 128, 256]
    print("| case | cores | link | overlap | " + " | ".join(f"N={n}" for n in ns) + " |")
    print("|---|---|---|---|" + "---|" * len(ns))
    for key, k, g in [(("DistilBERT / CoLA", "fp32"), 2, 25), (("DistilBERT / CoLA", "fp32"), 16, 25),
                      (("DistilBERT / CoLA", "bf16"), 16, 100), (("bert-base / MNLI", "fp32"), 16, 25),
                      (("bert-base / MNLI", "fp32"), 64, 100), (("bert-base / MNLI", "bf16"), 16, 10)]:
        sc = scaled(cases[key], k)
        for ov in (False, True):
            print(f"| {key[0]}, {key[1]} | {k} | {g} Gb/s | {'yes' if ov else 'no'} | "
                  + " | ".join(f"{efficiency(sc, n, bws[g], ov, a):.0%}" for n in ns) + " |")

    print("\n## Most cores per rank (batch 16) that still give E(64) >= 80%\n")
    print("| case | " + " | ".join(f"{g} Gb/s: no overlap / overlap" for g in gbps) + " |")
    print("|---|" + "---|" * len(gbps))
    for (m, prec), c in cases.items():
        cells = []
        for g in gbps:
            pair = []
            for ov in (False, True):
                best = 0
                for k in range(1, 257):
                    if efficiency(scaled(c, k), 64, bws[g], ov, a) >= 0.8:
                        best = k
                pair.append("<1" if best == 0 else (f"≥256" if best == 256 else str(best)))
            cells.append(" / ".join(pair))
        print(f"| {m}, {prec} | " + " | ".join(cells) + " |")

    print("\n## Fewest micro-batches of 16 per all-reduce (gradient accumulation) for E(64) >= 80%,"
          " 16 cores per rank\n")
    print("| case | " + " | ".join(f"{g} Gb/s: no overlap / overlap" for g in gbps) + " |")
    print("|---|" + "---|" * len(gbps))
    for (m, prec), c in cases.items():
        cells = []
        for g in gbps:
            pair = []
            for ov in (False, True):
                k = next((k for k in range(1, 257)
                          if efficiency(accumulated(scaled(c, 16), k), 64, bws[g], ov, a) >= 0.8), None)
                pair.append(">256" if k is None else str(k))
            cells.append(" / ".join(pair))
        print(f"| {m}, {prec} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
