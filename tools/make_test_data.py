"""Makes the checkpoints and PyTorch tensor dumps the C++ tests compare against.

Run by ctest (fixture `make_test_data`) with Debian's python3-torch:
    python3 tools/make_test_data.py --shared ../shared --out build/testdata
Everything is seeded, so reruns give identical files. Layout of --out:
    tiny_distilbert_dump.safetensors   every tensor of shared/reference/tiny_distilbert/init as
                                       torch.load reads it (written by the plain-Python writer)
    tiny_bert/                         BertForSequenceClassification (3 labels) saved like HF 4.8:
                                       config.json + pytorch_model.bin, with the position_ids buffer
    tiny_bert_dump.safetensors         its tensors as torch.load reads them
    tiny_bert_mlm/ (+ _dump)           BertForMaskedLM (base + MLM head, no pooler, no classifier)
    tiny_bert_bare/                    BertModel saved bare (no "bert." prefix)
    tiny_distilbert_mlm/ (+ _dump)     DistilBertForMaskedLM (tied vocab_projector)
    mixed_dtypes.bin (+ _dump.safetensors)  every storage type, non-contiguous and shared views
    trainer_distilbert/, trainer_bert_rte/, trainer_bert_stsb/
                                       init checkpoints (config.json + pytorch_model.bin) of the
                                       Trainer goldens in tests/goldens/trainer (real-vocab size
                                       30522, dim 32); see trainer_inits() and the goldens' README
    corrupt/                           malformed files, from tools/corrupt_files.py when present
"""
import argparse
import json
import os
import sys
from collections import OrderedDict

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_modules  # noqa: E402
import safetensors_plain  # noqa: E402

TINY_BERT = {
    "architectures": ["BertForSequenceClassification"], "model_type": "bert",
    "vocab_size": 99, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
    "intermediate_size": 37, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
    "attention_probs_dropout_prob": 0.1, "max_position_embeddings": 64, "type_vocab_size": 2,
    "initializer_range": 0.02, "layer_norm_eps": 1e-12, "pad_token_id": 0,
    "position_embedding_type": "absolute", "gradient_checkpointing": False, "use_cache": True,
    "id2label": {"0": "LABEL_0", "1": "LABEL_1", "2": "LABEL_2"},
    "label2id": {"LABEL_0": 0, "LABEL_1": 1, "LABEL_2": 2}, "transformers_version": "4.8.2",
}


# Init checkpoints of tests/goldens/trainer (tools/make_trainer_goldens.py trains them with the real
# HF Trainer 4.8.2). Dropouts keep HF's defaults here: the goldens pass 0 at from_pretrained.
TRAINER_DISTILBERT = {
    "activation": "gelu", "architectures": ["DistilBertForSequenceClassification"],
    "attention_dropout": 0.1, "dim": 32, "dropout": 0.1, "hidden_dim": 37,
    "initializer_range": 0.02, "max_position_embeddings": 512, "model_type": "distilbert",
    "n_heads": 2, "n_layers": 2, "pad_token_id": 0, "qa_dropout": 0.1, "seq_classif_dropout": 0.2,
    "sinusoidal_pos_embds": False, "tie_weights_": True, "transformers_version": "4.8.2",
    "vocab_size": 30522,
}
TRAINER_BERT = dict(TINY_BERT, vocab_size=30522, max_position_embeddings=512)
# name -> (seed, module class, config, num_labels)
TRAINER_INITS = {
    "trainer_distilbert": (4201, "DistilBertForSequenceClassification", TRAINER_DISTILBERT, 2),
    "trainer_bert_rte": (4202, "BertForSequenceClassification", TRAINER_BERT, 2),
    "trainer_bert_stsb": (4203, "BertForSequenceClassification", TRAINER_BERT, 1),
}


def labels_cfg(num_labels):
    names = [f"LABEL_{i}" for i in range(num_labels)]
    return {"id2label": {str(i): n for i, n in enumerate(names)}, "label2id": {n: i for i, n in enumerate(names)}}


def trainer_inits(out):
    """Writes the Trainer goldens' init checkpoints: torch.manual_seed(seed), build the module
    (hf_modules), HF's init, save like HF 4.8's save_pretrained. Returns {name: directory}."""
    dirs = {}
    for name, (seed, cls, base, num_labels) in TRAINER_INITS.items():
        cfg = {**base, **labels_cfg(num_labels)}
        torch.manual_seed(seed)
        model = getattr(hf_modules, cls)({**cfg, "num_labels": num_labels})
        hf_modules.hf_init_(model, cfg["initializer_range"])
        dirs[name] = os.path.join(out, name)
        save_hf_dir(model, cfg, dirs[name])
    return dirs


