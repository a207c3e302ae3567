#!/usr/bin/env python3
"""tests/goldens/trainer_roberta/: current HF's Trainer (the tools/make_hf_venv.sh venv, transformers
5.25.0) fine-tuning tiny randomly initialised RoBERTa and XLM-RoBERTa models on a single-sentence
task (SST-2) and a pair task (MRPC); the oracle of tests/train/roberta_trainer_parity_test.cpp.

    /work/.venv-hf/bin/python tools/make_roberta_trainer_goldens.py --shared ../shared \\
        --out tests/goldens/trainer_roberta                                   # ~30 s

Writes, per family, an init folder as HF saves it (config.json + model.safetensors, by
save_pretrained) with its tokenizer files, and per case a <case>.json in the schema of
tests/goldens/trainer_current (see the README there and in --out). Reruns write identical bytes.

- RoBERTa's tokenizer is a small but genuine byte-level BPE cut from GPT-2's files: the 256 byte
  symbols, then the results of GPT-2's first NUM_MERGES merges in merge order, laid out by
  tools/make_roberta_vocab.py (<s> <pad> </s> <unk> first, <mask> last; vocab.json, merges.txt,
  tokenizer.json, tokenizer_config.json, special_tokens_map.json).
- XLM-R's is the SentencePiece model of tests/goldens/xlm_roberta_tokenizer/model/ (fairseq
  layout: vocabulary = the model's pieces + <pad> + <mask>), copied with its tokenizer_config.json
  and special_tokens_map.json; no tokenizer.json (HF converts the .model).
- Every dropout 0 (from_pretrained overrides, recorded in the JSON), train order sequential
  (train_sampling_strategy), logging every step, evaluation and saving on a schedule, the best
  model loaded at the end. Recorded per optimizer step: the micro-batch losses (compute_loss's
  value before the division by the window's size) and shapes, grad_norm and the lr from the step's
  log entry; then the log history (time values null), the best checkpoint, the folders left, the
  dev rows' logits from the model loaded at the end, and every parameter's sum / sum of squares /
  max |x|.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
import transformers
from transformers import (AutoConfig, AutoModelForSequenceClassification, AutoTokenizer,
                          DataCollatorWithPadding, RobertaConfig, RobertaForSequenceClassification,
                          Trainer, TrainingArguments, XLMRobertaConfig,
                          XLMRobertaForSequenceClassification)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import glue_rows  # noqa: E402
from make_trainer_goldens import ListDataset, dumps, null_timings, sha256_file  # noqa: E402

MAX_SEQ_LENGTH = 128
NUM_MERGES = 2000
# Position ids run pad + 1 .. pad + 128 for 128 tokens: 130 rows.
MODEL = dict(hidden_size=32, num_hidden_layers=2, intermediate_size=37, max_position_embeddings=130,
             type_vocab_size=1, layer_norm_eps=1e-5, pad_token_id=1, bos_token_id=0, eos_token_id=2,
             num_labels=2)
FAMILIES = {
    "roberta": dict(seed=5101, heads=2, config=RobertaConfig, model=RobertaForSequenceClassification),
    "xlm_roberta": dict(seed=5102, heads=4, config=XLMRobertaConfig,
                        model=XLMRobertaForSequenceClassification),
}
DROPOUT0 = dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, classifier_dropout=0.0)
TEXT_COLUMNS = {"sst2": 1, "mrpc": 2}

COMMON = dict(learning_rate=4e-3, weight_decay=0.01, adam_epsilon=1e-8, logging_steps=1, seed=42,
              load_best_model_at_end=True, train_sampling_strategy="sequential")
CASES = {
    # 64 rows in batches of 8: 8 steps an epoch, 24 in 3; evaluated and saved every epoch.
    "roberta_sst2": dict(
        family="roberta", task="sst2", train_rows=64, eval_rows=32,
        args=dict(COMMON, per_device_train_batch_size=8, per_device_eval_batch_size=16, num_train_epochs=5,
                  lr_scheduler_type="linear", warmup_steps=3, max_grad_norm=1.0, eval_strategy="epoch",
                  save_strategy="epoch", metric_for_best_model="accuracy")),
    # 48 pairs in batches of 4 with accumulation 2: 6 steps an epoch, 24 in 4; evaluated and saved
    # every 4 steps, 2 checkpoints kept; the best by F1.
    "roberta_mrpc": dict(
        family="roberta", task="mrpc", train_rows=48, eval_rows=32,
        args=dict(COMMON, per_device_train_batch_size=4, per_device_eval_batch_size=8,
                  gradient_accumulation_steps=2, num_train_epochs=4, lr_scheduler_type="linear",
                  warmup_steps=0.1, max_grad_norm=1.0, eval_strategy="steps", eval_steps=4,
                  save_strategy="steps", save_steps=4, save_total_limit=2, metric_for_best_model="f1")),
    # Cosine with warmup ratio, clipping at 0.5; 64 rows in batches of 8 over 3 epochs.
    "xlmr_sst2": dict(
        family="xlm_roberta", task="sst2", train_rows=64, eval_rows=32,
        args=dict(COMMON, per_device_train_batch_size=8, per_device_eval_batch_size=16, num_train_epochs=5,
                  lr_scheduler_type="cosine", warmup_steps=0.1, max_grad_norm=0.5, eval_strategy="epoch",
                  save_strategy="epoch", save_total_limit=2, metric_for_best_model="accuracy")),
    # 40 pairs in batches of 4 (10 steps an epoch), 3 epochs, evaluated and saved every 5 steps.
    "xlmr_mrpc": dict(
        family="xlm_roberta", task="mrpc", train_rows=40, eval_rows=32,
        args=dict(COMMON, per_device_train_batch_size=4, per_device_eval_batch_size=8, num_train_epochs=3,
                  lr_scheduler_type="linear", warmup_steps=2, max_grad_norm=1.0, eval_strategy="steps",
                  eval_steps=5, save_strategy="steps", save_steps=5, metric_for_best_model="accuracy")),
}


# ----------------------------------------------------------------------------------------------
# Tokenizer folders and inits

def write_roberta_tokenizer(gpt2_dir, out):
    """GPT-2's byte symbols and its first NUM_MERGES merges, laid out by make_roberta_vocab.py."""
    with open(os.path.join(gpt2_dir, "encoder.json"), encoding="utf-8") as f:
        encoder = json.load(f)
    tokens = sorted(encoder, key=encoder.__getitem__)[:256]  # GPT-2's 256 byte symbols
    assert all(len(t) == 1 for t in tokens), "encoder.json's first 256 ids are not the bytes"
    with open(os.path.join(gpt2_dir, "vocab.bpe"), encoding="utf-8") as f:
        merges = [ln for ln in f.read().split("\n") if ln and not ln.startswith("#version")][:NUM_MERGES]
    known = set(tokens)
    for m in merges:
        a, b = m.split(" ")
        assert a in known and b in known, m
        if a + b not in known:
            known.add(a + b)
            tokens.append(a + b)
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "encoder.json"), "w", encoding="utf-8") as f:
            json.dump({t: i for i, t in enumerate(tokens)}, f, ensure_ascii=False)
        with open(os.path.join(tmp, "vocab.bpe"), "w", encoding="utf-8") as f:
            f.write("#version: 0.2\n" + "\n".join(merges) + "\n")
        subprocess.run([sys.executable, os.path.join(HERE, "make_roberta_vocab.py"), "--gpt2", tmp,
                        "--out", out], check=True)


