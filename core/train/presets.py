"""Presets: what a run aims at, turned into learning rate, epochs, warm-up and dev evaluations
for the data size and strategy at hand, so a first run learns something without tuning.

Why a step budget rather than fixed epochs: a few hundred labelled samples are only a dozen
optimiser steps an epoch, and short runs at full fine-tuning's usual rate (5e-5) learned
nothing (dev F1 0.000 after 40-60 steps): the new head starts from random weights and the
warm-up spends most of such a run near zero. A preset therefore aims at a number of optimiser
steps (within an epoch range), lets the new head learn ``head_lr_factor`` times faster than the
encoder, and evaluates on dev a few times, keeping the best weights. The figures come from
tuning on WNUT 2017 dev and were checked on the drug reviews (bench/presets.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    title: str
    description: str
    steps: int  # optimiser steps aimed at (at the default batch size)
    min_epochs: float
    max_epochs: float
    learning_rate: dict  # strategy -> peak learning rate of the encoder
    warmup_ratio: float
    head_lr_factor: float
    evaluations: int  # dev evaluations over the run; the best weights are kept


# Adapters and biases need a larger step than full fine-tuning (LoRA paper; BitFit uses 1e-3).
_RATES = {"full": 1e-4, "freeze": 1.5e-4, "lora": 1e-3, "bitfit": 2e-3}

PRESETS: dict[str, Preset] = {
    "quick": Preset("quick look", "a first model in a few minutes: is the task learnable, are the labels sane?",
                    steps=150, min_epochs=1.0, max_epochs=20.0, learning_rate={k: 2 * v for k, v in _RATES.items()},
                    warmup_ratio=0.06, head_lr_factor=10.0, evaluations=1),
    "standard": Preset("standard", "the recommended recipe: a good model in minutes on a laptop CPU",
                       steps=400, min_epochs=2.0, max_epochs=30.0, learning_rate=dict(_RATES), warmup_ratio=0.06,
                       head_lr_factor=10.0, evaluations=3),
    "best": Preset("best", "longer training for the last points, more dev evaluations",
                   steps=1200, min_epochs=4.0, max_epochs=60.0, learning_rate=dict(_RATES), warmup_ratio=0.06,
                   head_lr_factor=10.0, evaluations=6),
}


def preset_values(name: str, strategy: str, n_train: int, task: str, batch_size: int = 16,
                  max_steps: int = 0) -> dict:
    """The preset's learning rate, epochs, warm-up, head factor and evaluation interval for
    ``n_train`` training samples (0: not known yet; epochs then come from the epoch range)."""
    if name not in PRESETS:
        raise ValueError(f"preset is {name!r}: expected one of {', '.join(PRESETS)}")
    preset = PRESETS[name]
    steps_per_epoch = math.ceil(n_train / batch_size) if n_train else 0
    epochs = preset.min_epochs
    if steps_per_epoch:
        epochs = min(preset.max_epochs, max(preset.min_epochs, preset.steps / steps_per_epoch))
        epochs = round(epochs, 1) if epochs < 10 else float(round(epochs))
    total_steps = max_steps or math.ceil(epochs * steps_per_epoch)
    # `evaluations` evaluations spread over the run (the trainer adds one at the last step);
    # 0 = once per epoch, while the total is not known.
    eval_steps = max(1, math.ceil(total_steps / preset.evaluations)) if total_steps else 0
    return {"learning_rate": preset.learning_rate[strategy], "epochs": float(epochs),
            "warmup_ratio": preset.warmup_ratio, "head_lr_factor": preset.head_lr_factor, "eval_steps": eval_steps}


def describe(name: str, strategy: str, n_train: int, task: str, batch_size: int = 16) -> str:
    """One line for the Train form: what the preset will do on this data."""
    v = preset_values(name, strategy, n_train, task, batch_size)
    evals = "once per epoch" if not v["eval_steps"] else f"every {v['eval_steps']} steps"
    return (f"{PRESETS[name].title}: {PRESETS[name].description} — {v['epochs']:g} epochs over {n_train:,} samples, "
            f"learning rate {v['learning_rate']:.1e} (head x{v['head_lr_factor']:g}), warm-up "
            f"{v['warmup_ratio']:.0%}, dev evaluation {evals}, best weights kept")
