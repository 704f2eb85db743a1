"""Domain-adaptive pretraining: continue masked-language-model training of the encoder on the
project's own texts (labelled and unlabelled; never the test split, so test scores stay honest).

This is how the rows a vocabulary extension adds learn what their characters mean before any
label is seen, and it adapts any encoder to a domain (tweets, clinical notes). A ``pretrain``
run is a run like any other: queued, executed by the worker in its own process, reporting loss,
learning rate and a held-out masked-LM loss through the same TrainerCallback, cancellable. It
exports ``runs/<id>/model`` (encoder + masked-LM head + tokenizer); a fine-tuning run starts
from it with ``model = "run:<id>"`` (``cli.py train NAME --from-run ID``).

Masking is per token (BERT's 15%, 80/10/10), which for Chinese after vocabulary extension is per
character: each character is one token. Whole-word masking for Chinese would need a word
segmenter; transformers' whole-word collator finds words by touching character offsets, which
in unspaced Chinese would mask whole clauses, so it is not used.
"""
from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from transformers import Trainer

from core.base import settings
from core.text.coverage import WordCounts
from core.train.config import _check_field, _f
from core.train.sampler import ShuffledLengthBatches

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


# ---- masking and loss ---------------------------------------------------------------------------

class MaskingCollator:
    """Pads a batch and masks it (transformers' DataCollatorForLanguageModeling, per token).
    Features that already carry ``labels`` (the fixed held-out masks) are only padded.

    Masks come from torch's global generator, which ``set_seed`` seeds: the collator's own
    ``seed`` refuses to run outside a DataLoader worker when the process is not the main one,
    and every run executes in a child of the worker."""

    def __init__(self, tokenizer, probability: float) -> None:
        from transformers import DataCollatorForLanguageModeling, DataCollatorForTokenClassification

        self.mask = DataCollatorForLanguageModeling(tokenizer, mlm_probability=probability)
        self.pad = DataCollatorForTokenClassification(tokenizer, label_pad_token_id=-100)

    def __call__(self, features: list[dict]) -> dict:
        if "labels" in features[0]:
            return self.pad(features)
        return self.mask(features)


class PretrainTrainer(Trainer):
    """A Trainer whose loss runs the masked-LM head on the masked positions only.

    The head's decoder maps each position to the whole vocabulary (33k x 384 after extending
    MiniLM: more work per position than a transformer layer); only the ~15% masked positions
    have a target, so the other 85% of that work is skipped. Models whose head is not a ``cls``
    (BERT) or ``lm_head`` (RoBERTa, XLM-R) module use their own loss."""

    def _get_train_sampler(self, train_dataset=None):
        """Batches of similar length in random order, as fine-tuning uses (core.train.sampler):
        padding each batch to its longest text then wastes little."""
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        return ShuffledLengthBatches([len(f["input_ids"]) for f in dataset], self.args.train_batch_size,
                                     self.args.seed)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        head = getattr(model, "cls", None) or getattr(model, "lm_head", None)
        if head is None or return_outputs or "labels" not in inputs:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        labels = inputs["labels"]
        hidden = model.base_model(**{k: v for k, v in inputs.items() if k != "labels"}).last_hidden_state  # (B, T, H)
        keep = labels != -100
        logits = head(hidden[keep])  # (masked positions, vocab)
        return torch.nn.functional.cross_entropy(logits.float(), labels[keep])


@dataclass
class PretrainResult:
    model_dir: Path | None
    metrics: dict
    notes: list[str]
    seconds: float
    steps: int
    texts: int
    total_params: int
    cancelled: bool = False
    vocabulary: dict | None = None


