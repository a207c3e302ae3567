"""Writes tests/goldens/roberta_mlm/: a tiny RobertaForMaskedLM and XLMRobertaForMaskedLM (vocab 40,
hidden 8, one layer; seed 0) as transformers' save_pretrained writes them, the checkpoints users
start from (roberta-base and xlm-roberta-base are MaskedLM checkpoints), and what HF reports when
*ForSequenceClassification loads each with num_labels=2 (output_loading_info: missing and
unexpected keys; num_parameters()). tests/model/roberta_test.cpp compares our LoadReport with it.

    VENV/bin/python tools/make_roberta_mlm_fixture.py --out tests/goldens/roberta_mlm

VENV is tools/make_hf_venv.sh's (transformers 5.25.0, torch 2.15.0).
"""
import argparse
import json
import os

import torch
import transformers

FAMILIES = {
    "roberta": (transformers.RobertaConfig, transformers.RobertaForMaskedLM,
                transformers.RobertaForSequenceClassification),
    "xlm-roberta": (transformers.XLMRobertaConfig, transformers.XLMRobertaForMaskedLM,
                    transformers.XLMRobertaForSequenceClassification),
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    report = {"transformers": transformers.__version__, "torch": torch.__version__}
    for name, (config_class, mlm_class, classifier_class) in FAMILIES.items():
        torch.manual_seed(0)
        config = config_class(vocab_size=40, hidden_size=8, num_hidden_layers=1,
                              num_attention_heads=2, intermediate_size=12,
                              max_position_embeddings=20, pad_token_id=1, type_vocab_size=1)
        folder = os.path.join(a.out, name)
        mlm_class(config).save_pretrained(folder, safe_serialization=True)
        model, info = classifier_class.from_pretrained(folder, num_labels=2,
                                                       output_loading_info=True)
        report[name] = {k: sorted(info[k]) for k in ("missing_keys", "unexpected_keys")}
        report[name]["num_parameters"] = model.num_parameters()
    with open(os.path.join(a.out, "hf_loading_info.json"), "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
