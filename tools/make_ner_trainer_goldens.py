#!/usr/bin/env python3
"""tests/goldens/trainer_ner/: current HF's Trainer (the tools/make_hf_venv.sh venv, transformers
5.25.0) fine-tuning tiny randomly initialised BERT and DistilBERT token classifiers on the first
sentences of UD English-EWT, with run_ner.py's preprocessing and metrics; the oracle of the token
classification parity test (issue 20).

    /work/.venv-hf/bin/python tools/make_ner_trainer_goldens.py --shared ../shared \\
        --out tests/goldens/trainer_ner                                      # ~20 s

Writes an init folder per model (config.json + model.safetensors by save_pretrained, beside the
tokenizer's files) and per case a <case>.json in the schema of tests/goldens/trainer_roberta (see
the README in --out). Reruns write identical bytes.

- Data: shared/data/ud/en_ewt/en_ewt-ud-{train,dev}.conllu, the first N sentences of each file in
  file order. FORM -> tokens, UPOS -> upos (universal_dependencies' ClassLabel, its 18 names in its
  order), XPOS -> xpos (strings). By default (--conllu-lines words) multiword-token lines (ID
  "3-4") and empty nodes (ID "8.1") are skipped, the plan of docs/token-classification.md; HF's
  own loader keeps them (conllu.parse_incr yields every line: "don't" then "do", "n't", with upos
  "_" and xpos None), which --conllu-lines all reproduces (the xpos case cannot run then: run_ner's
  get_label_list sorts a set holding None).
- Vocabulary: bert-base-uncased's vocab.txt cut down, its order kept: the five special tokens, the
  pieces bert-base-uncased's WordPiece gives the words of the first TRAIN_VOCAB_SENTENCES train
  sentences, and every single character that occurs in the chosen sentences (after lower-casing)
  or is printable ASCII, with its ## form, when bert-base-uncased has it. Train words therefore
  split exactly as with bert-base-uncased; dev-only words often split into more pieces.
- run_ner.py's tokenize_and_align_labels (truncation=True, max_length, is_split_into_words=True;
  labels by word_ids(): special tokens -100, a word's first sub-token its label, the others -100
  or, with label_all_tokens, b_to_i_label of it), DataCollatorForTokenClassification, and its
  compute_metrics (argmax, -100 positions dropped, ids -> names, evaluate's seqeval metric; the
  metric script is not available offline, so seqeval 1.2.2 is called as evaluate's
  metrics/seqeval/seqeval.py calls it, via tools/gen_seqeval_goldens.py's seqeval_scores).
- Every dropout 0 (from_pretrained overrides, recorded), train order sequential, logging every
  step, evaluation and saving every few steps, the best model (by accuracy) loaded at the end.
  Recorded per optimizer step: the micro-batch losses (compute_loss's value) with their shapes and
  label-token counts, grad_norm and the lr from the step's log entry; then the log history (time
  values null), the best checkpoint, the folders left, the dev rows' logits from the model loaded
  at the end, and every parameter's sum / sum of squares / max |x|.
"""

import argparse
import os
import shutil
import sys
import tempfile
from importlib import metadata

import numpy as np
import torch
import transformers
from transformers import (AutoConfig, AutoModelForTokenClassification, AutoTokenizer, BertConfig,
                          BertForTokenClassification, BertTokenizer, DataCollatorForTokenClassification,
                          DistilBertConfig, DistilBertForTokenClassification, DistilBertTokenizer,
                          Trainer, TrainingArguments)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gen_seqeval_goldens import seqeval_scores  # noqa: E402
from make_trainer_goldens import ListDataset, dumps, null_timings, sha256_file  # noqa: E402

UD_DIR = "data/ud/en_ewt"
UD_FILES = {"train": "en_ewt-ud-train.conllu", "validation": "en_ewt-ud-dev.conllu"}
# huggingface/datasets' datasets/universal_dependencies/universal_dependencies.py: the upos
# feature is Sequence(ClassLabel(names=[...])) with exactly these names in this order.
UPOS_NAMES = ["NOUN", "PUNCT", "ADP", "NUM", "SYM", "SCONJ", "ADJ", "PART", "DET", "CCONJ", "PROPN",
              "PRON", "X", "_", "ADV", "INTJ", "VERB", "AUX"]
