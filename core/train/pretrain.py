"""Domain-adaptive pretraining, its configuration: continue masked-language-model training of
the encoder on the project's own texts (labelled and unlabelled; never the test split, so test
scores stay honest).

This is how the rows a vocabulary extension adds learn what their characters mean before any
label is seen, and it adapts any encoder to a domain (tweets, clinical notes). A ``pretrain``
run is a run like any other: queued, executed by the worker in its own process, reporting loss,
learning rate and a held-out masked-LM loss through the same TrainerCallback, cancellable. It
exports ``runs/<id>/model`` (encoder + masked-LM head + tokenizer); a fine-tuning run starts
from it with ``model = "run:<id>"`` (``cli.py train NAME --from-run ID``). The training itself
is in ``core.train.mlm`` (this module stays light: pages and the command line import it).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from core.base import settings
from core.train.config import _check_field, _f

PRETRAIN_SPLITS = ("train", "dev", "unassigned")  # never "test"
EVALUATIONS_EVERY = 0.2  # the held-out loss is measured after every fifth of the steps (live curve)
EVAL_MAX_TEXTS = 1000    # held-out texts at most, so measuring stays a small share of the run
CHECKPOINT_FILE = "tagtune.json"


@dataclass(frozen=True)
class PretrainConfig:
    model: str = field(
        default_factory=settings.default_encoder,
        metadata={"help": "Encoder to adapt: Hugging Face id, local folder or run:N. Default: the packaged "
                  "all-MiniLM-L6-v2 (it has no masked-LM head; one is initialised, tied to the embeddings).",
                  "group": "basic"},
    )
    extend_vocabulary: bool = _f(True, "Add the characters (and frequent words) the tokenizer maps to [UNK] before "
                                 "pretraining, so their new rows learn from the texts.")
    epochs: float = _f(1.0, "Passes over the texts (ignored when max steps > 0).", min=0.01, max=1000.0)
    max_steps: int = _f(0, "Stop after this many optimiser steps; 0 trains for `epochs`.", min=0, max=10_000_000)
    batch_size: int = _f(32, "Texts per batch.", min=1, max=4096)
    learning_rate: float = _f(2e-4, "Peak learning rate (AdamW, linear decay after warm-up).", min=1e-7, max=1.0,
                              step=1e-5, format="%.1e")
    mlm_probability: float = _f(0.15, "Share of tokens masked and predicted (BERT: 0.15).", min=0.01, max=0.9)
    max_length: int = _f(128, "Subword tokens per text; longer texts are truncated.", group="advanced",
                         min=8, max=8192)
    warmup_ratio: float = _f(0.06, "Share of the steps spent warming the learning rate up.", group="advanced",
                             min=0.0, max=0.99)
    weight_decay: float = _f(0.01, "AdamW weight decay.", group="advanced", min=0.0, max=1.0)
    vocabulary_min_count: int = _f(3, "Vocabulary extension: add an uncovered word (space-delimited scripts) when "
                                   "it occurs at least this often.", group="advanced", min=1, max=1_000_000)
    vocabulary_max_words: int = _f(2000, "Vocabulary extension: at most this many whole words.", group="advanced",
                                   min=0, max=1_000_000)
    eval_share: float = _f(0.05, "Share of the texts held out to report a masked-LM loss on (0: none).",
                           group="advanced", min=0.0, max=0.5)
    max_texts: int = _f(0, "Pretrain on at most this many texts (a random sample); 0 uses all.", group="advanced",
                        min=0, max=100_000_000)
    log_every: int = _f(10, "Write loss, learning rate and throughput every N steps.", group="advanced",
                        min=1, max=100_000)
    seed: int = _f(42, "Random seed for the masks, the shuffling and the new vocabulary rows.", group="advanced",
                   min=0, max=2**31 - 1)

    def __post_init__(self) -> None:
        for f in fields(self):
            _check_field(f, getattr(self, f.name))
        if not str(self.model).strip():
            raise ValueError("model is empty: expected a Hugging Face model id, a local model folder or run:N")

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict | str | None) -> PretrainConfig:
        data = json.loads(data) if isinstance(data, str) else dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown pretraining setting {unknown[0]!r}: expected one of {sorted(known)}")
        return cls(**data)


def form_fields() -> list[dict]:
    defaults = PretrainConfig()
    return [{"name": f.name, "kind": type(getattr(defaults, f.name)).__name__, "default": getattr(defaults, f.name),
             **f.metadata} for f in fields(PretrainConfig)]


def pretraining_arguments(config: PretrainConfig, output_dir: str | Path, evaluate: bool, device: Any):
    """The one place a PretrainConfig becomes ``transformers.TrainingArguments``."""
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(output_dir),
        learning_rate=config.learning_rate,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps if config.max_steps > 0 else -1,
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=max(config.batch_size, 32),
        weight_decay=config.weight_decay,
        warmup_steps=config.warmup_ratio,  # a float below 1 is a ratio in transformers 5
        lr_scheduler_type="linear",
        seed=config.seed,
        logging_strategy="steps",
        logging_steps=config.log_every,
        eval_strategy="steps" if evaluate else "no",
        eval_steps=EVALUATIONS_EVERY,  # a float below 1 is a share of the total steps
        save_strategy="no",  # the final weights are exported; nothing to pick between
        report_to=[],
        disable_tqdm=True,
        use_cpu=device.kind == "cpu",
        bf16=device.bf16,
        dataloader_num_workers=0,
        remove_unused_columns=False,
    )
