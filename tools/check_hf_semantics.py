#!/usr/bin/env python3
"""Two current-HF Trainer behaviours listed in tests/goldens/trainer/README.md, shown on a tiny
random BertForSequenceClassification (run with the tools/make_hf_venv.sh venv's python):
- grad_norm is logged with clipping off (max_grad_norm 0) as with it on;
- with gradient_accumulation_steps 2 the logged loss is ~2 x ln 2 on a fresh 2-class head: BERT's
  forward takes **kwargs, so the Trainer skips its /GA (transformers issue #47688).
"""
import math

import torch
from transformers import BertConfig, BertForSequenceClassification, Trainer, TrainingArguments

torch.manual_seed(0)
model = BertForSequenceClassification(BertConfig(vocab_size=100, hidden_size=16, num_hidden_layers=1,
                                                 num_attention_heads=2, intermediate_size=32))
rows = [{"input_ids": [1, 5, 7, 2], "attention_mask": [1] * 4, "labels": i % 2} for i in range(8)]
for max_grad_norm in (0.0, 1.0):
    for ga in (1, 2):
        args = TrainingArguments("/tmp/check_hf_semantics", max_grad_norm=max_grad_norm, logging_steps=1,
                                 max_steps=2, per_device_train_batch_size=2, gradient_accumulation_steps=ga,
                                 learning_rate=0.0, report_to="none", save_strategy="no", disable_tqdm=True,
                                 train_sampling_strategy="sequential")
        trainer = Trainer(model=model, args=args, train_dataset=rows)
        trainer.train()
        first = trainer.state.log_history[0]
        print(f"max_grad_norm {max_grad_norm} GA {ga}: loss {first['loss']:.4f} "
              f"(ln 2 = {math.log(2):.4f}), grad_norm logged: {'grad_norm' in first}, "
              f"model_accepts_loss_kwargs {trainer.model_accepts_loss_kwargs}")
