#!/usr/bin/env python3
"""tests/goldens/schedules.json from current HF (the tools/make_hf_venv.sh venv): the lr multipliers
transformers.get_scheduler gives (an SGD optimizer with lr 1.0, stepped total + 2 times, so the
values past the end are there too), and the warmup steps TrainingArguments.get_warmup_steps
derives from a ratio (5.x takes the ratio as a warmup_steps below 1; 4.x called it warmup_ratio;
both are ceil(total * ratio) in double precision). The oracle of tests/train/schedule_test.cpp.

    VENV/bin/python tools/make_schedule_goldens.py --out tests/goldens/schedules.json
"""
import argparse
import json
import os

import torch
import transformers
from transformers import TrainingArguments, get_scheduler

NAMES = ("linear", "cosine", "constant", "constant_with_warmup")
# (num_training_steps, num_warmup_steps): ordinary, none, warmup == total, warmup > total, 1 step.
SHAPES = ((10, 3), (7, 0), (5, 5), (4, 6), (1, 0))
RATIOS = ((10, 0.1), (7, 0.1), (29, 0.1), (3, 0.5), (2675, 0.06), (100, 0.06), (100, 0.07), (10, 0.0),
          (4, 0.99))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    cases = []
    for total, warmup in SHAPES:
        for name in NAMES:
            opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
            sched = get_scheduler(name, opt, num_warmup_steps=warmup, num_training_steps=total)
            mult = []
            for _ in range(total + 2):
                mult.append(opt.param_groups[0]["lr"])
                opt.step()
                sched.step()
            cases.append({"name": name, "num_training_steps": total, "num_warmup_steps": warmup,
                          "multipliers": mult})
    ratios = []
    for total, ratio in RATIOS:
        args = TrainingArguments(output_dir="unused", warmup_steps=ratio, report_to="none")
        ratios.append({"num_training_steps": total, "warmup_ratio": ratio,
                       "warmup_steps": args.get_warmup_steps(total)})
    out = {
        "about": "multipliers[s]: the lr (base 1.0) after s scheduler steps, i.e. the lr optimizer step "
                 "s+1 uses, from transformers.get_scheduler; cosine has num_cycles 0.5. warmup_from_ratio: "
                 "TrainingArguments(warmup_steps=ratio).get_warmup_steps(total) = ceil(total * ratio).",
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "schedules": cases,
        "warmup_from_ratio": ratios,
    }
    with open(a.out + ".tmp", "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    os.replace(a.out + ".tmp", a.out)
    print(f"{a.out}: {len(cases)} schedules, {len(ratios)} ratios")


if __name__ == "__main__":
    main()
