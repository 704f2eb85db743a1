"""Presets: what a run aims at, turned into learning rate, epochs, warm-up and dev evaluations
for the data at hand and the strategy, so a first run learns something without tuning.

- A budget of training *words* (words seen, epochs x words in the train split), within an
  epoch range: compute grows with text length, so long reviews get fewer epochs than tweets,
  and a few hundred short samples get many epochs (a dozen optimiser steps an epoch teach a
  new head nothing: 40-60 step runs at full fine-tuning's usual rate, 5e-5, scored dev F1 0.000).
- At least ``min_steps`` optimiser steps (within the epoch range): on a few hundred long texts
  the word budget is about one epoch, and 36 steps left the quick preset's new head predicting
  the majority class of the drug reviews (or worse); 100 steps beat it (tuned on 480 of the
  reviews' train file, scored on the other 120).
- The new head starts from random weights: it learns ``head_lr_factor`` times faster than the
  pretrained encoder, so it is useful after a few dozen steps.
- ``evaluations`` dev evaluations spread over the run (the last at the last step); the best
  weights are kept (core.train.best).

The figures come from tuning on WNUT 2017 dev (bench/quality.py reports test once) and are
checked on the drug reviews (bench/presets.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass


MIN_STEPS = 100


@dataclass(frozen=True)
class Preset:
    title: str
    description: str
    words: int  # training words aimed at (epochs x words in the train split)
    min_epochs: float
    max_epochs: float
    learning_rate: dict  # strategy -> peak learning rate of the encoder
    warmup_ratio: float
    head_lr_factor: float
    evaluations: int  # dev evaluations over the run; the best weights are kept
    min_steps: int = MIN_STEPS  # optimiser steps at the least, within the epoch range


# Adapters and biases move fewer weights and need larger steps than full fine-tuning (LoRA
# paper; BitFit uses 1e-3).
_RATES = {"full": 1e-4, "freeze": 1.5e-4, "lora": 1e-3, "bitfit": 2e-3}
WNUT_TRAIN_WORDS = 62_730  # WNUT 2017 train (3,394 sentences), the unit the budgets are tuned in

PRESETS: dict[str, Preset] = {
    "quick": Preset("quick look", "a first model soon: is the task learnable, are the labels sane?",
                    words=WNUT_TRAIN_WORDS, min_epochs=1.0, max_epochs=20.0,
                    learning_rate={k: 2 * v for k, v in _RATES.items()}, warmup_ratio=0.06, head_lr_factor=10.0,
                    evaluations=1),
    "standard": Preset("standard", "the recommended recipe, a good model in minutes on a laptop CPU",
                       words=3 * WNUT_TRAIN_WORDS, min_epochs=2.0, max_epochs=30.0, learning_rate=dict(_RATES),
                       warmup_ratio=0.06, head_lr_factor=10.0, evaluations=3),
    "best": Preset("best", "longer training and more dev evaluations for the last points",
                   words=6 * WNUT_TRAIN_WORDS, min_epochs=3.0, max_epochs=60.0, learning_rate=dict(_RATES),
                   warmup_ratio=0.06, head_lr_factor=10.0, evaluations=6),
}


def preset_values(name: str, strategy: str, n_train: int, n_words: int, batch_size: int = 16,
                  max_steps: int = 0) -> dict:
    """The preset's learning rate, epochs, warm-up, head factor and evaluation interval for a
    train split of ``n_train`` samples holding ``n_words`` words (0: not known yet; epochs
    then come from the epoch range)."""
    if name not in PRESETS:
        raise ValueError(f"preset is {name!r}: expected one of {', '.join(PRESETS)}")
    preset = PRESETS[name]
    epochs = preset.min_epochs
    if n_words:
        epochs = min(preset.max_epochs, max(preset.min_epochs, preset.words / n_words))
        epochs = round(epochs, 1) if epochs < 10 else float(round(epochs))
    per_epoch = math.ceil(n_train / batch_size)
    if n_words and per_epoch and epochs * per_epoch < preset.min_steps:
        # rounded up to a tenth: at least min_steps steps
        epochs = min(preset.max_epochs, math.ceil(10 * preset.min_steps / per_epoch) / 10)
    total_steps = max_steps or math.ceil(epochs * per_epoch)
    # `evaluations` evaluations spread over the run (the trainer adds one at the last step);
    # 0 = once per epoch, while the total is not known.
    eval_steps = max(1, math.ceil(total_steps / preset.evaluations)) if total_steps else 0
    return {"learning_rate": preset.learning_rate[strategy], "epochs": float(epochs),
            "warmup_ratio": preset.warmup_ratio, "head_lr_factor": preset.head_lr_factor, "eval_steps": eval_steps}


def describe(name: str, strategy: str, n_train: int, n_words: int, batch_size: int = 16) -> str:
    """One line for the Train form: what the preset will do on this data."""
    v = preset_values(name, strategy, n_train, n_words, batch_size)
    evals = "once per epoch" if not v["eval_steps"] else f"every {v['eval_steps']} steps"
    return (f"{PRESETS[name].title}: {PRESETS[name].description} — {v['epochs']:g} epochs over {n_train:,} samples "
            f"({n_words:,} words), learning rate {v['learning_rate']:.1e} (head x{v['head_lr_factor']:g}), warm-up "
            f"{v['warmup_ratio']:.0%}, dev evaluation {evals}, best weights kept")
