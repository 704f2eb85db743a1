"""TrainConfig: the one configuration of a fine-tuning run.

Stored as JSON on the run (``Run.config``); the Train page builds its form from the field
metadata (``help``, ``choices``, ``min``/``max``, ``group``, ``only_for``); ``training_arguments``
is the one place it becomes ``transformers.TrainingArguments``. Hyper-parameter defaults live
here and nowhere else.
"""
from __future__ import annotations

import json
import math
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from core.base import settings
from core.train.presets import PRESETS, preset_values

STRATEGIES = ("full", "freeze", "lora", "bitfit")
SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup", "polynomial")
CLASS_WEIGHTS = ("none", "balanced")
PRECISIONS = ("auto", "bf16", "fp32")
# Fields a preset fills when they are left empty (None); see core.train.presets.
PRESET_FIELDS = ("learning_rate", "epochs", "warmup_ratio", "head_lr_factor", "eval_steps")


def _f(default: Any, help: str, group: str = "basic", **meta) -> Any:
    """A dataclass field whose metadata drives the Train page form and the CLI."""
    return field(default=default, metadata={"help": help, "group": group, **meta})


@dataclass(frozen=True)
class TrainConfig:
    model: str = field(
        default_factory=settings.default_encoder,
        metadata={"help": "Hugging Face model id, a local folder with config, weights and tokenizer, or run:N "
                  "for the model an earlier run exported (e.g. a pretraining run). "
                  "Default: the packaged all-MiniLM-L6-v2.", "group": "basic"},
    )
    preset: str = _f("standard", "What the run aims at: quick look (a first model in a few minutes), standard (the "
                     "recommended recipe) or best (longer, for the last points). It picks the learning rate, "
                     "epochs, warm-up and dev evaluations from the data size and strategy; a value set by hand "
                     "overrides it.", choices=tuple(PRESETS))
    strategy: str = _f("full", "full: train every weight. freeze: freeze embeddings and the bottom layers. "
                       "lora: low-rank adapters (peft). bitfit: train biases and the head only.",
                       choices=STRATEGIES)
    learning_rate: float | None = _f(None, "Peak learning rate of the encoder; empty: the preset's rate for the "
                                     "strategy.", group="schedule", min=0.0, max=1.0, step=1e-5, format="%.1e",
                                     kind="float", preset=True)
    epochs: float | None = _f(None, "Passes over the training samples (ignored when max steps > 0); empty: the "
                              "preset's choice for the data size.", group="schedule", min=0.01, max=1000.0, kind="float",
                              preset=True)
    max_steps: int = _f(0, "Stop after this many optimiser steps; 0 trains for `epochs`.", group="schedule", min=0,
                        max=10_000_000)
    batch_size: int = _f(16, "Samples per batch (per device).", group="schedule", min=1, max=4096)
    grad_accum: int = _f(1, "Batches accumulated per optimiser step (effective batch = batch size x this).",
                         group="advanced", min=1, max=1024)
    weight_decay: float = _f(0.01, "AdamW weight decay.", group="advanced", min=0.0, max=1.0)
    warmup_ratio: float | None = _f(None, "Share of the steps spent warming the learning rate up from 0; empty: "
                                    "the preset's.", group="schedule", min=0.0, max=0.99, kind="float", preset=True)
    head_lr_factor: float | None = _f(None, "The task head (new, randomly initialised) learns this many times "
                                      "faster than the encoder; empty: the preset's.", group="schedule", min=0.1,
                                      max=1000.0, kind="float", preset=True)
    scheduler: str = _f("linear", "Learning-rate schedule after warm-up.", group="advanced", choices=SCHEDULERS)
    dropout: float = _f(0.1, "Dropout in the encoder and the head.", group="advanced", min=0.0, max=0.9)
    max_length: int = _f(256, "Subword tokens per training sample; longer samples are truncated in training "
                         "(prediction covers long texts with overlapping windows of this size).", group="advanced",
                         min=8, max=8192)
    eval_steps: int | None = _f(None, "Evaluate on dev (and keep the best weights) every N steps; 0 evaluates "
                                "once per epoch; empty: the preset's.", group="schedule", min=0, max=10_000_000,
                                kind="int", preset=True)
    early_stopping_patience: int = _f(0, "Stop after this many evaluations without a better dev metric; 0 = off.",
                                      group="advanced", min=0, max=1000)
    log_every: int = _f(5, "Write loss, learning rate and throughput every N steps.", group="advanced",
                        min=1, max=100_000)
    seed: int = _f(42, "Random seed for the head, the shuffling and augmentation.", group="advanced",
                   min=0, max=2**31 - 1)
    label_all_tokens: bool = _f(False, "NER: train on every subword of a word, not only the first "
                                "(later subwords of B-X get I-X).", group="advanced", task="ner")
    freeze_layers: int = _f(4, "freeze: how many of the bottom encoder layers to freeze (with the embeddings).",
                            only_for="freeze", min=0, max=1000)
    lora_rank: int = _f(8, "lora: rank r of the adapter matrices.", only_for="lora", min=1, max=1024)
    lora_alpha: int = _f(16, "lora: scaling alpha (update scaled by alpha / r).", only_for="lora", min=1, max=4096)
    lora_dropout: float = _f(0.1, "lora: dropout on the adapter input.", only_for="lora", min=0.0, max=0.9)
    lora_targets: tuple[str, ...] = _f((), "lora: module names to adapt, comma separated; empty picks the "
                                       "architecture's attention query/value projections.", only_for="lora")
    extend_vocabulary: bool = _f(False, "Add the project's characters (and frequent words) that the tokenizer maps to "
                                 "[UNK] to its vocabulary, with new embedding rows that train in every strategy. "
                                 "Needed for Chinese with the packaged English MiniLM.")
    vocabulary_min_count: int = _f(3, "Vocabulary extension, space-delimited scripts: add an uncovered word when it "
                                   "occurs at least this often (uncovered characters are always added).",
                                   group="advanced", min=1, max=1_000_000)
    vocabulary_max_words: int = _f(2000, "Vocabulary extension: at most this many whole words are added, the most "
                                   "frequent first.", group="advanced", min=0, max=1_000_000)
    embedding_learning_rate: float = _f(0.0, "Peak learning rate of the input word embeddings; 0 uses the learning "
                                        "rate above. Rows a vocabulary extension adds start untrained: a rate about "
                                        "10x the body's lets them catch up within one run.", group="advanced",
                                        min=0.0, max=1.0, step=1e-5, format="%.1e")
    ignore_coverage: bool = _f(False, "Train even when the tokenizer maps more than 30% of the project's words "
                               "(characters, for Chinese) to [UNK].", group="advanced")
    precision: str = _f("auto", "Arithmetic of training's matrix products: auto = bf16 autocast where the hardware "
                        "computes bf16 natively (recent GPUs; CPUs with AVX512-BF16 or AMX), else fp32. Weights stay "
                        "fp32; dev scores are computed as evaluation computes them.", group="advanced",
                        choices=PRECISIONS)
    layer_lr_decay: float = _f(1.0, "Layer-wise learning-rate decay: each encoder layer learns this many times "
                               "the rate of the layer above it (the embeddings one step below the lowest layer), "
                               "so general features in the bottom layers move least; 1 = every layer alike.",
                               group="advanced", min=0.1, max=1.0)
    label_smoothing: float = _f(0.0, "Share of each target spread over the other labels (0 = off).",
                                group="advanced", min=0.0, max=0.5)
    train_word_embeddings: bool = _f(True, "Update the word-embedding matrix; off saves its dense gradient and "
                                     "optimiser update (full and lora keep position embeddings and the rest).",
                                     group="advanced")
    # Balanced by default: labelled data is rarely balanced, and without weights a short run on
    # skewed categories learns to predict the majority (quick preset on the drug reviews: macro
    # F1 0.254, the majority baseline's, unweighted).
    class_weights: str = _f("balanced", "Classification: balanced weighs each category's loss by its inverse "
                            "frequency so rare categories are not drowned by the majority; none weighs every "
                            "sample alike.", group="advanced",
                            choices=CLASS_WEIGHTS, task="classification")
    fgm_epsilon: float = _f(0.0, "FGM adversarial training: size of the embedding perturbation "
                            "(1.0 is typical); 0 = off. Costs a second forward/backward per step.",
                            group="advanced", min=0.0, max=100.0)
    mention_swap: float = _f(0.0, "NER augmentation: share of training samples that get one extra copy with "
                             "each mention replaced by another of the same type; 0 = off.",
                             group="advanced", min=0.0, max=1.0, task="ner")
    continue_from: int | None = _f(None, "Start from this completed run's model and train on the samples "
                                   "labelled since; None starts from `model`.", group="continue", min=1)
    replay_share: float = _f(0.0, "When continuing: share of the earlier run's training samples trained "
                             "on again so earlier labels are not forgotten.", group="continue", min=0.0, max=1.0)

    def __post_init__(self) -> None:
        if isinstance(self.lora_targets, (list, str)):
            targets = self.lora_targets.split(",") if isinstance(self.lora_targets, str) else self.lora_targets
            object.__setattr__(self, "lora_targets", tuple(t.strip() for t in targets if t.strip()))
        for f in fields(self):
            _check_field(f, getattr(self, f.name))
        if not str(self.model).strip():
            raise ValueError("model is empty: expected a Hugging Face model id or a local model folder; "
                             "leave it at its default to use the packaged MiniLM")
        if self.replay_share > 0 and self.continue_from is None:
            raise ValueError(f"replay_share is {self.replay_share} but continue_from is not set: replay only "
                             "applies when continuing from an earlier run; set continue_from or replay_share 0")

    # ---- derived values ----------------------------------------------------------------------
    @property
    def effective_learning_rate(self) -> float:
        """The learning rate this run trains with: the one set, else the preset's for the strategy."""
        if self.learning_rate is not None:
            return self.learning_rate
        return preset_values(self.preset, self.strategy, 0, 0)["learning_rate"]

    @property
    def is_resolved(self) -> bool:
        return all(getattr(self, name) is not None for name in PRESET_FIELDS)

    def resolved(self, n_train: int, n_words: int) -> TrainConfig:
        """Every field left to the preset (None) filled with its choice for a train split of
        ``n_train`` samples and ``n_words`` words and this strategy; fields set by hand stay."""
        chosen = preset_values(self.preset, self.strategy, n_train, n_words, self.batch_size * self.grad_accum,
                               self.max_steps)
        return self.replace(**{k: v for k, v in chosen.items() if getattr(self, k) is None})

    def to_json(self) -> dict:
        data = asdict(self)
        data["lora_targets"] = list(self.lora_targets)
        return data

    @classmethod
    def from_json(cls, data: dict | str | None) -> TrainConfig:
        if isinstance(data, str):
            data = json.loads(data)
        data = dict(data or {})
        if data.get("learning_rate") == 0:  # runs stored before presets: 0 meant the strategy's default
            data["learning_rate"] = None
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown training setting {unknown[0]!r}: expected one of {sorted(known)}; "
                             "remove it or fix its spelling")
        return cls(**data)

    def replace(self, **changes) -> TrainConfig:
        return TrainConfig.from_json({**self.to_json(), **changes})