TRAIN_VOCAB_SENTENCES = 64   # the vocabulary covers the words of these train sentences
DEV_SENTENCES_MAX = 24
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
MAX_POSITIONS = 128

INITS = {
    "bert": dict(seed=5201, labels="upos"),
    "distilbert": dict(seed=5202, labels="upos"),
    "bert_xpos": dict(seed=5203, labels="xpos"),
}
DROPOUT0 = {
    "bert": dict(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, classifier_dropout=0.0),
    "distilbert": dict(dropout=0.0, attention_dropout=0.0),
}

COMMON = dict(learning_rate=1e-2, weight_decay=0.01, adam_epsilon=1e-8, logging_steps=1, seed=42,
              load_best_model_at_end=True, metric_for_best_model="accuracy",
              train_sampling_strategy="sequential")
CASES = {
    # 64 sentences in batches of 8: 8 steps an epoch, 32 in 4; evaluated and saved every 4 steps.
    "bert_upos": dict(
        init="bert", label_column="upos", train_rows=64, eval_rows=24, max_seq_length=128,
        label_all_tokens=False,
        args=dict(COMMON, per_device_train_batch_size=8, per_device_eval_batch_size=16, num_train_epochs=4,
                  lr_scheduler_type="linear", warmup_steps=3, max_grad_norm=1.0, eval_strategy="steps",
                  eval_steps=4, save_strategy="steps", save_steps=4)),
    # 60 sentences: 7 batches of 8 and one of 4 an epoch, 32 steps in 4; cosine with a warmup
    # ratio, lr 5e-3, 2 checkpoints kept.
    "distilbert_upos": dict(
        init="distilbert", label_column="upos", train_rows=60, eval_rows=24, max_seq_length=128,
        label_all_tokens=False,
        args=dict(COMMON, learning_rate=5e-3, per_device_train_batch_size=8, per_device_eval_batch_size=16,
                  num_train_epochs=4, lr_scheduler_type="cosine", warmup_steps=0.1, max_grad_norm=1.0,
                  eval_strategy="steps", eval_steps=4, save_strategy="steps", save_steps=4,
                  save_total_limit=2)),
    # --label_all_tokens and --max_seq_length 24 (long sentences truncated); clipping at 0.5.
    "bert_upos_label_all_tokens_max24": dict(
        init="bert", label_column="upos", train_rows=64, eval_rows=24, max_seq_length=24,
        label_all_tokens=True,
        args=dict(COMMON, per_device_train_batch_size=8, per_device_eval_batch_size=8, num_train_epochs=3,
                  lr_scheduler_type="linear", warmup_steps=2, max_grad_norm=0.5, eval_strategy="steps",
                  eval_steps=4, save_strategy="steps", save_steps=4)),
    # String labels (xpos): the label list is the sorted set of the train split's tags. The 4th dev
    # sentence has an NFP tag that the train file's first 343 sentences lack (run_ner would raise a
    # KeyError), hence 344 train sentences; 12 dev sentences keep the JSON small (47 labels).
    # 21 batches of 16 and one of 8 an epoch, 44 steps in 2.
    "bert_xpos": dict(
        init="bert_xpos", label_column="xpos", train_rows=344, eval_rows=12, max_seq_length=128,
        label_all_tokens=False,
        args=dict(COMMON, per_device_train_batch_size=16, per_device_eval_batch_size=8, num_train_epochs=2,
                  lr_scheduler_type="linear", warmup_steps=4, max_grad_norm=1.0, eval_strategy="steps",
                  eval_steps=11, save_strategy="steps", save_steps=11)),
}


# ----------------------------------------------------------------------------------------------
# CoNLL-U