def dump(state_dict, path):
    """Contiguous copies of every tensor, in state-dict order, via the plain-Python writer."""
    safetensors_plain.save(OrderedDict((k, v.contiguous()) for k, v in state_dict.items()), path)


def save_hf_dir(module, config, path):
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    # torch.save of state_dict() is exactly what save_pretrained does for .bin files.
    torch.save(module.state_dict(), os.path.join(path, "pytorch_model.bin"))


def mixed_dtypes():
    g = torch.Generator().manual_seed(7)
    base = torch.randn(6, 5, generator=g)
    shared = torch.arange(24, dtype=torch.float32)
    sd = OrderedDict()
    sd["f32"] = torch.randn(3, 4, generator=g)
    sd["f64"] = torch.randn(2, 3, generator=g, dtype=torch.float64)
    sd["f16"] = torch.randn(4, 3, generator=g).half()
    sd["bf16"] = torch.randn(5, 2, generator=g).bfloat16()
    sd["i64"] = torch.arange(-5, 7, dtype=torch.int64).reshape(3, 4)
    sd["i32"] = torch.arange(-3, 3, dtype=torch.int32)
    sd["i16"] = torch.arange(-4, 4, dtype=torch.int16)
    sd["i8"] = torch.arange(-4, 4, dtype=torch.int8)
    sd["u8"] = torch.arange(0, 250, 25, dtype=torch.uint8)
    sd["bool"] = torch.tensor([True, False, True])
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 4)
    sd["transposed"] = base.t()                 # non-contiguous strides
    sd["strided_rows"] = base[::2]              # storage offset 0, row stride 10
    sd["shared_a"] = shared[4:16].view(3, 4)    # two views of one storage, with offsets
    sd["shared_b"] = shared[10:22]
    return sd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    out = args.out
    os.makedirs(out, exist_ok=True)

    ref = os.path.join(args.shared, "reference", "tiny_distilbert", "init", "pytorch_model.bin")
    dump(torch.load(ref, map_location="cpu"), os.path.join(out, "tiny_distilbert_dump.safetensors"))

    torch.manual_seed(1234)
    bert = hf_modules.BertForSequenceClassification({**TINY_BERT, "num_labels": 3})
    hf_modules.hf_init_(bert, TINY_BERT["initializer_range"])
    save_hf_dir(bert, TINY_BERT, os.path.join(out, "tiny_bert"))
    dump(torch.load(os.path.join(out, "tiny_bert", "pytorch_model.bin")),
         os.path.join(out, "tiny_bert_dump.safetensors"))

    mlm_cfg = {k: v for k, v in TINY_BERT.items() if k not in ("id2label", "label2id")}
    mlm_cfg["architectures"] = ["BertForMaskedLM"]
    mlm = hf_modules.BertForMaskedLM(mlm_cfg)
    hf_modules.hf_init_(mlm, 0.02)
    save_hf_dir(mlm, mlm_cfg, os.path.join(out, "tiny_bert_mlm"))
    dump(torch.load(os.path.join(out, "tiny_bert_mlm", "pytorch_model.bin")),
         os.path.join(out, "tiny_bert_mlm_dump.safetensors"))

    bare_cfg = dict(mlm_cfg, architectures=["BertModel"])
    bare = hf_modules.BertModel(bare_cfg)
    hf_modules.hf_init_(bare, 0.02)
    save_hf_dir(bare, bare_cfg, os.path.join(out, "tiny_bert_bare"))

    with open(os.path.join(args.shared, "reference", "tiny_distilbert", "init", "config.json")) as f:
        dcfg = json.load(f)
    dcfg["architectures"] = ["DistilBertForMaskedLM"]
    dmlm = hf_modules.DistilBertForMaskedLM({**dcfg, "vocab_size": 99, "num_labels": 2})
    hf_modules.hf_init_(dmlm, 0.02)
    save_hf_dir(dmlm, {**dcfg, "vocab_size": 99}, os.path.join(out, "tiny_distilbert_mlm"))
    dump(torch.load(os.path.join(out, "tiny_distilbert_mlm", "pytorch_model.bin")),
         os.path.join(out, "tiny_distilbert_mlm_dump.safetensors"))

    trainer_inits(out)

    sd = mixed_dtypes()
    torch.save(sd, os.path.join(out, "mixed_dtypes.bin"))
    dump(torch.load(os.path.join(out, "mixed_dtypes.bin")), os.path.join(out, "mixed_dtypes_dump.safetensors"))

    try:
        import corrupt_files
    except ImportError:
        corrupt_files = None
    if corrupt_files is not None:
        corrupt_files.make(os.path.join(out, "corrupt"), sd)
    print("test data written to", out)


if __name__ == "__main__":
    main()