def write_xlmr_tokenizer(spm_dir, out):
    for name in ("sentencepiece.bpe.model", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copyfile(os.path.join(spm_dir, name), os.path.join(out, name))


def write_init(family, shared, repo, out):
    f = FAMILIES[family]
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    if family == "roberta":
        write_roberta_tokenizer(os.path.join(shared, "data", "tokenizers", "gpt2-bpe"), out)
    else:
        write_xlmr_tokenizer(os.path.join(repo, "tests", "goldens", "xlm_roberta_tokenizer", "model"), out)
    tok = AutoTokenizer.from_pretrained(out)
    assert (tok.bos_token_id, tok.pad_token_id, tok.eos_token_id) == (0, 1, 2)
    config = f["config"](vocab_size=len(tok), num_attention_heads=f["heads"], **MODEL,
                         architectures=[f["model"].__name__])
    torch.manual_seed(f["seed"])
    model = f["model"](config)  # HF's _init_weights
    model.save_pretrained(out)
    return {"seed": f["seed"], "vocab_size": len(tok),
            "files": {n: sha256_file(os.path.join(out, n)) for n in sorted(os.listdir(out))}}


# ----------------------------------------------------------------------------------------------
# One case with the real Trainer

def load_rows(shared, task, n_train, n_eval):
    d = os.path.join(shared, "data", "glue", task)
    if task == "mrpc":  # HF's glue script reads the Microsoft files when they are there
        rows = glue_rows.read_mrpc(d)
        files = {"train": "msr_paraphrase_train.txt", "validation": "msr_paraphrase_train.txt"}
        extra = {"dev_ids": {"file": f"data/glue/{task}/dev_ids.tsv",
                             "sha256": sha256_file(os.path.join(d, "dev_ids.tsv"))}}
    else:
        rows = {s: glue_rows.read_split(task, os.path.join(d, n), s)
                for s, n in (("train", "train.tsv"), ("validation", "dev.tsv"))}
        files, extra = {"train": "train.tsv", "validation": "dev.tsv"}, {}
    out = {s: {"file": f"data/glue/{task}/{files[s]}", "sha256": sha256_file(os.path.join(d, files[s])),
               "rows": rows[s][:n]} for s, n in (("train", n_train), ("validation", n_eval))}
    return out, extra


def glue_metric(task, preds, labels):
    """run_glue's compute_metrics: datasets' GLUE metric (sklearn), plus the mean of several."""
    from sklearn.metrics import f1_score
    result = {"accuracy": float((preds == labels).mean())}
    if task == "mrpc":
        result["f1"] = float(f1_score(y_true=labels, y_pred=preds))
        result["combined_score"] = np.mean(list(result.values())).item()
    return result


def run(name, case, shared, init_dir, out_dir):
    transformers.logging.set_verbosity_error()
    task, n_texts = case["task"], TEXT_COLUMNS[case["task"]]
    tok = AutoTokenizer.from_pretrained(init_dir)
    data, extra_files = load_rows(shared, task, case["train_rows"], case["eval_rows"])

    def featurize(rows):
        feats, recs = [], []
        for r in rows:
            texts, label, idx = r[:n_texts], r[n_texts], r[n_texts + 1]
            enc = tok(*texts, padding=False, max_length=MAX_SEQ_LENGTH, truncation=True)
            assert "token_type_ids" not in enc
            feats.append({"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"], "label": label})
            recs.append({"idx": idx, "text": texts, "input_ids": enc["input_ids"], "label": label})
        return feats, recs

    train_feats, train_recs = featurize(data["train"]["rows"])
    eval_feats, eval_recs = featurize(data["validation"]["rows"])
    config = AutoConfig.from_pretrained(init_dir, **DROPOUT0)
    model, info = AutoModelForSequenceClassification.from_pretrained(init_dir, config=config,
                                                                     output_loading_info=True)
    assert not any(info.values()), f"{name}: loading info {info}"
    micro = []

    class RecordingTrainer(Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            out = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            if model.training:
                loss = out[0] if return_outputs else out
                micro.append({"loss": loss.item(), "shape": list(inputs["input_ids"].shape),
                              "global_step_before": self.state.global_step})
            return out

    def compute_metrics(p):
        preds = p.predictions[0] if isinstance(p.predictions, tuple) else p.predictions
        return glue_metric(task, np.argmax(preds, axis=1), p.label_ids)

    args = TrainingArguments(output_dir=out_dir, report_to="none", disable_tqdm=True, use_cpu=True,
                             log_level="error", dataloader_num_workers=0, **case["args"])
    trainer = RecordingTrainer(model=model, args=args, train_dataset=ListDataset(train_feats),
                               eval_dataset=ListDataset(eval_feats), processing_class=tok,
                               data_collator=DataCollatorWithPadding(tok), compute_metrics=compute_metrics)
    # Each micro-batch loss divided by its window's size (RoBERTa's forward takes **kwargs): the
    # semantics of tests/goldens/trainer_current.
    trainer.loss_is_scaled_for_ga = False
    trainer.train()
    history = [dict(e) for e in trainer.state.log_history]
    logits = trainer.predict(ListDataset(eval_feats)).predictions
    steps = []
    for e in history:
        if "loss" not in e:
            continue
        gs = e["step"]
        mb = [m for m in micro if m["global_step_before"] == gs - 1]
        steps.append({"global_step": gs, "epoch": e["epoch"], "loss_logged": e["loss"], "grad_norm": e["grad_norm"],
                      "lr_used": e["learning_rate"], "micro_batch_losses": [m["loss"] for m in mb],
                      "micro_batch_shapes": [m["shape"] for m in mb]})
    assert len(steps) == trainer.state.max_steps == trainer.state.global_step
    stats = {}
    for n, p in trainer.model.named_parameters():
        t = p.detach().double()
        stats[n] = {"shape": list(p.shape), "sum": t.sum().item(), "sum_sq": (t * t).sum().item(),
                    "max_abs": t.abs().max().item()}
    folders = sorted(d for d in os.listdir(out_dir) if d.startswith("checkpoint-"))
    best = trainer.state.best_model_checkpoint
    data_files = {k: {"file": v["file"], "sha256": v["sha256"]} for k, v in data.items()}
    data_files.update(extra_files)
    return {
        "case": name, "task": task, "family": case["family"], "max_seq_length": MAX_SEQ_LENGTH,
        "rows": {"train": case["train_rows"], "eval": case["eval_rows"]},
        "data_files": data_files,
        "training_args_explicit": case["args"],
        "loss_is_scaled_for_ga": False,
        "dropout_overrides": DROPOUT0,
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                     "tokenizers": __import__("tokenizers").__version__, "numpy": np.__version__,
                     "python": sys.version.split()[0]},
        "train_rows": train_recs, "eval_rows": eval_recs,
        "max_steps": trainer.state.max_steps, "steps": steps, "log_history": null_timings(history),
        "best_model_checkpoint": os.path.basename(best) if best else None,
        "best_metric": trainer.state.best_metric, "checkpoints_left": folders,
        "final_eval_logits": logits.tolist(), "final_param_stats": stats,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cases", nargs="*", default=list(CASES))
    a = ap.parse_args()
    torch.set_num_threads(1)
    repo = os.path.dirname(HERE)
    os.makedirs(a.out, exist_ok=True)
    inits = {}
    for family in sorted({CASES[c]["family"] for c in a.cases}):
        init_dir = os.path.join(a.out, f"init_{family}")
        inits[family] = write_init(family, a.shared, repo, init_dir)
        print(f"{init_dir}: vocab {inits[family]['vocab_size']}, "
              f"{sum(os.path.getsize(os.path.join(init_dir, n)) for n in os.listdir(init_dir))} bytes")
    for name in a.cases:
        case = CASES[name]
        with tempfile.TemporaryDirectory() as tmp:
            golden = run(name, case, a.shared, os.path.join(a.out, f"init_{case['family']}"), tmp)
        golden["model_dir"] = f"init_{case['family']}"
        golden["init"] = inits[case["family"]]
        path = os.path.join(a.out, name + ".json")
        with open(path + ".tmp", "w") as f:
            f.write(dumps(golden) + "\n")
        os.replace(path + ".tmp", path)
        evals = [(e["step"], {k: v for k, v in e.items() if k.startswith("eval_") and v is not None
                              and not k.endswith("loss")}) for e in golden["log_history"] if "eval_loss" in e]
        print(f"{path}: {len(golden['steps'])} steps, best {golden['best_model_checkpoint']}, evals {evals}")


if __name__ == "__main__":
    main()