def read_conllu(path, n, lines):
    """The first n sentences: sent_id, tokens (FORM), upos, xpos. lines="words" skips multiword
    tokens and empty nodes; lines="all" keeps every token line, as conllu.parse_incr (HF's
    universal_dependencies loader) does, with xpos "_" -> None as conllu gives it."""
    sents, cur = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                if cur is not None and cur["tokens"]:
                    sents.append(cur)
                    if len(sents) == n:
                        break
                cur = None
                continue
            if cur is None:
                cur = {"sent_id": None, "tokens": [], "upos": [], "xpos": []}
            if line.startswith("#"):
                if line.startswith("# sent_id = "):
                    cur["sent_id"] = line[len("# sent_id = "):]
                continue
            cols = line.split("\t")
            assert len(cols) == 10, line
            if lines == "words" and ("-" in cols[0] or "." in cols[0]):
                continue
            cur["tokens"].append(cols[1])
            cur["upos"].append(cols[3])
            cur["xpos"].append(None if cols[4] == "_" else cols[4])
    assert len(sents) == n, f"{path}: fewer than {n} sentences"
    return sents


def check_with_conllu(path, sents, lines):
    """The same sentences through conllu.parse_incr, as HF's loader reads them."""
    import conllu  # pinned in tools/requirements-hf.txt
    with open(path, encoding="utf-8") as f:
        for s, tl in zip(sents, conllu.parse_incr(f)):
            toks = [t for t in tl if lines == "all" or isinstance(t["id"], int)]
            assert s["sent_id"] == tl.metadata["sent_id"]
            assert s["tokens"] == [t["form"] for t in toks], s["sent_id"]
            assert s["upos"] == [t["upos"] for t in toks], s["sent_id"]
            assert s["xpos"] == [t["xpos"] for t in toks], s["sent_id"]


# ----------------------------------------------------------------------------------------------
# Vocabulary, tokenizers, inits

def write_vocab(shared, train_sents, dev_sents, path):
    from tokenizers import Tokenizer
    bert_dir = os.path.join(shared, "data", "tokenizers", "bert-base-uncased")
    with open(os.path.join(bert_dir, "vocab.txt"), encoding="utf-8") as f:
        full = [ln.rstrip("\n") for ln in f]
    full_tok = Tokenizer.from_file(os.path.join(bert_dir, "tokenizer.json"))
    keep = set(SPECIAL)
    for s in train_sents[:TRAIN_VOCAB_SENTENCES]:
        keep.update(full_tok.encode(s["tokens"], is_pretokenized=True, add_special_tokens=False).tokens)
    normalizer = full_tok.normalizer
    chars = {chr(c) for c in range(33, 127)}
    for s in train_sents + dev_sents:
        for w in s["tokens"]:
            chars.update(normalizer.normalize_str(w))
    known = set(full)
    for c in chars:
        for piece in (c, "##" + c):
            if piece in known:
                keep.add(piece)
    vocab = [t for t in full if t in keep]
    assert vocab[:5] == SPECIAL, vocab[:5]
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join(t + "\n" for t in vocab))
    return len(vocab)


def label_list_for(column, train_sents):
    if column == "upos":
        return list(UPOS_NAMES)
    tags = set()
    for s in train_sents:
        tags |= set(s[column])
    return sorted(tags)  # run_ner's get_label_list (raises on None: see --conllu-lines)


def write_init(name, vocab_file, label_list, out):
    spec = INITS[name]
    if os.path.isdir(out):
        shutil.rmtree(out)
    os.makedirs(out)
    distil = name.startswith("distilbert")
    tok_cls = DistilBertTokenizer if distil else BertTokenizer
    tok = tok_cls(vocab=vocab_file, do_lower_case=True, model_max_length=MAX_POSITIONS)
    tok.save_pretrained(out)
    tok = AutoTokenizer.from_pretrained(out)
    assert type(tok) is tok_cls, type(tok)
    labels = dict(num_labels=len(label_list), id2label=dict(enumerate(label_list)),
                  label2id={l: i for i, l in enumerate(label_list)})
    if distil:
        config = DistilBertConfig(vocab_size=len(tok), dim=32, n_layers=2, n_heads=2, hidden_dim=37,
                                  max_position_embeddings=MAX_POSITIONS, pad_token_id=tok.pad_token_id,
                                  architectures=["DistilBertForTokenClassification"], **labels)
        model_cls = DistilBertForTokenClassification
    else:
        config = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=37, max_position_embeddings=MAX_POSITIONS, type_vocab_size=2,
                            pad_token_id=tok.pad_token_id, architectures=["BertForTokenClassification"],
                            **labels)
        model_cls = BertForTokenClassification
    torch.manual_seed(spec["seed"])
    model = model_cls(config)  # HF's _init_weights
    model.save_pretrained(out)
    return {"seed": spec["seed"], "vocab_size": len(tok), "num_labels": len(label_list),
            "files": {n: sha256_file(os.path.join(out, n)) for n in sorted(os.listdir(out))}}