def pretrain_texts(config: PretrainConfig, items: list[tuple[str, Any]], out_dir: str | Path,
                   callback=None, device=None) -> PretrainResult:
    """Masked-LM training on ``items`` ((text, word offsets) pairs); exports ``out_dir/model``."""
    from transformers import AutoModelForMaskedLM, set_seed

    from core.train.device import choose_device
    from core.train.model import load_tokenizer_of, model_source
    from core.train.strategies import count
    from core.train.vocab import extend_for

    out_dir, device = Path(out_dir), device or choose_device()
    items = [(t, tok) for t, tok in items if tok]
    if not items:
        raise ValueError("no texts to pretrain on: expected samples in the train, dev or unassigned split; "
                         "import texts (labelled or not) first")
    rng = random.Random(config.seed)
    if config.max_texts and len(items) > config.max_texts:
        items = rng.sample(items, config.max_texts)
    set_seed(config.seed)
    notes: list[str] = []
    tokenizer = load_tokenizer_of(config.model)
    model, info = AutoModelForMaskedLM.from_pretrained(model_source(config.model), output_loading_info=True)
    if any(k.startswith(("cls.", "lm_head.")) for k in info.get("missing_keys", ())):
        # all-MiniLM-L6-v2 is a sentence-transformers BertModel: it ships no masked-LM head. The
        # head's transform and bias start fresh; its decoder is tied to the word embeddings.
        notes.append("the model had no masked-LM head (e.g. a sentence-transformers encoder): a new one was "
                     "initialised, its output layer tied to the word embeddings")
    vocabulary = None
    if config.extend_vocabulary:
        extension = extend_for(model, tokenizer, config, WordCounts.of(items))
        vocabulary = extension.vocabulary.to_json()
        notes.append(extension.note())
    model.tie_weights()
    train_items, eval_items = _hold_out(items, config.eval_share, rng)
    encode = lambda batch: _encode(tokenizer, batch, config.max_length)  # noqa: E731
    eval_features = _fixed_masks(MaskingCollator(tokenizer, config.mlm_probability), encode(eval_items),
                                 config.seed) if eval_items else None
    trainer = PretrainTrainer(
        model=model,
        args=pretraining_arguments(config, out_dir / "checkpoints", bool(eval_items), device),
        train_dataset=encode(train_items),
        eval_dataset=eval_features,
        data_collator=MaskingCollator(tokenizer, config.mlm_probability),
        processing_class=tokenizer,
        callbacks=[callback] if callback is not None else [],
    )
    start = time.perf_counter()
    output = trainer.train()
    seconds = time.perf_counter() - start
    cancelled = bool(getattr(callback, "cancelled_by_user", False))
    metrics: dict = {"train_loss": output.training_loss}
    if eval_items and not cancelled:
        last = [h for h in trainer.state.log_history if "eval_loss" in h]
        at_end = last and last[-1].get("step") == output.global_step
        loss = last[-1]["eval_loss"] if at_end else trainer.evaluate()["eval_loss"]
        metrics.update({"dev_loss": loss, "perplexity": math.exp(min(loss, 50.0)), "dev_texts": len(eval_items)})
    model_dir = None if cancelled else _export(trainer.model, tokenizer, out_dir, config, vocabulary)
    return PretrainResult(model_dir, metrics, notes, seconds, output.global_step, len(train_items),
                          count(model).total, cancelled, vocabulary)


def _hold_out(items: list, share: float, rng: random.Random) -> tuple[list, list]:
    if share <= 0 or len(items) < 20:
        return list(items), []
    order = list(range(len(items)))
    rng.shuffle(order)
    n = min(EVAL_MAX_TEXTS, max(1, round(len(items) * share)))
    held = set(order[:n])
    return [x for i, x in enumerate(items) if i not in held], [items[i] for i in sorted(held)]


def _encode(tokenizer, items: list[tuple[str, Any]], max_length: int) -> list[dict]:
    """Token ids per text, from its word tokens (``is_split_into_words``, as fine-tuning does)."""
    if not items:
        return []
    enc = tokenizer([[t[s:e] for s, e in tokens] for t, tokens in items], is_split_into_words=True,
                    truncation=True, max_length=max_length, return_special_tokens_mask=True)
    return [{k: enc[k][i] for k in enc.keys()} for i in range(len(items))]


def _fixed_masks(collator: MaskingCollator, features: list[dict], seed: int) -> list[dict]:
    """The held-out texts masked once, so every evaluation scores the same masked positions;
    drawn from a forked generator so training's masks do not depend on the held-out share."""
    with torch.random.fork_rng():
        torch.manual_seed(seed + 1)
        return _rows(collator.mask(features))


def _rows(batch: dict) -> list[dict]:
    """A collated (padded, masked) batch back into per-text features without the padding."""
    out = []
    for i in range(batch["input_ids"].shape[0]):
        n = int(batch["attention_mask"][i].sum())
        out.append({k: v[i, :n].tolist() for k, v in batch.items() if k != "special_tokens_mask"})
    return out


def _export(model, tokenizer, out_dir: Path, config: PretrainConfig, vocabulary: dict | None) -> Path:
    model_dir = out_dir / "model"
    model.save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    (model_dir / CHECKPOINT_FILE).write_text(json.dumps(
        {"kind": "pretrain", "config": config.to_json(), "vocabulary": vocabulary}, indent=2))
    return model_dir