def _check_field(f, value: Any) -> None:
    meta = f.metadata
    name = f.name
    if value is None and (name == "continue_from" or meta.get("preset")):
        return
    kind = _kind(f)
    if kind is bool and not isinstance(value, bool):
        raise ValueError(f"{name} is {value!r}: expected true or false")
    if kind in (int, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{name} is {value!r}: expected a number")
        if kind is int and float(value) != int(value):
            raise ValueError(f"{name} is {value!r}: expected a whole number; use {round(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{name} is {value!r}: expected a finite number")
        low, high = meta.get("min"), meta.get("max")
        if low is not None and value < low or high is not None and value > high:
            raise ValueError(f"{name} is {value!r}: expected a value from {low:g} to {high:g}; {_fix(name)}")
    if "choices" in meta and value not in meta["choices"]:
        raise ValueError(f"{name} is {value!r}: expected one of {', '.join(meta['choices'])}")


def _fix(name: str) -> str:
    hints = {
        "learning_rate": "typical values are 1e-5 to 1e-3 (0 picks the strategy's default)",
        "warmup_ratio": "it is a share of the steps, e.g. 0.1",
        "dropout": "e.g. 0.1",
        "layer_lr_decay": "e.g. 0.8 gives the bottom of 6 layers a third of the top's rate; 1 turns it off",
        "replay_share": "it is a share, e.g. 0.2 replays a fifth of the earlier samples",
        "mention_swap": "it is a share, e.g. 0.3",
        "max_length": "BERT-style encoders take at most 512",
    }
    return hints.get(name, "change it in the form or on the command line")


def _kind(f) -> type:
    """The base Python type of a field, from its default (annotations are strings here)."""
    if f.name == "continue_from":
        return int
    if "kind" in f.metadata:
        return {"int": int, "float": float}[f.metadata["kind"]]
    default = f.default if f.default is not MISSING else f.default_factory()
    return type(default)


def form_fields() -> list[dict]:
    """Field descriptions for generated forms: name, kind, default, and metadata."""
    out = []
    defaults = TrainConfig()
    for f in fields(TrainConfig):
        out.append({**f.metadata, "name": f.name, "kind": _kind(f).__name__, "default": getattr(defaults, f.name)})
    return out


def uses_bf16(config: TrainConfig, device: Any) -> bool:
    """Whether training runs under bf16 autocast on ``device`` (a core.train.device.Device)."""
    return config.precision == "bf16" or (config.precision == "auto" and device.bf16)


def training_arguments(
    config: TrainConfig,
    output_dir: str | Path,
    best_metric: str | None,
    device: Any,
):
    """The one function that turns a resolved TrainConfig into ``transformers.TrainingArguments``.

    ``best_metric`` is the dev metric that picks the best weights (None: no dev set, so no
    evaluation and no selection). Nothing is saved to disk while training: the best weights are
    kept in memory (core.train.best.KeepBest), which costs a copy instead of a checkpoint write.
    ``device`` is a ``core.train.device.Device``.
    """
    from transformers import TrainingArguments

    if not config.is_resolved:
        missing = [name for name in PRESET_FIELDS if getattr(config, name) is None]
        raise ValueError(f"{', '.join(missing)} left to the preset: call config.resolved(n_train, n_words) "
                         "before building TrainingArguments")
    evaluate = best_metric is not None
    if not evaluate:
        eval_kw: dict = {"eval_strategy": "no"}
    elif config.eval_steps:
        eval_kw = {"eval_strategy": "steps", "eval_steps": config.eval_steps}
    else:
        eval_kw = {"eval_strategy": "epoch"}
    return TrainingArguments(
        output_dir=str(output_dir),
        learning_rate=config.learning_rate,
        num_train_epochs=config.epochs,
        max_steps=config.max_steps if config.max_steps > 0 else -1,
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        weight_decay=config.weight_decay,
        warmup_steps=config.warmup_ratio,  # a float below 1 is a ratio in transformers 5
        lr_scheduler_type=config.scheduler,
        seed=config.seed,
        logging_strategy="steps",
        logging_steps=config.log_every,
        # TagtuneTrainer swaps the random train sampler for batches of similar length in random
        # order (core.train.sampler), so dynamic padding pads little. transformers'
        # "group_by_length" orders batches long -> short and costs F1.
        train_sampling_strategy="random",
        save_strategy="no",
        load_best_model_at_end=False,
        metric_for_best_model=f"eval_{best_metric}" if evaluate else None,
        greater_is_better=True if evaluate else None,
        report_to=[],
        disable_tqdm=True,
        use_cpu=device.kind == "cpu",
        bf16=uses_bf16(config, device),
        dataloader_num_workers=0,
        remove_unused_columns=False,
        **eval_kw,
    )