# ----------------------------------------------------------------------------------------------
# One case with the real Trainer

def featurize(tok, sents, column, label_list, max_len, label_all_tokens):
    """run_ner.py's tokenize_and_align_labels, one sentence at a time."""
    label_to_id = {l: i for i, l in enumerate(label_list)}
    b_to_i_label = []
    for idx, label in enumerate(label_list):
        if label.startswith("B-") and label.replace("B-", "I-") in label_list:
            b_to_i_label.append(label_list.index(label.replace("B-", "I-")))
        else:
            b_to_i_label.append(idx)
    feats, recs = [], []
    for s in sents:
        enc = tok(s["tokens"], truncation=True, max_length=max_len, is_split_into_words=True)
        word_ids = enc.word_ids()
        labels, prev = [], None
        for w in word_ids:
            if w is None:
                labels.append(-100)
            elif w != prev:
                labels.append(label_to_id[s[column][w]])
            else:
                labels.append(b_to_i_label[label_to_id[s[column][w]]] if label_all_tokens else -100)
            prev = w
        feat = {k: list(v) for k, v in enc.items()}
        feat["labels"] = labels
        if "token_type_ids" in feat:
            assert not any(feat["token_type_ids"])
        feats.append(feat)
        recs.append({"sent_id": s["sent_id"], "tokens": s["tokens"], "tags": s[column],
                     "input_ids": feat["input_ids"], "word_ids": word_ids, "labels": labels})
    return feats, recs


def run(name, case, data, label_list, init_dir, out_dir):
    transformers.logging.set_verbosity_error()
    tok = AutoTokenizer.from_pretrained(init_dir)
    column = case["label_column"]
    train_sents = data["train"]["sentences"][:case["train_rows"]]
    eval_sents = data["validation"]["sentences"][:case["eval_rows"]]
    unseen = {t for s in eval_sents for t in s[column]} - set(label_list)
    assert not unseen, f"{name}: dev tags {unseen} are not in the label list (run_ner would fail)"
    train_feats, train_recs = featurize(tok, train_sents, column, label_list, case["max_seq_length"],
                                        case["label_all_tokens"])
    eval_feats, eval_recs = featurize(tok, eval_sents, column, label_list, case["max_seq_length"],
                                      case["label_all_tokens"])
    family = "distilbert" if case["init"].startswith("distilbert") else "bert"
    config = AutoConfig.from_pretrained(init_dir, **DROPOUT0[family])
    model, info = AutoModelForTokenClassification.from_pretrained(init_dir, config=config,
                                                                  output_loading_info=True)
    assert not any(info.values()), f"{name}: loading info {info}"
    assert [model.config.id2label[i] for i in range(len(label_list))] == label_list
    micro = []

    class RecordingTrainer(Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            loss, outputs = super().compute_loss(model, inputs, True, num_items_in_batch)
            if model.training:
                # The loss is the model's CrossEntropyLoss mean over this micro-batch's label
                # tokens; num_items_in_batch (the window's count, passed to forward) is ignored.
                labels = inputs["labels"]
                logits = outputs.logits
                mean = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                                         ignore_index=-100)
                assert torch.equal(mean, loss.detach()), (mean.item(), loss.item())
                micro.append({"loss": loss.item(), "shape": list(inputs["input_ids"].shape),
                              "label_tokens": int(labels.ne(-100).sum()),
                              "num_items_in_batch": None if num_items_in_batch is None
                              else int(num_items_in_batch),
                              "global_step_before": self.state.global_step})
            return (loss, outputs) if return_outputs else loss

    def compute_metrics(p):
        predictions, labels = p
        predictions = np.argmax(predictions, axis=2)
        true_predictions = [[label_list[q] for (q, l) in zip(pred, lab) if l != -100]
                            for pred, lab in zip(predictions, labels)]
        true_labels = [[label_list[l] for (q, l) in zip(pred, lab) if l != -100]
                       for pred, lab in zip(predictions, labels)]
        r = seqeval_scores(true_labels, true_predictions)
        return {"precision": r["overall_precision"], "recall": r["overall_recall"], "f1": r["overall_f1"],
                "accuracy": r["overall_accuracy"]}

    args = TrainingArguments(output_dir=out_dir, report_to="none", disable_tqdm=True, use_cpu=True,
                             log_level="error", dataloader_num_workers=0, **case["args"])
    trainer = RecordingTrainer(model=model, args=args, train_dataset=ListDataset(train_feats),
                               eval_dataset=ListDataset(eval_feats), processing_class=tok,
                               data_collator=DataCollatorForTokenClassification(tok),
                               compute_metrics=compute_metrics)
    assert trainer.model_accepts_loss_kwargs  # the models' forward takes **kwargs
    # Each micro-batch loss divided by its window's size: the semantics of trainer_current and
    # trainer_roberta. With gradient_accumulation_steps 1 (every case here) it changes nothing.
    trainer.loss_is_scaled_for_ga = False
    trainer.train()
    history = [dict(e) for e in trainer.state.log_history]
    pred = trainer.predict(ListDataset(eval_feats))
    # The eval loss is the mean over rows of their batch's loss (evaluation_loop repeats each
    # batch's token mean batch-size times): rebuilt here from the logits.
    bs, losses = case["args"]["per_device_eval_batch_size"], []
    for b in range(0, len(eval_feats), bs):
        rows = eval_feats[b:b + bs]
        width = max(len(f["input_ids"]) for f in rows)
        lab = torch.tensor([f["labels"] + [-100] * (width - len(f["labels"])) for f in rows])
        lg = torch.from_numpy(pred.predictions[b:b + len(rows), :width])
        loss = torch.nn.functional.cross_entropy(lg.reshape(-1, lg.shape[-1]), lab.reshape(-1))
        losses += [loss.item()] * len(rows)
    assert abs(np.mean(np.array(losses, dtype=np.float32)) - pred.metrics["test_loss"]) < 1e-6
    # Each float32 logit as its shortest decimal that reads back as the same float32 (lossless).
    logits = [[[float(str(np.float32(x))) for x in tok_row] for tok_row in
                pred.predictions[i, :len(f["input_ids"])]]
              for i, f in enumerate(eval_feats)]
    steps = []
    for e in history:
        if "loss" not in e:
            continue
        gs = e["step"]
        mb = [m for m in micro if m["global_step_before"] == gs - 1]
        assert all(m["num_items_in_batch"] == sum(x["label_tokens"] for x in mb) for m in mb)
        steps.append({"global_step": gs, "epoch": e["epoch"], "loss_logged": e["loss"], "grad_norm": e["grad_norm"],
                      "lr_used": e["learning_rate"], "micro_batch_losses": [m["loss"] for m in mb],
                      "micro_batch_shapes": [m["shape"] for m in mb],
                      "micro_batch_label_tokens": [m["label_tokens"] for m in mb],
                      "num_items_in_batch": mb[0]["num_items_in_batch"]})
    assert len(steps) == trainer.state.max_steps == trainer.state.global_step
    stats = {}
    for n, p in trainer.model.named_parameters():
        t = p.detach().double()
        stats[n] = {"shape": list(p.shape), "sum": t.sum().item(), "sum_sq": (t * t).sum().item(),
                    "max_abs": t.abs().max().item()}
    folders = sorted(d for d in os.listdir(out_dir) if d.startswith("checkpoint-"))
    best = trainer.state.best_model_checkpoint
    return {
        "case": name, "task": "pos", "family": family, "label_column": column,
        "label_list": label_list, "max_seq_length": case["max_seq_length"],
        "label_all_tokens": case["label_all_tokens"],
        "rows": {"train": case["train_rows"], "eval": case["eval_rows"]},
        "data_files": {k: {"file": v["file"], "sha256": v["sha256"], "first_sentences": n}
                       for (k, v), n in zip(data.items(), (case["train_rows"], case["eval_rows"]))},
        "training_args_explicit": case["args"],
        "loss_is_scaled_for_ga": False,
        "dropout_overrides": DROPOUT0[family],
        "versions": {"transformers": transformers.__version__, "torch": torch.__version__,
                     "tokenizers": __import__("tokenizers").__version__, "numpy": np.__version__,
                     "seqeval": metadata.version("seqeval"), "conllu": metadata.version("conllu"),
                     "python": sys.version.split()[0]},
        "train_rows": train_recs, "eval_rows": eval_recs,
        "max_steps": trainer.state.max_steps, "steps": steps, "log_history": null_timings(history),
        "best_model_checkpoint": os.path.basename(best) if best else None,
        "best_metric": trainer.state.best_metric, "checkpoints_left": folders,
        "final_predict_metrics": null_timings(dict(pred.metrics)),
        "final_eval_logits": logits, "final_param_stats": stats,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cases", nargs="*", default=list(CASES))
    ap.add_argument("--conllu-lines", choices=["words", "all"], default="words",
                    help="words: skip multiword-token and empty-node lines (default); all: keep them, "
                         "as HF's universal_dependencies loader (conllu.parse_incr) does")
    a = ap.parse_args()
    if a.conllu_lines == "all" and any(CASES[c]["label_column"] == "xpos" for c in a.cases):
        ap.error("--conllu-lines all: multiword tokens have xpos None, which run_ner's get_label_list "
                 "cannot sort; leave the xpos case out (--cases ...)")
    assert metadata.version("seqeval") == "1.2.2", metadata.version("seqeval")
    torch.set_num_threads(1)
    os.makedirs(a.out, exist_ok=True)
    n_train = max(TRAIN_VOCAB_SENTENCES, max(c["train_rows"] for c in CASES.values()))
    data = {}
    for split, n in (("train", n_train), ("validation", DEV_SENTENCES_MAX)):
        path = os.path.join(a.shared, UD_DIR, UD_FILES[split])
        sents = read_conllu(path, n, a.conllu_lines)
        check_with_conllu(path, sents, a.conllu_lines)
        data[split] = {"file": f"{UD_DIR}/{UD_FILES[split]}", "sha256": sha256_file(path), "sentences": sents}
    inits = {}
    with tempfile.TemporaryDirectory() as tmp:
        vocab_file = os.path.join(tmp, "vocab.txt")
        write_vocab(a.shared, data["train"]["sentences"], data["validation"]["sentences"], vocab_file)
        for name in sorted({CASES[c]["init"] for c in a.cases}):
            column = "xpos" if INITS[name]["labels"] == "xpos" else "upos"
            labels = label_list_for(column, data["train"]["sentences"][:max(
                CASES[c]["train_rows"] for c in CASES if CASES[c]["init"] == name)])
            init_dir = os.path.join(a.out, f"init_{name}")
            inits[name] = write_init(name, vocab_file, labels, init_dir)
            inits[name]["label_list"] = labels
            print(f"{init_dir}: vocab {inits[name]['vocab_size']}, {len(labels)} labels, "
                  f"{sum(os.path.getsize(os.path.join(init_dir, n)) for n in os.listdir(init_dir))} bytes")
    for name in a.cases:
        case = CASES[name]
        init = inits[case["init"]]
        with tempfile.TemporaryDirectory() as tmp:
            golden = run(name, case, data, init["label_list"], os.path.join(a.out, f"init_{case['init']}"),
                         tmp)
        golden["conllu_lines"] = a.conllu_lines
        golden["model_dir"] = f"init_{case['init']}"
        golden["init"] = {k: v for k, v in init.items() if k != "label_list"}
        path = os.path.join(a.out, name + ".json")
        with open(path + ".tmp", "w") as f:
            f.write(dumps(golden) + "\n")
        os.replace(path + ".tmp", path)
        evals = [(e["step"], round(e["eval_accuracy"], 4), round(e["eval_loss"], 4))
                 for e in golden["log_history"] if "eval_loss" in e]
        print(f"{path}: {len(golden['steps'])} steps, best {golden['best_model_checkpoint']}, "
              f"evals (step, accuracy, loss) {evals}")


if __name__ == "__main__":
    main()
